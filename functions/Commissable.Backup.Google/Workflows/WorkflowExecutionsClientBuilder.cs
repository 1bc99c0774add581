using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;

namespace Commissable.Backup.Google.Workflows;

/// <summary>
/// Builds a <see cref="WorkflowExecutionsClient"/>. Build one per process and reuse it.
/// </summary>
/// <example>
/// <code>
/// var client = new WorkflowExecutionsClientBuilder
/// {
///     BaseUri = new Uri("http://127.0.0.1:8124/"),        // a fake or proxy; omit for Google
///     TokenSource = new FileTokenSource("/tmp/token"),   // omit for ADC
/// }.Build();
/// </code>
/// </example>
public sealed class WorkflowExecutionsClientBuilder
{
    /// <summary>
    /// Root of the API, <c>https://workflowexecutions.googleapis.com/</c> by default; set it to reach
    /// another endpoint speaking the same protocol, as gcloud's <c>api_endpoint_overrides/workflowexecutions</c>.
    /// </summary>
    public Uri BaseUri { get; set; } = WorkflowExecutionsClient.DefaultBaseUri;

    /// <summary>Where bearer tokens come from; null means Application Default Credentials (cloud-platform scope).</summary>
    public IAccessTokenSource? TokenSource { get; set; }

    /// <summary>An HTTP client to send requests with (not disposed). Set at most one of this and <see cref="HttpMessageHandler"/>.</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>A message handler to send requests through (not disposed).</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Clock for backoff delays; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Retries of transient failures (429, 5xx; connection failures of GETs).</summary>
    public CloudSqlRetrySettings RetrySettings { get; set; } = CloudSqlRetrySettings.Default;

    /// <summary>Source of the jitter fraction in [0, 1); tests make it deterministic.</summary>
    internal Func<double> Jitter { get; set; } = Random.Shared.NextDouble;

    /// <summary>Validates the settings and creates the client.</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid or two settings conflict.</exception>
    public WorkflowExecutionsClient Build()
    {
        var root = CloudSqlTransport.ApiRoot(BaseUri, WorkflowExecutionsClient.DefaultBaseUri);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(RetrySettings);
        ArgumentNullException.ThrowIfNull(Jitter);
        RetrySettings.Validate();

        var (http, ownsHttp) = CloudSqlTransport.CreateHttp(HttpClient, HttpMessageHandler);
        var transport = new CloudSqlTransport(
            http, ownsHttp, root, TokenSource ?? new ApplicationDefaultTokenSource([ApplicationDefaultTokenSource.CloudPlatformScope]),
            RetrySettings, TimeProvider, Jitter,
            "Workflow Executions API", static (status, reason, message) => new WorkflowExecutionsApiException(status, reason, message));
        return new WorkflowExecutionsClient(transport);
    }
}
