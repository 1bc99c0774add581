using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
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
/// Requests that arrive while no step awaits are kept in order (the callback's available payloads);
/// an await that gets none within its timeout raises <c>TimeoutError</c>, as on Google.
/// <see cref="List"/> is what <c>executions.callbacks.list</c> shows.
/// </summary>
internal sealed class HttpCallbackEvents : IWorkflowCallHandler
{
    private readonly Uri _baseUri;
    private readonly string _execution;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Callback> _callbacks = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstWait = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="baseUri">The server's root (ending in '/').</param>
    /// <param name="execution">The execution's full name.</param>
    public HttpCallbackEvents(Uri baseUri, string execution, TimeProvider time)
    {
        _baseUri = baseUri;
        _execution = execution;
        _time = time;
    }

    /// <summary>One callback as <c>executions.callbacks.list</c> shows it.</summary>
    /// <param name="Id">The last segment of its URL.</param>
    /// <param name="Method">The method it was made for.</param>
    /// <param name="Waiters">Steps waiting on it now.</param>
    /// <param name="AvailablePayloads">Requests received and not yet taken by a step, each the JSON of what <c>await_callback</c> will return.</param>
    public sealed record State(string Id, string Method, int Waiters, IReadOnlyList<string> AvailablePayloads);

    /// <summary>Completes when a step of this execution first waits on one of its callbacks (no request was ready for it).</summary>
    public Task FirstWait => _firstWait.Task;

    /// <summary>The execution's callbacks, ordered by id (as Google lists them).</summary>
    public IReadOnlyList<State> List() =>
        [.. _callbacks.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value.Snapshot(c.Key))];

    /// <summary>
    /// One callback: the requests received and not yet taken, and the steps waiting for one. A
    /// request goes to the longest-waiting step, else joins the queue; both under one lock, so the
    /// list never shows a request both waited for and available.
    /// </summary>
    private sealed class Callback(string method)
    {
        private readonly Lock _gate = new();
        private readonly Queue<JsonObject> _received = new();
        private readonly LinkedList<TaskCompletionSource<JsonObject>> _waiters = new();

        public string Method { get; } = method;

        public void Deliver(JsonObject request)
        {
            lock (_gate)
            {
                while (_waiters.First is { } first)
                {
                    _waiters.RemoveFirst();
                    if (first.Value.TrySetResult(request))
                    {
                        return;
                    }
                }
                _received.Enqueue(request);
            }
        }

        /// <summary>The oldest request not yet taken, or the next to arrive; <paramref name="waiting"/> runs when the step has to wait.</summary>
        public async Task<JsonObject> TakeAsync(Action waiting, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TaskCompletionSource<JsonObject> waiter;
            LinkedListNode<TaskCompletionSource<JsonObject>> node;
            lock (_gate)
            {
                if (_received.TryDequeue(out var ready))
                {
                    return ready;
                }
                waiter = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
                node = _waiters.AddLast(waiter);
            }
            waiting();
            await using var registration = cancellationToken.Register(() =>
            {
                lock (_gate)
                {
                    if (node.List is not null)
                    {
                        _waiters.Remove(node);
                    }
                }
                // A request delivered just before wins: the step takes it instead of timing out.
                waiter.TrySetCanceled(cancellationToken);
            }).ConfigureAwait(false);
            return await waiter.Task.ConfigureAwait(false);
        }

        public State Snapshot(string id)
        {
            lock (_gate)
            {
                return new State(id, Method, _waiters.Count, [.. _received.Select(r => r.ToJsonString())]);
            }
        }
    }

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
        callback.Deliver(request);
        return true;
    }

    public async Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new CallArguments(request);
        if (request.Function == "events.create_callback_endpoint")
        {
            var method = CallbackEvents.Method(args);
            var id = Guid.NewGuid().ToString("N");
            _callbacks[id] = new Callback(method);
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
            return await callback.TakeAsync(() => _firstWait.TrySetResult(), linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw WorkflowErrors.Timeout(string.Create(CultureInfo.InvariantCulture, $"Timeout awaiting callback {url} after {timeout:0} seconds"));
        }
    }
}
