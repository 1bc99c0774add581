namespace Commissable.Backup.Core.Secrets;

/// <summary>
/// Secret Manager, as far as the functions use it: read the latest version of a secret, add a
/// version. Secret values pass through here and nowhere else; an implementation never logs one,
/// never puts one in an exception message, a file name or a process argument.
/// </summary>
public interface ISecretManager
{
    /// <summary>The project whose secrets these are.</summary>
    string Project { get; }

    /// <summary>The latest version of <paramref name="secret"/> (a secret id, not a resource name).</summary>
    /// <exception cref="ArgumentException"><paramref name="secret"/> is not a secret id.</exception>
    /// <exception cref="SecretManagerApiException">404 when the secret does not exist or has no enabled version; 403 when it may not be read; 429/5xx after retries.</exception>
    Task<SecretPayload> AccessLatestAsync(string secret, CancellationToken cancellationToken = default);

    /// <summary>Adds a version holding <paramref name="data"/> to an existing secret; returns the new version's resource name.</summary>
    /// <exception cref="ArgumentException"><paramref name="secret"/> is not a secret id.</exception>
    /// <exception cref="SecretManagerApiException">404 when the secret does not exist; 403 when no version may be added; 429/5xx after retries.</exception>
    Task<string> AddVersionAsync(string secret, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);
}

/// <summary>A secret version's resource name and value. Its <see cref="ToString"/> never shows the value.</summary>
/// <param name="VersionName"><c>projects/P/secrets/S/versions/N</c>.</param>
/// <param name="Data">The value's bytes.</param>
public sealed record SecretPayload(string VersionName, ReadOnlyMemory<byte> Data)
{
    /// <summary>The version's name only: a payload logged by mistake shows no value.</summary>
    public override string ToString() => VersionName;
}

/// <summary>An error answer of Secret Manager: HTTP status, Google's reason and message (never the value).</summary>
public sealed class SecretManagerApiException(int httpStatus, string? reason, string message)
    : GoogleApiException("Secret Manager", httpStatus, reason, message);
