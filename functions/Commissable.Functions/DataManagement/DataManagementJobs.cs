using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;
using Commissable.Functions.TenantRestore;

namespace Commissable.Functions.DataManagement;

/// <summary>A job as the CRM sees it: what was asked, by whom, its state, and no file, link or secret.</summary>
internal sealed record JobView(
    string Id,
    string Kind,
    string State,
    DateTimeOffset RequestedAt,
    JobUser RequestedBy,
    JobRequest Request,
    IReadOnlyList<StoredJobApproval> Approvals,
    JobProgress? Progress,
    JobPlan? Plan,
    JsonObject? Result,
    string? Error,
    DateTimeOffset? EndedAt);

/// <summary>The step the workflow runs now.</summary>
internal sealed record JobProgress(string? Routine, string? Step);

/// <summary>A tenant restore's current plan: its digest (what an approval names), totals and tables, counts and keys only.</summary>
internal sealed record JobPlan(string Digest, bool CanApply, long Missing, long Changed, long Extra, long Writes, IReadOnlyList<JobPlanTable> Tables, IReadOnlyList<string> Problems);

internal sealed record JobPlanTable(string Table, long Missing, long Changed, long Extra, long Writes, IReadOnlyList<string> ExampleKeys, string? Problem);

/// <summary>A second job of a kind while one runs: 409 with the running job.</summary>
internal sealed class JobRunningException(JobView running)
    : FunctionException(409, "JOB_RUNNING", $"A {running.Kind} job is already running ({running.Id}, requested at {running.RequestedAt:O}); at most one runs per kind. Wait for it to end.")
{
    public JobView Running { get; } = running;
}

