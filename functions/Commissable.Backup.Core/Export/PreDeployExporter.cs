using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Commissable.Backup.Core.Export;

/// <summary>How pre-deploy exports are named, guarded and waited for.</summary>
public sealed record PreDeployOptions
{
    /// <summary>The environment in backup names, for example <c>prod</c>.</summary>
    public required string Environment { get; init; }
    /// <summary>Where backups live in the bucket (default <c>backups</c>).</summary>
    public string Prefix { get; init; } = "backups";
    /// <summary>The newest automated backup must be younger than this (default 26 h).</summary>
    public TimeSpan MaxBackupAge { get; init; } = TimeSpan.FromHours(26);
    /// <summary>How long an export waits for another operation on the instance before it reports busy.</summary>
    public TimeSpan BusyWait { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How often a running export renews its lease and refreshes its ticket, to show it is alive (default 30 s).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// A lease or running ticket not renewed for longer than this is taken as dead (its process
    /// crashed) and may be taken over (default 5 min). Must be more than twice <see cref="HeartbeatInterval"/>.
    /// </summary>
    // Ten beats: a live export has to miss nine renewals in a row (store errors, a paused or
    // throttled instance) before anyone takes it for dead, while a crash holds the instance's
    // deploys for minutes, not hours. It also dwarfs any skew between this host's clock and the
    // store's, which stamps the lease's Updated. Being no longer than BusyWait, a caller that
    // waits on a crashed holder takes the lease over within its wait instead of answering busy.
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How often waiting callers look at the ticket.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// The pre-deploy export: preconditions, the source snapshot, the export through the Cloud SQL
/// API under a per-instance lease, the object check, and the manifest, which is written last.
/// Idempotent across callers and processes through a create-only ticket in the bucket.
/// </summary>
public sealed class PreDeployExporter
{
    private readonly ICloudSqlAdmin _sql;
    private readonly IBackupStore _store;
    private readonly BackupCatalog _catalog;
    private readonly IDatabaseInspector _inspector;
    private readonly PreDeployOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public PreDeployExporter(ICloudSqlAdmin sql, IBackupStore store, BackupCatalog catalog, IDatabaseInspector inspector,
        PreDeployOptions options, TimeProvider clock, ILogger<PreDeployExporter> logger)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(inspector);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"PreDeployOptions.HeartbeatInterval must be positive; got {options.HeartbeatInterval}.", nameof(options));
        }
        if (options.StaleAfter <= 2 * options.HeartbeatInterval)
        {
            throw new ArgumentException(
                $"PreDeployOptions.StaleAfter ({options.StaleAfter}) must be more than twice HeartbeatInterval ({options.HeartbeatInterval}): otherwise one late renewal makes a live export look dead and another takes its lease.",
                nameof(options));
        }
        (_sql, _store, _catalog, _inspector, _options, _clock, _logger) = (sql, store, catalog, inspector, options, clock, logger);
    }

    /// <summary>The ticket id for a request: from the idempotency key, else from instance, change and commit.</summary>
    public static string TicketId(PreDeployRequest request, string? idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = string.IsNullOrEmpty(idempotencyKey)
            ? $"auto\n{request.Instance}\n{request.TheDatabase}\n{request.Change}\n{request.CommitSha}"
            : $"key\n{idempotencyKey}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32];
    }

    /// <summary>
    /// Starts the export, or joins the one already started for the same key. Throws
    /// <see cref="PreconditionsFailedException"/> (nothing started) when the checklist fails.
    /// </summary>
    public async Task<ExportTicket> StartAsync(PreDeployRequest request, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = TicketId(request, idempotencyKey);
        var existing = await ReadTicketAsync(id, cancellationToken).ConfigureAwait(false);
        if (existing is { Ticket.Status: ExportStatus.Succeeded } || existing is { Ticket.Status: ExportStatus.Running } && !IsStale(existing.Value.Ticket))
        {
            return existing.Value.Ticket;
        }

        var instance = await _sql.GetInstanceAsync(request.Instance!, cancellationToken).ConfigureAwait(false);
        var runs = await _sql.ListBackupRunsAsync(request.Instance!, cancellationToken).ConfigureAwait(false);
        var failures = ExportPreconditions.Check(instance, runs, _clock.GetUtcNow(), _options.MaxBackupAge);
        if (failures.Count > 0)
        {
            _logger.LogWarning(ExportLogEvents.Refused, "backup.export.refused {Instance} {Change}: {Failures}", request.Instance, request.Change,
                string.Join("; ", failures.Select(f => f.Name)));
            throw new PreconditionsFailedException(failures);
        }

        var now = _clock.GetUtcNow();
        var name = BackupObjectName.PreDeploy(_options.Prefix, _options.Environment, request.Instance!, now, request.Change!);
        if (await _store.GetAsync(name.Name, cancellationToken).ConfigureAwait(false) is not null)
        {
            // A different request (another key) for the same change this minute: exporting would
            // overwrite nothing (create-only) and fail late; say so now, with when a new name exists.
            var nextMinute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(1);
            throw new BackupNameTakenException($"gs://{_store.Bucket}/{name.Name}", nextMinute - now + TimeSpan.FromSeconds(1));
        }
        var ticket = new ExportTicket
        {
            Id = id,
            Instance = request.Instance!,
            Database = request.TheDatabase!,
            Change = request.Change!,
            CommitSha = request.CommitSha,
            ObjectName = name.Name,
            BackupUri = $"gs://{_store.Bucket}/{name.Name}",
            Status = ExportStatus.Running,
            StartedAt = now,
        };
        long ticketGeneration;
        try
        {
            // Create-only, or replace exactly the failed/stale ticket we read: one winner either way.
            ticketGeneration = await WriteTicketAsync(ticket, existing?.Generation ?? 0, cancellationToken).ConfigureAwait(false);
        }
        catch (StorePreconditionFailedException)
        {
            var winner = await ReadTicketAsync(id, cancellationToken).ConfigureAwait(false);
            return winner?.Ticket ?? throw new InvalidOperationException($"The export ticket {id} changed and then vanished.");
        }
        _ = Task.Run(() => RunAsync(ticket, ticketGeneration, name, request, instance), CancellationToken.None);
        return ticket;
    }

    /// <summary>Waits until the export is no longer running, or the limit passes; returns the latest ticket.</summary>
    public async Task<ExportTicket?> WaitAsync(string id, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        var deadline = _clock.GetUtcNow() + limit;
        while (true)
        {
            var ticket = (await ReadTicketAsync(id, cancellationToken).ConfigureAwait(false))?.Ticket;
            if (ticket is null || ticket.Status != ExportStatus.Running || _clock.GetUtcNow() >= deadline)
            {
                return ticket;
            }
            await Task.Delay(_options.PollInterval, _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<ExportTicket?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        (await ReadTicketAsync(id, cancellationToken).ConfigureAwait(false))?.Ticket;

    private async Task RunAsync(ExportTicket ticket, long ticketGeneration, BackupObjectName name, PreDeployRequest request, DatabaseInstance instance)
    {
        var stages = new List<StageTiming>();
        var clock = Stopwatch.StartNew();
        _logger.LogInformation(ExportLogEvents.Started, "backup.export.started {BackupUri} {Instance} {Database} {Change} {StartTime}",
            ticket.BackupUri, ticket.Instance, ticket.Database, ticket.Change, ticket.StartedAt);
        // From the start, not only once the lease is taken: waiting for a busy instance can last
        // BusyWait, and a ticket that looked stale meanwhile would be restarted by the next caller.
        var heartbeat = new ExportHeartbeat(_options.HeartbeatInterval, _clock, _logger, ticket, TicketName(ticket.Id), ticketGeneration,
            (now, generation) => WriteTicketAsync(ticket with { HeartbeatAt = now }, generation, CancellationToken.None));
        ExportTicket finished;
        try
        {
            finished = await ExportUnderLeaseAsync(ticket, name, request, instance, stages, heartbeat).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            finished = ticket with { Status = ExportStatus.Failed, Error = Describe(error), Stages = stages };
        }

        // Stopped before anything else, so no beat races the release or the final ticket write;
        // released before that write, so a caller told the export finished finds the instance free.
        await heartbeat.DisposeAsync().ConfigureAwait(false);
        if (heartbeat.LeaseGeneration is { } generation)
        {
            await ReleaseLeaseAsync(ticket.Instance, generation).ConfigureAwait(false);
        }
        try
        {
            await FinishAsync(finished).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // Nobody observes this task: say it here, or the outcome is lost without a trace.
            _logger.LogError(ExportLogEvents.TicketWriteFailed, "backup.export.ticket.write_failed {BackupUri} {Outcome}: {Error}",
                ticket.BackupUri, finished.Status, error.Message);
            return;
        }
        if (finished.Status == ExportStatus.Succeeded)
        {
            _logger.LogInformation(ExportLogEvents.Completed, "backup.export.completed {BackupUri} {SizeBytes} {StartTime} {EndTime} {DurationMs} {Outcome}",
                ticket.BackupUri, finished.SizeBytes, ticket.StartedAt, _clock.GetUtcNow(), clock.ElapsedMilliseconds, "succeeded");
        }
        else if (finished.Status == ExportStatus.Failed)
        {
            _logger.LogError(ExportLogEvents.Failed, "backup.export.failed {BackupUri} {StartTime} {EndTime} {Outcome}: {Error}",
                ticket.BackupUri, ticket.StartedAt, _clock.GetUtcNow(), "failed", finished.Error);
        }
    }

    /// <summary>The lease, snapshot, export, check and manifest; returns the finished ticket (succeeded, or busy without the lease).</summary>
    private async Task<ExportTicket> ExportUnderLeaseAsync(ExportTicket ticket, BackupObjectName name, PreDeployRequest request, DatabaseInstance instance,
        List<StageTiming> stages, ExportHeartbeat heartbeat)
    {
        var lease = await Stage(stages, "lease", () => TakeLeaseAsync(ticket)).ConfigureAwait(false);
        if (lease is not { } held)
        {
            return ticket with
            {
                Status = ExportStatus.Busy,
                Error = $"Instance '{ticket.Instance}' stayed busy with another export for {_options.BusyWait.TotalSeconds:F0} s.",
                RetryAfterSeconds = 60,
                Stages = stages,
            };
        }
        heartbeat.HoldLease(LeaseName(ticket.Instance), held.Generation,
            (now, generation) => WriteLeaseAsync(ticket.Instance, held.Body with { RenewedAt = now }, generation));
        var snapshot = await Stage(stages, "snapshot", () => _inspector.SnapshotAsync(instance, ticket.Database)).ConfigureAwait(false);
        var operation = await Stage(stages, "export", async () =>
        {
            var started = await _sql.ExportAsync(ticket.Instance, new ExportContext { FileType = "SQL", Uri = ticket.BackupUri, Databases = [ticket.Database] }).ConfigureAwait(false);
            return await _sql.WaitForOperationAsync(started).ConfigureAwait(false);
        }).ConfigureAwait(false);
        var stored = await Stage(stages, "check", () => CheckObjectAsync(name.Name)).ConfigureAwait(false);
        var manifest = new BackupManifest
        {
            Uri = ticket.BackupUri,
            Kind = "pre-deploy-export",
            Environment = _options.Environment,
            SourceInstance = ticket.Instance,
            Databases = [ticket.Database],
            DatabaseVersion = instance.DatabaseVersion,
            Format = "SQL_GZIP",
            Trigger = new BackupTrigger { Change = ticket.Change, CommitSha = request.CommitSha, PipelineRunId = request.PipelineRunId, RequestedBy = request.RequestedBy, IdempotencyKey = ticket.Id },
            StartTime = ticket.StartedAt,
            EndTime = _clock.GetUtcNow(),
            SizeBytes = stored.Size,
            Md5Hash = stored.Md5Hash,
            Crc32c = stored.Crc32c,
            Generation = stored.Generation,
            OperationName = operation.Name,
            Snapshot = snapshot,
        };
        await Stage(stages, "manifest", () => _catalog.RecordAsync(name, manifest)).ConfigureAwait(false);
        return ticket with
        {
            Status = ExportStatus.Succeeded,
            SizeBytes = stored.Size,
            ManifestUri = $"gs://{_store.Bucket}/{name.ManifestName}",
            Stages = stages,
        };
    }

    /// <summary>The dump exists, is not empty, and its content matches the MD5 the store reports.</summary>
    private async Task<StoredObject> CheckObjectAsync(string objectName)
    {
        var stored = await _store.GetAsync(objectName).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The export finished but gs://{_store.Bucket}/{objectName} does not exist.");
        if (stored.Size < 20)
        {
            throw new InvalidOperationException($"The export gs://{_store.Bucket}/{objectName} is only {stored.Size} bytes; a dump is never that small.");
        }
        if (stored.Md5Hash is { } expected)
        {
            // MD5 here is Cloud Storage's integrity checksum (md5Hash), not a security measure.
#pragma warning disable CA5351
            using var md5 = MD5.Create();
#pragma warning restore CA5351
            await using var content = await _store.OpenReadAsync(objectName).ConfigureAwait(false);
            var actual = Convert.ToBase64String(await md5.ComputeHashAsync(content).ConfigureAwait(false));
            if (actual != expected)
            {
                throw new InvalidOperationException($"The export gs://{_store.Bucket}/{objectName} does not match its MD5 ({actual} read, {expected} reported).");
            }
        }
        return stored;
    }

    /// <summary>Takes the per-instance lease (a create-only object), waiting up to the busy limit; null when still busy.</summary>
    private async Task<(long Generation, LeaseBody Body)?> TakeLeaseAsync(ExportTicket ticket)
    {
        var leaseName = LeaseName(ticket.Instance);
        var deadline = _clock.GetUtcNow() + _options.BusyWait;
        while (true)
        {
            var body = new LeaseBody(ticket.Id, _clock.GetUtcNow(), null);
            try
            {
                return (await WriteLeaseAsync(ticket.Instance, body, 0).ConfigureAwait(false), body);
            }
            catch (StorePreconditionFailedException)
            {
                // A live holder renews the lease every heartbeat, so Updated is its last beat.
                var holder = await _store.GetAsync(leaseName).ConfigureAwait(false);
                if (holder is not null && _clock.GetUtcNow() - holder.Updated > _options.StaleAfter)
                {
                    // Its owner died without releasing it; remove exactly that lease and try again.
                    _logger.LogWarning(ExportLogEvents.LeaseTakenOver,
                        "backup.export.lease.taken_over {Instance} {Lease} {LastRenewed}: not renewed for longer than the stale limit, so its holder is taken as crashed",
                        ticket.Instance, leaseName, holder.Updated);
                    await TryDeleteAsync(leaseName, holder.Generation).ConfigureAwait(false);
                    continue;
                }
            }
            if (_clock.GetUtcNow() >= deadline) return null;
            await Task.Delay(TimeSpan.FromSeconds(2), _clock).ConfigureAwait(false);
        }
    }

    private async Task<long> WriteLeaseAsync(string instance, LeaseBody body, long ifGenerationMatch)
    {
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(body, CatalogJson.Options));
        return (await _store.WriteAsync(LeaseName(instance), content, "application/json", ifGenerationMatch).ConfigureAwait(false)).Generation;
    }

    private async Task ReleaseLeaseAsync(string instance, long generation)
    {
        try
        {
            await TryDeleteAsync(LeaseName(instance), generation).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The export's outcome still has to reach its ticket; a lease left behind only holds
            // the instance until it goes stale.
            _logger.LogWarning(ExportLogEvents.LeaseReleaseFailed, "backup.export.lease.release_failed {Instance} {Lease}: {Error}",
                instance, LeaseName(instance), error.Message);
        }
    }

    private async Task TryDeleteAsync(string objectName, long generation)
    {
        try
        {
            await _store.DeleteAsync(objectName, generation).ConfigureAwait(false);
        }
        catch (Exception error) when (error is StorePreconditionFailedException or StoredObjectNotFoundException)
        {
            // Someone else already released or replaced it.
        }
    }

    private string LeaseName(string instance) => $"{_catalog.Prefix}/.leases/{instance}.json";

    private string TicketName(string id) => $"{_catalog.Prefix}/.requests/{id}.json";

    private bool IsStale(ExportTicket ticket) => _clock.GetUtcNow() - (ticket.HeartbeatAt ?? ticket.StartedAt) > _options.StaleAfter;

    private async Task<(ExportTicket Ticket, long Generation)?> ReadTicketAsync(string id, CancellationToken cancellationToken)
    {
        var stored = await _store.GetAsync(TicketName(id), cancellationToken).ConfigureAwait(false);
        if (stored is null) return null;
        try
        {
            await using var content = await _store.OpenReadAsync(TicketName(id), cancellationToken).ConfigureAwait(false);
            var ticket = await JsonSerializer.DeserializeAsync<ExportTicket>(content, CatalogJson.Options, cancellationToken).ConfigureAwait(false);
            return ticket is null ? null : (ticket, stored.Generation);
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
    }

    private async Task<long> WriteTicketAsync(ExportTicket ticket, long ifGenerationMatch, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(ticket, CatalogJson.Options));
        return (await _store.WriteAsync(TicketName(ticket.Id), content, "application/json", ifGenerationMatch, cancellationToken).ConfigureAwait(false)).Generation;
    }

    private async Task FinishAsync(ExportTicket ticket)
    {
        var current = await ReadTicketAsync(ticket.Id, CancellationToken.None).ConfigureAwait(false);
        await WriteTicketAsync(ticket with { FinishedAt = _clock.GetUtcNow() }, current?.Generation ?? 0, CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task<T> Stage<T>(List<StageTiming> stages, string stage, Func<Task<T>> work)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await work().ConfigureAwait(false);
            stages.Add(new StageTiming(stage, clock.ElapsedMilliseconds, true));
            return result;
        }
        catch
        {
            stages.Add(new StageTiming(stage, clock.ElapsedMilliseconds, false));
            throw;
        }
    }

    /// <summary>The lease object's content: whose it is, since when, and its last renewal.</summary>
    private sealed record LeaseBody(string Ticket, DateTimeOffset TakenAt, DateTimeOffset? RenewedAt);

    private static string Describe(Exception error) => error switch
    {
        CloudSqlOperationFailedException failed => failed.Message,
        CloudSqlApiException api => api.Message,
        _ => error.Message,
    };
}
