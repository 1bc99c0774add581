using CloudNative.CloudEvents;
using Commissable.Functions.Events;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.Completion;

/// <summary>
/// <c>on-backup-audited</c>: Eventarc sends Cloud SQL's audit log entries
/// (<c>google.cloud.audit.log.v1.written</c>) for <c>cloudsql.instances.export</c> and
/// <c>cloudsql.backupRuns.create</c>. The entry that ends the operation records the backup (or
/// logs <c>backup.failed</c>); earlier entries and other methods are acknowledged and ignored.
/// </summary>
internal sealed class OnBackupAuditedFunction(AuditEntryRecorder audits, BackupCompletionRecorder recorder) : ICloudEventFunction<LogEntryData>
{
    public Task HandleAsync(CloudEvent cloudEvent, LogEntryData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        if (!string.Equals(cloudEvent.Type, CompletionNames.AuditLogWritten, StringComparison.Ordinal))
        {
            recorder.Ignore($"event type '{cloudEvent.Type}' is not {CompletionNames.AuditLogWritten}", data.ProtoPayload?.MethodName);
            return Task.CompletedTask;
        }
        return audits.RecordAuditAsync(data, cancellationToken);
    }
}
