using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Rest;

namespace Commissable.Backup.Google.Workflows;

/// <summary>
/// The Workflow Executions API v1 over REST (the client library Google.Cloud.Workflows.Executions.V1
/// is not available here). Build it with <see cref="WorkflowExecutionsClientBuilder"/>; one instance
/// is thread-safe and meant to be reused. It sends through the same transport as the Cloud SQL
/// client: the same authentication, retries and error handling.
/// </summary>
public sealed class WorkflowExecutionsClient : IWorkflowExecutions, IDisposable
{
    /// <summary>Google's endpoint, the root every <c>v1/...</c> path is relative to.</summary>
    public static Uri DefaultBaseUri { get; } = new("https://workflowexecutions.googleapis.com/");

    /// <summary>The API refuses larger arguments.</summary>
    public const int MaxArgumentBytes = 32 * 1024;

    private readonly GoogleRestTransport _transport;

    internal WorkflowExecutionsClient(GoogleRestTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
    }

    /// <summary>The API root requests go to.</summary>
    public Uri BaseUri => _transport.BaseUri;

    /// <inheritdoc />
    public Task<Execution> CreateExecutionAsync(
        WorkflowName workflow, JsonObject? argument, string? callLogLevel = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        if (callLogLevel is not null && !CallLogLevels.IsValid(callLogLevel))
        {
            throw new ArgumentException($"'{callLogLevel}' is not a call log level; use one of LOG_ALL_CALLS, LOG_ERRORS_ONLY, LOG_NONE.", nameof(callLogLevel));
        }

        var text = argument?.ToJsonString();
        if (text is not null && Encoding.UTF8.GetByteCount(text) > MaxArgumentBytes)
        {
            throw new ArgumentException($"The argument is {Encoding.UTF8.GetByteCount(text)} bytes of JSON; the API accepts at most {MaxArgumentBytes}.", nameof(argument));
        }

        // The argument travels as a JSON string inside the JSON body, as the API defines it.
        var body = new Execution { Argument = text, CallLogLevel = callLogLevel };
        return _transport.SendAsync<Execution>(HttpMethod.Post, "v1/" + Path(workflow) + "/executions", body, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Execution> GetExecutionAsync(ExecutionName execution, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(execution);
        return _transport.SendAsync<Execution>(HttpMethod.Get, "v1/" + Path(execution), null, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Execution> CancelExecutionAsync(ExecutionName execution, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(execution);
        // CancelExecutionRequest has no fields: the body is an empty object.
        return _transport.SendAsync<Execution>(HttpMethod.Post, "v1/" + Path(execution) + ":cancel", new JsonObject(), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ExecutionCallback>> ListCallbacksAsync(ExecutionName execution, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var callbacks = new List<ExecutionCallback>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? pageToken = null;
        do
        {
            var query = pageToken is null ? "" : "?pageToken=" + Uri.EscapeDataString(pageToken);
            var page = await _transport.SendAsync<CallbackPage>(HttpMethod.Get, "v1/" + Path(execution) + "/callbacks" + query, null, cancellationToken).ConfigureAwait(false);
            callbacks.AddRange(page.Callbacks ?? []);
            pageToken = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
            if (pageToken is not null && !seen.Add(pageToken))
            {
                throw new InvalidOperationException($"Workflow Executions API repeated a page token while listing the callbacks of {execution}.");
            }
        }
        while (pageToken is not null);
        return callbacks;
    }

    /// <inheritdoc />
    public async Task SendCallbackAsync(ExecutionName execution, string callbackId, string method, JsonObject body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentException.ThrowIfNullOrEmpty(callbackId);
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(body);
        // The callback compares the method exactly: "post" would be another method, so it is sent as
        // Google lists it, and one Google does not list is refused before any request.
        var normalized = CallbackMethods.Normalize(method)
            ?? throw new ArgumentException($"'{method}' is not a callback method; use one of {string.Join(", ", CallbackMethods.All)}.", nameof(method));
        // Each request is one more payload for the execution, whatever its method: never sent twice
        // on a broken connection (transient answers, which the API did not act on, are still retried).
        _ = await _transport.SendAsync<JsonObject>(
            new HttpMethod(normalized), "v1/" + Path(execution) + "/callbacks/" + Segment(callbackId), body, idempotent: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the HTTP client when the builder created it.</summary>
    public void Dispose() => _transport.Dispose();

    private static string Path(WorkflowName name)
        => $"projects/{Segment(name.Project)}/locations/{Segment(name.Location)}/workflows/{Segment(name.Workflow)}";

    private static string Path(ExecutionName name) => Path(name.Workflow) + "/executions/" + Segment(name.Id);

    private static string Segment(string value) => GoogleRestTransport.Segment(value, nameof(value));
}

/// <summary>Schema <c>ListCallbacksResponse</c>.</summary>
internal sealed record CallbackPage
{
    public IReadOnlyList<ExecutionCallback>? Callbacks { get; init; }
    public string? NextPageToken { get; init; }
}
