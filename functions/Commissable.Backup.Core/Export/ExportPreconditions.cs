using System.Globalization;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Export;

/// <summary>A named precondition of the change-management checklist that does not hold, and why.</summary>
public sealed record PreconditionFailure(string Name, string Reason);

/// <summary>
/// The strategy's checklist before a risky change on production: the instance is up, automated
/// backups and point-in-time recovery are on, and the newest automated backup succeeded recently.
/// Every failing precondition is reported, by name, not just the first.
/// </summary>
public static class ExportPreconditions
{
    public const string InstanceRunnable = "instance.runnable";
    public const string BackupsEnabled = "backups.enabled";
    public const string PitrEnabled = "pitr.enabled";
    public const string RecentBackup = "backups.recent";

    public static IReadOnlyList<PreconditionFailure> Check(DatabaseInstance instance, IReadOnlyList<BackupRun> runs, DateTimeOffset now, TimeSpan maxBackupAge)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(runs);
        var failures = new List<PreconditionFailure>();
        if (instance.State != "RUNNABLE")
        {
            failures.Add(new(InstanceRunnable, $"Instance '{instance.Name}' is {instance.State ?? "in an unknown state"}, not RUNNABLE."));
        }
        var backup = instance.Settings?.BackupConfiguration;
        if (backup?.Enabled != true)
        {
            failures.Add(new(BackupsEnabled, $"Automated backups are not enabled on '{instance.Name}' (settings.backupConfiguration.enabled)."));
        }
        if (backup?.PointInTimeRecoveryEnabled != true)
        {
            failures.Add(new(PitrEnabled, $"Point-in-time recovery is not enabled on '{instance.Name}' (settings.backupConfiguration.pointInTimeRecoveryEnabled)."));
        }
        var newest = runs.Where(r => r.Type == "AUTOMATED").MaxBy(r => r.EndTime ?? r.StartTime ?? r.EnqueuedTime ?? DateTimeOffset.MinValue);
        if (newest is null)
        {
            failures.Add(new(RecentBackup, $"'{instance.Name}' has no automated backup."));
        }
        else if (newest.Status != "SUCCESSFUL")
        {
            failures.Add(new(RecentBackup, $"The newest automated backup of '{instance.Name}' (run {newest.Id}) is {newest.Status}, not SUCCESSFUL."));
        }
        else if (newest.EndTime is not { } end || now - end > maxBackupAge)
        {
            var age = newest.EndTime is { } e ? (now - e).TotalHours.ToString("F1", CultureInfo.InvariantCulture) + " h" : "unknown";
            failures.Add(new(RecentBackup, string.Create(CultureInfo.InvariantCulture,
                $"The newest successful automated backup of '{instance.Name}' is {age} old; at most {maxBackupAge.TotalHours:F0} h is accepted.")));
        }
        return failures;
    }
}
