using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Events;

namespace Commissable.Functions.Completion;

/// <summary>
/// The Cloud Storage path of <c>on-backup-completed</c>: a finalized object named as a backup
/// (or the table of contents that completes a directory-format export) is recorded with what the
/// store says of it, never with the event's own figures.
/// </summary>
internal sealed class StorageEventRecorder(BackupCatalog catalog, IBackupStore store, ExportedObjects exports, BackupCompletionRecorder recorder)
{
    public async Task RecordObjectAsync(StorageObjectData data, CancellationToken cancellationToken)
    {
        var objectName = data.Name;
        if (string.IsNullOrEmpty(objectName))
        {
            recorder.Ignore("the event names no object", null);
            return;
        }
        if (!string.Equals(data.Bucket, catalog.Bucket, StringComparison.Ordinal))
        {
            recorder.Ignore($"the object is in bucket '{data.Bucket}', not the backup bucket '{catalog.Bucket}'", objectName);
            return;
        }
        var (name, directoryFile, reason) = exports.Resolve(objectName);
        if (name is null)
        {
            recorder.Ignore(reason!, objectName);
            return;
        }
        if (directoryFile && !objectName.EndsWith("/" + ExportedObjects.DirectoryTableOfContents, StringComparison.Ordinal))
        {
            recorder.Ignore($"a file of the directory-format export {name.Name}; the directory is recorded when its {ExportedObjects.DirectoryTableOfContents} is finalized", objectName);
            return;
        }

        // The event is a claim: the store says what exists, how big it is and which generation.
        // Recording the event's figures let a forged or early event list a backup that does not
        // exist, or poison a good one for ever (the manifest is create-only).
        BackupManifest manifest;
        if (directoryFile)
        {
            var files = await exports.ListDirectoryAsync(name, cancellationToken).ConfigureAwait(false);
            if (!files.Any(f => f.Name == objectName))
            {
                recorder.Missing(objectName, data.Generation, $"the bucket holds no {ExportedObjects.DirectoryTableOfContents} of the directory-format export {name.Name}");
                return;
            }
            manifest = exports.Manifest(name, format: "DIRECTORY") with
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
                recorder.Missing(objectName, data.Generation, "the bucket holds no such object");
                return;
            }
            var sameGeneration = data.Generation == stored.Generation;
            if (!sameGeneration)
            {
                recorder.StaleGeneration(objectName, data.Generation, stored.Generation);
            }
            manifest = exports.Manifest(name, ExportedObjects.FormatOf(name.Extension)) with
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
        await recorder.RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a < b ? a : b);
}
