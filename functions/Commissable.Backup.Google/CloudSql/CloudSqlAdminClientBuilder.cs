using Commissable.Backup.Google.Auth;

namespace Commissable.Backup.Google.CloudSql;

/// <summary>
/// Builds a <see cref="CloudSqlAdminClient"/>. Build one client per process and reuse it: it is
/// thread-safe and owns a pooled <see cref="System.Net.Http.HttpClient"/> unless one is supplied.
/// </summary>
/// <example>
/// <code>
/// var client = new CloudSqlAdminClientBuilder
/// {
///     ProjectId = "commissable-prod",
///     BaseUri = new Uri("http://127.0.0.1:8123/"),          // local cloud; omit for Google
///     TokenSource = new FileTokenSource("/var/lib/localcloud/token"), // omit for ADC
/// }.Build();
/// </code>
/// </example>
public sealed class CloudSqlAdminClientBuilder
{
    /// <summary>The Google Cloud project every call addresses. Required.</summary>
    public string? ProjectId { get; set; }

    /// <summary>
    /// Root of the API, <c>https://sqladmin.googleapis.com/</c> by default. Set it to reach another
    /// endpoint speaking the same protocol, as gcloud's <c>api_endpoint_overrides/sql</c> does,
    /// for example the local cloud at <c>http://127.0.0.1:8123/</c>.
    /// </summary>
    public Uri BaseUri { get; set; } = CloudSqlAdminClient.DefaultBaseUri;

    /// <summary>Where bearer tokens come from; null means Application Default Credentials.</summary>
    public IAccessTokenSource? TokenSource { get; set; }

    /// <summary>
    /// An HTTP client to send requests with (not disposed by the client). Set at most one of this
    /// and <see cref="HttpMessageHandler"/>; with neither, the client creates and owns its own.
    /// </summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>A message handler to send requests through (not disposed by the client).</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Clock for backoff and polling delays; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Retries of transient failures.</summary>
    public CloudSqlRetrySettings RetrySettings { get; set; } = CloudSqlRetrySettings.Default;

    /// <summary>Operation polling of <see cref="CloudSqlAdminClient.WaitForOperationAsync"/>.</summary>
    public CloudSqlPollSettings PollSettings { get; set; } = CloudSqlPollSettings.Default;

    /// <summary>Source of the jitter fraction in [0, 1); tests make it deterministic.</summary>
    internal Func<double> Jitter { get; set; } = Random.Shared.NextDouble;

    /// <summary>Validates the settings and creates the client.</summary>
    /// <exception cref="InvalidOperationException">A required setting is missing or two settings conflict.</exception>
    public CloudSqlAdminClient Build()
    {
        if (string.IsNullOrWhiteSpace(ProjectId))
        {
            throw new InvalidOperationException("ProjectId is required: the Google Cloud project the Cloud SQL instances belong to.");
        }

        var root = CloudSqlTransport.ApiRoot(BaseUri, CloudSqlAdminClient.DefaultBaseUri);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(RetrySettings);
        ArgumentNullException.ThrowIfNull(PollSettings);
        ArgumentNullException.ThrowIfNull(Jitter);
        RetrySettings.Validate();
        PollSettings.Validate();

        var (http, ownsHttp) = CloudSqlTransport.CreateHttp(HttpClient, HttpMessageHandler);
        var transport = new CloudSqlTransport(
            http, ownsHttp, root, TokenSource ?? new ApplicationDefaultTokenSource(),
            RetrySettings, TimeProvider, Jitter);
        return new CloudSqlAdminClient(ProjectId.Trim(), transport, PollSettings, TimeProvider);
    }
}
