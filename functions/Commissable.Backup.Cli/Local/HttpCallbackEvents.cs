using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Commissable.Workflows.Local;
using Commissable.Workflows.Local.Approvals;
using Commissable.Workflows.Runtime;

namespace Commissable.Backup.Cli.Local;

/// <summary>
/// <c>events.create_callback_endpoint</c> and <c>events.await_callback</c> for an execution served by
/// <see cref="LocalWorkflowExecutions"/>: the callback URL is a real URL of that server
/// (<c>{base}v1/{execution}/callbacks/{id}</c>, Google's shape), and a request sent to it (with the
/// bearer token) is what <c>await_callback</c> returns, as Google documents it
/// (<c>http_request {body, headers, method, query, url}</c>, <c>received_time</c>, <c>type: HTTP</c>).
/// Requests that arrive before the workflow awaits are kept in order; an await that gets none within
/// its timeout raises <c>TimeoutError</c>, as on Google.
/// </summary>
internal sealed class HttpCallbackEvents : IWorkflowCallHandler
{
    private readonly Uri _baseUri;
    private readonly string _execution;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Callback> _callbacks = new(StringComparer.Ordinal);

    /// <param name="baseUri">The server's root (ending in '/').</param>
    /// <param name="execution">The execution's full name.</param>
    public HttpCallbackEvents(Uri baseUri, string execution, TimeProvider time)
    {
        _baseUri = baseUri;
        _execution = execution;
        _time = time;
    }

    private sealed record Callback(string Method, Channel<JsonObject> Requests);

    public bool Serves(string functionName) => functionName is "events.create_callback_endpoint" or "events.await_callback";

    /// <summary>
    /// A request to callback <paramref name="id"/> of this execution. False when the execution made
    /// no such callback or the method is not the one it was made for.
    /// </summary>
    public bool Deliver(string id, string method, JsonNode? body, IReadOnlyDictionary<string, string> headers, IReadOnlyDictionary<string, string> query)
    {
        if (!_callbacks.TryGetValue(id, out var callback) || !string.Equals(callback.Method, method, StringComparison.Ordinal))
        {
            return false;
        }
        var headerMap = new JsonObject();
        foreach (var (name, value) in headers)
        {
            headerMap[name] = value;
        }
        var queryMap = new JsonObject();
        foreach (var (name, value) in query)
        {
            queryMap[name] = value;
        }
        var request = new JsonObject
        {
            ["http_request"] = new JsonObject
            {
                ["body"] = body?.DeepClone(),
                ["headers"] = headerMap,
                ["method"] = method,
                ["query"] = queryMap,
                ["url"] = $"/v1/{_execution}/callbacks/{id}",
            },
            // Google prints the receive time in Go's time format; the same shape, in UTC.
            ["received_time"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fffffff '+0000 UTC'", CultureInfo.InvariantCulture),
            ["type"] = "HTTP",
        };
        return callback.Requests.Writer.TryWrite(request);
    }

    public async Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new CallArguments(request);
        if (request.Function == "events.create_callback_endpoint")
        {
            var method = CallbackEvents.Method(args);
            var id = Guid.NewGuid().ToString("N");
            _callbacks[id] = new Callback(method, Channel.CreateUnbounded<JsonObject>());
            return new JsonObject { ["url"] = new Uri(_baseUri, $"v1/{_execution}/callbacks/{id}").AbsoluteUri };
        }

        var callbackMap = args.OptionalMap("callback") ?? throw WorkflowErrors.Value("events.await_callback: missing required argument 'callback'");
        var timeout = args.OptionalNumber("timeout") ?? 43200;
        args.RejectUnknown([]);
        var prefix = new Uri(_baseUri, $"v1/{_execution}/callbacks/").AbsoluteUri;
        var url = (string?)callbackMap["url"];
        if (url is null || !url.StartsWith(prefix, StringComparison.Ordinal) || !_callbacks.TryGetValue(url[prefix.Length..], out var callback))
        {
            throw WorkflowErrors.Value("events.await_callback: callback is not an endpoint events.create_callback_endpoint made in this execution");
        }
        if (timeout <= 0)
        {
            throw WorkflowErrors.Value("events.await_callback: timeout must be positive");
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(timeout), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(wait.Token, cancellationToken);
        try
        {
            return await callback.Requests.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw WorkflowErrors.Timeout(string.Create(CultureInfo.InvariantCulture, $"Timeout awaiting callback {url} after {timeout:0} seconds"));
        }
    }
}
