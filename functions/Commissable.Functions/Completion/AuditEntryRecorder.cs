using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Events;
using Commissable.Functions.Hosting;
using static Commissable.Functions.Completion.AuditPayload;

namespace Commissable.Functions.Completion;

/// <summary>
/// The Cloud Audit Logs path of <c>on-backup-audited</c>: the last entry of a Cloud SQL export
/// or backup run of this project records the backup (or logs <c>backup.failed</c>); the run or
/// object it names is looked up, not taken from the entry.
/// </summary>
internal sealed class AuditEntryRecorder(
    BackupCatalog catalog,
    IBackupStore store,
    ICloudSqlAdmin cloudSql,
    ExportedObjects exports,
    BackupRunNaming runs,
    TimeProvider clock,
    BackupCompletionRecorder recorder)
{
    private const string CloudSqlService = "cloudsql.googleapis.com";
    private const string ExportMethod = "cloudsql.instances.export";

    /// <summary>The audit method of a backup run; the subject of the entries that name one.</summary>
    internal const string BackupRunMethod = "cloudsql.backupRuns.create";

    public async Task RecordAuditAsync(LogEntryData entry, CancellationToken cancellationToken)
    {
        var audit = entry.ProtoPayload;
        var method = audit?.MethodName;
        if (audit is null || !string.Equals(audit.ServiceName, CloudSqlService, StringComparison.Ordinal))
        {
            recorder.Ignore($"not a Cloud SQL audit entry (service '{audit?.ServiceName}'); only {CloudSqlService} is handled", method);
            return;
        }
        if (method is not (ExportMethod or BackupRunMethod))
        {
            recorder.Ignore($"method '{method}' records no backup; handled: {ExportMethod}, {BackupRunMethod}", method);
            return;
        }
        if (entry.Operation is { Last: not true })
        {
            recorder.Ignore($"an entry of operation {entry.Operation.Id} before its last; the last one says how it ended", method);
            return;
        }
        if (!TryReadInstance(audit, out var project, out var instance))
        {
            recorder.Ignore($"the resource '{CloudNames.Printable(audit.ResourceName ?? "")}' is not projects/<project>/instances/<instance> with a valid project and instance ID", method);
            return;
        }
        if (!string.Equals(project, cloudSql.Project, StringComparison.Ordinal))
        {
            recorder.Ignore($"the instance is in project '{project}', not '{cloudSql.Project}'", method);
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
        // A parallel export names its directory with a trailing '/'.
        if (!GcsUri.TryParse(uri, out var parsed, out var problem, allowDirectory: true))
        {
            recorder.Ignore($"the export names no gs://bucket/object URI in request.exportContext.uri: {problem}", ExportMethod);
            return;
        }
        var (bucket, objectName) = (parsed.Bucket, parsed.ObjectName);
        if (!string.Equals(bucket, catalog.Bucket, StringComparison.Ordinal))
        {
            recorder.Ignore($"the export went to bucket '{bucket}', not the backup bucket '{catalog.Bucket}'", uri);
            return;
        }
        var (name, directoryFile, reason) = exports.Resolve(objectName);
        if (name is null || directoryFile)
        {
            recorder.Ignore(reason ?? "the export URI names a file inside a backup, not a backup", uri);
            return;
        }

        var operationName = Text(Child(audit.Response, "name")) ?? entry.Operation?.Id;
        var start = Time(Child(audit.Response, "startTime")) ?? Time(Child(audit.Response, "insertTime"));
        var end = Time(Child(audit.Response, "endTime")) ?? entry.Timestamp;
        if (FailureOf(audit) is { } failure)
        {
            recorder.Failed(parsed.ToString(), instance, ExportedObjects.ScheduledExport, start, end, failure);
            return;
        }

        string[] databases = [];
        if (Child(context, "databases") is { ValueKind: JsonValueKind.Array } listed)
        {
            // A database that is no text can never be read as one: answering 500 would only be retried.
            if (listed.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.String))
            {
                recorder.Ignore($"request.exportContext.databases {CloudNames.Printable(listed.GetRawText())} is not a list of database names", uri);
                return;
            }
            databases = [.. listed.EnumerateArray().Select(d => d.GetString()!)];
        }
        var manifest = exports.Manifest(name, ExportedObjects.FormatOf(name.Extension)) with
        {
            Databases = databases,
            OperationName = operationName,
        };
        if (name.Extension.Length == 0)
        {
            var files = await exports.ListDirectoryAsync(name, cancellationToken).ConfigureAwait(false);
            if (!files.Any(f => f.Name.EndsWith("/" + ExportedObjects.DirectoryTableOfContents, StringComparison.Ordinal)))
            {
                recorder.Ignore($"the export finished but its directory has no {ExportedObjects.DirectoryTableOfContents}; nothing to record", uri);
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
                recorder.Ignore("the export finished but its object does not exist; nothing to record", uri);
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
        await recorder.RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
    }

    private async Task RecordBackupRunAsync(LogEntryData entry, AuditLog audit, string project, string instance, CancellationToken cancellationToken)
    {
        var failure = FailureOf(audit);
        var operationName = Text(Child(audit.Response, "name")) ?? entry.Operation?.Id;
        long? id = null;
        foreach (var (field, value) in new[]
        {
            ("response.backupContext.backupId", Child(audit.Response, "backupContext", "backupId")),
            ("request.body.id", Child(audit.Request, "body", "id")),
            ("request.id", Child(audit.Request, "id")),
        })
        {
            if (value is null)
            {
                continue;
            }
            // A value that is there but no run id can never name a run: retrying it would not help.
            if (Long(value) is not { } parsed)
            {
                recorder.Ignore($"{field} {CloudNames.Printable(value.Value.GetRawText())} is not a backup run id", BackupRunMethod);
                return;
            }
            id ??= parsed;
        }
        if (id is null && failure is null && operationName is not null)
        {
            // The entry may only name the operation; the operation names the run.
            if (!IsOperationName(operationName))
            {
                recorder.Unresolved($"the entry names the operation '{CloudNames.Printable(operationName)}', which is not an operation name", instance);
                return;
            }
            try
            {
                id = (await cloudSql.GetOperationAsync(operationName, cancellationToken).ConfigureAwait(false)).BackupContext?.BackupId;
            }
            catch (CloudSqlApiException unknown) when (unknown.HttpStatus is 400 or 404)
            {
                // Never there, or expired: a retry would get the same answer until the event expires.
                recorder.Unresolved($"the entry names the operation '{operationName}', which Cloud SQL does not know (HTTP {unknown.HttpStatus})", instance);
                return;
            }
        }
        var fallbackUri = BackupRunNaming.RunUri(project, instance, id);
        if (id is not { } runId)
        {
            if (failure is not null)
            {
                recorder.Failed(fallbackUri, instance, "backup-run", null, entry.Timestamp, failure);
            }
            else
            {
                recorder.Ignore("the entry names no backup run id (response.backupContext.backupId) and no operation to find it", BackupRunMethod);
            }
            return;
        }

        // The entry is a claim, like a Storage event: whatever run its response carries is never
        // read. Recording it let a forged entry write the run's create-only manifest under a made-up
        // start time and link, which the real run could then never replace.
        BackupRun run;
        try
        {
            run = await cloudSql.GetBackupRunAsync(instance, runId, cancellationToken).ConfigureAwait(false);
        }
        catch (CloudSqlApiException missing) when (missing.HttpStatus is 400 or 404)
        {
            if (failure is not null)
            {
                recorder.Failed(fallbackUri, instance, "backup-run", null, entry.Timestamp, failure);
            }
            else
            {
                recorder.Unresolved($"backup run {runId} of '{instance}' is not known to Cloud SQL (HTTP {missing.HttpStatus}); nothing is recorded from the entry", instance);
            }
            return;
        }

        if (string.Equals(run.Status, "FAILED", StringComparison.Ordinal)
            || (failure is not null && !string.Equals(run.Status, "SUCCESSFUL", StringComparison.Ordinal)))
        {
            recorder.Failed(run.SelfLink ?? fallbackUri, instance, BackupRunNaming.KindOf(run), run.StartTime, run.EndTime, run.Error?.Message ?? failure ?? "the backup run FAILED");
            return;
        }
        if (!string.Equals(run.Status, "SUCCESSFUL", StringComparison.Ordinal) || run.StartTime is not { } started)
        {
            // The last audit entry came before the run's own status settled: let Eventarc retry.
            throw FunctionException.Unavailable($"Backup run {runId} of '{instance}' is {run.Status ?? "of unknown status"}, not yet SUCCESSFUL or FAILED.", TimeSpan.FromSeconds(30));
        }

        var (name, manifest) = runs.Record(instance, runId, run, started);
        manifest = manifest with
        {
            Trigger = new BackupTrigger { RequestedBy = audit.AuthenticationInfo?.PrincipalEmail },
            EndTime = run.EndTime ?? entry.Timestamp ?? clock.GetUtcNow(),
            OperationName = operationName,
        };
        await recorder.RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
    }
}
