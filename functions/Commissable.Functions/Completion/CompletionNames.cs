namespace Commissable.Functions.Completion;

/// <summary>
/// The names and event types of the completion functions. The host decodes one data type per
/// function, so the two Eventarc sources get two functions that share one recorder:
/// <c>on-backup-completed</c> (Cloud Storage, <c>StorageObjectData</c>) and <c>on-backup-audited</c>
/// (Cloud Audit Logs, <c>LogEntryData</c>).
/// </summary>
public static class CompletionNames
{
    /// <summary>See <see cref="Hosting.FunctionNames.OnBackupAudited"/>.</summary>
    public const string OnBackupAudited = Hosting.FunctionNames.OnBackupAudited;

    /// <summary>The only Cloud Storage event type <c>on-backup-completed</c> acts on.</summary>
    public const string StorageFinalized = "google.cloud.storage.object.v1.finalized";

    /// <summary>The only event type <c>on-backup-audited</c> acts on.</summary>
    public const string AuditLogWritten = "google.cloud.audit.log.v1.written";
}
