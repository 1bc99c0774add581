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

    /// <summary>Wait before the first poll.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Growth of the interval after each poll; at least 1.</summary>
    public double Multiplier { get; init; } = 1.25;

    /// <summary>Longest interval between two polls.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

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

        if (DefaultTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultTimeout), DefaultTimeout, "DefaultTimeout must be positive.");
        }
    }
}
