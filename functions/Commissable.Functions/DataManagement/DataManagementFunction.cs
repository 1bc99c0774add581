using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.DataManagement;

/// <summary>
/// What <c>data-management</c> is composed of: the token verifier (null when the
/// <c>DATA_MANAGEMENT_*</c> token variables are unset: every request is then 503), the audit, and
/// the jobs (null when the job variables are unset: the job actions are then 503).
/// </summary>
internal sealed record DataManagementAccess(ActingUserTokens? Tokens, DataManagementAudit Audit, DataManagementJobs? Jobs = null);

/// <summary>
/// <c>data-management</c>: the CRM backend calls it for a signed-in user, whose token
/// (<see cref="ActingUserTokens.Header"/>) says who it is and what it may do. Actions: the backups
/// (list, request one), restores to staging and of one tenant (started as workflows, 202 with a
/// job), the jobs (see; approve a tenant restore's plan: two-person rule; or reject it) and the
/// audit trail. Every
/// request, allowed or refused, is one audit record (<see cref="DataManagementAudit"/>); its id is
/// answered in <c>X-Request-Id</c>.
/// </summary>
/// <remarks>
/// 401 <c>UNAUTHENTICATED</c> for a missing or invalid token, 403 <c>PERMISSION_DENIED</c> without
/// the permission, 400 for a bad query or body, 404 for another path or an unknown job, 405 for
/// another method, 409 <c>JOB_RUNNING</c> (with the running job) for a second job of a kind, 503
/// <c>DATA_MANAGEMENT_NOT_CONFIGURED</c> / <c>JOBS_NOT_CONFIGURED</c> without the variables, 503
/// <c>AUDIT_UNAVAILABLE</c> when the audit record cannot be written (nothing is answered unaudited).
/// </remarks>
internal sealed partial class DataManagementFunction(DataManagementAccess access, BackupCatalog catalog, TimeProvider clock) : IHttpFunction
{
    public const string RequestIdHeader = "X-Request-Id";
    public const string AdminBackup = "admin.backup";
    public const string AdminRestore = "admin.restore";
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const int DefaultJobsLimit = 20;
    public const int MaxJobsLimit = 100;
    private const int MaxTargetLength = 200;
    private const string Either = AdminBackup + " or " + AdminRestore;

    /// <summary>An answer: its status, body and the job it concerns (for the audit).</summary>
    private sealed record Answer(int Status, object Body, string? JobId = null);

