namespace Commissable.Backup.Core.Databases;

/// <summary>The grants could not be applied; nothing was changed (one transaction).</summary>
public sealed class AppUserGrantException(AppUserGrantFailure failure, string message) : Exception(message)
{
    /// <summary>What went wrong.</summary>
    public AppUserGrantFailure Failure { get; } = failure;
}
