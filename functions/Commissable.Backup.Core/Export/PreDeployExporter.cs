using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Commissable.Backup.Core.Export;

/// <summary>
/// The pre-deploy export: preconditions, the export through the Cloud SQL API under a per-instance
/// lease, the object check, the content manifest read from the object just written (never from
/// the production database: the deploy gate scans no production table), and the manifest, which is
/// written last.
/// Idempotent across callers and processes through a create-only ticket in the bucket.
/// </summary>
public sealed class PreDeployExporter
{
    private readonly ICloudSqlAdmin _sql;
    private readonly IBackupStore _store;
    private readonly BackupCatalog _catalog;
    private readonly IBackupContentReader _content;
    private readonly PreDeployOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly ExportTicketStore _tickets;
    private readonly ExportLease _lease;
    private readonly BackupNameReservations _names;
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    /// <param name="stopping">
    /// Cancelled when the host shuts down (<c>IHostApplicationLifetime.ApplicationStopping</c>):
    /// every running export then ends failed and releases its lease; <see cref="DrainAsync"/> waits for that.
    /// </param>
    public PreDeployExporter(ICloudSqlAdmin sql, IBackupStore store, BackupCatalog catalog, IBackupContentReader content,
        PreDeployOptions options, TimeProvider clock, ILogger<PreDeployExporter> logger, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate(nameof(options));
        (_sql, _store, _catalog, _content, _options, _clock, _logger, _stopping) = (sql, store, catalog, content, options, clock, logger, stopping);
        _tickets = new ExportTicketStore(store, catalog.Prefix, clock);
        _lease = new ExportLease(store, catalog.Prefix, options, clock, logger);
        _names = new BackupNameReservations(store, catalog.Prefix);
    }

    /// <summary>The pre-deploy export's format: plain SQL, gzip-compressed (the object name ends in <c>.sql.gz</c>).</summary>
    private const string Format = "SQL_GZIP";