    public async Task HandleAsync(HttpContext context)
    {
        var time = clock.GetUtcNow();
        var requestId = Guid.CreateVersion7(time).ToString("N");
        // When the answer starts: the host's error writer clears the headers set before it.
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[RequestIdHeader] = requestId;
            return Task.CompletedTask;
        });
        var path = context.Request.Path.Value is { Length: > 0 } p ? p : "/";
        var target = Shorten(CloudNames.Printable(path));
        var draft = new Draft { Action = "unknown", Target = target };
        Answer answer;
        try
        {
            Exception? failure = null;
            Answer? answered = null;
            try
            {
                answered = await RunAsync(context, path, draft).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Held until the token's use is settled, then rethrown below.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }
            // A read-only action ran while its token's jti was being recorded: a replay wins over
            // whatever the action answered, and nothing of it is sent.
            if (draft.PendingUse is { } use)
            {
                try
                {
                    await use.ConfigureAwait(false);
                }
                catch (TokenRefusedException refused)
                {
                    draft.User = null;
                    failure = Unauthenticated(refused.Message);
                }
                catch (Exception e) when (failure is null)
                {
                    failure = e;
                }
            }
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            answer = answered!;
        }
        catch (JobRunningException running)
        {
            await access.Audit.WriteAsync(draft.Record(time, requestId, context.Request.Method, new AuditOutcome(409, running.Code, Reason(running.Message)), running.Running.Id)).ConfigureAwait(false);
            await context.WriteJsonAsync(new { error = new { code = 409, status = running.Code, message = running.Message }, job = running.Running }, 409).ConfigureAwait(false);
            return;
        }
        catch (FunctionException e)
        {
            await access.Audit.WriteAsync(draft.Record(time, requestId, context.Request.Method, new AuditOutcome(e.StatusCode, e.Code, Reason(e.Message)))).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            await access.Audit.WriteAsync(draft.Record(time, requestId, context.Request.Method, new AuditOutcome(499, "CANCELLED", "The caller went away before the answer."))).ConfigureAwait(false);
            throw;
        }
#pragma warning disable CA1031 // Audited, then rethrown for the host's 500.
        catch (Exception e)
#pragma warning restore CA1031
        {
            await access.Audit.WriteAsync(draft.Record(time, requestId, context.Request.Method, new AuditOutcome(500, "INTERNAL", Reason($"Failed with {e.GetType().Name}.")))).ConfigureAwait(false);
            throw;
        }
        var outcome = answer.Status == 202 ? new AuditOutcome(202, "ACCEPTED", "Job started.") : new AuditOutcome(answer.Status, "OK", "Answered.");
        await access.Audit.WriteAsync(draft.Record(time, requestId, context.Request.Method, outcome, answer.JobId)).ConfigureAwait(false);
        await context.WriteJsonAsync(answer.Body, answer.Status).ConfigureAwait(false);
    }

    private async Task<Answer> RunAsync(HttpContext context, string path, Draft draft)
    {
        var method = context.Request.Method;
        var ct = context.RequestAborted;
        switch (path)
        {
            case "/backups":
                Allow(context, draft, method, ("GET", "backups.list", Either), ("POST", "backups.create", AdminBackup));
                if (HttpMethods.IsGet(method))
                {
                    await AuthorizeAsync(context, draft, AdminBackup, AdminRestore).ConfigureAwait(false);
                    var limit = Query(context.Request.Query, "GET /backups", DefaultLimit, MaxLimit, allowSince: false).Limit;
                    return new Answer(200, await ListBackupsAsync(limit, ct).ConfigureAwait(false));
                }
                else
                {
                    var user = await AuthorizeAsync(context, draft, AdminBackup).ConfigureAwait(false);
                    var jobs = Jobs();
                    NoQuery(context.Request.Query, "POST /backups");
                    var request = DataManagementRequests.Backup(await context.ReadJsonAsync<BackupJobBody>().ConfigureAwait(false));
                    return Started(draft, await jobs.StartAsync(JobKinds.Backup, Who(user), request, null, ct).ConfigureAwait(false));
                }
            case "/restores/staging":
            {
                Allow(context, draft, method, ("POST", "restores.staging", AdminRestore));
                var user = await AuthorizeAsync(context, draft, AdminRestore).ConfigureAwait(false);
                var jobs = Jobs();
                NoQuery(context.Request.Query, "POST /restores/staging");
                var request = DataManagementRequests.Staging(await context.ReadOptionalJsonAsync<StagingJobBody>("JSON object {\"backup\"?}").ConfigureAwait(false));
                var uri = request.BackupId is { } id ? await jobs.BackupUriAsync(id, ct).ConfigureAwait(false) : null;
                return Started(draft, await jobs.StartAsync(JobKinds.StagingRestore, Who(user), request, uri, ct).ConfigureAwait(false));
            }
            case "/restores/tenant":
            {
                Allow(context, draft, method, ("POST", "restores.tenant", AdminRestore));
                var user = await AuthorizeAsync(context, draft, AdminRestore).ConfigureAwait(false);
                var jobs = Jobs();
                NoQuery(context.Request.Query, "POST /restores/tenant");
                var request = DataManagementRequests.Tenant(await context.ReadJsonAsync<TenantJobBody>().ConfigureAwait(false), clock.GetUtcNow());
                var uri = request.BackupId is { } id ? await jobs.BackupUriAsync(id, ct).ConfigureAwait(false) : null;
                return Started(draft, await jobs.StartAsync(JobKinds.TenantRestore, Who(user), request, uri, ct).ConfigureAwait(false));
            }
            case "/jobs":
            {
                Allow(context, draft, method, ("GET", "jobs.list", Either));
                var user = await AuthorizeAsync(context, draft, AdminBackup, AdminRestore).ConfigureAwait(false);
                var jobs = Jobs();
                var limit = Query(context.Request.Query, "GET /jobs", DefaultJobsLimit, MaxJobsLimit, allowSince: false).Limit;
                var (stored, more) = await jobs.Store.ListJobsAsync(limit, job => user.Holds(JobKinds.Permission(job.Kind)), ct).ConfigureAwait(false);
                var views = new List<JobView>();
                foreach (var job in stored) views.Add(await jobs.ViewAsync(job, ct).ConfigureAwait(false));
                return new Answer(200, new { jobs = views, count = views.Count, truncated = more });
            }
            case "/audit":
            {
                Allow(context, draft, method, ("GET", "audit.list", AdminRestore));
                await AuthorizeAsync(context, draft, AdminRestore).ConfigureAwait(false);
                var (limit, since) = Query(context.Request.Query, "GET /audit", DefaultLimit, MaxLimit, allowSince: true);
                var (records, more) = await access.Audit.ReadAsync(limit, since, ct).ConfigureAwait(false);
                return new Answer(200, new { records, count = records.Count, truncated = more });
            }
        }
        if (JobPath().Match(path) is { Success: true } match)
        {
            var decision = match.Groups["decision"].Success ? match.Groups["decision"].Value : null;
            var decides = decision is not null;
            if (decides) Allow(context, draft, method, ("POST", "jobs." + decision, AdminRestore));
            else Allow(context, draft, method, ("GET", "jobs.get", Either));
            var user = decides
                ? await AuthorizeAsync(context, draft, AdminRestore).ConfigureAwait(false)
                : await AuthorizeAsync(context, draft, AdminBackup, AdminRestore).ConfigureAwait(false);
            var jobs = Jobs();
            var id = match.Groups["id"].Value;
            if (!DataManagementJobStore.IsJobId(id))
            {
                throw FunctionException.BadRequest($"'{DataManagementRequests.Shown(id)}' is not a job id (job- and 32 hex digits, as a 202 answered it).");
            }
            NoQuery(context.Request.Query, decides ? $"POST /jobs/{{id}}/{decision}" : "GET /jobs/{id}");
            // The body is checked before the job is looked up: a malformed decision is a 400 whatever it names.
            var digest = decides ? DataManagementRequests.Digest(await context.ReadJsonAsync<ApproveJobBody>().ConfigureAwait(false)) : null;
            draft.JobId = id;
            var job = await jobs.Store.ReadJobAsync(id, ct).ConfigureAwait(false)
                ?? throw FunctionException.NotFound($"There is no job {id}.", "JOB_NOT_FOUND");
            var permission = JobKinds.Permission(job.Kind);
            draft.Permission = permission;
            if (!user.Holds(permission))
            {
                throw new FunctionException(403, "PERMISSION_DENIED", $"Job {id} is a {job.Kind} job; seeing or deciding on it needs the permission {permission}, which the signed-in user does not hold.");
            }
            return digest is null
                ? new Answer(200, await jobs.ViewAsync(job, ct).ConfigureAwait(false), id)
                : new Answer(200, await jobs.DecideAsync(job, Who(user), digest, approve: decision == "approve", ct).ConfigureAwait(false), id);
        }
        throw FunctionException.NotFound($"data-management has no action at '{draft.Target}'; it serves /backups, /restores/staging, /restores/tenant, /jobs, /jobs/{{id}}, /jobs/{{id}}/approve, /jobs/{{id}}/reject and /audit.");
    }

    private async Task<DataManagementBackupList> ListBackupsAsync(int limit, CancellationToken cancellationToken)
    {
        var backups = new List<DataManagementBackup>();
        var matching = 0;
        await foreach (var entry in catalog.ListAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            matching++;
            if (backups.Count < limit) backups.Add(DataManagementBackup.From(entry));
        }
        return new DataManagementBackupList(backups, backups.Count, matching > backups.Count);
    }

    private static Answer Started(Draft draft, JobView job)
    {
        draft.JobId = job.Id;
        return new Answer(202, job, job.Id);
    }

    private DataManagementJobs Jobs() => access.Jobs ?? throw FunctionException.Unavailable(
        $"data-management's jobs are not configured: set {DataManagementJobOptions.LocationVariable}, {DataManagementJobOptions.SourceInstanceVariable}, {DataManagementJobOptions.DatabaseVariable} and the DATA_MANAGEMENT_STAGING_* variables.",
        code: "JOBS_NOT_CONFIGURED");

    /// <summary>Names the action for the method, or answers 405 naming the methods the path has.</summary>
    private static void Allow(HttpContext context, Draft draft, string method, params (string Method, string Action, string Permission)[] actions)
    {
        foreach (var (m, action, permission) in actions)
        {
            if (string.Equals(method, m, StringComparison.OrdinalIgnoreCase))
            {
                draft.Action = action;
                draft.Permission = permission;
                return;
            }
        }
        draft.Action = actions[0].Action;
        var allowed = string.Join(", ", actions.Select(a => a.Method));
        context.Response.Headers.Allow = allowed;
        throw new FunctionException(405, "METHOD_NOT_ALLOWED", $"{draft.Target} accepts {allowed}; not {Shorten(CloudNames.Printable(method))}.");
    }

    /// <summary>
    /// The verified acting user holding one of <paramref name="permissions"/>; 503/401/403
    /// otherwise. For a read-only action (GET) the token's <c>jti</c> is recorded while the action
    /// runs (<see cref="Draft.PendingUse"/>, settled before the answer); any other action waits for
    /// it first, so a replayed token never starts anything.
    /// </summary>
    private async Task<ActingUser> AuthorizeAsync(HttpContext context, Draft draft, params string[] permissions)
    {
        var readOnly = HttpMethods.IsGet(context.Request.Method);
        var tokens = access.Tokens ?? throw FunctionException.Unavailable(
            $"data-management is not configured: set {DataManagementOptions.IssuerVariable}, {DataManagementOptions.AudienceVariable} and {DataManagementOptions.JwksFileVariable}.",
            code: "DATA_MANAGEMENT_NOT_CONFIGURED");
        var headers = context.Request.Headers[ActingUserTokens.Header];
        if (headers.Count > 1) throw Unauthenticated($"Send one {ActingUserTokens.Header} header; the request has {headers.Count}.");
        ActingUser user;
        try
        {
            var (verified, recorded) = await tokens.BeginAsync(headers.Count == 1 ? headers[0] : null, context.RequestAborted).ConfigureAwait(false);
            if (readOnly) draft.PendingUse = recorded;
            else await recorded.ConfigureAwait(false);
            user = verified;
        }
        catch (TokenRefusedException refused)
        {
            throw Unauthenticated(refused.Message);
        }
        draft.User = new AuditUser(user.Id, user.Email);
        if (!permissions.Any(user.Holds))
        {
            throw new FunctionException(403, "PERMISSION_DENIED", permissions.Length == 1
                ? $"{Describe(draft.Action)} needs the permission {permissions[0]}, which the signed-in user does not hold."
                : $"{Describe(draft.Action)} needs the permission {string.Join(" or ", permissions)}; the signed-in user has neither.");
        }
        return user;
    }

    private static JobUser Who(ActingUser user) => new(user.Id, user.Email);

    private static string Describe(string action) => action switch
    {
        "backups.list" => "Listing the backups",
        "backups.create" => "Requesting a backup",
        "restores.staging" => "Restoring to staging",
        "restores.tenant" => "Restoring a tenant",
        "jobs.list" => "Listing the jobs",
        "jobs.get" => "Seeing a job",
        "jobs.approve" => "Approving a tenant restore",
        "jobs.reject" => "Rejecting a tenant restore",
        "audit.list" => "Reading the audit trail",
        _ => "This action",
    };

    private static void NoQuery(IQueryCollection query, string action)
    {
        if (query.Count > 0) throw FunctionException.BadRequest($"{action} takes no query parameters; got '{Shorten(CloudNames.Printable(query.Keys.First()))}'.");
    }

    private static (int Limit, DateTimeOffset? Since) Query(IQueryCollection query, string action, int defaultLimit, int maxLimit, bool allowSince)
    {
        foreach (var key in query.Keys)
        {
            if (key != "limit" && !(allowSince && key == "since"))
            {
                throw FunctionException.BadRequest($"Unknown query parameter '{Shorten(CloudNames.Printable(key))}'; {action} accepts limit{(allowSince ? " and since" : "")}.");
            }
        }
        var limit = defaultLimit;
        if (query.TryGetValue("limit", out var values))
        {
            if (values.Count != 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit)
            {
                throw FunctionException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                    $"?limit= must be given once, as a whole number from 1 to {maxLimit} (default {defaultLimit}); got '{Shorten(CloudNames.Printable(values.ToString()))}'."));
            }
        }
        DateTimeOffset? since = null;
        if (allowSince && query.TryGetValue("since", out var sinceValues))
        {
            if (sinceValues.Count != 1 || !DataManagementRequests.TryParseTime(sinceValues[0]!, out var parsed))
            {
                throw FunctionException.BadRequest($"?since= must be given once, as an RFC 3339 time with its offset (e.g. 2026-12-07T00:00:00Z); got '{Shorten(CloudNames.Printable(sinceValues.ToString()))}'.");
            }
            since = parsed;
        }
        return (limit, since);
    }

    private static FunctionException Unauthenticated(string reason) => new(401, "UNAUTHENTICATED", reason);

    private static string Reason(string message) => message.Length > DataManagementAudit.MaxReasonLength ? message[..DataManagementAudit.MaxReasonLength] + "..." : message;

    private static string Shorten(string text) => text.Length > MaxTargetLength ? text[..MaxTargetLength] + "..." : text;

    /// <summary>What the request has shown so far, for its audit record.</summary>
    private sealed class Draft
    {
        public required string Action { get; set; }
        public required string Target { get; init; }
        public string? Permission { get; set; }
        public AuditUser? User { get; set; }
        public string? JobId { get; set; }

        /// <summary>The recording of the token's jti, still running while a read-only action runs.</summary>
        public Task? PendingUse { get; set; }

        public AuditRecord Record(DateTimeOffset time, string requestId, string method, AuditOutcome outcome, string? jobId = null) =>
            new(time, requestId, Action, Shorten(CloudNames.Printable(method)), Target, Permission, User, outcome, jobId ?? JobId);
    }

    // \A and \z, not ^ and $: $ also matches before a final newline, which let "job-<hex>\n" through.
    [GeneratedRegex(@"\A/jobs/(?<id>[^/]+)(?:/(?<decision>approve|reject))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex JobPath();
}
