using CloudNative.CloudEvents;
using Commissable.Functions.Events;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.Completion;

/// <summary>
/// <c>on-backup-completed</c>: Eventarc sends <c>google.cloud.storage.object.v1.finalized</c> for
/// every object written to the backup bucket; dumps named as backups are recorded in the catalog,
/// everything else is acknowledged and ignored (an error would make Eventarc retry forever).
/// </summary>
internal sealed class OnBackupCompletedFunction(StorageEventRecorder storage, BackupCompletionRecorder recorder) : ICloudEventFunction<StorageObjectData>
{
    public Task HandleAsync(CloudEvent cloudEvent, StorageObjectData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        if (!string.Equals(cloudEvent.Type, CompletionNames.StorageFinalized, StringComparison.Ordinal))
        {
            recorder.Ignore($"event type '{cloudEvent.Type}' is not {CompletionNames.StorageFinalized}", data.Name);
            return Task.CompletedTask;
        }
        return storage.RecordObjectAsync(data, cancellationToken);
    }
}
