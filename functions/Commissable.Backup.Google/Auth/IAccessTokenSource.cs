namespace Commissable.Backup.Google.Auth;

/// <summary>
/// Supplies the OAuth 2.0 bearer token sent with each Google API request. Implementations are
/// thread-safe and refresh on their own; callers ask again for every request.
/// </summary>
/// <remarks>A token is a secret: implementations never log it or put it in an exception message.</remarks>
public interface IAccessTokenSource
{
    /// <summary>Returns a currently valid access token (never null or empty).</summary>
    ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken = default);
}
