using Commissable.Backup.Google.Auth;

namespace Commissable.Backup.Google.Rest;

/// <summary>
/// What every builder of a Google REST client sets: the endpoint, where tokens come from, how
/// requests are sent, the clock and the retries. Each API's builder adds its own settings.
/// </summary>
public abstract class GoogleRestClientBuilder
{
    private protected GoogleRestClientBuilder(Uri defaultBaseUri)
    {
        ArgumentNullException.ThrowIfNull(defaultBaseUri);
        DefaultBaseUri = defaultBaseUri;
        BaseUri = defaultBaseUri;
    }

    /// <summary>
    /// Root of the API, Google's endpoint by default. Set it to reach another endpoint speaking the
    /// same protocol, as gcloud's <c>api_endpoint_overrides</c> do, for example the local cloud at
    /// <c>http://127.0.0.1:8123/</c>. A path prefix is kept.
    /// </summary>
    public Uri BaseUri { get; set; }

    /// <summary>Where bearer tokens come from; null means Application Default Credentials.</summary>
    public IAccessTokenSource? TokenSource { get; set; }

    /// <summary>
    /// An HTTP client to send requests with (not disposed by the client). Set at most one of this
    /// and <see cref="HttpMessageHandler"/>; with neither, the client creates and owns its own.
    /// </summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>A message handler to send requests through (not disposed by the client).</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Clock for backoff (and polling) delays; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Retries of transient failures (409 operationInProgress, 429, 5xx; connection failures of GETs).</summary>
    public GoogleRetrySettings RetrySettings { get; set; } = GoogleRetrySettings.Default;

    /// <summary>Source of the jitter fraction in [0, 1); tests make it deterministic.</summary>
    internal Func<double> Jitter { get; set; } = Random.Shared.NextDouble;

    private Uri DefaultBaseUri { get; }

    /// <summary>Checks the shared settings and creates the transport an API's client sends through.</summary>
    /// <param name="defaultScopes">OAuth scopes of Application Default Credentials when no <see cref="TokenSource"/> is set.</param>
    /// <param name="apiName">The API's name in messages.</param>
    /// <param name="apiError">The API's typed exception from the status, Google's reason and the cleaned message.</param>
    private protected GoogleRestTransport BuildTransport(
        IEnumerable<string> defaultScopes, string apiName, Func<int, string?, string, Exception> apiError)
    {
        var root = ApiRoot(BaseUri, DefaultBaseUri);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(RetrySettings);
        var retry = new GoogleRetryPolicy(RetrySettings, TimeProvider, Jitter);
        var tokens = TokenSource ?? new ApplicationDefaultTokenSource(defaultScopes);
        var (http, ownsHttp) = CreateHttp(HttpClient, HttpMessageHandler);
        return new GoogleRestTransport(http, ownsHttp, root, tokens, retry, apiName, apiError);
    }

    /// <summary>
    /// Checks an API root and makes it end with a slash: relative paths resolve under the base only
    /// then (a path prefix such as http://proxy/sqladmin/ must be kept).
    /// </summary>
    private static Uri ApiRoot(Uri? baseUri, Uri example)
    {
        if (baseUri is null || !baseUri.IsAbsoluteUri || (baseUri.Scheme != Uri.UriSchemeHttps && baseUri.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOperationException(
                $"{nameof(BaseUri)} must be an absolute http or https URI such as {example}; got '{baseUri}'.");
        }

        return baseUri.AbsolutePath.EndsWith('/') ? baseUri : new Uri(baseUri.GetLeftPart(UriPartial.Path) + "/");
    }

    /// <summary>
    /// The HTTP client the settings ask for: the caller's (not owned), one over the caller's handler,
    /// or a new pooled one (both owned).
    /// </summary>
    private static (HttpClient Http, bool Owns) CreateHttp(HttpClient? client, HttpMessageHandler? handler)
    {
        if (client is not null && handler is not null)
        {
            throw new InvalidOperationException($"Set {nameof(HttpClient)} or {nameof(HttpMessageHandler)}, not both.");
        }

        return client is not null ? (client, false)
            : handler is not null ? (new HttpClient(handler, disposeHandler: false), true)
            : (new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }), true);
    }
}
