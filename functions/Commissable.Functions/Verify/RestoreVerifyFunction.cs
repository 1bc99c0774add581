using Commissable.Functions.Hosting;

namespace Commissable.Functions.Verify;

/// <summary>
/// <c>restore-verify</c>: Cloud Scheduler or a workflow POSTs <c>{backup: "gs://..." | "latest",
/// instance?, kind?, verificationInstance?, criticalTables?}</c>; the backup is
/// imported into a scratch database of the verification instance, smoke-checked, recorded and
/// dropped (see <see cref="RestoreVerifier"/>). With <c>"mode": "live"</c> (<c>{instance,
/// verificationInstance, database, backup?, criticalTables?, evidence?}</c>) the database is
/// checked in place, read-only, instead (see <c>RestoreVerifier.Live.cs</c>); with
/// <c>evidence: {pointInTime}</c> the answer also carries the recovery evidence (<see cref="RecoveryEvidenceCollector"/>).
/// </summary>
/// <remarks>
/// 200 whenever the verification ran, passed or failed (<c>passed</c> says which). 400 for a bad
/// request, 404 for an unknown backup, verification instance or (live) database, 412
/// <c>VERIFICATION_TARGET_REFUSED</c> when the verification instance could hold production data
/// (live mode: when it is the source instance; the safety rail is a policy precondition, as the
/// design's 412s are), 503 when Cloud SQL could not start the restore.
/// </remarks>
internal sealed class RestoreVerifyFunction(RestoreVerifier verifier) : IHttpFunction
{
    public async Task HandleAsync(HttpContext context)
    {
        FunctionException.RequirePost(context.Request, "POST a JSON request: {\"backup\": \"gs://<bucket>/<name>\" or \"latest\", \"instance\": ..., \"verificationInstance\": ...}.");
        var request = await context.ReadJsonAsync<RestoreVerifyRequest>().ConfigureAwait(false);
        FunctionException.ThrowIfProblems(request.Problems());

        VerificationOutcome outcome;
        try
        {
            outcome = request.IsLive
                ? await verifier.VerifyLiveAsync(request, context.RequestAborted).ConfigureAwait(false)
                : await verifier.VerifyAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (VerificationRefusedException refused)
        {
            await refused.WriteAsync(context, request.IsLive
                ? $"Refusing to check '{refused.Instance}' in place; nothing was read: "
                : $"Refusing to restore into '{refused.Instance}'; nothing was created: ").ConfigureAwait(false);
            return;
        }

        var record = outcome.Record;
        await context.WriteJsonAsync(new
        {
            passed = record.Passed,
            mode = request.IsLive ? RestoreVerifyRequest.LiveMode : RestoreVerifyRequest.ImportMode,
            backupUri = record.BackupUri.Length == 0 ? null : record.BackupUri,
            instance = outcome.SourceInstance,
            verificationInstance = record.VerificationInstance,
            database = outcome.Database,
            scratchDatabase = outcome.ScratchDatabase,
            startTime = record.StartTime,
            endTime = record.EndTime,
            stages = record.Stages.Select(s => new { stage = s.Stage, durationMs = s.DurationMs, succeeded = s.Succeeded }),
            checks = record.Checks.Select(c => new { name = c.Name, passed = c.Passed, detail = c.Detail }),
            failure = record.Failure,
            cleanupError = outcome.CleanupError,
            recordUri = outcome.RecordUri,
            recoveryTimeMs = outcome.RecoveryTimeMs,
            evidence = record.Evidence,
            durationMs = (long)(record.EndTime - record.StartTime).TotalMilliseconds,
        }).ConfigureAwait(false);
    }
}
