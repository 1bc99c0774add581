using Commissable.Functions.Hosting;
using Commissable.Functions.Verify;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// <c>tenant-restore</c>: the tenant-restore workflow POSTs <c>{action: "plan" | "apply" |
/// "record", runId, sourceInstance, database?, stagedInstance, stagedDatabase, tenantId, mode?,
/// requestedBy, restorePoint, ...}</c> and each action is one stage of the restore of one tenant's
/// rows from a staged scratch restore into production (see <see cref="TenantRestoreRunner"/>).
/// </summary>
/// <remarks>
/// 200 <c>plan</c>: the plan and its stored object; <c>apply</c>: <c>outcome</c>
/// <c>applied</c> | <c>plan-changed</c> | <c>refused</c> with the proof; <c>record</c>:
/// <c>{recordUri}</c>. 400 for a bad request (every problem listed); 404 for an unknown instance,
/// database or plan object; 409 when a stored object of the run disagrees with the request
/// (<c>PLAN_MISMATCH</c>, <c>PLAN_HAS_PROBLEMS</c>, <c>PLAN_OBJECT_EXISTS</c>,
/// <c>APPROVAL_EXISTS</c>, <c>RECORD_EXISTS</c>); 412 <c>VERIFICATION_TARGET_REFUSED</c> when
/// the staged instance is the source or production; 503 <c>TENANT_RESTORE_NOT_CONFIGURED</c>
/// without the login, 503 when Cloud SQL or a database cannot be reached.
/// </remarks>
internal sealed class TenantRestoreFunction(TenantRestoreRunner runner) : IHttpFunction
{
    public async Task HandleAsync(HttpContext context)
    {
        FunctionException.RequirePost(context.Request, "POST a JSON request: {\"action\": \"plan\" | \"apply\" | \"record\", \"runId\": ..., \"sourceInstance\": ..., \"stagedInstance\": ..., \"stagedDatabase\": ..., \"tenantId\": ..., ...}.");
        // Before the request is even read: without its login the function can do nothing, and says so.
        runner.RequireRestorer();
        var request = await context.ReadJsonAsync<TenantRestoreRequest>().ConfigureAwait(false);
        FunctionException.ThrowIfProblems(request.Problems());

        try
        {
            switch (request.Action)
            {
                case TenantRestoreRequest.PlanAction:
                    await context.WriteJsonAsync(await runner.PlanAsync(request, context.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
                    break;
                case TenantRestoreRequest.ApplyAction:
                    await context.WriteJsonAsync(await runner.ApplyAsync(request, context.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
                    break;
                default:
                    var recordUri = await runner.RecordAsync(request, context.RequestAborted).ConfigureAwait(false);
                    await context.WriteJsonAsync(new { recordUri }).ConfigureAwait(false);
                    break;
            }
        }
        catch (VerificationRefusedException refused)
        {
            await refused.WriteAsync(context, $"Refusing to use '{refused.Instance}' as the staged copy of a tenant restore; nothing was read or written: ").ConfigureAwait(false);
        }
    }
}
