namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>One run's state: the options the checks read.</summary>
internal sealed class RestoreCheckContext(VerificationOptions options)
{
    public VerificationOptions Options { get; } = options;
}
