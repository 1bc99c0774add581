using Commissable.Functions.Hosting;

namespace Commissable.Functions.Verify;

/// <summary>
/// <c>restore-verify</c>: Cloud Scheduler or a workflow POSTs <c>{backup: "gs://..." | "latest",
/// instance?, kind?, verificationInstance?, rowCountTolerance?, criticalTables?}</c>; the backup is
/// imported into a scratch database of the verification instance, smoke-checked, recorded and
/// dropped (see <see cref="RestoreVerifier"/>).
/// </summary>
/// <remarks>
/// 200 whenever the verification ran, passed or failed (<c>passed</c> says which). 400 for a bad
/// request, 404 for an unknown backup or verification instance, 412 <c>VERIFICATION_TARGET_REFUSED</c>
/// when the verification instance could hold production data (the safety rail is a policy
/// precondition, as the design's 412s are), 503 when Cloud SQL could not start the restore.
/// </remarks>
internal sealed class RestoreVerifyFunction(RestoreVerifier verifier) : IHttpFunction
{
    public async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            throw new FunctionException(405, "METHOD_NOT_ALLOWED", "POST a JSON request: {\"backup\": \"gs://<bucket>/<name>\" or \"latest\", \"instance\": ..., \"verificationInstance\": ...}.");
        }
        var request = await context.ReadJsonAsync<RestoreVerifyRequest>().ConfigureAwait(false);
        var problems = request.Problems();
        if (problems.Count > 0)
        {
            throw FunctionException.BadRequest(string.Join(" ", problems));
        }

        VerificationOutcome outcome;
        try
        {
            outcome = await verifier.VerifyAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (VerificationRefusedException refused)
        {
            await context.WriteJsonAsync(new
            {
                error = new
                {
                    code = 412,
                    status = "VERIFICATION_TARGET_REFUSED",
                    message = $"Refusing to restore into '{refused.Instance}'; nothing was created: " + string.Join(" ", refused.Failures.Select(f => $"[{f.Name}] {f.Detail}")),
                    preconditions = refused.Failures.Select(f => new { name = f.Name, reason = f.Detail }),
                },
            }, StatusCodes.Status412PreconditionFailed).ConfigureAwait(false);
            return;
        }

        var record = outcome.Record;
        await context.WriteJsonAsync(new
        {
            passed = record.Passed,
            backupUri = record.BackupUri,
            verificationInstance = record.VerificationInstance,
            scratchDatabase = outcome.ScratchDatabase,
            startTime = record.StartTime,
            endTime = record.EndTime,
            stages = record.Stages.Select(s => new { stage = s.Stage, durationMs = s.DurationMs, succeeded = s.Succeeded }),
            checks = record.Checks.Select(c => new { name = c.Name, passed = c.Passed, detail = c.Detail }),
            failure = record.Failure,
            cleanupError = outcome.CleanupError,
            recordUri = outcome.RecordUri,
            recoveryTimeMs = outcome.RecoveryTimeMs,
        }).ConfigureAwait(false);
    }
}
