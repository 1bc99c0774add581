using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;

namespace Commissable.Functions.DataManagement;

/// <summary>GET /backups: the complete backups, newest first.</summary>
internal sealed record DataManagementBackupList(IReadOnlyList<DataManagementBackup> Backups, int Count, bool Truncated);

/// <summary>
/// What the CRM's Data Management screen shows of one backup: metadata only, never a URI, an
/// object or file name, a link or a signed URL. <see cref="Id"/> is an opaque digest of the
/// backup's name, for later requests to name it by.
/// </summary>
internal sealed record DataManagementBackup(
    string Id,
    string Kind,
    DateTimeOffset Time,
    DateTimeOffset EndTime,
    long? SizeBytes,
    string Environment,
    string SourceInstance,
    IReadOnlyList<string> Databases,
    string? MigrationHead,
    string? RequestedBy,
    DataManagementVerification? LastVerification)
{
    public static DataManagementBackup From(CatalogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var manifest = entry.Manifest ?? throw new ArgumentException("Only complete backups (with a manifest) are listed.", nameof(entry));
        return new DataManagementBackup(
            IdOf(entry.Name),
            manifest.Kind,
            manifest.StartTime,
            manifest.EndTime,
            manifest.SizeBytes ?? (entry.DumpObjects.Count > 0 ? entry.DumpBytes : null),
            manifest.Environment,
            manifest.SourceInstance,
            manifest.Databases,
            manifest.Content is { } content ? content.Migrations?.Head : manifest.Snapshot?.MigrationHead,
            manifest.Trigger.RequestedBy,
            entry.LastVerification is { } last ? DataManagementVerification.From(last) : null);
    }

    /// <summary>The opaque id of a backup: the first 20 hex digits of the SHA-256 of its name.</summary>
    public static string IdOf(BackupObjectName name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return "bk-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name.Name)))[..20];
    }
}

/// <summary>
/// The newest restore test of a backup: passed or not, when it ended, and the recovery time
/// (create the scratch database, import, checks) when its stages were recorded.
/// </summary>
internal sealed record DataManagementVerification(bool Passed, DateTimeOffset At, long? RecoveryTimeMs)
{
    private static readonly string[] RecoveryStages = ["create-db", "import", "checks"];

    public static DataManagementVerification From(VerificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var stages = record.Stages.Where(s => RecoveryStages.Contains(s.Stage, StringComparer.Ordinal)).ToList();
        long? recovery = stages.Any(s => s.Stage == "import") ? stages.Sum(s => s.DurationMs) : null;
        return new DataManagementVerification(record.Passed, record.EndTime, recovery);
    }
}
