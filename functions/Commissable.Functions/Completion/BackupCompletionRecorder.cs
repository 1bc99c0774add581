using System.Globalization;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Events;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Completion;

/// <summary>
/// Turns "a backup finished" events into catalog manifests, idempotently: the catalog's
/// create-only <see cref="BackupCatalog.RecordAsync"/> makes a retry, or the Storage event and its
/// audit-log twin in either order, leave exactly one manifest. Every handled event logs one
/// <c>backup.completed</c> or <c>backup.failed</c> line; everything else one <c>backup.event.ignored</c>.
/// </summary>
internal sealed class BackupCompletionRecorder(
    BackupCatalog catalog,
    IBackupStore store,
    ICloudSqlAdmin cloudSql,
    FunctionSettings settings,
    TimeProvider clock,
    ILogger<BackupCompletionRecorder> logger)
{
    private const string CloudSqlService = "cloudsql.googleapis.com";
    private const string ExportMethod = "cloudsql.instances.export";
    private const string BackupRunMethod = "cloudsql.backupRuns.create";
    private const string ScheduledExport = "scheduled-export";
    // pg_dump writes a directory-format archive's table of contents last: its arrival completes the directory.
    private const string DirectoryTableOfContents = "toc.dat";

    /// <summary>Acknowledges an event for an object the bucket does not hold, at WARNING: someone or something sent a false event.</summary>
    private void Missing(string objectName, long? generation, string reason) =>
        logger.LogWarning(CompletionLogEvents.ObjectMissing, "Recorded nothing for {Subject} (generation {Generation}): {Reason}", objectName, generation, reason);

    /// <summary>
    /// Acknowledges, at WARNING, a backup-run entry whose run cannot be found: answering an error
    /// would only make Eventarc retry it until it expires. A run that does exist is recorded by
    /// the retention sweeper, which lists the runs the catalog never heard of.
    /// </summary>
    private void Unresolved(string reason, string instance) =>
        logger.LogWarning(CompletionLogEvents.Ignored, "Ignored {Subject}: {Reason}; the retention sweeper records the run of {Instance} if it exists",
            BackupRunMethod, reason, instance);

    /// <summary>Acknowledges an event without recording anything, saying why.</summary>
    public void Ignore(string reason, string? subject) =>
        logger.LogInformation(CompletionLogEvents.Ignored, "Ignored {Subject}: {Reason}", subject ?? "(nothing named)", reason);

    // ---- Cloud Storage ----------------------------------------------------------------------

    public async Task RecordObjectAsync(StorageObjectData data, CancellationToken cancellationToken)
    {
        var objectName = data.Name;
        if (string.IsNullOrEmpty(objectName))
        {
            Ignore("the event names no object", null);
            return;
        }
        if (!string.Equals(data.Bucket, catalog.Bucket, StringComparison.Ordinal))
        {
            Ignore($"the object is in bucket '{data.Bucket}', not the backup bucket '{catalog.Bucket}'", objectName);
            return;
        }
        var (name, directoryFile, reason) = Resolve(objectName);
        if (name is null)
        {
            Ignore(reason!, objectName);
            return;
        }
        if (directoryFile && !objectName.EndsWith("/" + DirectoryTableOfContents, StringComparison.Ordinal))
        {
            Ignore($"a file of the directory-format export {name.Name}; the directory is recorded when its {DirectoryTableOfContents} is finalized", objectName);
            return;
        }

        // The event is a claim: the store says what exists, how big it is and which generation.
        // Recording the event's figures let a forged or early event list a backup that does not
        // exist, or poison a good one for ever (the manifest is create-only).
        BackupManifest manifest;
        if (directoryFile)
        {
            var files = await ListDirectoryAsync(name, cancellationToken).ConfigureAwait(false);
            if (!files.Any(f => f.Name == objectName))
            {
                Missing(objectName, data.Generation, $"the bucket holds no {DirectoryTableOfContents} of the directory-format export {name.Name}");
                return;
            }
            manifest = ExportManifest(name, format: "DIRECTORY") with
            {
                StartTime = Earliest(name.Time, files.Min(f => f.Updated)) ?? name.Time,
                EndTime = files.Max(f => f.Updated),
                SizeBytes = files.Sum(f => f.Size),
            };
        }
        else
        {
            var stored = await store.GetAsync(name.Name, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                Missing(objectName, data.Generation, "the bucket holds no such object");
                return;
            }
            var sameGeneration = data.Generation == stored.Generation;
            if (!sameGeneration)
            {
                logger.LogInformation(CompletionLogEvents.StaleGeneration,
                    "The event for {Subject} names generation {EventGeneration}; the bucket holds {StoredGeneration}, which is recorded",
                    objectName, data.Generation, stored.Generation);
            }
            manifest = ExportManifest(name, FormatOf(name.Extension)) with
            {
                // The event's creation time belongs to its generation alone.
                StartTime = sameGeneration && data.TimeCreated is { } created && created <= stored.Updated ? created : name.Time,
                EndTime = stored.Updated,
                SizeBytes = stored.Size,
                Md5Hash = stored.Md5Hash,
                Crc32c = stored.Crc32c,
                Generation = stored.Generation,
            };
        }
        await RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
    }

    // ---- Cloud Audit Logs -------------------------------------------------------------------

    public async Task RecordAuditAsync(LogEntryData entry, CancellationToken cancellationToken)
    {
        var audit = entry.ProtoPayload;
        var method = audit?.MethodName;
        if (audit is null || !string.Equals(audit.ServiceName, CloudSqlService, StringComparison.Ordinal))
        {
            Ignore($"not a Cloud SQL audit entry (service '{audit?.ServiceName}'); only {CloudSqlService} is handled", method);
            return;
        }
        if (method is not (ExportMethod or BackupRunMethod))
        {
            Ignore($"method '{method}' records no backup; handled: {ExportMethod}, {BackupRunMethod}", method);
            return;
        }
        if (entry.Operation is { Last: not true })
        {
            Ignore($"an entry of operation {entry.Operation.Id} before its last; the last one says how it ended", method);
            return;
        }
        if (!TryReadInstance(audit, out var project, out var instance))
        {
            Ignore($"the resource '{CloudNames.Printable(audit.ResourceName ?? "")}' is not projects/<project>/instances/<instance> with a valid project and instance ID", method);
            return;
        }
        if (!string.Equals(project, cloudSql.Project, StringComparison.Ordinal))
        {
            Ignore($"the instance is in project '{project}', not '{cloudSql.Project}'", method);
            return;
        }

        if (method == ExportMethod)
        {
            await RecordExportAsync(entry, audit, instance, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await RecordBackupRunAsync(entry, audit, project, instance, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RecordExportAsync(LogEntryData entry, AuditLog audit, string instance, CancellationToken cancellationToken)
    {
        var context = Child(audit.Request, "exportContext") ?? Child(audit.Request, "body", "exportContext");
        var uri = Text(Child(context, "uri"));
        if (uri is null || !TrySplitGcsUri(uri, out var bucket, out var objectName))
        {
            Ignore("the export names no gs://bucket/object URI in request.exportContext.uri", ExportMethod);
            return;
        }
        if (!string.Equals(bucket, catalog.Bucket, StringComparison.Ordinal))
        {
            Ignore($"the export went to bucket '{bucket}', not the backup bucket '{catalog.Bucket}'", uri);
            return;
        }
        var (name, directoryFile, reason) = Resolve(objectName);
        if (name is null || directoryFile)
        {
            Ignore(reason ?? "the export URI names a file inside a backup, not a backup", uri);
            return;
        }

        var operationName = Text(Child(audit.Response, "name")) ?? entry.Operation?.Id;
        var start = Time(Child(audit.Response, "startTime")) ?? Time(Child(audit.Response, "insertTime"));
        var end = Time(Child(audit.Response, "endTime")) ?? entry.Timestamp;
        if (FailureOf(audit) is { } failure)
        {
            Failed(uri, instance, ScheduledExport, start, end, failure);
            return;
        }

        var manifest = ExportManifest(name, FormatOf(name.Extension)) with
        {
            Databases = Child(context, "databases") is { ValueKind: JsonValueKind.Array } databases
                ? [.. databases.EnumerateArray().Select(d => d.GetString()).OfType<string>()]
                : [],
            OperationName = operationName,
        };
        if (name.Extension.Length == 0)
        {
            var files = await ListDirectoryAsync(name, cancellationToken).ConfigureAwait(false);
            if (!files.Any(f => f.Name.EndsWith("/" + DirectoryTableOfContents, StringComparison.Ordinal)))
            {
                Ignore($"the export finished but its directory has no {DirectoryTableOfContents}; nothing to record", uri);
                return;
            }
            manifest = manifest with
            {
                Format = "DIRECTORY",
                StartTime = start ?? files.Min(f => f.Updated),
                EndTime = end ?? files.Max(f => f.Updated),
                SizeBytes = files.Sum(f => f.Size),
            };
        }
        else
        {
            var stored = await store.GetAsync(name.Name, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                Ignore("the export finished but its object does not exist; nothing to record", uri);
                return;
            }
            manifest = manifest with
            {
                StartTime = start ?? stored.Updated,
                EndTime = end ?? stored.Updated,
                SizeBytes = stored.Size,
                Md5Hash = stored.Md5Hash,
                Crc32c = stored.Crc32c,
                Generation = stored.Generation,
            };
        }
        await RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
    }

    private async Task RecordBackupRunAsync(LogEntryData entry, AuditLog audit, string project, string instance, CancellationToken cancellationToken)
    {
        var failure = FailureOf(audit);
        var operationName = Text(Child(audit.Response, "name")) ?? entry.Operation?.Id;
        var id = Long(Child(audit.Response, "backupContext", "backupId"))
            ?? Long(Child(audit.Request, "body", "id"))
            ?? Long(Child(audit.Request, "id"));
        if (id is null && failure is null && operationName is not null)
        {
            // The entry may only name the operation; the operation names the run.
            if (!IsOperationName(operationName))
            {
                Unresolved($"the entry names the operation '{CloudNames.Printable(operationName)}', which is not an operation name", instance);
                return;
            }
            try
            {
                id = (await cloudSql.GetOperationAsync(operationName, cancellationToken).ConfigureAwait(false)).BackupContext?.BackupId;
            }
            catch (CloudSqlApiException unknown) when (unknown.HttpStatus is 400 or 404)
            {
                // Never there, or expired: a retry would get the same answer until the event expires.
                Unresolved($"the entry names the operation '{operationName}', which Cloud SQL does not know (HTTP {unknown.HttpStatus})", instance);
                return;
            }
        }
        var fallbackUri = BackupRunUri(project, instance, id);
        if (id is not { } runId)
        {
            if (failure is not null)
            {
                Failed(fallbackUri, instance, "backup-run", null, entry.Timestamp, failure);
            }
            else
            {
                Ignore("the entry names no backup run id (response.backupContext.backupId) and no operation to find it", BackupRunMethod);
            }
            return;
        }

        var run = BackupRunIn(audit.Response);
        if (run is null)
        {
            try
            {
                run = await cloudSql.GetBackupRunAsync(instance, runId, cancellationToken).ConfigureAwait(false);
            }
            catch (CloudSqlApiException missing) when (missing.HttpStatus == 404)
            {
                if (failure is not null)
                {
                    Failed(fallbackUri, instance, "backup-run", null, entry.Timestamp, failure);
                }
                else
                {
                    Ignore($"backup run {runId} of '{instance}' no longer exists", fallbackUri);
                }
                return;
            }
        }

        if (failure is not null || string.Equals(run.Status, "FAILED", StringComparison.Ordinal))
        {
            Failed(run.SelfLink ?? fallbackUri, instance, KindOf(run), run.StartTime, run.EndTime, failure ?? run.Error?.Message ?? "the backup run FAILED");
            return;
        }
        if (!string.Equals(run.Status, "SUCCESSFUL", StringComparison.Ordinal) || run.StartTime is not { } started)
        {
            // The last audit entry came before the run's own status settled: let Eventarc retry.
            throw FunctionException.Unavailable($"Backup run {runId} of '{instance}' is {run.Status ?? "of unknown status"}, not yet SUCCESSFUL or FAILED.", TimeSpan.FromSeconds(30));
        }

        var (name, manifest) = BackupRunRecord(instance, runId, run, started);
        manifest = manifest with
        {
            Trigger = new BackupTrigger { RequestedBy = audit.AuthenticationInfo?.PrincipalEmail },
            EndTime = run.EndTime ?? entry.Timestamp ?? clock.GetUtcNow(),
            OperationName = operationName,
        };
        await RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The catalog name and manifest of a successful backup run of <paramref name="instance"/> that
    /// started at <paramref name="started"/>. The name is a function of the run alone (instance,
    /// start minute, type, id), so whoever records the run first (this recorder from the audit
    /// entry, or the retention sweeper for a run whose entry never came) writes the one manifest
    /// the other then finds.
    /// </summary>
    internal (BackupObjectName Name, BackupManifest Manifest) BackupRunRecord(string instance, long runId, BackupRun run, DateTimeOffset started)
    {
        ArgumentNullException.ThrowIfNull(run);
        var automated = string.Equals(run.Type, "AUTOMATED", StringComparison.Ordinal);
        var name = new BackupObjectName
        {
            Prefix = catalog.Prefix,
            Environment = settings.EnvironmentName,
            Instance = instance,
            Time = new DateTimeOffset(started.UtcTicks - (started.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero),
            Label = string.Create(CultureInfo.InvariantCulture, $"{(automated ? "automated-run" : "on-demand-run")}-{runId}"),
            Extension = "",
        };
        var manifest = new BackupManifest
        {
            Uri = run.SelfLink ?? BackupRunUri(cloudSql.Project, instance, runId),
            Kind = KindOf(run),
            Environment = settings.EnvironmentName,
            SourceInstance = instance,
            DatabaseVersion = run.DatabaseVersion,
            Format = "BASE_BACKUP",
            StartTime = started,
            EndTime = run.EndTime ?? clock.GetUtcNow(),
            BackupRunId = runId,
        };
        return (name, manifest);
    }

    private static string KindOf(BackupRun run) =>
        string.Equals(run.Type, "AUTOMATED", StringComparison.Ordinal) ? BackupKinds.AutomatedBackupRun : BackupKinds.OnDemandBackupRun;

    private static string BackupRunUri(string project, string instance, long? id) =>
        string.Create(CultureInfo.InvariantCulture, $"cloudsql://{project}/{instance}/backupRuns/{id?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}");

    // ---- shared -----------------------------------------------------------------------------

    private async Task RecordAsync(BackupObjectName name, BackupManifest manifest, CancellationToken cancellationToken)
    {
        var (recorded, created) = await catalog.RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
        const string Template = "Backup {BackupUri} of {Instance} ({Kind}) {Outcome}, {StartTime} to {EndTime}; newly recorded: {NewlyRecorded}; manifest {ManifestUri}";
        var manifestUri = $"gs://{catalog.Bucket}/{name.ManifestName}";
        if (created)
        {
            logger.LogNotice(CompletionLogEvents.Completed, Template,
                recorded.Uri, recorded.SourceInstance, recorded.Kind, "succeeded", recorded.StartTime, recorded.EndTime, true, manifestUri);
        }
        else
        {
            logger.LogInformation(CompletionLogEvents.Completed, Template,
                recorded.Uri, recorded.SourceInstance, recorded.Kind, "succeeded", recorded.StartTime, recorded.EndTime, false, manifestUri);
        }
    }

    private void Failed(string uri, string instance, string kind, DateTimeOffset? start, DateTimeOffset? end, string error) =>
        logger.LogError(CompletionLogEvents.Failed,
            "Backup {BackupUri} of {Instance} ({Kind}) {Outcome}, {StartTime} to {EndTime}: {Error}; newly recorded: {NewlyRecorded}",
            uri, instance, kind, "failed", start, end, error, false);

    private BackupManifest ExportManifest(BackupObjectName name, string format) => new()
    {
        Uri = $"gs://{catalog.Bucket}/{name.Name}",
        Kind = ScheduledExport,
        Environment = name.Environment,
        SourceInstance = name.Instance,
        Format = format,
        StartTime = name.Time,
        EndTime = name.Time,
    };

    /// <summary>
    /// The backup an object (or export URI) belongs to, whether the object is a file inside a
    /// directory-format export, or why it is not a backup this function records.
    /// </summary>
    private (BackupObjectName? Name, bool DirectoryFile, string? Reason) Resolve(string objectName)
    {
        var root = catalog.Prefix + "/";
        if (!objectName.StartsWith(root, StringComparison.Ordinal))
        {
            return (null, false, $"outside the backup prefix '{root}'");
        }
        var rest = objectName[root.Length..];
        if (rest.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            return (null, false, "not named as a backup: the name has an empty, '.' or '..' segment");
        }
        if (rest.Split('/').Any(segment => segment.StartsWith('.')))
        {
            return (null, false, "a catalog side object (export requests, leases)");
        }
        if (objectName.EndsWith(BackupObjectName.ManifestSuffix, StringComparison.Ordinal)
            || objectName.Contains(BackupObjectName.VerificationsSuffix, StringComparison.Ordinal)
            || objectName.Contains(BackupObjectName.HoldsSuffix, StringComparison.Ordinal))
        {
            return (null, false, "a catalog side object (manifest, verification record or hold)");
        }

        var directoryFile = false;
        if (!BackupObjectName.TryParse(objectName, catalog.Prefix, out var name))
        {
            var slash = objectName.LastIndexOf('/');
            if (slash <= 0 || !BackupObjectName.TryParse(objectName[..slash], catalog.Prefix, out name) || name!.Extension.Length != 0)
            {
                return (null, false, "not named as a backup (<prefix>/<env>/<instance>/backup_YYYYMMDD_HHmm_<env>_<label>[.sql.gz|.sql|.dump])");
            }
            directoryFile = true;
        }
        if (name!.Change is not null)
        {
            return (null, false, "a pre-deploy export (before_ label), which records itself with a richer manifest");
        }
        return (name, directoryFile, null);
    }

    private async Task<List<StoredObject>> ListDirectoryAsync(BackupObjectName name, CancellationToken cancellationToken)
    {
        var files = new List<StoredObject>();
        await foreach (var item in store.ListAsync(name.Name + "/", cancellationToken).ConfigureAwait(false))
        {
            files.Add(item);
        }
        return files;
    }

    private static string FormatOf(string extension) => extension switch
    {
        ".sql.gz" => "SQL_GZIP",
        ".sql" => "SQL",
        ".dump" => "CUSTOM",
        _ => "DIRECTORY",
    };

    /// <summary>The error of an entry: a non-zero status, or an operation response with errors; null for success.</summary>
    private static string? FailureOf(AuditLog audit)
    {
        if (audit.Status is { Code: { } code } status && code != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"status {code}: {status.Message ?? "(no message)"}");
        }
        if (Child(audit.Response, "error", "errors") is { ValueKind: JsonValueKind.Array } errors && errors.GetArrayLength() > 0)
        {
            return string.Join("; ", errors.EnumerateArray().Select(e => $"{Text(Child(e, "code"))}: {Text(Child(e, "message"))}"));
        }
        return null;
    }

    /// <summary>The backup run in a response shaped like one, when it says how the run ended and when.</summary>
    private static BackupRun? BackupRunIn(JsonElement? response)
    {
        if (Text(Child(response, "kind")) != "sql#backupRun" || Text(Child(response, "status")) is not ("SUCCESSFUL" or "FAILED")
            || Child(response, "startTime") is null || Child(response, "endTime") is null)
        {
            return null;
        }
        return response!.Value.Deserialize<BackupRun>(CloudSqlJson.Options);
    }

    private static bool TryReadInstance(AuditLog audit, out string project, out string instance)
    {
        var parts = (audit.ResourceName ?? "").Split('/');
        // Both become URL segments and the instance a catalog path: Google's rules, or nothing.
        var ok = parts is ["projects", var p, "instances", var i] && CloudNames.IsProject(p) && CloudNames.IsInstance(i);
        project = ok ? parts[1] : "";
        instance = ok ? parts[3] : "";
        return ok;
    }

    private static bool TrySplitGcsUri(string uri, out string bucket, out string objectName)
    {
        bucket = objectName = "";
        if (!uri.StartsWith("gs://", StringComparison.Ordinal)) return false;
        var slash = uri.IndexOf('/', "gs://".Length);
        if (slash < 0 || slash == uri.Length - 1) return false;
        bucket = uri["gs://".Length..slash];
        objectName = uri[(slash + 1)..].TrimEnd('/');
        return bucket.Length > 0;
    }

    // Cloud SQL's operation names are UUIDs; the name becomes a URL segment.
    private static bool IsOperationName(string name) =>
        name.Length is > 0 and <= 100 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a < b ? a : b);

    private static JsonElement? Child(JsonElement? element, params string[] path)
    {
        var current = element;
        foreach (var key in path)
        {
            if (current is not { ValueKind: JsonValueKind.Object } value || !value.TryGetProperty(key, out var next))
            {
                return null;
            }
            current = next;
        }
        return current is { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } ? null : current;
    }

    private static string? Text(JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => null,
    };

    private static long? Long(JsonElement? element) =>
        long.TryParse(Text(element), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static DateTimeOffset? Time(JsonElement? element) =>
        DateTimeOffset.TryParse(Text(element), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value.ToUniversalTime() : null;
}
