namespace Commissable.Backup.Google.Rest;

/// <summary>
/// Bounded retries of transient answers of a Google REST API (409 <c>operationInProgress</c>, 429,
/// 5xx, and connection failures of GET requests) with exponential backoff and full jitter: before
/// retry <c>n</c> the client waits a random time in <c>[0, min(MaxDelay, BaseDelay·2ⁿ⁻¹))</c>, or
/// the server's <c>Retry-After</c> when that is longer (never more than <see cref="MaxDelay"/>).
/// The same settings serve the Cloud SQL Admin and the Workflow Executions clients.
/// </summary>
public sealed record GoogleRetrySettings
{
    /// <summary>Defaults: 6 attempts, 1 s base, 32 s cap.</summary>
    public static GoogleRetrySettings Default { get; } = new();

    /// <summary>Total attempts including the first; 1 disables retries.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>Upper bound of the first backoff; doubled for each further retry.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between two attempts, including a server's <c>Retry-After</c>.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(32);

    internal void Validate()
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "MaxAttempts must be at least 1.");
        }

        if (BaseDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BaseDelay), BaseDelay, "BaseDelay must not be negative.");
        }

        if (MaxDelay < BaseDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "MaxDelay must be at least BaseDelay.");
        }
    }
}
