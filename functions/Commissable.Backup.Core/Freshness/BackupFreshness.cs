using System.Globalization;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Freshness;

/// <summary>Whether an instance's automated backups are current, as Cloud SQL's backup runs show it.</summary>
public enum FreshnessStatus
{
    /// <summary>The newest successful automated backup run ended within the maximum age.</summary>
    Fresh,
    /// <summary>No successful automated backup run, or the newest one ended longer ago than the maximum age.</summary>
    Overdue,
    /// <summary>Cloud SQL has no such instance (404): nothing to check.</summary>
    InstanceNotFound,
    /// <summary>Cloud SQL did not list the instance's backup runs (an error other than 404).</summary>
    Unknown,
}

/// <summary>
/// The freshness of one instance's backups: the newest successful automated backup run, how old
/// it is against the maximum age, whether the newest automated run failed, and a stable code
/// (see <see cref="BackupFreshnessCheck"/>) with the reason in words.
/// </summary>
public sealed record BackupFreshness(
    string Instance,
    FreshnessStatus Status,
    string Code,
    string Text,
    TimeSpan MaxAge,
    long? NewestSuccessfulRunId = null,
    DateTimeOffset? NewestSuccessfulEndTime = null,
    TimeSpan? Age = null,
    bool NewestRunFailed = false)
{
    public bool Overdue => Status == FreshnessStatus.Overdue;
}

/// <summary>
/// Judges backup freshness from Cloud SQL's backup runs, the authority: unlike the catalog it does
/// not depend on an audit event having been delivered. Only automated runs count, as in the
/// pre-deploy precondition (<see cref="Export.ExportPreconditions"/>): the daily schedule is what
/// the maximum age is about, and an on-demand run does not show that the schedule still works.
/// </summary>
public static class BackupFreshnessCheck
{
    public const string Fresh = "fresh";
    public const string NoSuccessfulBackup = "overdue.no-successful-backup";
    public const string TooOld = "overdue.too-old";
    public const string InstanceNotFound = "unknown.instance-not-found";
    public const string NotListed = "unknown.not-listed";

    public static BackupFreshness Evaluate(string instance, IReadOnlyList<BackupRun> runs, DateTimeOffset now, TimeSpan maxAge)
    {
        ArgumentException.ThrowIfNullOrEmpty(instance);
        ArgumentNullException.ThrowIfNull(runs);
        var automated = runs.Where(r => r is not null && r.Type == "AUTOMATED").ToList();
        var newest = automated.MaxBy(r => r.EndTime ?? r.StartTime ?? r.EnqueuedTime ?? DateTimeOffset.MinValue);
        var newestFailed = newest?.Status == "FAILED";
        var failedNote = newestFailed ? Invariant($" The newest automated run ({newest!.Id}) FAILED.") : "";
        var successful = automated.Where(r => r.Status == "SUCCESSFUL" && r.EndTime is not null).MaxBy(r => r.EndTime);
        if (successful is null)
        {
            return new(instance, FreshnessStatus.Overdue, NoSuccessfulBackup,
                $"'{instance}' has no successful automated backup run: check that automated backups are enabled and what the backup runs say.{failedNote}",
                maxAge, NewestRunFailed: newestFailed);
        }

        var end = successful.EndTime!.Value;
        var age = now - end;
        var overdue = age > maxAge;
        var text = Invariant($"The newest successful automated backup run of '{instance}' ({successful.Id}) ended {end.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {Hours(age)} h ago; ")
            + (overdue ? Invariant($"more than the {Hours(maxAge)} h allowed.") : Invariant($"within the {Hours(maxAge)} h allowed."))
            + failedNote;
        return new(instance, overdue ? FreshnessStatus.Overdue : FreshnessStatus.Fresh, overdue ? TooOld : Fresh, text,
            maxAge, successful.Id, end, age, newestFailed);
    }

    /// <summary>Cloud SQL answered 404 for the instance: reported, never an error of the sweep.</summary>
    public static BackupFreshness NotFound(string instance, TimeSpan maxAge) =>
        new(instance, FreshnessStatus.InstanceNotFound, InstanceNotFound,
            $"Cloud SQL has no instance '{instance}' (404): its backups cannot be checked. A production instance listed here is misconfigured or gone.", maxAge);

    /// <summary>Listing the instance's backup runs failed with <paramref name="error"/>: freshness is unknown this run.</summary>
    public static BackupFreshness Unlisted(string instance, TimeSpan maxAge, string error) =>
        new(instance, FreshnessStatus.Unknown, NotListed, $"Cloud SQL did not list the backup runs of '{instance}': {error}", maxAge);

    private static string Hours(TimeSpan span) => span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
