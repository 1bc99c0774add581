namespace Commissable.Backup.Google.CloudSql;

/// <summary>
/// How <see cref="CloudSqlAdminClient.WaitForOperationAsync"/> polls an operation, as Google's
/// Workflows connectors do: first poll after <see cref="InitialDelay"/>, each next interval
/// <see cref="Multiplier"/> times longer, never more than <see cref="MaxDelay"/>.
/// </summary>
public sealed record CloudSqlPollSettings
{
    /// <summary>Defaults: 1 s, ×1.25, at most 60 s apart, 1800 s overall.</summary>
    public static CloudSqlPollSettings Default { get; } = new();

    /// <summary>
    /// For a caller that is waited on (a function answering a pipeline or a workflow): first poll
    /// after 200 ms, then each wait at most 5% of the time already waited (never under 200 ms,
    /// never over 10 s). A finished operation is then seen within 5% of its duration, while the
    /// polls of one operation stay few: about 20 in its first 4 s, 80 more up to 200 s, then one
    /// every 10 s (about 260 for a 30-minute import). A 429 while polling is retried by the transport.
    /// </summary>
    public static CloudSqlPollSettings Responsive { get; } = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(200),
        Multiplier = 1.25,
        MaxDelay = TimeSpan.FromSeconds(10),
        MaxElapsedFraction = 0.05,
    };

    /// <summary>Wait before the first poll.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Growth of the interval after each poll; at least 1.</summary>
    public double Multiplier { get; init; } = 1.25;

    /// <summary>Longest interval between two polls.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// When set, no wait is longer than this share of the time waited so far (but never shorter
    /// than <see cref="InitialDelay"/>), which bounds how late a finished operation is noticed
    /// relative to its duration. Null: the interval only grows by <see cref="Multiplier"/>.
    /// </summary>
    public double? MaxElapsedFraction { get; init; }

    /// <summary>The wait after one of <paramref name="previous"/>, <paramref name="elapsed"/> into the wait.</summary>
    internal TimeSpan Next(TimeSpan previous, TimeSpan elapsed)
    {
        var next = previous * Multiplier;
        if (next > MaxDelay) next = MaxDelay;
        if (MaxElapsedFraction is { } fraction)
        {
            var bound = elapsed * fraction;
            if (bound < InitialDelay) bound = InitialDelay;
            if (next > bound) next = bound;
        }
        return next;
    }

    /// <summary>Overall limit when the caller passes none.</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(1800);

    internal void Validate()
    {
        if (InitialDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialDelay), InitialDelay, "InitialDelay must be positive.");
        }

        if (double.IsNaN(Multiplier) || Multiplier < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Multiplier), Multiplier, "Multiplier must be at least 1.");
        }

        if (MaxDelay < InitialDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "MaxDelay must be at least InitialDelay.");
        }

        if (MaxElapsedFraction is { } fraction && (double.IsNaN(fraction) || fraction <= 0 || fraction > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxElapsedFraction), MaxElapsedFraction, "MaxElapsedFraction must be above 0 and at most 1.");
        }

        if (DefaultTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultTimeout), DefaultTimeout, "DefaultTimeout must be positive.");
        }
    }
}
