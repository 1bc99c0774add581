using Google.Apis.Auth.OAuth2;

namespace Commissable.Backup.Google.Auth;

/// <summary>
/// Access tokens from Google's Application Default Credentials: <c>GOOGLE_APPLICATION_CREDENTIALS</c>,
/// the gcloud user credentials, or the metadata server on Cloud Run. Construction does no I/O; the
/// credentials are located on the first request, and located again if that attempt failed.
/// </summary>
public sealed class ApplicationDefaultTokenSource : IAccessTokenSource
{
    /// <summary>Full access to Cloud SQL Admin.</summary>
    public const string SqlServiceAdminScope = "https://www.googleapis.com/auth/sqlservice.admin";

    /// <summary>All Google Cloud APIs the identity's IAM roles allow.</summary>
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly Func<Task<GoogleCredential>> _load;
    private readonly string[] _scopes;
    private readonly Lock _gate = new();
    private Task<GoogleCredential>? _credential;

    /// <summary>Application Default Credentials scoped for Cloud SQL Admin and Cloud Platform.</summary>
    public ApplicationDefaultTokenSource()
        : this([SqlServiceAdminScope, CloudPlatformScope])
    {
    }

    /// <summary>Application Default Credentials with the given OAuth scopes.</summary>
    /// <param name="scopes">At least one scope; used only by credential kinds that need explicit scopes.</param>
    public ApplicationDefaultTokenSource(IEnumerable<string> scopes)
        : this(static () => GoogleCredential.GetApplicationDefaultAsync(CancellationToken.None), scopes)
    {
    }

    /// <summary>An explicit credential (for example one built by the caller); scoped like ADC.</summary>
    public ApplicationDefaultTokenSource(GoogleCredential credential, IEnumerable<string>? scopes = null)
        : this(CheckNotNull(credential), scopes ?? [SqlServiceAdminScope, CloudPlatformScope])
    {
    }

    private ApplicationDefaultTokenSource(Func<Task<GoogleCredential>> load, IEnumerable<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        _scopes = scopes.ToArray();
        if (_scopes.Length == 0 || _scopes.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("At least one non-empty OAuth scope is required.", nameof(scopes));
        }

        _load = load;
    }

    private static Func<Task<GoogleCredential>> CheckNotNull(GoogleCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return () => Task.FromResult(credential);
    }

    /// <inheritdoc />
    public async ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken = default)
    {
        var credential = await GetCredentialAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        // The underlying credential refreshes its token shortly before expiry; asking per request is cheap.
        var token = await credential.UnderlyingCredential
            .GetAccessTokenForRequestAsync(authUri: null, cancellationToken)
            .ConfigureAwait(false);
        if (string.IsNullOrEmpty(token))
        {
            throw new InvalidOperationException("Application Default Credentials returned an empty access token.");
        }

        return token;
    }

    private Task<GoogleCredential> GetCredentialAsync()
    {
        lock (_gate)
        {
            // Shared by every caller; one caller's cancellation must not poison it, and a failure
            // (no credentials configured yet) is retried on the next request.
            if (_credential is null || _credential.IsFaulted || _credential.IsCanceled)
            {
                _credential = LoadScopedAsync();
            }

            return _credential;
        }
    }

    private async Task<GoogleCredential> LoadScopedAsync()
    {
        var credential = await _load().ConfigureAwait(false);
        return credential.IsCreateScopedRequired ? credential.CreateScoped(_scopes) : credential;
    }
}
