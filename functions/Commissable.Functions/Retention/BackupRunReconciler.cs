using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Completion;

namespace Commissable.Functions.Retention;

/// <summary>A successful backup run Cloud SQL lists that no manifest in the catalog names, with the record it gets (on a dry run, would get).</summary>
internal sealed record UncataloguedRun(string Instance, long BackupRunId, BackupRun Run, BackupObjectName Name, BackupManifest Manifest, bool Recorded);

/// <summary>
/// Brings the catalog up to date with Cloud SQL before a plan is made: a backup run whose audit
/// entry never reached on-backup-audited (an Eventarc outage, a broken trigger) has no manifest,
/// so without this the sweeper would never see it, and an on-demand run would be kept, and billed,
/// forever. Each such run is recorded with on-backup-audited's own name and manifest
/// (<see cref="BackupRunNaming.Record"/>) through the catalog's create-only
/// write, so a late audit entry for it finds the record and adds none.
/// </summary>
internal sealed class BackupRunReconciler(BackupCatalog catalog, IBackupStore store, BackupRunNaming runNaming, ILogger logger)
{
    /// <summary>WARNING (newly recorded: an audit entry was lost) or INFO (recorded meanwhile by its audit entry); fields backupUri, instance, kind, backupRunId, startTime, endTime, newlyRecorded, manifestUri.</summary>
    public static readonly EventId Reconciled = new(43, "backup.reconciled");

    /// <summary>
    /// A run that ended this recently is left to its audit entry, which may still be on its way and
    /// records who asked for it and the operation, which Cloud SQL's listing does not say.
    /// </summary>
    private static readonly TimeSpan AuditEntryGrace = TimeSpan.FromHours(1);

    /// <summary>
    /// The uncatalogued runs of the swept instances, and the listing with their manifests in it:
    /// written when <paramref name="apply"/>, otherwise only as they would be written, so that a dry
    /// run plans them exactly as the run that applies will.
    /// </summary>
    public async Task<(CatalogListing Listing, IReadOnlyList<UncataloguedRun> Runs)> ReconcileAsync(
        CatalogListing listing, SweptInstances swept, bool apply, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listing);
        ArgumentNullException.ThrowIfNull(swept);
        var byName = listing.Entries.ToDictionary(e => e.Name.Name, StringComparer.Ordinal);
        var runs = new List<UncataloguedRun>();
        foreach (var run in Find(listing, swept, byName, now).ToList())
        {
            StoredObject? manifestObject;
            var reconciled = run;
            if (apply)
            {
                (manifestObject, reconciled) = await RecordAsync(run, cancellationToken).ConfigureAwait(false);
                if (manifestObject is null) continue;
            }
            else
            {
                // Never written, so never deleted at this generation: a dry run carries nothing out.
                manifestObject = new StoredObject { Bucket = store.Bucket, Name = run.Name.ManifestName, Size = 0, Generation = 0, Updated = now };
            }
            byName[run.Name.Name] = byName.TryGetValue(run.Name.Name, out var existing)
                ? existing with { Manifest = reconciled.Manifest, ManifestObject = manifestObject }
                : new CatalogEntry(run.Name, reconciled.Manifest, manifestObject, [], null, 0, [], []);
            runs.Add(reconciled);
        }
        if (runs.Count == 0) return (listing, runs);
        return (listing with { Entries = [.. byName.Values.OrderBy(e => e.Name.Name, StringComparer.Ordinal)] }, runs);
    }

    private IEnumerable<UncataloguedRun> Find(CatalogListing listing, SweptInstances swept, Dictionary<string, CatalogEntry> byName, DateTimeOffset now)
    {
        // A run is catalogued when any manifest of its instance names it, whatever its name or environment.
        var catalogued = listing.Entries
            .Where(e => e.Manifest?.BackupRunId is not null)
            .Select(e => (e.Name.Instance, e.Manifest!.BackupRunId!.Value))
            .ToHashSet();
        foreach (var instance in swept.All.Where(i => i.Listed))
        {
            foreach (var run in instance.Runs.OrderBy(r => r.Id))
            {
                if (run is not { Status: "SUCCESSFUL", Type: "AUTOMATED" or "ON_DEMAND", Id: { } id, StartTime: { } started, EndTime: { } ended }
                    || now - ended < AuditEntryGrace
                    || catalogued.Contains((instance.Instance, id)))
                {
                    continue;
                }
                var (name, manifest) = runNaming.Record(instance.Instance, id, run, started);
                // Something already sits where the manifest goes (unreadable, or not this run's): leave it alone.
                if (byName.TryGetValue(name.Name, out var existing) && existing.ManifestObject is not null) continue;
                yield return new UncataloguedRun(instance.Instance, id, run, name, manifest, Recorded: false);
            }
        }
    }

    private async Task<(StoredObject? ManifestObject, UncataloguedRun Run)> RecordAsync(UncataloguedRun run, CancellationToken cancellationToken)
    {
        var (recorded, created) = await catalog.RecordAsync(run.Name, run.Manifest, cancellationToken).ConfigureAwait(false);
        const string Template = "Backup run {BackupRunId} of {Instance} ({Kind}, {StartTime} to {EndTime}) was missing from the catalog: recorded {BackupUri}; newly recorded: {NewlyRecorded}; manifest {ManifestUri}";
        object?[] args = [run.BackupRunId, run.Instance, recorded.Kind, recorded.StartTime, recorded.EndTime, recorded.Uri, created, $"gs://{store.Bucket}/{run.Name.ManifestName}"];
#pragma warning disable CA2254 // One constant template, logged at two levels.
        // Newly recorded means on-backup-audited never heard of the run: an event was lost, worth a look.
        logger.Log(created ? LogLevel.Warning : LogLevel.Information, Reconciled, Template, args);
#pragma warning restore CA2254
        // The manifest's generation, so that the plan may delete it as it would any scanned manifest.
        var manifestObject = await store.GetAsync(run.Name.ManifestName, cancellationToken).ConfigureAwait(false);
        return (manifestObject, run with { Manifest = recorded, Recorded = true });
    }
}
