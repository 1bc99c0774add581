using Commissable.Backup.Core.Retention;

namespace Commissable.Functions.Retention;

/// <summary>The answer of <c>retention-sweeper</c>: what was kept and why, what was (or, on a dry run, would be) deleted, step by step.</summary>
internal sealed record RetentionReport(
    bool DryRun,
    RetentionSummary Summary,
    IReadOnlyList<KeptEntry> Kept,
    IReadOnlyList<DeletedEntry> Deleted,
    IReadOnlyList<DeletedEntry> Failed,
    IReadOnlyList<DeletedEntry> Skipped,
    IReadOnlyList<OrphanEntry> Orphans,
    RefusalEntry? Refusal)
{
    public static RetentionReport Create(bool apply, RetentionPlan plan, IReadOnlyList<DeletionOutcome> outcomes)
    {
        var kept = plan.Decisions.Where(d => d.Action == RetentionAction.Keep).Select(d => new KeptEntry(d.Name, Reason(d.Reason))).ToList();
        var deleted = Entries(outcomes, DeletionStatus.Deleted, DeletionStatus.Planned);
        var failed = Entries(outcomes, DeletionStatus.Failed);
        var skipped = Entries(outcomes, DeletionStatus.SkippedOnHold);
        var orphans = plan.Orphans.Select(o => new OrphanEntry(o.Name, ToCamel(o.Kind.ToString()), (long)o.Age.TotalHours, o.Text)).ToList();
        var refusal = plan.Refusal is { } r ? new RefusalEntry(r.Code, r.Text, r.CatalogSize, r.MaxDeletions, r.WouldDelete) : null;
        var summary = new RetentionSummary(plan.Decisions.Count, kept.Count, deleted.Count, failed.Count, skipped.Count, orphans.Count,
            apply ? plan.Summary : "Dry run, nothing deleted. " + plan.Summary);
        return new RetentionReport(!apply, summary, kept, deleted, failed, skipped, orphans, refusal);
    }

    private static List<DeletedEntry> Entries(IReadOnlyList<DeletionOutcome> outcomes, params DeletionStatus[] statuses) =>
        [.. outcomes.Where(o => statuses.Contains(o.Status)).Select(o => new DeletedEntry(
            o.Decision.Name,
            Reason(o.Decision.Reason),
            [.. o.Steps.Select(s => new StepEntry(ToCamel(s.Step.Target.ToString()), s.Step.ObjectName, s.Step.BackupRunId, ToCamel(s.Status.ToString()), s.Error))],
            o.Error))];

    private static ReasonEntry Reason(RetentionReason reason) => new(reason.Code, reason.Text);

    private static string ToCamel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

internal sealed record RetentionSummary(int CatalogEntries, int Kept, int Deleted, int Failed, int Skipped, int Orphans, string Text);

internal sealed record ReasonEntry(string Code, string Text);

internal sealed record KeptEntry(string Name, ReasonEntry Reason);

/// <summary>A deletion: on a dry run every step is <c>planned</c>; on a run that applies, <c>deleted</c>, <c>absent</c>, <c>failed</c> or <c>notRun</c>.</summary>
internal sealed record DeletedEntry(string Name, ReasonEntry Reason, IReadOnlyList<StepEntry> Steps, string? Error);

internal sealed record StepEntry(string Target, string? Object, long? BackupRunId, string Status, string? Error);

internal sealed record OrphanEntry(string Name, string Kind, long AgeHours, string Text);

internal sealed record RefusalEntry(string Code, string Text, int CatalogSize, int MaxDeletions, IReadOnlyList<string> WouldDelete);
