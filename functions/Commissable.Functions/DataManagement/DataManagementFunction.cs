using System.Globalization;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.DataManagement;

/// <summary>
/// What <c>data-management</c> is composed of: the token verifier (null when the
/// <c>DATA_MANAGEMENT_*</c> variables are unset: every request is then 503) and the audit.
/// </summary>
internal sealed record DataManagementAccess(ActingUserTokens? Tokens, DataManagementAudit Audit);

/// <summary>
/// <c>data-management</c>: the CRM backend calls it for a signed-in user, whose token
/// (<see cref="ActingUserTokens.Header"/>) says who it is and what it may do. This version serves
/// <c>GET /backups</c> (<c>admin.backup</c> or <c>admin.restore</c>): the catalog, metadata only.
/// Every request, allowed or refused, is one audit record (<see cref="DataManagementAudit"/>);
/// its id is answered in <c>X-Request-Id</c>.
/// </summary>
/// <remarks>
/// 401 <c>UNAUTHENTICATED</c> for a missing or invalid token, 403 <c>PERMISSION_DENIED</c> without
/// the permission, 400 for a bad query, 404 for another path, 405 for another method, 503
/// <c>DATA_MANAGEMENT_NOT_CONFIGURED</c> without the variables, 503 <c>AUDIT_UNAVAILABLE</c> when
/// the audit record cannot be written (nothing is answered unaudited).
/// </remarks>
internal sealed class DataManagementFunction(DataManagementAccess access, BackupCatalog catalog, TimeProvider clock) : IHttpFunction
{
    public const string RequestIdHeader = "X-Request-Id";
    public const string AdminBackup = "admin.backup";
    public const string AdminRestore = "admin.restore";
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const int MaxTargetLength = 200;

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
        object body;
        try
        {
            body = await RunAsync(context, path, draft).ConfigureAwait(false);
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
        await access.Audit.WriteAsync(draft.Record(time, requestId, context.Request.Method, new AuditOutcome(200, "OK", "Answered."))).ConfigureAwait(false);
        await context.WriteJsonAsync(body).ConfigureAwait(false);
    }

    private async Task<object> RunAsync(HttpContext context, string path, Draft draft)
    {
        if (!string.Equals(path, "/backups", StringComparison.Ordinal))
        {
            throw FunctionException.NotFound($"data-management has no action at '{draft.Target}'; this version serves GET /backups.");
        }
        draft.Action = "backups.list";
        draft.Permission = AdminBackup + " or " + AdminRestore;
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET";
            throw new FunctionException(405, "METHOD_NOT_ALLOWED", "GET /backups lists the backups; this version has no other method on it.");
        }
        var tokens = access.Tokens ?? throw FunctionException.Unavailable(
            $"data-management is not configured: set {DataManagementOptions.IssuerVariable}, {DataManagementOptions.AudienceVariable} and {DataManagementOptions.JwksFileVariable}.",
            code: "DATA_MANAGEMENT_NOT_CONFIGURED");
        var headers = context.Request.Headers[ActingUserTokens.Header];
        if (headers.Count > 1) throw Unauthenticated($"Send one {ActingUserTokens.Header} header; the request has {headers.Count}.");
        ActingUser user;
        try
        {
            user = await tokens.VerifyAsync(headers.Count == 1 ? headers[0] : null, context.RequestAborted).ConfigureAwait(false);
        }
        catch (TokenRefusedException refused)
        {
            throw Unauthenticated(refused.Message);
        }
        draft.User = new AuditUser(user.Id, user.Email);
        if (!user.Holds(AdminBackup) && !user.Holds(AdminRestore))
        {
            throw new FunctionException(403, "PERMISSION_DENIED", $"Listing the backups needs the permission {AdminBackup} or {AdminRestore}; the signed-in user has neither.");
        }
        var limit = Limit(context.Request.Query);
        var backups = new List<DataManagementBackup>();
        var matching = 0;
        await foreach (var entry in catalog.ListAsync(cancellationToken: context.RequestAborted).ConfigureAwait(false))
        {
            matching++;
            if (backups.Count < limit) backups.Add(DataManagementBackup.From(entry));
        }
        return new DataManagementBackupList(backups, backups.Count, matching > backups.Count);
    }

    private static int Limit(IQueryCollection query)
    {
        foreach (var key in query.Keys)
        {
            if (key != "limit") throw FunctionException.BadRequest($"Unknown query parameter '{Shorten(CloudNames.Printable(key))}'; GET /backups accepts limit.");
        }
        if (!query.TryGetValue("limit", out var values)) return DefaultLimit;
        if (values.Count != 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
        {
            throw FunctionException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                $"?limit= must be given once, as a whole number from 1 to {MaxLimit} (default {DefaultLimit}); got '{Shorten(CloudNames.Printable(values.ToString()))}'."));
        }
        return limit;
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

        public AuditRecord Record(DateTimeOffset time, string requestId, string method, AuditOutcome outcome) =>
            new(time, requestId, Action, Shorten(CloudNames.Printable(method)), Target, Permission, User, outcome, null);
    }
}
