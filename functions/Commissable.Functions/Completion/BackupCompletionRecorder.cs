using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Functions.Hosting.Configuration;
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
internal sealed class BackupCompletionRecorder(
    BackupCatalog catalog, IBackupContentReader contents, ICloudSqlAdmin sql, FunctionSettings settings, ILogger<BackupCompletionRecorder> logger)
{
    /// <summary>
    /// Records the manifest (create-only) and logs <c>backup.completed</c>, at NOTICE when it is
    /// new. A logical export gets its content manifest first, read from the object's bytes (one
    /// read of it); an object that cannot be read whole as a dump is not a backup: it is logged as
    /// <c>backup.failed</c> and nothing is recorded. An event for a backup already recorded reads nothing.
    /// </summary>
    public async Task RecordAsync(BackupObjectName name, BackupManifest manifest, CancellationToken cancellationToken)
    {
        if (manifest.Content is null && !string.Equals(manifest.Format, "BASE_BACKUP", StringComparison.Ordinal))
        {
            if (await catalog.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                LogRecorded(name, existing, created: false);
                return;
            }
            try
            {
                var reading = await ExportReading.OptionsAsync(sql, manifest.SourceInstance, settings.TenantColumn, cancellationToken).ConfigureAwait(false);
                manifest = manifest with { Content = await contents.ReadBackupAsync(name.Name, manifest.Format, reading, cancellationToken).ConfigureAwait(false) };
            }
            // IOException is the port's "could not be read whole" (a cut-off gzip or archive, bytes
            // of another format than the name says, an empty object): as much not a backup as text
            // that is no dump (InvalidDataException). Letting it through answered 500, and Eventarc
            // retried an object that will never read differently.
            catch (Exception unreadable) when (unreadable is InvalidDataException or IOException)
            {
                Failed(manifest.Uri, manifest.SourceInstance, manifest.Kind, manifest.StartTime, manifest.EndTime,
                    $"the object is not a whole, readable dump, so it is not recorded as a backup: {SecretRedactor.Redact(unreadable.Message)}");
                return;
            }
        }
        var (recorded, created) = await catalog.RecordAsync(name, manifest, cancellationToken).ConfigureAwait(false);
        LogRecorded(name, recorded, created);
    }

    private void LogRecorded(BackupObjectName name, BackupManifest recorded, bool created)
    {
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
