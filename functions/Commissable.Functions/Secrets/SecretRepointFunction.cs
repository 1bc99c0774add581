using Commissable.Functions.Hosting;

namespace Commissable.Functions.Secrets;

/// <summary>
/// <c>secret-repoint</c>: after the approval, disaster-recovery has each connection secret pointed
/// at the restored instance. POST <c>{secret, from, to, approvedBy}</c> (no version is added without
/// the name of who approved it, which the log line records): a new version of the secret with
/// <c>from</c>'s connection name (a whole name) and first address (<c>@address:</c>,
/// <c>@address/</c>) replaced by <c>to</c>'s. Safe to retry: when the latest version already names
/// <c>to</c> and not <c>from</c>, that version is the answer and nothing is added.
/// </summary>
/// <remarks>
/// 200 <c>{secret, from, to, version, created, approvedBy}</c>; never the value. 400 for a bad request; 404
/// <c>INSTANCE_NOT_FOUND</c> / <c>SECRET_NOT_FOUND</c>; 412 <c>SECRET_NAMES_NEITHER</c> (nothing
/// changed), <c>SECRET_NOT_REPOINTABLE</c>, <c>SECRET_NOT_TEXT</c> or <c>SECRET_NOT_PERMITTED</c>
/// (the service account needs <c>roles/secretmanager.secretAccessor</c> and
/// <c>roles/secretmanager.secretVersionAdder</c>); 503 when Cloud SQL or Secret Manager cannot be reached.
/// Only the disaster-recovery workflow's service account may invoke it: it rewrites production's connection.
/// </remarks>
internal sealed class SecretRepointFunction(ConnectionSecrets secrets) : IHttpFunction
{
    public async Task HandleAsync(HttpContext context)
    {
        FunctionException.RequirePost(context.Request, "POST a JSON request: {\"secret\": ..., \"from\": ..., \"to\": ..., \"approvedBy\": ...}.");
        var request = await context.ReadJsonAsync<SecretRepointRequest>().ConfigureAwait(false);
        FunctionException.ThrowIfProblems(request.Problems());

        var result = await secrets.RepointAsync(request.Secret!, request.From!, request.To!, request.ApprovedBy!, context.RequestAborted).ConfigureAwait(false);
        await context.WriteJsonAsync(new
        {
            secret = request.Secret,
            from = request.From,
            to = request.To,
            version = result.Version,
            created = result.Created,
            approvedBy = request.ApprovedBy,
        }).ConfigureAwait(false);
    }
}
