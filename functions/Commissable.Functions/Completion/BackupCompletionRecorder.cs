using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Completion;

/// <summary>
/// Turns "a backup finished" events into catalog manifests, idempotently: the catalog's
/// create-only <see cref="BackupCatalog.RecordAsync"/> makes a retry, or the Storage event and its
/// audit-log twin in either order, leave exactly one manifest. Every handled event logs one
/// <c>backup.completed</c> or <c>backup.failed</c> line; everything else one <c>backup.event.ignored</c>.
/// The two event sources are read by <see cref="StorageEventRecorder"/> and
/// <see cref="AuditEntryRecorder"/>; this is where each event's outcome is recorded and said.
/// </summary>
internal sealed class BackupCompletionRecorder(BackupCatalog catalog, ILogger<BackupCompletionRecorder> logger)
{
    /// <summary>Records the manifest (create-only) and logs <c>backup.completed</c>, at NOTICE when it is new.</summary>
    public async Task RecordAsync(BackupObjectName name, BackupManifest manifest, CancellationToken cancellationToken)
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

    /// <summary>Logs <c>backup.failed</c>: the export or run ended in error; nothing is recorded.</summary>
    public void Failed(string uri, string instance, string kind, DateTimeOffset? start, DateTimeOffset? end, string error) =>
        logger.LogError(CompletionLogEvents.Failed,
            "Backup {BackupUri} of {Instance} ({Kind}) {Outcome}, {StartTime} to {EndTime}: {Error}; newly recorded: {NewlyRecorded}",
            uri, instance, kind, "failed", start, end, error, false);

    /// <summary>Acknowledges an event without recording anything, saying why.</summary>
    public void Ignore(string reason, string? subject) =>
        logger.LogInformation(CompletionLogEvents.Ignored, "Ignored {Subject}: {Reason}", subject ?? "(nothing named)", reason);

    /// <summary>Acknowledges an event for an object the bucket does not hold, at WARNING: someone or something sent a false event.</summary>
    public void Missing(string objectName, long? generation, string reason) =>
        logger.LogWarning(CompletionLogEvents.ObjectMissing, "Recorded nothing for {Subject} (generation {Generation}): {Reason}", objectName, generation, reason);

    /// <summary>
    /// Acknowledges, at WARNING, a backup-run entry whose run cannot be found: answering an error
    /// would only make Eventarc retry it until it expires. A run that does exist is recorded by
    /// the retention sweeper, which lists the runs the catalog never heard of.
    /// </summary>
    public void Unresolved(string reason, string instance) =>
        logger.LogWarning(CompletionLogEvents.Ignored, "Ignored {Subject}: {Reason}; the retention sweeper records the run of {Instance} if it exists",
            AuditEntryRecorder.BackupRunMethod, reason, instance);

    /// <summary>The event names another generation than the bucket holds; the stored one is what gets recorded.</summary>
    public void StaleGeneration(string objectName, long? eventGeneration, long storedGeneration) =>
        logger.LogInformation(CompletionLogEvents.StaleGeneration,
            "The event for {Subject} names generation {EventGeneration}; the bucket holds {StoredGeneration}, which is recorded",
            objectName, eventGeneration, storedGeneration);
}
