using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Completion;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Verify;

/// <summary>
/// One restore test, in stages: <c>resolve</c> (the backup and its manifest, the verification
/// instance and its safety rail), <c>content</c> (only for a manifest written before content
/// manifests: what the backup holds, read from its bytes), <c>create-db</c> (a scratch database
/// with a unique name), <c>import</c> (the backup through the Cloud SQL API), <c>checks</c> (the
/// restored database read back in the text pg_dump prints, its largest tables over COPY in
/// pg_dump's snapshot, and compared with the backup's content manifest, exactly, then <see cref="IRestoredDatabaseChecks"/>), <c>cleanup</c> (the scratch database is
/// always dropped). The outcome is recorded as an immutable <see cref="VerificationRecord"/>
/// beside the manifest.
/// </summary>
/// <remarks>
/// Anything wrong with the request (bad input 400, unknown backup or instance 404, refused target
/// 412, Cloud SQL unreachable before the restore started 503) throws before a database is created.
/// Once the scratch database exists, every failure of the backup itself (import error, failed
/// check) is a failed verification, never an exception.
/// </remarks>
internal sealed partial class RestoreVerifier(
    ICloudSqlAdmin sql,
    BackupCatalog catalog,
    IBackupStore store,
    IRestoredDatabaseChecks databases,
    IBackupContentReader contents,
    FunctionSettings settings,
    TimeProvider clock,
    ILogger<RestoreVerifier> logger,
    RecoveryEvidenceCollector evidence)
{
    /// <summary>The check that reports whether the import itself succeeded.</summary>
    public const string ImportSucceeded = "import.succeeded";

    /// <summary>The check that reports whether the backup's content manifest could be had (recorded, or read from its bytes).</summary>
    public const string ContentRead = "content.read";

    /// <summary>The role the import runs as (Cloud SQL's <c>importUser</c>).</summary>
    public const string ImportUser = "postgres";

    private static readonly EventId Started = new(40, "backup.verify.started");
    private static readonly EventId Passed = new(41, "backup.verify.passed");
    private static readonly EventId Failed = new(42, "backup.verify.failed");
    private static readonly EventId Refused = new(43, "backup.verify.refused");
    private static readonly EventId CleanupFailed = new(44, "backup.verify.cleanup-failed");

    public async Task<VerificationOutcome> VerifyAsync(RestoreVerifyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var startTime = clock.GetUtcNow();
        var total = Stopwatch.StartNew();
        var stages = new List<StageTiming>();

        var stage = Stopwatch.StartNew();
        var (name, manifest) = await ResolveBackupAsync(request, cancellationToken).ConfigureAwait(false);
        var targetName = request.VerificationInstance ?? settings.VerifyInstance
            ?? throw FunctionException.BadRequest("'verificationInstance' is required: VERIFY_INSTANCE is not configured, so name the scratch instance to restore into.");
        // Production names are refused before the instance is even read.
        Refuse(VerificationTargetGuard.NameFailures(targetName, manifest, settings.ProductionInstances), targetName, manifest);
        var target = await GetTargetAsync(targetName, cancellationToken).ConfigureAwait(false);
        Refuse(VerificationTargetGuard.LabelFailures(target, targetName), targetName, manifest);
        stages.Add(new("resolve", stage.ElapsedMilliseconds, true));

        var scratch = ScratchName(startTime);
        var backupUri = manifest.Uri;
        logger.LogInformation(Started, "backup.verify.started {BackupUri} {VerificationInstance} {ScratchDatabase} {StartTime}",
            backupUri, targetName, scratch, startTime);

        var checks = new List<CheckResult>();
        var content = await ContentAsync(name, manifest, stages, checks, cancellationToken).ConfigureAwait(false);
        if (content is null)
        {
            // Nothing to compare a restore with: nothing is created, and the verification fails.
            var unread = NewRecord(backupUri, targetName, startTime, stages, checks);
            var unreadUri = await RecordAsync(name, unread).ConfigureAwait(false);
            LogOutcome(unread, scratch, total.ElapsedMilliseconds, null);
            return new VerificationOutcome(unread, null, unreadUri, null, null);
        }

        stage.Restart();
        try
        {
            var created = await sql.InsertDatabaseAsync(targetName, new Database { Name = scratch }, cancellationToken).ConfigureAwait(false);
            await sql.WaitForOperationAsync(created, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is CloudSqlApiException or CloudSqlOperationFailedException or TimeoutException or HttpRequestException)
        {
            logger.LogError(Failed, "backup.verify.failed {BackupUri} {StartTime} {EndTime} {Outcome}: {Error}",
                backupUri, startTime, clock.GetUtcNow(), "not-started", Describe(error));
            throw FunctionException.Unavailable($"Could not create the scratch database on '{targetName}', so the verification did not run: {Describe(error)}", TimeSpan.FromSeconds(60));
        }
        stages.Add(new("create-db", stage.ElapsedMilliseconds, true));

        string? cleanupError = null;
        long recoveryMs;
        try
        {
            stage.Restart();
            var importError = await IntegrityProblemAsync(name, manifest, cancellationToken).ConfigureAwait(false)
                ?? await ImportAsync(targetName, backupUri, scratch, manifest, cancellationToken).ConfigureAwait(false);
            stages.Add(new("import", stage.ElapsedMilliseconds, importError is null));
            checks.Add(importError is null
                ? new CheckResult(ImportSucceeded, true, $"imported {backupUri} into {scratch} as {ImportUser}")
                : new CheckResult(ImportSucceeded, false, $"{backupUri}: {importError}"));

            if (importError is null)
            {
                stage.Restart();
                checks.AddRange(await RunChecksAsync(content, target, scratch, request, cancellationToken).ConfigureAwait(false));
                stages.Add(new("checks", stage.ElapsedMilliseconds, checks.All(c => c.Passed)));
            }
            recoveryMs = stages.Where(s => s.Stage is "create-db" or "import" or "checks").Sum(s => s.DurationMs);
        }
        finally
        {
            // Always, also when cancelled or a check threw: a scratch database left behind is a copy of production data.
            stage.Restart();
            cleanupError = await DropAsync(targetName, scratch, backupUri).ConfigureAwait(false);
            stages.Add(new("cleanup", stage.ElapsedMilliseconds, cleanupError is null));
        }

        var record = NewRecord(backupUri, targetName, startTime, stages, checks);
        var recordUri = await RecordAsync(name, record).ConfigureAwait(false);
        LogOutcome(record, scratch, total.ElapsedMilliseconds, recoveryMs);
        return new VerificationOutcome(record, scratch, recordUri, recoveryMs, cleanupError);
    }

    /// <summary>
    /// The checks of one database of <paramref name="target"/>, read-only: its contents read back
    /// in pg_dump's text (as the backup's were written) and compared with <paramref name="content"/>,
    /// exactly; then the checks of the database on its own terms (<see cref="IRestoredDatabaseChecks"/>:
    /// migrations finished, sequences past their columns, critical tables). The same in both modes.
    /// </summary>
    private async Task<IReadOnlyList<CheckResult>> RunChecksAsync(
        BackupContent content, DatabaseInstance target, string database, RestoreVerifyRequest request, CancellationToken cancellationToken)
    {
        var results = new List<CheckResult>();
        try
        {
            var reading = new DumpReadOptions { TenantColumn = content.TenantColumn, TimeZone = content.TimeZone };
            var restored = await contents.ReadDatabaseAsync(target, database, reading, cancellationToken).ConfigureAwait(false);
            results.AddRange(ContentComparison.Compare(content, restored));
        }
        catch (Exception error) when (error is not OperationCanceledException and not OutOfMemoryException)
        {
            results.Add(new CheckResult(ContentRead, false, $"could not read {database} on '{target.Name}' back to compare it with the backup: {Shorten(error.Message)}"));
        }
        var options = new RestoreCheckOptions { CriticalTables = request.CriticalTables ?? [] };
        results.AddRange(await databases.RunAsync(target, database, options, cancellationToken).ConfigureAwait(false));
        return results;
    }

    /// <summary>
    /// The backup's content manifest: the one recorded, or (a manifest written before content
    /// manifests) read now from the backup's bytes, in stage <c>content</c>. Null when it cannot be
    /// had; then <paramref name="checks"/> holds the failed <see cref="ContentRead"/> saying why.
    /// </summary>
    private async Task<BackupContent?> ContentAsync(BackupObjectName name, BackupManifest manifest, List<StageTiming> stages, List<CheckResult> checks,
        CancellationToken cancellationToken)
    {
        if (manifest.Content is { } recorded)
        {
            return recorded;
        }
        var stage = Stopwatch.StartNew();
        try
        {
            var reading = await ExportReading.OptionsAsync(sql, manifest.SourceInstance, settings.TenantColumn, cancellationToken).ConfigureAwait(false);
            var content = await contents.ReadBackupAsync(name.Name, manifest.Format, reading, cancellationToken).ConfigureAwait(false);
            stages.Add(new("content", stage.ElapsedMilliseconds, true));
            checks.Add(new CheckResult(ContentRead, true, string.Create(CultureInfo.InvariantCulture,
                $"the manifest has no content manifest (written before they existed): read it from the backup's bytes, {content.Tables.Count} tables, {content.TotalRows:N0} rows")));
            return content;
        }
        catch (Exception error) when (error is not OperationCanceledException and not OutOfMemoryException)
        {
            stages.Add(new("content", stage.ElapsedMilliseconds, false));
            checks.Add(new CheckResult(ContentRead, false,
                $"nothing to compare a restore with: the manifest has no content manifest, and gs://{catalog.Bucket}/{name.Name} could not be read as a dump: {Shorten(error.Message)}"));
            return null;
        }
    }

    private VerificationRecord NewRecord(string? backupUri, string targetName, DateTimeOffset startTime, List<StageTiming> stages, List<CheckResult> checks,
        string? mode = null, string? database = null)
    {
        var passed = checks.All(c => c.Passed);
        return new VerificationRecord
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            BackupUri = backupUri ?? "",
            VerificationInstance = targetName,
            Mode = mode,
            Database = database,
            Passed = passed,
            StartTime = startTime,
            EndTime = clock.GetUtcNow(),
            Stages = stages,
            Checks = checks,
            Failure = passed ? null : string.Join(" ", checks.Where(c => !c.Passed).Select(c => $"[{c.Name}] {c.Detail}")),
        };
    }

    /// <summary>Writes the immutable record beside the backup's manifest; returns its URI.</summary>
    private async Task<string> RecordAsync(BackupObjectName name, VerificationRecord record)
    {
        // Not the request's token: a verification that ran is recorded even when the caller gave up.
        await catalog.AddVerificationAsync(name, record, CancellationToken.None).ConfigureAwait(false);
        // The catalog names the record this way (BackupCatalog.AddVerificationAsync).
        return string.Create(CultureInfo.InvariantCulture,
            $"gs://{catalog.Bucket}/{name.VerificationsPrefix}{record.StartTime.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{record.Id}.json");
    }

    /// <summary>One line per verification: NOTICE when it passed, ERROR with the failures when not.</summary>
    private void LogOutcome(VerificationRecord record, string database, long durationMs, long? recoveryMs)
    {
        var mode = record.Mode ?? RestoreVerifyRequest.ImportMode;
        if (record.Passed)
        {
            logger.LogNotice(Passed,
                "backup.verify.passed {Mode} {BackupUri} {VerificationInstance} {Database} {StartTime} {EndTime} {DurationMs} {RecoveryTimeMs} {Outcome}",
                mode, record.BackupUri, record.VerificationInstance, database, record.StartTime, record.EndTime, durationMs, recoveryMs, "passed");
        }
        else
        {
            logger.LogError(Failed, "backup.verify.failed {Mode} {BackupUri} {VerificationInstance} {Database} {StartTime} {EndTime} {DurationMs} {Outcome}: {Failure}",
                mode, record.BackupUri, record.VerificationInstance, database, record.StartTime, record.EndTime, durationMs, "failed", record.Failure);
        }
    }

    private async Task<(BackupObjectName Name, BackupManifest Manifest)> ResolveBackupAsync(RestoreVerifyRequest request, CancellationToken cancellationToken)
    {
        if (request.IsLatest)
        {
            var instance = request.Instance!;
            await foreach (var entry in catalog.ListAsync(settings.EnvironmentName, instance, cancellationToken).ConfigureAwait(false))
            {
                if (entry.Manifest is { } m && m.SourceInstance == instance && (request.Kind is null || m.Kind == request.Kind)
                    && IsImportable(m) && entry.DumpObjects.Count > 0)
                {
                    return (entry.Name, m);
                }
            }
            throw FunctionException.NotFound(
                $"No complete backup of instance '{instance}'{(request.Kind is null ? "" : $" of kind '{request.Kind}'")} in gs://{catalog.Bucket}/{catalog.Prefix}/{settings.EnvironmentName}/{instance}/ that can be imported.");
        }

        var uri = request.Backup!;
        var root = $"gs://{catalog.Bucket}/";
        if (!uri.StartsWith(root, StringComparison.Ordinal) || !BackupObjectName.TryParse(uri[root.Length..], catalog.Prefix, out var name))
        {
            throw FunctionException.NotFound($"There is no complete backup at {uri}: backups are verified from gs://{catalog.Bucket}/{catalog.Prefix}/ and named as the strategy names them.");
        }
        var manifest = await catalog.GetAsync(name!, cancellationToken).ConfigureAwait(false)
            ?? throw FunctionException.NotFound($"There is no complete backup at {uri}: it has no manifest (the export never finished, or the name is wrong).");
        if (!request.IsLive && !IsImportable(manifest))
        {
            throw FunctionException.BadRequest($"{uri} is a {manifest.Format} backup run: restore-verify imports logical exports (SQL, gzip SQL, directory or custom format).");
        }
        if (request.Instance is { } expected && expected != manifest.SourceInstance)
        {
            throw FunctionException.BadRequest($"{uri} is a backup of instance '{manifest.SourceInstance}', not of '{expected}'.");
        }
        return (name!, manifest);
    }

    private void Refuse(IReadOnlyList<CheckResult> refusals, string targetName, BackupManifest manifest)
    {
        if (refusals.Count > 0)
        {
            logger.LogWarning(Refused, "backup.verify.refused {BackupUri} {VerificationInstance}: {Reasons}",
                manifest.Uri, targetName, string.Join(" ", refusals.Select(r => $"[{r.Name}] {r.Detail}")));
            throw new VerificationRefusedException(targetName, refusals);
        }
    }

    private static bool IsImportable(BackupManifest manifest) => !string.Equals(manifest.Format, "BASE_BACKUP", StringComparison.Ordinal);

    private async Task<DatabaseInstance> GetTargetAsync(string targetName, CancellationToken cancellationToken)
    {
        try
        {
            return await sql.GetInstanceAsync(targetName, cancellationToken).ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            throw FunctionException.NotFound($"The verification instance '{targetName}' does not exist in project '{sql.Project}'.");
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {error.ApiMessage}", TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// Null when the dump object is the one the manifest describes (size and checksums), else why
    /// not. A changed object is not imported: whatever it restores, it is not the backup that was
    /// taken, and a truncated gzip can import "successfully" as a partial database.
    /// </summary>
    /// <remarks>
    /// The store's checksums are of the bytes the import reads: Cloud Storage computes them
    /// server-side, and the local store hashes the file itself (it remembers them only for that
    /// exact file, so a same-size change with its modification time put back is still seen). A
    /// directory-format export is several objects: their total size is what its manifest records.
    /// A manifest that records neither size nor checksum gives nothing to check the object with,
    /// and the object is not imported: a check with nothing to compare against fails.
    /// </remarks>
    private async Task<string?> IntegrityProblemAsync(BackupObjectName name, BackupManifest manifest, CancellationToken cancellationToken)
    {
        if (manifest.SizeBytes is null && manifest.Md5Hash is null && manifest.Crc32c is null)
        {
            return $"not imported: the manifest of gs://{catalog.Bucket}/{name.Name} records neither its size nor a checksum, so nothing shows the object is the backup that was taken";
        }
        if (name.Extension.Length == 0)
        {
            var files = await new ExportedObjects(catalog, store).ListDirectoryAsync(name, cancellationToken).ConfigureAwait(false);
            if (files.Count == 0)
            {
                return $"not imported: the directory gs://{catalog.Bucket}/{name.Name}/ holds no file, though its manifest exists";
            }
            var total = files.Sum(f => f.Size);
            return manifest.SizeBytes is not { } expected
                ? $"not imported: the manifest of the directory gs://{catalog.Bucket}/{name.Name}/ records no total size to check its files with"
                : total == expected
                    ? null
                    : string.Create(CultureInfo.InvariantCulture,
                        $"not imported: the directory gs://{catalog.Bucket}/{name.Name}/ changed after the export: its {files.Count} files hold {total:N0} bytes, the manifest records {expected:N0}");
        }
        var stored = await store.GetAsync(name.Name, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return $"not imported: gs://{catalog.Bucket}/{name.Name} no longer exists, though its manifest does";
        }
        var differences = new List<string>();
        if (manifest.SizeBytes is { } size && size != stored.Size)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"it is {stored.Size:N0} bytes, the manifest records {size:N0}{(stored.Size < size ? " (truncated)" : "")}"));
        }
        if (manifest.Crc32c is { } crc && stored.Crc32c is { } storedCrc && !string.Equals(crc, storedCrc, StringComparison.Ordinal))
        {
            differences.Add($"its CRC32C is {storedCrc}, the manifest records {crc}");
        }
        if (manifest.Md5Hash is { } md5 && stored.Md5Hash is { } storedMd5 && !string.Equals(md5, storedMd5, StringComparison.Ordinal))
        {
            differences.Add($"its MD5 is {storedMd5}, the manifest records {md5}");
        }
        return differences.Count == 0
            ? null
            : $"not imported: gs://{catalog.Bucket}/{name.Name} changed after the export: {string.Join("; ", differences)}";
    }

    /// <summary>Imports and waits; returns null on success, or why it failed.</summary>
    private async Task<string?> ImportAsync(string targetName, string backupUri, string scratch, BackupManifest manifest, CancellationToken cancellationToken)
    {
        var context = new ImportContext
        {
            Kind = "sql#importContext",
            Uri = backupUri,
            Database = scratch,
            FileType = "SQL",
            ImportUser = ImportUser,
            // A parallel (directory-format) export must be imported in parallel mode.
            SqlImportOptions = manifest.Format == "DIRECTORY" ? new SqlImportOptions { Parallel = true } : null,
        };
        try
        {
            var started = await sql.ImportAsync(targetName, context, cancellationToken).ConfigureAwait(false);
            await sql.WaitForOperationAsync(started, null, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (CloudSqlOperationFailedException failed)
        {
            var errors = failed.Operation.Error?.Errors?.Select(e => e.Message ?? e.Code ?? "").Where(m => m.Length > 0).ToList() ?? [];
            return "the import operation failed: " + Shorten(WithoutRowData(errors.Count > 0 ? string.Join("; ", errors) : failed.Message));
        }
        catch (Exception error) when (error is CloudSqlApiException or TimeoutException or HttpRequestException)
        {
            return "the import could not run: " + Describe(error);
        }
    }

    /// <summary>Drops the scratch database; returns null, or why it could not be dropped.</summary>
    private async Task<string?> DropAsync(string targetName, string scratch, string backupUri)
    {
        // Not the request's token: the database must go even when the caller gave up.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            var dropped = await sql.DeleteDatabaseAsync(targetName, scratch, timeout.Token).ConfigureAwait(false);
            await sql.WaitForOperationAsync(dropped, TimeSpan.FromMinutes(10), timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            var reason = Describe(error);
            logger.LogError(CleanupFailed, "backup.verify.cleanup-failed {BackupUri} {VerificationInstance} {ScratchDatabase}: {Error}",
                backupUri, targetName, scratch, reason);
            return $"the scratch database {scratch} on '{targetName}' could not be dropped; drop it by hand: {reason}";
        }
    }

    /// <summary>
    /// psql quotes the offending row of a failed COPY (<c>CONTEXT: COPY "Contact", line 115: "..."</c>):
    /// production data, which must not reach a response, a log line or a record.
    /// </summary>
    private static string WithoutRowData(string text) =>
        BadValuePattern().Replace(CopyRowPattern().Replace(text, "$1: [row data withheld]"), "$1: [value withheld]");

    [GeneratedRegex(@"(invalid input (?:syntax|value) for [^:]{1,200}): "".*?""(?=\s|$)", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex BadValuePattern();

    [GeneratedRegex(@"(COPY [^,]{1,200}, line \d+(?:, column [^:]{1,200})?): "".*?""(?=\s|$)", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex CopyRowPattern();

    private static string ScratchName(DateTimeOffset time) =>
        string.Create(CultureInfo.InvariantCulture, $"verify_{time.UtcDateTime:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..8]}");

    private static string Describe(Exception error) => Shorten(error switch
    {
        CloudSqlApiException api => $"Cloud SQL answered {api.HttpStatus}: {api.ApiMessage}",
        TimeoutException => "Cloud SQL did not finish the operation in time: " + error.Message,
        _ => error.Message,
    });

    private static string Shorten(string text)
    {
        text = SecretRedactor.Redact(text.ReplaceLineEndings(" ").Trim());
        return text.Length <= 1000 ? text : text[..1000] + "…";
    }
}

/// <summary>A finished verification: the record written, where, and what the answer reports beside it.</summary>
/// <remarks>
/// In live mode there is no scratch database, recovery time or cleanup; <see cref="RecordUri"/> is
/// null when no backup was compared (nothing to record beside).
/// </remarks>
internal sealed record VerificationOutcome(VerificationRecord Record, string? ScratchDatabase, string? RecordUri, long? RecoveryTimeMs, string? CleanupError)
{
    /// <summary>Live mode: the source instance the request named.</summary>
    public string? SourceInstance { get; init; }

    /// <summary>Live mode: the database checked.</summary>
    public string? Database { get; init; }
}

/// <summary>The verification instance failed the safety rail (<see cref="VerificationTargetGuard"/>); nothing was created.</summary>
internal sealed class VerificationRefusedException(string instance, IReadOnlyList<CheckResult> failures)
    : Exception($"Verification into '{instance}' refused: " + string.Join(" ", failures.Select(f => $"[{f.Name}] {f.Detail}")))
{
    public string Instance { get; } = instance;
    public IReadOnlyList<CheckResult> Failures { get; } = failures;

    /// <summary>
    /// Answers 412 <c>VERIFICATION_TARGET_REFUSED</c> with every failed rule in
    /// <c>error.preconditions</c>; <paramref name="summary"/> starts the message.
    /// </summary>
    public Task WriteAsync(HttpContext context, string summary) => context.WriteJsonAsync(new
    {
        error = new
        {
            code = 412,
            status = "VERIFICATION_TARGET_REFUSED",
            message = summary + string.Join(" ", Failures.Select(f => $"[{f.Name}] {f.Detail}")),
            preconditions = Failures.Select(f => new { name = f.Name, reason = f.Detail }),
        },
    }, StatusCodes.Status412PreconditionFailed);
}
