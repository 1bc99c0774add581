using System.Globalization;
using Commissable.Backup.Core.Freshness;
using Commissable.Backup.Core.Retention;

namespace Commissable.Functions.Retention;

/// <summary>
/// The answer of <c>retention-sweeper</c>: what was kept and why, what was (or, on a dry run, would
/// be) deleted, step by step; the backup runs that were missing from the catalog; and how fresh
/// each swept instance's backups are.
/// </summary>
internal sealed record RetentionReport(
    bool DryRun,
    RetentionSummary Summary,
    IReadOnlyList<KeptEntry> Kept,
    IReadOnlyList<DeletedEntry> Deleted,
    IReadOnlyList<DeletedEntry> Failed,
    IReadOnlyList<DeletedEntry> Skipped,
    IReadOnlyList<OrphanEntry> Orphans,
    IReadOnlyList<UncataloguedEntry> Uncatalogued,
    IReadOnlyList<FreshnessEntry> Freshness,
    RefusalEntry? Refusal)
{
    public static RetentionReport Create(bool apply, RetentionPlan plan, IReadOnlyList<DeletionOutcome> outcomes,
        IReadOnlyList<UncataloguedRun> uncatalogued, IReadOnlyList<BackupFreshness> freshness)
    {
        var marked = uncatalogued.Select(u => u.Name.Name).ToHashSet(StringComparer.Ordinal);
        var kept = plan.Decisions.Where(d => d.Action == RetentionAction.Keep)
            .Select(d => new KeptEntry(d.Name, Reason(d.Reason), Mark(marked, d.Name))).ToList();
        var deleted = Entries(outcomes, marked, DeletionStatus.Deleted, DeletionStatus.Planned);
        var failed = Entries(outcomes, marked, DeletionStatus.Failed);
        var skipped = Entries(outcomes, marked, DeletionStatus.SkippedOnHold);
        var orphans = plan.Orphans.Select(o => new OrphanEntry(o.Name, ToCamel(o.Kind.ToString()), (long)o.Age.TotalHours, o.Text)).ToList();
        var runs = uncatalogued.Select(u => new UncataloguedEntry(u.Name.Name, u.Instance, u.BackupRunId, u.Run.Type!, u.Run.EndTime, u.Recorded)).ToList();
        var fresh = freshness.Select(f => new FreshnessEntry(
            f.Instance, f.Status, f.Overdue, f.NewestSuccessfulRunId, f.NewestSuccessfulEndTime,
            f.Age is { } age ? Math.Round(age.TotalHours, 1) : null, f.MaxAge.TotalHours, f.NewestRunFailed, new ReasonEntry(f.Code, f.Text))).ToList();
        var refusal = plan.Refusal is { } r ? new RefusalEntry(r.Code, r.Text, r.CatalogSize, r.MaxDeletions, r.WouldDelete) : null;
        var overdue = fresh.Where(f => f.Overdue).Select(f => f.Instance).ToList();
        var text = plan.Summary
            + (runs.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" {runs.Count} backup run(s) were missing from the catalog and {(apply ? "are now recorded" : "would be recorded")}."))
            + (overdue.Count == 0 ? "" : $" Backups overdue on: {string.Join(", ", overdue)}.");
        var summary = new RetentionSummary(plan.Decisions.Count, kept.Count, deleted.Count, failed.Count, skipped.Count, orphans.Count,
            runs.Count, overdue.Count, apply ? text : "Dry run, nothing deleted or recorded. " + text);
        return new RetentionReport(!apply, summary, kept, deleted, failed, skipped, orphans, runs, fresh, refusal);
    }

    private static List<DeletedEntry> Entries(IReadOnlyList<DeletionOutcome> outcomes, HashSet<string> uncatalogued, params DeletionStatus[] statuses) =>
        [.. outcomes.Where(o => statuses.Contains(o.Status)).Select(o => new DeletedEntry(
            o.Decision.Name,
            Reason(o.Decision.Reason),
            [.. o.Steps.Select(s => new StepEntry(ToCamel(s.Step.Target.ToString()), s.Step.ObjectName, s.Step.BackupRunId, ToCamel(s.Status.ToString()), s.Error))],
            o.Error,
            Mark(uncatalogued, o.Decision.Name)))];

    /// <summary>True for a backup run that was not in the catalog when the run began; null (left out of the JSON) otherwise.</summary>
    private static bool? Mark(HashSet<string> uncatalogued, string name) => uncatalogued.Contains(name) ? true : null;

    private static ReasonEntry Reason(RetentionReason reason) => new(reason.Code, reason.Text);

    private static string ToCamel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

internal sealed record RetentionSummary(int CatalogEntries, int Kept, int Deleted, int Failed, int Skipped, int Orphans, int Uncatalogued, int Overdue, string Text);

internal sealed record ReasonEntry(string Code, string Text);

internal sealed record KeptEntry(string Name, ReasonEntry Reason, bool? Uncatalogued);

/// <summary>A deletion: on a dry run every step is <c>planned</c>; on a run that applies, <c>deleted</c>, <c>absent</c>, <c>failed</c> or <c>notRun</c>.</summary>
internal sealed record DeletedEntry(string Name, ReasonEntry Reason, IReadOnlyList<StepEntry> Steps, string? Error, bool? Uncatalogued);

internal sealed record StepEntry(string Target, string? Object, long? BackupRunId, string Status, string? Error);

internal sealed record OrphanEntry(string Name, string Kind, long AgeHours, string Text);

internal sealed record RefusalEntry(string Code, string Text, int CatalogSize, int MaxDeletions, IReadOnlyList<string> WouldDelete);

/// <summary>A backup run with no manifest when the sweep began: <c>recorded</c> on a run that applies, only planned as if recorded on a dry run.</summary>
internal sealed record UncataloguedEntry(string Name, string Instance, long BackupRunId, string Type, DateTimeOffset? EndTime, bool Recorded);

/// <summary>One swept instance's backup freshness, from Cloud SQL's automated backup runs.</summary>
internal sealed record FreshnessEntry(
    string Instance,
    FreshnessStatus Status,
    bool Overdue,
    long? NewestSuccessfulRunId,
    DateTimeOffset? NewestSuccessfulEndTime,
    double? AgeHours,
    double MaxAgeHours,
    bool NewestRunFailed,
    ReasonEntry Reason);
