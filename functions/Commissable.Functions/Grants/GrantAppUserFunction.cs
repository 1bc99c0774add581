using Commissable.Backup.Core.Databases;
using Commissable.Functions.Hosting;
using Commissable.Functions.Verify;

namespace Commissable.Functions.Grants;

/// <summary>
/// <c>grant-app-user</c>: a workflow (clone-prod-to-staging) creates the application's login
/// through the Cloud SQL users API, then POSTs <c>{instance, database, user}</c> here to give it
/// the privileges the CRM needs, which only SQL can grant (see <see cref="AppUserGranter"/>).
/// </summary>
/// <remarks>
/// 200 <c>{instance, database, user, privileges, ownership}</c> (the statements applied; calling
/// again changes nothing). With <c>"appUserOwns": true</c> the user also becomes the owner of the
/// database's objects, in the same transaction (<c>ownership</c>: owner, objects per kind, total,
/// whether the granting login made itself a member of the user's role, the statements); without
/// it there is no <c>ownership</c>. 400 for a bad request; 404 for an unknown instance, database or user; 412
/// <c>VERIFICATION_TARGET_REFUSED</c> for a production instance (listed or labelled; the same
/// rail as restore-verify), 412 <c>GRANT_NOT_PERMITTED</c> when the function's login may not
/// grant; 503 when Cloud SQL or the database cannot be reached.
/// </remarks>
internal sealed class GrantAppUserFunction(AppUserGranter granter) : IHttpFunction
{
    public async Task HandleAsync(HttpContext context)
    {
        FunctionException.RequirePost(context.Request, "POST a JSON request: {\"instance\": ..., \"database\": ..., \"user\": ...}.");
        var request = await context.ReadJsonAsync<GrantAppUserRequest>().ConfigureAwait(false);
        FunctionException.ThrowIfProblems(request.Problems(granter.GrantingUser));

        AppUserAccess access;
        try
        {
            access = await granter.GrantAsync(request.Instance!, request.Database!, request.User!, request.AppUserOwns == true, context.RequestAborted).ConfigureAwait(false);
        }
        catch (VerificationRefusedException refused)
        {
            await refused.WriteAsync(context, $"Refusing to grant on '{refused.Instance}'; nothing was changed: ").ConfigureAwait(false);
            return;
        }

        await context.WriteJsonAsync(new
        {
            instance = request.Instance,
            database = request.Database,
            user = request.User,
            privileges = access.Privileges,
            ownership = access.Ownership is { } ownership
                ? new { owner = ownership.Owner, objects = ownership.Objects, total = ownership.Total, membershipGranted = ownership.MembershipGranted, statements = ownership.Statements }
                : null,
        }).ConfigureAwait(false);
    }
}
