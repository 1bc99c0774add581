using System.Runtime.ExceptionServices;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Functions.Retention;

/// <summary>What Cloud SQL listed for one instance: its backup runs, that it does not exist, or the error that stopped the listing.</summary>
internal sealed record InstanceRuns(string Instance, IReadOnlyList<BackupRun> Runs, bool Found, ExceptionDispatchInfo? Error)
{
    public bool Listed => Found && Error is null;
}

/// <summary>
/// The instances one sweep covers (every instance the catalog names, plus the production
/// instances, which must be watched even before anything of theirs is catalogued) and their backup
/// runs, listed once per instance and shared by reconciliation, freshness and the plan.
/// </summary>
internal sealed class SweptInstances
{
    private readonly SortedDictionary<string, InstanceRuns> _runs;

    private SweptInstances(SortedDictionary<string, InstanceRuns> runs) => _runs = runs;

    /// <summary>In instance name order.</summary>
    public IEnumerable<InstanceRuns> All => _runs.Values;

    public static async Task<SweptInstances> ListAsync(CatalogListing listing, IEnumerable<string> productionInstances, ICloudSqlAdmin cloudSql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listing);
        ArgumentNullException.ThrowIfNull(productionInstances);
        ArgumentNullException.ThrowIfNull(cloudSql);
        var runs = new SortedDictionary<string, InstanceRuns>(StringComparer.Ordinal);
        foreach (var instance in listing.Entries.Select(e => e.Name.Instance).Concat(productionInstances).Distinct(StringComparer.Ordinal))
        {
            runs[instance] = await ListAsync(cloudSql, instance, cancellationToken).ConfigureAwait(false);
        }
        return new SweptInstances(runs);
    }

    /// <summary>
    /// The runs that still exist for a backup-run manifest of <paramref name="instance"/>. The plan
    /// cannot do without them (a run it could not see would look deleted, and its manifest an
    /// orphan), so a listing error is thrown here, as the listing threw it.
    /// </summary>
    public IReadOnlyList<BackupRun> RunsForPlan(string instance)
    {
        var listed = _runs[instance];
        listed.Error?.Throw();
        return listed.Runs;
    }

    private static async Task<InstanceRuns> ListAsync(ICloudSqlAdmin cloudSql, string instance, CancellationToken cancellationToken)
    {
        try
        {
            var runs = await cloudSql.ListBackupRunsAsync(instance, cancellationToken).ConfigureAwait(false);
            return new(instance, runs, true, null);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            // The instance is gone, and its backup runs with it: its manifests are orphans.
            return new(instance, [], false, null);
        }
        catch (Exception error) when (error is CloudSqlApiException or HttpRequestException)
        {
            // Kept for the plan to throw if it needs this instance; freshness reports it and goes on.
            return new(instance, [], true, ExceptionDispatchInfo.Capture(error));
        }
    }
}
