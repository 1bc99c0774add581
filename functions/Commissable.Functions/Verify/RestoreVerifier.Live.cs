using System.Diagnostics;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.Verify;

/// <summary>
/// Live mode: the same smoke checks, run in place on a database that already exists (a
/// disaster-recovery restore into a new instance, the staging database after a clone), in stages
/// <c>resolve</c> (the backup's manifest if one is given, the instance and the database),
/// <c>connect</c> (<c>database.reachable</c>) and <c>checks</c>.
/// </summary>
/// <remarks>
/// <para>
/// Read-only: no scratch database, no import, no drop; the checks run in a READ ONLY transaction
/// with the inspector's login. That is why, unlike import mode, live mode runs on an instance
/// listed in <c>PRODUCTION_INSTANCES</c> or labelled production: an instance restored for disaster
/// recovery inherits production's labels and is about to become production. The one refusal is a
/// verification instance that is the source instance itself: the check would compare the source
/// with itself (and the source may be the broken production).
/// </para>
/// <para>
/// With a backup, the database is read back with pg_dump and compared with the backup's content
/// manifest exactly as in import mode (so a staging clone of an export passes exactly, however
/// production was written to meanwhile), and the outcome is recorded beside the manifest (with
/// <c>mode: live</c> and the checked instance and database). Without a backup only the checks
/// that need none run: reachable, migrations finished, sequences past their columns, critical
/// tables non-empty; nothing about contents is claimed.
/// </para>
/// <para>
/// With <c>evidence</c> (<see cref="RecoveryEvidenceRequest"/>), a stage <c>evidence</c> follows:
/// the database against the newest backup before the point in time and against the source now
/// (<see cref="RecoveryEvidenceCollector"/>). It never changes whether the verification passed.
/// </para>
/// </remarks>
internal sealed partial class RestoreVerifier
{
    /// <summary>The live-mode check that the database answered at all.</summary>
    public const string DatabaseReachable = "database.reachable";

    public async Task<VerificationOutcome> VerifyLiveAsync(RestoreVerifyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (sourceName, targetName, database) = (request.Instance!, request.VerificationInstance!, request.Database!);
        var startTime = clock.GetUtcNow();
        var total = Stopwatch.StartNew();
        var stages = new List<StageTiming>();

        var stage = Stopwatch.StartNew();
        var refusals = VerificationTargetGuard.SourceFailures(targetName, sourceName);
        if (refusals.Count > 0)
        {
            RefuseLive(refusals, targetName, request.Backup);
        }
        (BackupObjectName Name, BackupManifest Manifest)? backup = request.Backup is null
            ? null
            : await ResolveBackupAsync(request, cancellationToken).ConfigureAwait(false);
        var target = await GetTargetAsync(targetName, cancellationToken).ConfigureAwait(false);
        await RequireDatabaseAsync(targetName, database, cancellationToken).ConfigureAwait(false);
        stages.Add(new("resolve", stage.ElapsedMilliseconds, true));

        var backupUri = backup?.Manifest.Uri;
        logger.LogInformation(Started, "backup.verify.started {Mode} {BackupUri} {SourceInstance} {VerificationInstance} {Database} {StartTime}",
            RestoreVerifyRequest.LiveMode, backupUri, sourceName, targetName, database, startTime);

        stage.Restart();
        var checks = new List<CheckResult> { await ReachableAsync(target, database, cancellationToken).ConfigureAwait(false) };
        stages.Add(new("connect", stage.ElapsedMilliseconds, checks[0].Passed));
        if (checks[0].Passed)
        {
            // With a backup: its content manifest against the database read back, exactly as in
            // import mode. Without one there is nothing to compare contents with, so only the checks
            // of the database on its own terms run (and say so by their names).
            var content = backup is { } compared ? await ContentAsync(compared.Name, compared.Manifest, stages, checks, cancellationToken).ConfigureAwait(false) : null;
            stage.Restart();
            if (content is not null)
            {
                checks.AddRange(await RunChecksAsync(content, target, database, request, cancellationToken).ConfigureAwait(false));
            }
            else if (backup is null)
            {
                var options = new RestoreCheckOptions { CriticalTables = request.CriticalTables ?? [] };
                checks.AddRange(await databases.RunAsync(target, database, options, cancellationToken).ConfigureAwait(false));
            }
            stages.Add(new("checks", stage.ElapsedMilliseconds, checks.All(c => c.Passed)));
        }

        RecoveryEvidence? found = null;
        if (request.Evidence?.ParsedPointInTime() is { } pointInTime)
        {
            stage.Restart();
            found = await evidence.CollectAsync(sourceName, target, database, pointInTime, cancellationToken).ConfigureAwait(false);
            stages.Add(new("evidence", stage.ElapsedMilliseconds, found.Production.Read && found.Backup.Found));
        }

        var record = NewRecord(backupUri, targetName, startTime, stages, checks, RestoreVerifyRequest.LiveMode, database) with { Evidence = found };
        var recordUri = backup is { } b ? await RecordAsync(b.Name, record).ConfigureAwait(false) : null;
        LogOutcome(record, database, total.ElapsedMilliseconds, null);
        return new VerificationOutcome(record, null, recordUri, null, null) { SourceInstance = sourceName, Database = database };
    }

    private void RefuseLive(IReadOnlyList<CheckResult> refusals, string targetName, string? backupUri)
    {
        logger.LogWarning(Refused, "backup.verify.refused {Mode} {BackupUri} {VerificationInstance}: {Reasons}",
            RestoreVerifyRequest.LiveMode, backupUri, targetName, string.Join(" ", refusals.Select(r => $"[{r.Name}] {r.Detail}")));
        throw new VerificationRefusedException(targetName, refusals);
    }

    private async Task RequireDatabaseAsync(string targetName, string database, CancellationToken cancellationToken)
    {
        try
        {
            await sql.GetDatabaseAsync(targetName, database, cancellationToken).ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            throw FunctionException.NotFound($"The database '{database}' does not exist on instance '{targetName}'.");
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {error.ApiMessage}", TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// Logs in and asks for the server version: a database that cannot be reached is a failed
    /// verification (a restore that does not accept connections is not recovered), not an error.
    /// </summary>
    private async Task<CheckResult> ReachableAsync(DatabaseInstance target, string database, CancellationToken cancellationToken)
    {
        if (target.State is { } state && !string.Equals(state, "RUNNABLE", StringComparison.Ordinal))
        {
            return new(DatabaseReachable, false, $"the instance '{target.Name}' is {state}, not RUNNABLE");
        }
        try
        {
            var version = await databases.ServerVersionAsync(target, database, cancellationToken).ConfigureAwait(false);
            return new(DatabaseReachable, true, $"connected to {database} on '{target.Name}' (PostgreSQL {version})");
        }
        catch (DatabaseUnreachableException error) when (!cancellationToken.IsCancellationRequested)
        {
            return new(DatabaseReachable, false, $"could not connect to {database} on '{target.Name}': {Shorten(error.Message)}");
        }
    }
}
