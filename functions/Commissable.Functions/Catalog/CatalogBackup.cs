using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;

namespace Commissable.Functions.Catalog;

/// <summary>One page of the catalog; <see cref="Truncated"/> says more backups matched than the limit.</summary>
internal sealed record CatalogPage(IReadOnlyList<CatalogBackup> Backups, int Count, bool Truncated);

/// <summary>
/// What the Data Management screen may show of one complete backup: metadata only. Deliberately
/// not the manifest itself: no tenant ids, no row counts per table, no idempotency key, and no
/// way to reach the content.
/// </summary>
internal sealed record CatalogBackup(
    string Uri,
    string Kind,
    string Environment,
    string Instance,
    IReadOnlyList<string> Databases,
    string? DatabaseVersion,
    string? Format,
    DateTimeOffset StartTime,
    DateTimeOffset EndTime,
    long? SizeBytes,
    CatalogTrigger Trigger,
    string? MigrationHead,
    int? TenantCount,
    IReadOnlyList<CatalogHold> Holds,
    CatalogVerification? LastVerification,
    int VerificationCount)
{
    /// <summary>Maps a complete catalog entry; <paramref name="entry"/> must have a manifest.</summary>
    public static CatalogBackup From(CatalogEntry entry)
    {
        var manifest = entry.Manifest ?? throw new ArgumentException("Only complete backups (with a manifest) are listed.", nameof(entry));
        var last = entry.LastVerification;
        return new CatalogBackup(
            manifest.Uri,
            manifest.Kind,
            manifest.Environment,
            manifest.SourceInstance,
            manifest.Databases,
            manifest.DatabaseVersion,
            manifest.Format,
            manifest.StartTime,
            manifest.EndTime,
            manifest.SizeBytes ?? (entry.DumpObjects.Count > 0 ? entry.DumpBytes : null),
            new CatalogTrigger(manifest.Trigger.Change, manifest.Trigger.CommitSha, manifest.Trigger.PipelineRunId, manifest.Trigger.RequestedBy),
            manifest.Content is { } content ? content.Migrations?.Head : manifest.Snapshot?.MigrationHead,
            manifest.Content is { } counted ? CountTenants(counted) : manifest.Snapshot?.TenantCount,
            [.. entry.Holds.OrderBy(h => h.PlacedAt).Select(h => new CatalogHold(h.Id, h.Reason, h.PlacedBy, h.PlacedAt))],
            last is null ? null : new CatalogVerification(last.Passed, last.StartTime, last.EndTime, [.. last.Checks.Where(c => !c.Passed).Select(c => c.Name)]),
            entry.VerificationCount);
    }

    /// <summary>Distinct tenant ids over the tables that have the tenant column; null when none has it.</summary>
    private static int? CountTenants(BackupContent content)
    {
        var tenants = content.Tables.Values.Where(t => t.Tenants is not null && !t.Partitioned).SelectMany(t => t.Tenants!.Keys).ToHashSet(StringComparer.Ordinal);
        return content.Tables.Values.Any(t => t.Tenants is not null) ? tenants.Count : null;
    }
}

internal sealed record CatalogTrigger(string? Change, string? CommitSha, string? PipelineRunId, string? RequestedBy);

internal sealed record CatalogHold(string Id, string Reason, string PlacedBy, DateTimeOffset PlacedAt);

/// <summary>The newest restore test: passed or not, when, and the names of the checks that failed.</summary>
internal sealed record CatalogVerification(bool Passed, DateTimeOffset StartTime, DateTimeOffset EndTime, IReadOnlyList<string> FailedChecks);
