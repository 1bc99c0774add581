using Commissable.Backup.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Commissable.Backup.Core.Export;

/// <summary>
/// The per-instance lease: a create-only object under <c>&lt;prefix&gt;/.leases/&lt;instance&gt;.json</c>,
/// so one export at a time runs on an instance. A live holder renews it every heartbeat; one not
/// renewed for longer than <see cref="PreDeployOptions.StaleAfter"/> is taken over.
/// </summary>
internal sealed class ExportLease(IBackupStore store, string prefix, PreDeployOptions options, TimeProvider clock, ILogger logger)
{
    /// <summary>The lease object's content: whose it is, since when, and its last renewal.</summary>
    public sealed record LeaseBody(string Ticket, DateTimeOffset TakenAt, DateTimeOffset? RenewedAt);

    public string ObjectName(string instance) => $"{prefix}/.leases/{instance}.json";

    /// <summary>Takes the per-instance lease (a create-only object), waiting up to the busy limit; null when still busy.</summary>
    public async Task<(long Generation, LeaseBody Body)?> TakeAsync(ExportTicket ticket, CancellationToken cancellationToken)
    {
        var leaseName = ObjectName(ticket.Instance);
        var deadline = clock.GetUtcNow() + options.BusyWait;
        while (true)
        {
            var body = new LeaseBody(ticket.Id, clock.GetUtcNow(), null);
            try
            {
                return (await WriteAsync(ticket.Instance, body, 0).ConfigureAwait(false), body);
            }
            catch (StorePreconditionFailedException)
            {
                // A live holder renews the lease every heartbeat, so Updated is its last beat.
                var holder = await store.GetAsync(leaseName, cancellationToken).ConfigureAwait(false);
                if (holder is not null && clock.GetUtcNow() - holder.Updated > options.StaleAfter)
                {
                    // Its owner died without releasing it; remove exactly that lease and try again.
                    logger.LogWarning(ExportLogEvents.LeaseTakenOver,
                        "backup.export.lease.taken_over {Instance} {Lease} {LastRenewed}: not renewed for longer than the stale limit, so its holder is taken as crashed",
                        ticket.Instance, leaseName, holder.Updated);
                    await store.TryDeleteAsync(leaseName, holder.Generation).ConfigureAwait(false);
                    continue;
                }
            }
            if (clock.GetUtcNow() >= deadline) return null;
            await Task.Delay(TimeSpan.FromSeconds(2), clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the lease over <paramref name="ifGenerationMatch"/> (0: take it); returns the new generation.</summary>
    public Task<long> WriteAsync(string instance, LeaseBody body, long ifGenerationMatch) =>
        store.WriteJsonAsync(ObjectName(instance), body, ifGenerationMatch);

    /// <summary>Releases exactly the generation this export holds; a failure is logged, never thrown.</summary>
    public async Task ReleaseAsync(string instance, long generation)
    {
        try
        {
            await store.TryDeleteAsync(ObjectName(instance), generation).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The export's outcome still has to reach its ticket; a lease left behind only holds
            // the instance until it goes stale.
            logger.LogWarning(ExportLogEvents.LeaseReleaseFailed, "backup.export.lease.release_failed {Instance} {Lease}: {Error}",
                instance, ObjectName(instance), error.Message);
        }
    }
}
