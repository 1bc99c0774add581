using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;

namespace Commissable.Functions.Export;

/// <summary>
/// <c>pre-deploy-export</c>: a deploy pipeline POSTs <c>{instance, database, change, commitSha?,
/// pipelineRunId?, requestedBy?}</c> before migrating; anything but 200 must stop the deploy.
/// <c>?wait=false</c> answers 202 at once with a status URL (<c>GET .../status/{id}</c>).
/// </summary>
internal sealed class PreDeployExportFunction(PreDeployExporter exporter, BackupCatalog catalog, IBackupStore store, FunctionSettings settings) : IHttpFunction
{
    private const string StatusPath = "/status/";

    public async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.StartsWithSegments(StatusPath.TrimEnd('/'), out var rest))
        {
            var id = rest.Value?.Trim('/') ?? "";
            var found = IsTicketId(id) ? await exporter.GetAsync(id, context.RequestAborted).ConfigureAwait(false) : null;
            await AnswerAsync(context, found ?? throw FunctionException.NotFound($"No pre-deploy export has the id '{Printable(id)}'.")).ConfigureAwait(false);
            return;
        }
        FunctionException.RequirePost(context.Request, "POST a JSON request to start an export, or GET /status/{id} to follow one.");

        var request = await context.ReadJsonAsync<PreDeployRequest>().ConfigureAwait(false);
        FunctionException.ThrowIfProblems(request.Problems());
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length > 200 || key.Any(char.IsControl))
        {
            throw FunctionException.BadRequest("The Idempotency-Key header must be at most 200 printable characters.");
        }
        var wait = !string.Equals(context.Request.Query["wait"], "false", StringComparison.OrdinalIgnoreCase);

        var idempotencyKey = key.Length == 0 ? null : key;
        ExportTicket ticket;
        try
        {
            var started = await exporter.StartAsync(request, idempotencyKey, context.RequestAborted).ConfigureAwait(false);
            ticket = wait
                ? await exporter.WaitOrTakeOverAsync(request, idempotencyKey, started, settings.ExportWait, context.RequestAborted).ConfigureAwait(false)
                : started;
        }
        catch (IdempotencyKeyReusedException reused)
        {
            // The key is the caller's own (a build id), named so the pipeline's log says which.
            throw new FunctionException(422, "IDEMPOTENCY_KEY_REUSED",
                $"The Idempotency-Key '{Printable(key)}' was already used for a different request (it differs in {string.Join(", ", reused.Differences)}); "
                + "send the same body to follow the first request, or a new key for a new one.");
        }
        catch (PreconditionsFailedException failed)
        {
            await context.WriteJsonAsync(new
            {
                error = new
                {
                    code = 412,
                    status = "FAILED_PRECONDITION",
                    message = "The change-management checklist failed; no export was started: " + string.Join(" ", failed.Failures.Select(f => $"[{f.Name}] {f.Reason}")),
                    preconditions = failed.Failures.Select(f => new { name = f.Name, reason = f.Reason }),
                },
            }, StatusCodes.Status412PreconditionFailed).ConfigureAwait(false);
            return;
        }
        catch (BackupNameTakenException taken)
        {
            throw FunctionException.Conflict(taken.Message, TimeSpan.FromSeconds(Math.Ceiling(taken.RetryAfter.TotalSeconds)), "BACKUP_NAME_TAKEN");
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            throw FunctionException.NotFound($"The Cloud SQL instance '{request.Instance}' does not exist in project '{settings.ProjectId}'.");
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {error.ApiMessage}", TimeSpan.FromSeconds(30));
        }
        await AnswerAsync(context, ticket).ConfigureAwait(false);
    }

    private async Task AnswerAsync(HttpContext context, ExportTicket ticket)
    {
        switch (ticket.Status)
        {
            case ExportStatus.Succeeded:
                BackupManifest? manifest = null;
                if (BackupObjectName.TryParse(ticket.ObjectName, catalog.Prefix, out var name))
                {
                    manifest = await catalog.GetAsync(name!, context.RequestAborted).ConfigureAwait(false);
                }
                // The ticket is marked succeeded only after the manifest is written: a manifest gone
                // since (swept, removed) means the backup this request made is no more. A 200 would
                // let a deploy go on with no backup behind it.
                if (manifest is null)
                {
                    throw FunctionException.Conflict(
                        $"The backup this request already made, {ticket.BackupUri}, is no longer in the catalog (its manifest is gone: swept or removed), and nothing was exported now: send a new Idempotency-Key (or another commitSha) to take a new backup.",
                        code: "BACKUP_GONE");
                }
                // So does a dump gone or replaced under a manifest still there (removed by hand or by
                // a lifecycle rule; the sweeper removes the manifest first).
                if (await DumpProblemAsync(name!, manifest, context.RequestAborted).ConfigureAwait(false) is { } problem)
                {
                    throw FunctionException.Conflict(
                        $"The backup this request already made, {ticket.BackupUri}, {problem}, and nothing was exported now: send a new Idempotency-Key (or another commitSha) to take a new backup.",
                        code: "BACKUP_GONE");
                }
                await context.WriteJsonAsync(Body(context, ticket, manifest)).ConfigureAwait(false);
                return;
            case ExportStatus.Running when exporter.IsAbandoned(ticket):
                // Its process died: nothing will finish it. The same request restarts it.
                throw new FunctionException(502, "EXPORT_FAILED",
                    $"The export {ticket.BackupUri} stopped: the process running it last reported at {ticket.HeartbeatAt ?? ticket.StartedAt:O} and is gone; send the same request (and Idempotency-Key) again to restart it.");
            case ExportStatus.Running:
                context.Response.Headers.Location = StatusUrl(context, ticket.Id);
                context.Response.Headers.RetryAfter = "10";
                await context.WriteJsonAsync(Body(context, ticket, null), StatusCodes.Status202Accepted).ConfigureAwait(false);
                return;
            case ExportStatus.Busy:
                throw FunctionException.Conflict(ticket.Error ?? $"Instance '{ticket.Instance}' is busy.", TimeSpan.FromSeconds(ticket.RetryAfterSeconds ?? 60), "INSTANCE_BUSY");
            default:
                throw new FunctionException(502, "EXPORT_FAILED", $"The export {ticket.BackupUri} failed: {ticket.Error}");
        }
    }

    /// <summary>
    /// Why the dump a recorded manifest describes is not there as recorded (gone, another size or
    /// another generation), or null. Cloud Storage answers from the object's metadata.
    /// </summary>
    private async Task<string?> DumpProblemAsync(BackupObjectName name, BackupManifest manifest, CancellationToken cancellationToken)
    {
        var found = await store.GetAsync(name.Name, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return "is gone from the bucket (its manifest is still there)";
        }
        if (manifest.SizeBytes is { } size && size != found.Size)
        {
            return string.Create(CultureInfo.InvariantCulture, $"changed after the export (it is {found.Size:N0} bytes, its manifest records {size:N0})");
        }
        if (manifest.Generation is { } generation && generation != found.Generation)
        {
            return string.Create(CultureInfo.InvariantCulture, $"was replaced after the export (generation {found.Generation}, its manifest records {generation})");
        }
        return null;
    }

    private static object Body(HttpContext context, ExportTicket ticket, BackupManifest? manifest) => new
    {
        id = ticket.Id,
        status = ticket.Status.ToString().ToLowerInvariant(),
        backupUri = ticket.BackupUri,
        manifestUri = ticket.ManifestUri,
        sizeBytes = ticket.SizeBytes,
        instance = ticket.Instance,
        database = ticket.Database,
        change = ticket.Change,
        startedAt = ticket.StartedAt,
        finishedAt = ticket.FinishedAt,
        durationMs = ticket.FinishedAt is { } end ? (long?)(end - ticket.StartedAt).TotalMilliseconds : null,
        stages = ticket.Stages,
        statusUrl = StatusUrl(context, ticket.Id),
        manifest,
    };

    private static string StatusUrl(HttpContext context, string id) =>
        string.Create(CultureInfo.InvariantCulture, $"{context.Request.PathBase}{StatusPath}{id}");

    private static bool IsTicketId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    private static string Printable(string value) => new(value.Take(64).Where(c => !char.IsControl(c)).ToArray());
}
