namespace Commissable.Backup.Core.Export;

/// <summary>
/// The state of one pre-deploy export, kept in the bucket under <c>&lt;prefix&gt;/.requests/&lt;id&gt;.json</c>
/// so that every caller with the same idempotency key (or the same instance, change and commit)
/// gets the same backup, or its progress, from any instance of the function.
/// </summary>
public sealed record ExportTicket
{
    /// <summary>A hash of the idempotency key; the key itself is not stored.</summary>
    public required string Id { get; init; }
    public required string Instance { get; init; }
    public required string Database { get; init; }
    public required string Change { get; init; }
    public string? CommitSha { get; init; }
    /// <summary>gs:// URI of the dump.</summary>
    public required string BackupUri { get; init; }
    public required string ObjectName { get; init; }
    public required ExportStatus Status { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>
    /// A digest of the request that started it (<see cref="PreDeployExporter.RequestDigest"/>), so a
    /// key reused for another request is refused instead of answered with this backup; null on
    /// tickets written before digests existed.
    /// </summary>
    public string? RequestDigest { get; init; }
    /// <summary>
    /// When the running export last proved it is alive; null before its first heartbeat and on
    /// tickets written before heartbeats existed (then <see cref="StartedAt"/> counts).
    /// </summary>
    public DateTimeOffset? HeartbeatAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Why it failed, in words for the pipeline log; never a secret.</summary>
    public string? Error { get; init; }
    /// <summary>Busy: how long a caller should wait before asking again.</summary>
    public int? RetryAfterSeconds { get; init; }
    public long? SizeBytes { get; init; }
    public string? ManifestUri { get; init; }
    public IReadOnlyList<Backups.StageTiming> Stages { get; init; } = [];
}

public enum ExportStatus
{
    Running,
    Succeeded,
    Failed,
    Busy,
}

/// <summary>
/// The idempotency key was already used for a different request: answering with that request's
/// backup would hand the caller a backup of something else. Nothing was started.
/// </summary>
public sealed class IdempotencyKeyReusedException(IReadOnlyList<string> differences)
    : Exception("The idempotency key was already used for a different request (it differs in " + string.Join(", ", differences) + ").")
{
    /// <summary>The request fields that differ from the first request's, as far as the ticket shows them.</summary>
    public IReadOnlyList<string> Differences { get; } = differences;
}

/// <summary>One or more preconditions of the change-management checklist failed; nothing was started.</summary>
public sealed class PreconditionsFailedException(IReadOnlyList<PreconditionFailure> failures)
    : Exception("Preconditions failed: " + string.Join("; ", failures.Select(f => $"{f.Name}: {f.Reason}")))
{
    public IReadOnlyList<PreconditionFailure> Failures { get; } = failures;
}

/// <summary>
/// The backup's name (to the minute, as the strategy names backups) is already taken by another
/// export of the same instance and change; nothing was started. A new minute gives a new name.
/// </summary>
public sealed class BackupNameTakenException(string uri, TimeSpan retryAfter)
    : Exception($"A backup named {uri} already exists (another export of the same instance and change this minute); retry after {retryAfter.TotalSeconds:F0} s for a new name.")
{
    public string Uri { get; } = uri;

    public TimeSpan RetryAfter { get; } = retryAfter;
}
