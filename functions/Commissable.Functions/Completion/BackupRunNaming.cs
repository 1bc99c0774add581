using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Retention;
using Commissable.Functions.Hosting.Configuration;

namespace Commissable.Functions.Completion;

/// <summary>
/// How a Cloud SQL backup run is named in the catalog and what its manifest says, shared by the
/// audit-entry path and the retention sweeper so both write the same manifest for one run.
/// </summary>
internal sealed class BackupRunNaming(BackupCatalog catalog, ICloudSqlAdmin cloudSql, FunctionSettings settings, TimeProvider clock)
{
    /// <summary>
    /// The catalog name and manifest of a successful backup run of <paramref name="instance"/> that
    /// started at <paramref name="started"/>. The name is a function of the run alone (instance,
    /// start minute, type, id), so whoever records the run first (the recorder from the audit
    /// entry, or the retention sweeper for a run whose entry never came) writes the one manifest
    /// the other then finds.
    /// </summary>
    public (BackupObjectName Name, BackupManifest Manifest) Record(string instance, long runId, BackupRun run, DateTimeOffset started)
    {
        ArgumentNullException.ThrowIfNull(run);
        var automated = string.Equals(run.Type, "AUTOMATED", StringComparison.Ordinal);
        var name = new BackupObjectName
        {
            Prefix = catalog.Prefix,
            Environment = settings.EnvironmentName,
            Instance = instance,
            Time = new DateTimeOffset(started.UtcTicks - (started.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero),
            Label = string.Create(CultureInfo.InvariantCulture, $"{(automated ? "automated-run" : "on-demand-run")}-{runId}"),
            Extension = "",
        };
        var manifest = new BackupManifest
        {
            Uri = run.SelfLink ?? RunUri(cloudSql.Project, instance, runId),
            Kind = KindOf(run),
            Environment = settings.EnvironmentName,
            SourceInstance = instance,
            DatabaseVersion = run.DatabaseVersion,
            Format = "BASE_BACKUP",
            StartTime = started,
            EndTime = run.EndTime ?? clock.GetUtcNow(),
            BackupRunId = runId,
        };
        return (name, manifest);
    }

    /// <summary>The manifest kind of a run: automated or on demand.</summary>
    public static string KindOf(BackupRun run) =>
        string.Equals(run.Type, "AUTOMATED", StringComparison.Ordinal) ? BackupKinds.AutomatedBackupRun : BackupKinds.OnDemandBackupRun;

    /// <summary>The run's URI where Cloud SQL gives no self link (<c>unknown</c> without an id).</summary>
    public static string RunUri(string project, string instance, long? id) =>
        string.Create(CultureInfo.InvariantCulture, $"cloudsql://{project}/{instance}/backupRuns/{id?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}");
}