    /// <summary>The options in force.</summary>
    public PreDeployOptions Options => _options;

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
    /// A digest of the request as normalised (the one database however it was named; field order
    /// and spacing do not count): two bodies with the same digest ask for the same backup.
    /// </summary>
    public static string RequestDigest(PreDeployRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string?[] fields = [request.Instance, request.TheDatabase, request.Change, request.CommitSha, request.PipelineRunId, request.RequestedBy];
        return Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(fields)));
    }

    /// <summary>
    /// Starts the export, or joins the one already started for the same key. Throws
    /// <see cref="PreconditionsFailedException"/> (nothing started) when the checklist fails.
    /// </summary>
    public async Task<ExportTicket> StartAsync(PreDeployRequest request, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = TicketId(request, idempotencyKey);
        var digest = RequestDigest(request);
        var existing = await _tickets.ReadAsync(id, cancellationToken).ConfigureAwait(false);
        if (existing is { } found && !string.IsNullOrEmpty(idempotencyKey))
        {
            RefuseOtherRequest(found.Ticket, request, digest);
        }
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
        long? reservation;
        try
        {
            if (await _store.GetAsync(name.Name, cancellationToken).ConfigureAwait(false) is not null
                && (await _names.ReadAsync(name.Name, cancellationToken).ConfigureAwait(false))?.Ticket != id)
            {
                // A different request (another key) for the same change this minute: exporting would
                // overwrite nothing (create-only) and fail late; say so now, with when a new name exists.
                // (A dump under a name this very ticket claimed is its own: the Cloud SQL export of an
                // attempt whose process died finished it. The restart adopts it below.)
                throw _names.Taken(name, now);
            }
            // The name is claimed with a create-only object before anything starts, so of concurrent
            // requests for one change in one minute exactly one exports; the existence check above
            // only spares a write when a dump (of any origin) is already there.
            reservation = await _names.ReserveAsync(name, id, now, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupNameTakenException)
        {
            // A concurrent call with this very request may have started (even finished) the export
            // meanwhile: then the name is its, and this call joins it.
            if (await _tickets.ReadAsync(id, cancellationToken).ConfigureAwait(false) is { } winner && winner.Generation != existing?.Generation)
            {
                if (!string.IsNullOrEmpty(idempotencyKey))
                {
                    RefuseOtherRequest(winner.Ticket, request, digest);
                }
                return winner.Ticket;
            }
            throw;
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
            RequestDigest = digest,
        };
        long ticketGeneration;
        try
        {
            // Create-only, or replace exactly the failed/stale ticket we read: one winner either way.
            ticketGeneration = await _tickets.WriteAsync(ticket, existing?.Generation ?? 0, cancellationToken).ConfigureAwait(false);
        }
        catch (StorePreconditionFailedException)
        {
            // Another call with the same key won; the name this call claimed is not needed.
            if (reservation is { } claimed)
            {
                await _names.ReleaseAsync(name.Name, claimed).ConfigureAwait(false);
            }
            var winner = await _tickets.ReadAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The export ticket {id} changed and then vanished.");
            if (!string.IsNullOrEmpty(idempotencyKey))
            {
                RefuseOtherRequest(winner.Ticket, request, digest);
            }
            return winner.Ticket;
        }
        // The deadline and the host's shutdown end the export; it is tracked so a shutdown can wait
        // for its failed ticket and released lease.
        var run = Task.Run(() => RunAsync(ticket, ticketGeneration, name, request, instance), CancellationToken.None);
        _running[ticket.Id + "@" + ticketGeneration.ToString(CultureInfo.InvariantCulture)] = run;
        _ = run.ContinueWith(_ => _running.TryRemove(ticket.Id + "@" + ticketGeneration.ToString(CultureInfo.InvariantCulture), out var _),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return ticket;
    }

    /// <summary>Waits for every export this process is running to end (after the host's stopping token ended them).</summary>
    public Task DrainAsync() => Task.WhenAll(_running.Values.ToArray());

    /// <summary>
    /// Waits for the export until it is no longer running or <paramref name="limit"/> passes, and
    /// takes over an export whose process died (its ticket not refreshed for longer than
    /// <see cref="PreDeployOptions.StaleAfter"/>) instead of waiting on it: a retry after a crash
    /// restarts the export within the stale limit, never after the whole wait.
    /// </summary>
    public async Task<ExportTicket> WaitOrTakeOverAsync(PreDeployRequest request, string? idempotencyKey, ExportTicket started, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(started);
        var deadline = _clock.GetUtcNow() + limit;
        var ticket = started;
        // Bounded: each takeover needs a whole stale limit to pass first, so two cover a crash of
        // the export this call took over, and no loop can spin.
        for (var takeovers = 0; ; takeovers++)
        {
            var remaining = deadline - _clock.GetUtcNow();
            ticket = await WaitAsync(ticket.Id, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken).ConfigureAwait(false) ?? ticket;
            if (!IsAbandoned(ticket) || takeovers == 2 || _clock.GetUtcNow() >= deadline)
            {
                return ticket;
            }
            ticket = await StartAsync(request, idempotencyKey, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The ticket says running, but its process stopped refreshing it longer ago than the stale limit: it died.</summary>
    public bool IsAbandoned(ExportTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return ticket.Status == ExportStatus.Running && IsStale(ticket);
    }

    /// <summary>
    /// Of the given dumps without a manifest, those a pre-deploy export claimed and then abandoned:
    /// its process died (its ticket is stale), it failed, or a retry replaced it with another
    /// name. They will never get a manifest. A dump no export claimed, or one still being
    /// written, is not returned.
    /// </summary>
    public async Task<IReadOnlySet<string>> AbandonedAsync(IEnumerable<string> dumpsWithoutManifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dumpsWithoutManifest);
        var abandoned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var objectName in dumpsWithoutManifest)
        {
            var claim = await _names.ReadAsync(objectName, cancellationToken).ConfigureAwait(false);
            if (claim is null || claim.ObjectName != objectName || !ExportTicketStore.IsTicketId(claim.Ticket))
            {
                continue;
            }
            var ticket = (await _tickets.ReadAsync(claim.Ticket, cancellationToken).ConfigureAwait(false))?.Ticket;
            if (ticket is null || ticket.ObjectName != objectName || ticket.Status != ExportStatus.Running || IsStale(ticket))
            {
                abandoned.Add(objectName);
            }
        }
        return abandoned;
    }

    /// <summary>Waits until the export is no longer running, or the limit passes; returns the latest ticket.</summary>
    /// <remarks>A running ticket whose process died (see <see cref="IsAbandoned"/>) ends the wait at once: nothing will ever finish it.</remarks>
    public async Task<ExportTicket?> WaitAsync(string id, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        var deadline = _clock.GetUtcNow() + limit;
        while (true)
        {
            var ticket = (await _tickets.ReadAsync(id, cancellationToken).ConfigureAwait(false))?.Ticket;
            if (ticket is null || ticket.Status != ExportStatus.Running || IsStale(ticket) || _clock.GetUtcNow() >= deadline)
            {
                return ticket;
            }
            await Task.Delay(_options.PollInterval, _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<ExportTicket?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        (await _tickets.ReadAsync(id, cancellationToken).ConfigureAwait(false))?.Ticket;

    private async Task RunAsync(ExportTicket ticket, long ticketGeneration, BackupObjectName name, PreDeployRequest request, DatabaseInstance instance)
    {
        var stages = new List<StageTiming>();
        var clock = Stopwatch.StartNew();
        _logger.LogInformation(ExportLogEvents.Started, "backup.export.started {BackupUri} {Instance} {Database} {Change} {StartTime}",
            ticket.BackupUri, ticket.Instance, ticket.Database, ticket.Change, ticket.StartedAt);
        // From the start, not only once the lease is taken: waiting for a busy instance can last
        // BusyWait, and a ticket that looked stale meanwhile would be restarted by the next caller.
        var heartbeat = new ExportHeartbeat(_options.HeartbeatInterval, _clock, _logger, ticket, _tickets.ObjectName(ticket.Id), ticketGeneration,
            (now, generation) => _tickets.WriteAsync(ticket with { HeartbeatAt = now }, generation, CancellationToken.None));
        ExportTicket finished;
        using var deadline = new CancellationTokenSource(_options.Deadline, _clock);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _stopping);
        try
        {
            finished = await ExportUnderLeaseAsync(ticket, name, request, instance, stages, heartbeat, ended.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            var reason = ended.IsCancellationRequested
                ? _stopping.IsCancellationRequested
                    ? $"The export was stopped in its {FailedStage(stages)} stage because its host is shutting down; ask again to restart it."
                    : $"The export did not finish within its deadline of {Minutes(_options.Deadline)} (stopped in its {FailedStage(stages)} stage); ask again to restart it."
                : Describe(error);
            finished = ticket with { Status = ExportStatus.Failed, Error = reason, Stages = stages };
        }

        // Stopped before anything else, so no beat races the release or the final ticket write;
        // released before that write, so a caller told the export finished finds the instance free.
        await heartbeat.DisposeAsync().ConfigureAwait(false);
        if (heartbeat.LeaseGeneration is { } generation)
        {
            await _lease.ReleaseAsync(ticket.Instance, generation).ConfigureAwait(false);
        }
        try
        {
            await _tickets.FinishAsync(finished).ConfigureAwait(false);
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

    /// <summary>The lease, export, check, content and manifest; returns the finished ticket (succeeded, or busy without the lease).</summary>
    private async Task<ExportTicket> ExportUnderLeaseAsync(ExportTicket ticket, BackupObjectName name, PreDeployRequest request, DatabaseInstance instance,
        List<StageTiming> stages, ExportHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        var lease = await Stage(stages, "lease", () => _lease.TakeAsync(ticket, cancellationToken)).ConfigureAwait(false);
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
        heartbeat.HoldLease(_lease.ObjectName(ticket.Instance), held.Generation,
            (now, generation) => _lease.WriteAsync(ticket.Instance, held.Body with { RenewedAt = now }, generation));
        // A restart of an export whose process died after Cloud SQL began exporting finds the dump
        // that export finished under the name this ticket claimed: it is checked, read and recorded
        // like any other, instead of being left an orphan while the retry waits for a new name.
        var adopted = await _store.GetAsync(name.Name, cancellationToken).ConfigureAwait(false) is not null;
        var operation = adopted ? null : await Stage(stages, "export", async () =>
        {
            var started = await _sql.ExportAsync(ticket.Instance, new ExportContext { FileType = "SQL", Uri = ticket.BackupUri, Databases = [ticket.Database] }, cancellationToken).ConfigureAwait(false);
            // Bounded by the export's deadline, not the client's own wait limit.
            return await _sql.WaitForOperationAsync(started, _options.Deadline, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        var stored = await Stage(stages, "check", () => ExportObjectCheck.VerifyAsync(_store, name.Name, cancellationToken)).ConfigureAwait(false);
        // What the backup holds, in its own snapshot: one read of the object just written. A dump
        // that cannot be read whole (cut short, not a dump) fails the export here, before any manifest.
        var reading = new DumpReadOptions { TenantColumn = _options.TenantColumn, TimeZone = instance.Settings?.TimeZone ?? "UTC" };
        var content = await Stage(stages, "content", () => _content.ReadBackupAsync(name.Name, Format, reading, cancellationToken)).ConfigureAwait(false);
        var manifest = new BackupManifest
        {
            Uri = ticket.BackupUri,
            Kind = "pre-deploy-export",
            Environment = _options.Environment,
            SourceInstance = ticket.Instance,
            Databases = [ticket.Database],
            DatabaseVersion = instance.DatabaseVersion,
            Format = Format,
            Trigger = new BackupTrigger { Change = ticket.Change, CommitSha = request.CommitSha, PipelineRunId = request.PipelineRunId, RequestedBy = request.RequestedBy, IdempotencyKey = ticket.Id },
            StartTime = ticket.StartedAt,
            EndTime = _clock.GetUtcNow(),
            SizeBytes = stored.Size,
            Md5Hash = stored.Md5Hash,
            Crc32c = stored.Crc32c,
            Generation = stored.Generation,
            OperationName = operation?.Name,
            Content = content,
        };
        await Stage(stages, "manifest", () => _catalog.RecordAsync(name, manifest, cancellationToken)).ConfigureAwait(false);
        return ticket with
        {
            Status = ExportStatus.Succeeded,
            SizeBytes = stored.Size,
            ManifestUri = $"gs://{_store.Bucket}/{name.ManifestName}",
            Stages = stages,
        };
    }

    /// <summary>Throws <see cref="IdempotencyKeyReusedException"/> when the ticket was started by a different request.</summary>
    private static void RefuseOtherRequest(ExportTicket ticket, PreDeployRequest request, string digest)
    {
        if (ticket.RequestDigest is null || ticket.RequestDigest == digest)
        {
            return;
        }
        var differences = new List<string>();
        if (ticket.Instance != request.Instance) differences.Add("instance");
        if (ticket.Database != request.TheDatabase) differences.Add("database");
        if (ticket.Change != request.Change) differences.Add("change");
        if (ticket.CommitSha != request.CommitSha) differences.Add("commitSha");
        if (differences.Count == 0) differences.Add("pipelineRunId or requestedBy");
        throw new IdempotencyKeyReusedException(differences);
    }

    private static string FailedStage(List<StageTiming> stages) => stages.LastOrDefault(s => !s.Succeeded)?.Stage ?? "lease";

    private static string Minutes(TimeSpan span) => span.TotalMinutes >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.#} min")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s");

    private bool IsStale(ExportTicket ticket) => _clock.GetUtcNow() - (ticket.HeartbeatAt ?? ticket.StartedAt) > _options.StaleAfter;

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

    private static string Describe(Exception error) => error switch
    {
        CloudSqlOperationFailedException failed => failed.Message,
        CloudSqlApiException api => api.Message,
        _ => error.Message,
    };
}
