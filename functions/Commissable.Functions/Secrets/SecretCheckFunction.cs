using Commissable.Backup.Core.Secrets;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.Secrets;

/// <summary>
/// <c>secret-check</c>: disaster-recovery asks, before it creates anything, whether the latest
/// version of a connection secret names the source instance (its connection name, or its first
/// address as <c>@address:</c>/<c>@address/</c>), so a secret the swap could not rewrite stops the
/// run before the restore rather than after the approval. POST <c>{secret, instance}</c>.
/// </summary>
/// <remarks>
/// 200 <c>{secret, instance, version, namesInstance, namedBy}</c> (<c>namedBy</c>:
/// <c>connectionName</c>, <c>address</c>, or absent); never the value. 400 for a bad request; 404
/// <c>INSTANCE_NOT_FOUND</c> / <c>SECRET_NOT_FOUND</c>; 412 <c>SECRET_NOT_PERMITTED</c> (the
/// service account lacks <c>roles/secretmanager.secretAccessor</c>) or <c>SECRET_NOT_TEXT</c>; 503
/// when Cloud SQL or Secret Manager cannot be reached.
/// </remarks>
internal sealed class SecretCheckFunction(ConnectionSecrets secrets) : IHttpFunction
{
    public async Task HandleAsync(HttpContext context)
    {
        FunctionException.RequirePost(context.Request, "POST a JSON request: {\"secret\": ..., \"instance\": ...}.");
        var request = await context.ReadJsonAsync<SecretCheckRequest>().ConfigureAwait(false);
        FunctionException.ThrowIfProblems(request.Problems());

        var check = await secrets.CheckAsync(request.Secret!, request.Instance!, context.RequestAborted).ConfigureAwait(false);
        await context.WriteJsonAsync(new
        {
            secret = request.Secret,
            instance = request.Instance,
            version = check.Version,
            namesInstance = check.Mention != InstanceMention.None,
            namedBy = check.Mention switch
            {
                InstanceMention.ConnectionName => "connectionName",
                InstanceMention.Address => "address",
                _ => null,
            },
        }).ConfigureAwait(false);
    }
}
