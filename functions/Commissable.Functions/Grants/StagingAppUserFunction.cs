using Commissable.Functions.Hosting;
using Commissable.Functions.Verify;

namespace Commissable.Functions.Grants;

/// <summary>
/// <c>staging-app-user</c>: clone-prod-to-staging has the application's login created on the
/// staging instance here, so the password never passes through the workflow. POST
/// <c>{instance, user, passwordSecret}</c>: created through the Cloud SQL users API with the
/// password from the secret's latest version, only when missing (see <see cref="AppUserCreator"/>).
/// </summary>
/// <remarks>
/// 200 <c>{instance, user, created}</c>; never the password. 400 for a bad request; 404
/// <c>INSTANCE_NOT_FOUND</c> / <c>SECRET_NOT_FOUND</c>; 412 <c>VERIFICATION_TARGET_REFUSED</c> for a
/// production instance, <c>SECRET_NOT_PERMITTED</c>, <c>SECRET_NOT_TEXT</c>; 503 when Cloud SQL or
/// Secret Manager cannot be reached.
/// </remarks>
internal sealed class StagingAppUserFunction(AppUserCreator creator) : IHttpFunction
{
    public async Task HandleAsync(HttpContext context)
    {
        FunctionException.RequirePost(context.Request, "POST a JSON request: {\"instance\": ..., \"user\": ..., \"passwordSecret\": ...}.");
        var request = await context.ReadJsonAsync<StagingAppUserRequest>().ConfigureAwait(false);
        FunctionException.ThrowIfProblems(request.Problems());

        bool created;
        try
        {
            created = await creator.EnsureAsync(request.Instance!, request.User!, request.PasswordSecret!, context.RequestAborted).ConfigureAwait(false);
        }
        catch (VerificationRefusedException refused)
        {
            await refused.WriteAsync(context, $"Refusing to create a user on '{refused.Instance}'; nothing was changed: ").ConfigureAwait(false);
            return;
        }

        await context.WriteJsonAsync(new { instance = request.Instance, user = request.User, created }).ConfigureAwait(false);
    }
}