/// <summary>
/// Starts the workflows behind <c>data-management</c>'s requests through the Workflow Executions
/// API, keeps one job record per request, at most one running job per kind, and the two-person
/// approval of a tenant restore.
/// </summary>
internal sealed partial class DataManagementJobs(
    DataManagementJobOptions options, IWorkflowExecutions executions, DataManagementJobStore store, BackupCatalog catalog, string prefix, TimeProvider clock)
{
    /// <summary>A lease whose job record never appeared (the instance died between the two writes) is taken back after this.</summary>
    private static readonly TimeSpan OrphanedLease = TimeSpan.FromMinutes(2);

    public DataManagementJobStore Store => store;

    /// <summary>Starts a job of <paramref name="kind"/>: takes the kind's lease, starts the execution, writes the record.</summary>
    /// <exception cref="JobRunningException">Another job of the kind is running.</exception>
    public async Task<JobView> StartAsync(string kind, JobUser user, JobRequest request, string? backupUri, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var id = DataManagementJobStore.NewId(now);
        await TakeLeaseAsync(kind, id, now, cancellationToken).ConfigureAwait(false);
        Execution execution;
        try
        {
            execution = await executions.CreateExecutionAsync(options.Workflow(JobKinds.Workflow(kind)), Argument(kind, id, user, request, backupUri), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (WorkflowExecutionsApiException api)
        {
            await ReleaseOwnLeaseAsync(kind, id).ConfigureAwait(false);
            throw FunctionException.Unavailable($"The {JobKinds.Workflow(kind)} workflow could not be started: the Workflow Executions API answered {api.HttpStatus}{(api.Reason is null ? "" : " " + api.Reason)}. Nothing was started; retry.", TimeSpan.FromSeconds(30), "WORKFLOW_UNAVAILABLE", api);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await ReleaseOwnLeaseAsync(kind, id).ConfigureAwait(false);
            throw;
        }
        var job = new StoredJob(id, kind, now, user, request, execution.Name ?? throw new InvalidOperationException("The Workflow Executions API answered no execution name."));
        try
        {
            await store.CreateJobAsync(job, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Without its record nobody could see, approve or wait for the job: stop it.
            try
            {
                await executions.CancelExecutionAsync(ExecutionName.Parse(job.Execution), CancellationToken.None).ConfigureAwait(false);
            }
            catch (WorkflowExecutionsApiException)
            {
            }
            await ReleaseOwnLeaseAsync(kind, id).ConfigureAwait(false);
            throw FunctionException.Unavailable("The job could not be recorded, so its workflow was cancelled; retry.", TimeSpan.FromSeconds(5), "JOB_STORE_UNAVAILABLE", e);
        }
        return View(job, execution, [], null, null);
    }

    /// <summary>The job's state now, from its execution (and, for a tenant restore, its callbacks and plan).</summary>
    public async Task<JobView> ViewAsync(StoredJob job, CancellationToken cancellationToken)
    {
        var name = ExecutionName.Parse(job.Execution);
        var execution = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        var approvals = job.Kind == JobKinds.TenantRestore ? await store.ApprovalsAsync(job.Id, cancellationToken).ConfigureAwait(false) : [];
        JobPlan? plan = null;
        var awaiting = false;
        if (job.Kind == JobKinds.TenantRestore)
        {
            plan = await CurrentPlanAsync(name, cancellationToken).ConfigureAwait(false);
            awaiting = !execution.IsFinished && (await AwaitedCallbackAsync(name, cancellationToken).ConfigureAwait(false)) is not null;
        }
        if (execution.IsFinished) await ReleaseIfHeldAsync(job).ConfigureAwait(false);
        return View(job, execution, approvals, plan, awaiting ? "awaiting-approval" : null);
    }

    /// <summary>
    /// Decides on the plan <paramref name="digest"/> of a tenant restore waiting for an approval, as
    /// <paramref name="approver"/>, only for the plan shown now. An approval is never its
    /// requester's (two-person rule); a rejection may be anyone's who holds
    /// <c>admin.restore</c>, the requester's too: it writes nothing and ends the job.
    /// </summary>
    public async Task<JobView> DecideAsync(StoredJob job, JobUser approver, string digest, bool approve, CancellationToken cancellationToken)
    {
        var verb = approve ? "approve" : "reject";
        if (job.Kind != JobKinds.TenantRestore)
        {
            throw new FunctionException(409, "NOT_APPROVABLE", $"Job {job.Id} is a {job.Kind} job; only tenant-restore jobs wait for an approval.");
        }
        if (approve && string.Equals(job.RequestedBy.Id, approver.Id, StringComparison.Ordinal))
        {
            throw new FunctionException(403, "TWO_PERSON_RULE", $"Job {job.Id} was requested by this user; another user who holds {DataManagementFunction.AdminRestore} must approve it.");
        }
        var name = ExecutionName.Parse(job.Execution);
        var execution = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (execution.IsFinished)
        {
            await ReleaseIfHeldAsync(job).ConfigureAwait(false);
            throw new FunctionException(409, "JOB_ENDED", $"Job {job.Id} has ended ({State(execution)}); there is nothing to {verb}.");
        }
        var callback = await AwaitedCallbackAsync(name, cancellationToken).ConfigureAwait(false);
        var plan = await CurrentPlanAsync(name, cancellationToken).ConfigureAwait(false);
        if (callback is null || plan is null)
        {
            throw new FunctionException(409, "NOT_AWAITING_APPROVAL", $"Job {job.Id} is not waiting for an approval now (it is planning, or applying an approved plan); look at GET /jobs/{job.Id} and try again when its state is awaiting-approval.");
        }
        if (!string.Equals(plan.Digest, digest, StringComparison.Ordinal))
        {
            throw new FunctionException(409, "PLAN_CHANGED", $"Job {job.Id} waits for a decision on plan {plan.Digest}, not {digest}: the plan changed. Read GET /jobs/{job.Id} and {verb} the plan shown.");
        }
        var decision = await store.ApproveAsync(new StoredJobApproval(job.Id, digest, approver, clock.GetUtcNow()) { Approved = approve }, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(decision.ApprovedBy.Id, approver.Id, StringComparison.Ordinal) || decision.Approved != approve)
        {
            throw new FunctionException(409, "ALREADY_DECIDED", $"Plan {digest} of job {job.Id} was already {(decision.Approved ? "approved" : "rejected")} by {(decision.ApprovedBy.Id == approver.Id ? "this user" : "another user")} at {decision.ApprovedAt:O}.");
        }
        var body = new JsonObject { ["approved"] = approve, ["approvedBy"] = approver.Label, ["digest"] = digest };
        try
        {
            await executions.SendCallbackAsync(name, callback.Id!, callback.Method ?? "POST", body, cancellationToken).ConfigureAwait(false);
        }
        catch (WorkflowExecutionsApiException e)
        {
            // The decision stays recorded; the same user may send it again.
            throw FunctionException.Unavailable($"The decision on plan {digest} is recorded but could not be delivered to the workflow (Workflow Executions API answered {e.HttpStatus}); {verb} again to resend it.", TimeSpan.FromSeconds(10), "WORKFLOW_UNAVAILABLE", e);
        }
        return await ViewAsync(job, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The gs:// URI of the backup <paramref name="backupId"/> (an id from GET /backups) of the production instance.</summary>
    public async Task<string> BackupUriAsync(string backupId, CancellationToken cancellationToken)
    {
        await foreach (var entry in catalog.ListAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (DataManagementBackup.IdOf(entry.Name) != backupId) continue;
            if (entry.Manifest is { } manifest && manifest.SourceInstance != options.SourceInstance)
            {
                throw FunctionException.BadRequest($"Backup {backupId} is of instance {manifest.SourceInstance}, not of the production instance {options.SourceInstance}; restores start from its backups only.");
            }
            return GcsUri.Of(store.Store.Bucket, entry.Name.Name).ToString();
        }
        throw FunctionException.NotFound($"No complete backup has the id {backupId}; GET /backups lists them.", "BACKUP_NOT_FOUND");
    }

    private JsonObject Argument(string kind, string id, JobUser user, JobRequest request, string? backupUri) => kind switch
    {
        JobKinds.Backup => new JsonObject
        {
            ["instance"] = options.SourceInstance,
            ["database"] = options.Database,
            ["requestedBy"] = user.Label,
            ["reason"] = request.Reason,
            ["jobId"] = id,
        },
        JobKinds.StagingRestore => WithoutNulls(new JsonObject
        {
            ["sourceInstance"] = options.SourceInstance,
            ["sourceDatabase"] = options.Database,
            ["backup"] = backupUri,
            ["stagingInstance"] = options.StagingInstance,
            ["stagingDatabase"] = options.StagingDatabase,
            ["appUser"] = options.StagingAppUser,
            ["appPasswordSecret"] = options.StagingAppPasswordSecret,
            ["criticalTables"] = new JsonArray([.. options.CriticalTables.Select(t => (JsonNode)JsonValue.Create(t))]),
        }),
        JobKinds.TenantRestore => WithoutNulls(new JsonObject
        {
            ["sourceInstance"] = options.SourceInstance,
            ["database"] = options.Database,
            ["tenantId"] = request.TenantId,
            ["pointInTime"] = request.PointInTime?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["backup"] = backupUri,
            ["mode"] = request.Mode,
            ["requestedBy"] = user.Label,
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static JsonObject WithoutNulls(JsonObject value)
    {
        foreach (var key in value.Where(p => p.Value is null).Select(p => p.Key).ToList()) value.Remove(key);
        return value;
    }

    private async Task TakeLeaseAsync(string kind, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Two rounds: a lease whose job has ended is released once, then taken.
        for (var round = 0; round < 2; round++)
        {
            if (await store.TryTakeAsync(kind, id, now, cancellationToken).ConfigureAwait(false)) return;
            if (await store.HolderAsync(kind, cancellationToken).ConfigureAwait(false) is not { } holder) continue;
            var job = holder.Running.JobId is { Length: > 0 } heldBy ? await store.ReadJobAsync(heldBy, cancellationToken).ConfigureAwait(false) : null;
            if (job is null)
            {
                if (now - holder.Running.Since < OrphanedLease)
                {
                    throw FunctionException.Conflict($"A {kind} job is being started right now; retry in a minute.", TimeSpan.FromSeconds(30), "JOB_STARTING");
                }
                await store.ReleaseAsync(kind, holder.Generation).ConfigureAwait(false);
                continue;
            }
            var execution = await GetAsync(ExecutionName.Parse(job.Execution), cancellationToken).ConfigureAwait(false);
            if (!execution.IsFinished)
            {
                throw new JobRunningException(await ViewAsync(job, cancellationToken).ConfigureAwait(false));
            }
            await store.ReleaseAsync(kind, holder.Generation).ConfigureAwait(false);
        }
        throw FunctionException.Conflict($"Another {kind} job was started at the same moment; retry.", TimeSpan.FromSeconds(5), "JOB_STARTING");
    }

    private async Task ReleaseOwnLeaseAsync(string kind, string id)
    {
        if (await store.HolderAsync(kind, CancellationToken.None).ConfigureAwait(false) is { } holder && holder.Running.JobId == id)
        {
            await store.ReleaseAsync(kind, holder.Generation).ConfigureAwait(false);
        }
    }

    private async Task ReleaseIfHeldAsync(StoredJob job)
    {
        if (await store.HolderAsync(job.Kind, CancellationToken.None).ConfigureAwait(false) is { } holder && holder.Running.JobId == job.Id)
        {
            await store.ReleaseAsync(job.Kind, holder.Generation).ConfigureAwait(false);
        }
    }

    private async Task<Execution> GetAsync(ExecutionName name, CancellationToken cancellationToken)
    {
        try
        {
            return await executions.GetExecutionAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (WorkflowExecutionsApiException e) when (e.HttpStatus == 404)
        {
            // Executions are kept for a limited time: the job's record outlives them.
            return new Execution { Name = name.ToString(), State = ExecutionStates.Unavailable };
        }
        catch (WorkflowExecutionsApiException e)
        {
            throw FunctionException.Unavailable($"The job's workflow could not be read (Workflow Executions API answered {e.HttpStatus}); retry.", TimeSpan.FromSeconds(10), "WORKFLOW_UNAVAILABLE", e);
        }
    }

    private async Task<ExecutionCallback?> AwaitedCallbackAsync(ExecutionName name, CancellationToken cancellationToken)
    {
        try
        {
            var callbacks = await executions.ListCallbacksAsync(name, cancellationToken).ConfigureAwait(false);
            return callbacks.FirstOrDefault(c => c.HasWaiters && c.Id is { Length: > 0 } && string.Equals(c.Method ?? "POST", "POST", StringComparison.OrdinalIgnoreCase));
        }
        catch (WorkflowExecutionsApiException e) when (e.HttpStatus == 404)
        {
            return null;
        }
        catch (WorkflowExecutionsApiException e)
        {
            // 403 here means the function's account lacks workflows.callbacks.list.
            throw FunctionException.Unavailable($"The job's callbacks could not be listed (Workflow Executions API answered {e.HttpStatus}); retry, and if it persists check that the function may list callbacks.", TimeSpan.FromSeconds(10), "WORKFLOW_UNAVAILABLE", e);
        }
    }

    /// <summary>The newest plan the execution's tenant restore stored (the one an approval is asked for), or null before planning.</summary>
    private async Task<JobPlan?> CurrentPlanAsync(ExecutionName name, CancellationToken cancellationToken)
    {
        var objects = new TenantRestoreObjects(store.Store, prefix);
        StoredPlan? newest = null;
        DateTimeOffset newestAt = default;
        await foreach (var item in store.Store.ListAsync(objects.RunFolder(RunId(name.Id)), cancellationToken).ConfigureAwait(false))
        {
            var file = item.Name[(item.Name.LastIndexOf('/') + 1)..];
            if (!file.StartsWith("plan-", StringComparison.Ordinal) || !file.EndsWith(".json", StringComparison.Ordinal)) continue;
            await using var content = await store.Store.OpenReadAsync(item.Name, cancellationToken).ConfigureAwait(false);
            var plan = await JsonSerializer.DeserializeAsync<StoredPlan>(content, TenantRestoreObjects.Json, cancellationToken).ConfigureAwait(false);
            var at = plan?.PlannedAt ?? item.Updated;
            if (plan is not null && (newest is null || at > newestAt)) (newest, newestAt) = (plan, at);
        }
        if (newest?.Plan is not { } p) return null;
        return new JobPlan(p.Digest, p.CanApply, p.Tables.Sum(t => t.Missing), p.Tables.Sum(t => t.Changed), p.Tables.Sum(t => t.Extra), p.Tables.Sum(t => t.Writes),
            [.. p.Tables.Select(t => new JobPlanTable(t.Table, t.Missing, t.Changed, t.Extra, t.Writes, t.ExampleKeys, t.Problem))], p.Problems);
    }

    /// <summary>The tenant-restore workflow's run id for an execution id (as it derives it: lower case, [a-z0-9-], at most 63).</summary>
    internal static string RunId(string executionId)
    {
        var id = RunIdCharacters().Replace(executionId.ToLowerInvariant(), "");
        return id.Length > 63 ? id[..63] : id;
    }

    private JobView View(StoredJob job, Execution execution, IReadOnlyList<StoredJobApproval> approvals, JobPlan? plan, string? state) =>
        new(job.Id, job.Kind, state ?? State(execution), job.RequestedAt, job.RequestedBy, job.Request, approvals, Progress(execution), plan,
            Summary(job.Kind, execution), ErrorText(execution), execution.EndTime);

    private static string State(Execution execution) => execution.State switch
    {
        ExecutionStates.Succeeded => "succeeded",
        ExecutionStates.Failed => "failed",
        ExecutionStates.Cancelled => "cancelled",
        ExecutionStates.Unavailable => "unavailable",
        _ => "running",
    };

    private static JobProgress? Progress(Execution execution) =>
        execution.IsFinished || execution.Status?.CurrentSteps is not { Count: > 0 } steps ? null : new JobProgress(steps[^1].Routine, steps[^1].Step);

    /// <summary>The result's fields the CRM may show, per kind; object URIs become backup ids or are left out.</summary>
    private JsonObject? Summary(string kind, Execution execution)
    {
        if (execution.State != ExecutionStates.Succeeded || execution.Result is null) return null;
        JsonObject result;
        try
        {
            result = JsonNode.Parse(execution.Result) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return null;
        }
        string[] keep = kind switch
        {
            JobKinds.Backup => ["instance", "database", "change", "requestedBy", "reason", "seconds"],
            JobKinds.StagingRestore => ["stagingInstance", "stagingDatabase", "exported", "appUser", "appUserCreated", "checks", "durationSeconds"],
            _ => ["tenantId", "mode", "outcome", "restorePoint", "rounds", "approvedBy", "approvedAt", "proven", "writes", "proof", "timings"],
        };
        var summary = new JsonObject();
        foreach (var key in keep)
        {
            if (result[key] is { } value) summary[key] = value.DeepClone();
        }
        if (kind != JobKinds.TenantRestore && result["backupUri"]?.GetValueKind() == JsonValueKind.String
            && GcsUri.TryParse((string?)result["backupUri"], out var uri, out _, allowDirectory: true)
            && Backup.Core.Backups.BackupObjectName.TryParse(uri.ObjectName, prefix, out var backupName) && backupName is not null)
        {
            summary["backupId"] = DataManagementBackup.IdOf(backupName);
        }
        return summary;
    }

    /// <summary>The failure's message, with object URIs left out (the CRM never sees where backups are).</summary>
    private static string? ErrorText(Execution execution)
    {
        if (execution.State is not (ExecutionStates.Failed or ExecutionStates.Cancelled) || execution.Error?.Payload is not { } payload) return null;
        string message;
        try
        {
            message = JsonNode.Parse(payload) is JsonObject error && error["message"]?.GetValueKind() == JsonValueKind.String ? (string)error["message"]! : payload;
        }
        catch (JsonException)
        {
            message = payload;
        }
        message = ObjectUris().Replace(message, "<backup object>");
        return message.Length > 2000 ? message[..2000] + "..." : message;
    }

    [GeneratedRegex("[^a-z0-9-]+", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdCharacters();

    [GeneratedRegex(@"gs://\S+", RegexOptions.CultureInvariant)]
    private static partial Regex ObjectUris();
}
