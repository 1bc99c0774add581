using System.Globalization;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Export;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Verify;

/// <summary>
/// Reads what <see cref="RecoveryEvidence"/> compares: the restored database and the source's
/// database now (each in one snapshot, both at once), and the newest manifest of the source in the
/// catalog that ended by the point in time; then <see cref="RecoveryEvidenceComparison"/> compares.
/// </summary>
/// <remarks>
/// <para>
/// Evidence, not a check: nothing here fails the verification. What cannot be read (the source
/// instance gone or stopped, a login refused, a lock held too long, the catalog unreadable) is
/// said in the evidence, with the reason, and the rest is still shown.
/// </para>
/// <para>
/// Production is read with the inspector's login, read-only, under <see cref="ProductionLimits"/>
/// so that a lock held by a migration or a very large table cannot hold the approval back: the
/// evidence then says why production could not be read.
/// </para>
/// </remarks>
internal sealed class RecoveryEvidenceCollector(
    ICloudSqlAdmin sql,
    BackupCatalog catalog,
    IDatabaseCensus census,
    FunctionSettings settings,
    ILogger<RecoveryEvidenceCollector> logger)
{
    /// <summary>Production is counted with these limits: 10 s waiting for a lock, 10 min per statement.</summary>
    public static readonly DatabaseWaitLimits ProductionLimits = new(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10));

    private static readonly EventId Collected = new(45, "backup.verify.evidence");

    /// <summary>The evidence for <paramref name="database"/> of <paramref name="restored"/>, restored from <paramref name="source"/> to <paramref name="pointInTime"/>.</summary>
    public async Task<RecoveryEvidence> CollectAsync(string source, DatabaseInstance restored, string database, DateTimeOffset pointInTime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(restored);
        var restoredRead = ReadAsync(restored, database, null, cancellationToken);
        var productionRead = ReadProductionAsync(source, database, cancellationToken);
        var backupFound = NewestBackupBeforeAsync(source, database, pointInTime, cancellationToken);

        var (restoredCensus, restoredProblem) = await restoredRead.ConfigureAwait(false);
        var (productionCensus, productionProblem) = await productionRead.ConfigureAwait(false);
        var (manifest, why) = await backupFound.ConfigureAwait(false);

        var evidence = restoredCensus is null
            ? RecoveryEvidenceComparison.NotCompared(pointInTime, restoredProblem!)
            : RecoveryEvidenceComparison.Assemble(pointInTime,
                RecoveryEvidenceComparison.CompareWithBackup(manifest, why, restoredCensus),
                RecoveryEvidenceComparison.CompareWithProduction(source, restoredCensus, productionCensus, productionProblem));
        logger.LogInformation(Collected,
            "backup.verify.evidence {SourceInstance} {VerificationInstance} {Database} {PointInTime} {EvidenceBackupUri} {ProductionRead} {RestoredRows} {ProductionRows} {RowDifference} {DifferingLines}",
            source, restored.Name, database, pointInTime.UtcDateTime.ToString("o", CultureInfo.InvariantCulture), evidence.Backup.Uri, evidence.Production.Read,
            evidence.Production.RestoredRows, evidence.Production.ProductionRows, evidence.Production.Difference,
            evidence.Production.Differences.Count + evidence.Production.OmittedLines);
        return evidence;
    }

    private async Task<(DatabaseCensus? Census, string? Problem)> ReadAsync(DatabaseInstance instance, string database, DatabaseWaitLimits? limits, CancellationToken cancellationToken)
    {
        try
        {
            return (await census.TakeAsync(instance, database, settings.TenantColumn, limits, cancellationToken).ConfigureAwait(false), null);
        }
        catch (DatabaseUnreachableException error) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"database {database} on '{instance.Name}': {Shorten(error.Message)}");
        }
    }

    private async Task<(DatabaseCensus? Census, string? Problem)> ReadProductionAsync(string source, string database, CancellationToken cancellationToken)
    {
        DatabaseInstance instance;
        try
        {
            instance = await sql.GetInstanceAsync(source, cancellationToken).ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            return (null, $"the instance '{source}' does not exist in project '{sql.Project}'");
        }
        catch (Exception error) when (error is CloudSqlApiException or HttpRequestException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"Cloud SQL did not describe the instance '{source}': {Shorten(error is CloudSqlApiException api ? $"{api.HttpStatus} {api.ApiMessage}" : error.Message)}");
        }
        if (instance.State is { } state && !string.Equals(state, "RUNNABLE", StringComparison.Ordinal))
        {
            return (null, $"the instance '{source}' is {state}, not RUNNABLE");
        }
        return await ReadAsync(instance, database, ProductionLimits, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The newest manifest of <paramref name="source"/> (this environment) that ended by
    /// <paramref name="pointInTime"/> and records contents (a content manifest or a snapshot), of
    /// <paramref name="database"/> or of a database it does not name; else null and why.
    /// </summary>
    /// <remarks>
    /// Backup runs' manifests record no contents (a base backup is not read), so they are passed
    /// over: the evidence compares with the newest backup that can say what it held.
    /// </remarks>
    private async Task<(BackupManifest? Manifest, string Why)> NewestBackupBeforeAsync(string source, string database, DateTimeOffset pointInTime, CancellationToken cancellationToken)
    {
        var where = $"gs://{catalog.Bucket}/{catalog.Prefix}/{settings.EnvironmentName}/{source}/";
        BackupManifest? newest = null;
        var withoutContents = 0;
        try
        {
            await foreach (var entry in catalog.ListAsync(settings.EnvironmentName, source, cancellationToken).ConfigureAwait(false))
            {
                if (entry.Manifest is not { } m || m.SourceInstance != source || m.EndTime > pointInTime
                    || (m.Databases.Count > 0 && !m.Databases.Contains(database, StringComparer.Ordinal)))
                {
                    continue;
                }
                if (m.Content is null && m.Snapshot is null)
                {
                    withoutContents++;
                    continue;
                }
                if (newest is null || m.EndTime > newest.EndTime)
                {
                    newest = m;
                }
            }
        }
        catch (Exception error) when (error is IOException or HttpRequestException or JsonException or TimeoutException or Google.GoogleApiException
                                      && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"the catalog {where} could not be read: {Shorten(error.Message)}");
        }
        var at = pointInTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture);
        return newest is not null
            ? (newest, "")
            : (null, $"no backup of {database} on '{source}' in {where} that records its contents ended by {at}"
                + (withoutContents > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({withoutContents} without contents, such as backup runs, did)") : "")
                + ": the restore was compared with no backup");
    }

    private static string Shorten(string text)
    {
        text = SecretRedactor.Redact(text.ReplaceLineEndings(" ").Trim());
        return text.Length <= 300 ? text : text[..300] + "…";
    }
}
