using Commissable.Backup.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Commissable.Backup.Core.Export;

/// <summary>
/// Keeps a running export visibly alive: every interval it refreshes the export's Running ticket
/// and, once the export holds it, renews the instance's lease, each only over the generation it
/// last wrote itself, so others measure staleness from the last beat and take over a crashed
/// host's lease or ticket minutes after it stopped.
/// </summary>
/// <remarks>
/// The loop never throws: a replaced object is logged once and left alone (never written over,
/// never released), and any other store error is logged and retried at the next beat.
/// </remarks>
internal sealed class ExportHeartbeat : IAsyncDisposable
{
    /// <summary>Rewrites an object for a beat at <c>now</c> over <c>ifGenerationMatch</c>; returns the new generation.</summary>
    public delegate Task<long> Rewrite(DateTimeOffset now, long ifGenerationMatch);

    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ExportTicket _ticket;
    private readonly Held _ticketObject;
    private volatile Held? _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <summary>Starts refreshing the ticket <paramref name="ticketName"/> one interval from now, over <paramref name="ticketGeneration"/>.</summary>
    public ExportHeartbeat(TimeSpan interval, TimeProvider clock, ILogger logger, ExportTicket ticket, string ticketName, long ticketGeneration, Rewrite refreshTicket)
    {
        (_clock, _logger, _ticket) = (clock, logger, ticket);
        _ticketObject = new Held(ticketName, ticketGeneration, refreshTicket);
        _loop = Task.Run(() => RunAsync(interval), CancellationToken.None);
    }

    /// <summary>The lease generation this export still holds, or null when it took none or another export replaced it. Read it after <see cref="DisposeAsync"/>.</summary>
    public long? LeaseGeneration => _lease?.Generation;

    /// <summary>From the next beat on, also renews the lease the export just took.</summary>
    public void HoldLease(string leaseName, long generation, Rewrite renew) => _lease = new Held(leaseName, generation, renew);

    /// <summary>Stops the beats and waits for one in flight, so no beat races the final ticket write or the lease's release. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var now = _clock.GetUtcNow();
                if (_lease is { } lease)
                {
                    await BeatAsync(lease, now).ConfigureAwait(false);
                }
                await BeatAsync(_ticketObject, now).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped while waiting for the next tick.
        }
    }

    private async Task BeatAsync(Held held, DateTimeOffset now)
    {
        if (held.Generation is not { } generation)
        {
            return;
        }
        try
        {
            // Not cancelled by the stop: a write cut off mid-flight may still land, and then the
            // generation held here would be stale and the release would leave the lease behind.
            held.Generation = await held.Rewrite(now, generation).ConfigureAwait(false);
        }
        catch (StorePreconditionFailedException)
        {
            held.Generation = null;
            if (ReferenceEquals(held, _lease))
            {
                _logger.LogWarning(ExportLogEvents.LeaseLost,
                    "backup.export.lease.lost {BackupUri} {Instance} {Lease}: another export replaced the lease; this one carries on (Cloud SQL itself refuses a second operation on the instance) and will not release it",
                    _ticket.BackupUri, _ticket.Instance, held.Name);
            }
            else
            {
                _logger.LogWarning(ExportLogEvents.TicketReplaced,
                    "backup.export.ticket.replaced {BackupUri} {Instance} {Ticket}: the export's ticket was replaced; its heartbeat is no longer refreshed",
                    _ticket.BackupUri, _ticket.Instance, held.Name);
            }
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // A store hiccup: the next beat retries over the same generation, and StaleAfter
            // allows several missed beats before anyone takes the export for dead.
            _logger.LogWarning(ExportLogEvents.HeartbeatFailed, "backup.export.heartbeat.failed {BackupUri} {Instance} {Object}: {Error}",
                _ticket.BackupUri, _ticket.Instance, held.Name, error.Message);
        }
    }

    /// <summary>An object the export wrote, and the generation of its last write (null once replaced).</summary>
    private sealed class Held(string name, long generation, Rewrite rewrite)
    {
        public string Name { get; } = name;
        public Rewrite Rewrite { get; } = rewrite;
        public long? Generation { get; set; } = generation;
    }
}
