using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;

namespace Commissable.Functions.Retention;

/// <summary>
/// Turns a catalog scan into the planner's candidates, and remembers each object's generation so
/// the deletions can be made conditional on the object being the one that was planned.
/// </summary>
internal sealed class RetentionCandidates
{
    private RetentionCandidates(IReadOnlyList<RetentionCandidate> candidates, IReadOnlyDictionary<string, long> generations)
    {
        Candidates = candidates;
        Generations = generations;
    }

    public IReadOnlyList<RetentionCandidate> Candidates { get; }

    /// <summary>The generation of every object the scan saw, by object name.</summary>
    public IReadOnlyDictionary<string, long> Generations { get; }

    /// <summary>
    /// One candidate per backup name, plus one per unknown object (the planner keeps those as not a
    /// backup). Backup runs count as data only when Cloud SQL still lists the run of the manifest.
    /// </summary>
    /// <param name="abandoned">Names of dumps without manifest whose export is known to have abandoned them.</param>
    public static RetentionCandidates Build(CatalogListing listing, SweptInstances swept, IReadOnlySet<string>? abandoned = null)
    {
        ArgumentNullException.ThrowIfNull(listing);
        ArgumentNullException.ThrowIfNull(swept);
        var generations = new Dictionary<string, long>(StringComparer.Ordinal);
        var runsByInstance = new Dictionary<string, HashSet<long>>(StringComparer.Ordinal);
        var candidates = new List<RetentionCandidate>();
        foreach (var entry in listing.Entries)
        {
            var stored = new List<StoredObject>(entry.DumpObjects.Concat(entry.SideObjects));
            if (entry.ManifestObject is { } manifestObject) stored.Add(manifestObject);
            foreach (var item in stored) generations[item.Name] = item.Generation;

            var kind = BackupKinds.Parse(entry.Manifest?.Kind);
            long? runId = null;
            if (kind is BackupKind.OnDemandBackupRun or BackupKind.AutomatedBackupRun && entry.Manifest?.BackupRunId is { } id)
            {
                runId = Existing(swept, entry.Name.Instance, runsByInstance).Contains(id) ? id : null;
            }

            candidates.Add(new RetentionCandidate
            {
                Name = entry.Name.Name,
                Kind = kind,
                Created = CreatedOf(entry, stored),
                HasManifest = entry.ManifestObject is not null,
                DumpObjects = [.. entry.DumpObjects.Select(o => o.Name)],
                BackupRunId = runId,
                Abandoned = entry.ManifestObject is null && (abandoned?.Contains(entry.Name.Name) ?? false),
                // A hold object that cannot be read still counts: a hold is never second-guessed.
                OnHold = entry.Holds.Count > 0 || entry.SideObjects.Any(o => o.Name.StartsWith(entry.Name.HoldsPrefix, StringComparison.Ordinal)),
                LastVerification = entry.LastVerification is { } last ? new VerificationOutcome(last.Passed, last.EndTime) : null,
                VerificationObjects = [.. entry.SideObjects.Select(o => o.Name).Where(n => n.StartsWith(entry.Name.VerificationsPrefix, StringComparison.Ordinal))],
            });
        }
        foreach (var unknown in listing.Unknown)
        {
            generations[unknown.Name] = unknown.Generation;
            candidates.Add(new RetentionCandidate { Name = unknown.Name, Created = unknown.Updated });
        }
        return new RetentionCandidates(candidates, generations);
    }

    /// <summary>
    /// The manifest's start time for a complete backup; otherwise the newest time of its objects,
    /// so that an orphan still being written (or just touched) counts as young, never as old.
    /// </summary>
    private static DateTimeOffset CreatedOf(CatalogEntry entry, List<StoredObject> stored)
    {
        if (entry.Manifest is { } manifest) return manifest.StartTime;
        return stored.Count == 0 ? entry.Name.Time : stored.Max(o => o.Updated);
    }

    private static HashSet<long> Existing(SweptInstances swept, string instance, Dictionary<string, HashSet<long>> cache)
    {
        if (!cache.TryGetValue(instance, out var runs))
        {
            cache[instance] = runs = [.. swept.RunsForPlan(instance)
                .Where(r => r.Id is not null && r.Status is not ("DELETED" or "DELETION_PENDING")).Select(r => r.Id!.Value)];
        }
        return runs;
    }
}
