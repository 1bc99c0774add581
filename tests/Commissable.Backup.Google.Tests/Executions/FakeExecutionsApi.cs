using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Google.Tests.Contracts;

namespace Commissable.Backup.Google.Tests.Executions;

/// <summary>
/// A loopback HTTP server that answers like the Workflow Executions API v1: executions.create,
/// executions.get and executions.cancel on an in-memory store. Every request is recorded and
/// checked against the discovery document (a violation is answered 400 and listed in
/// <see cref="Violations"/>), and must carry the expected bearer token (else 401).
/// Shared with the CLI tests (linked source).
/// </summary>
internal sealed class FakeExecutionsApi : IDisposable
{
    public const string Token = "ya29.fake-executions-token-91b2";

    private readonly HttpListener _listener;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (JsonObject Execution, int Polls)> _executions = new(StringComparer.Ordinal);
    private readonly Queue<(int Status, string Reason, string Message)> _faults = new();
    private readonly List<Recorded> _requests = [];
    private readonly List<string> _violations = [];
    private readonly Task _loop;
    private int _created;

    public FakeExecutionsApi()
    {
        // HttpListener cannot bind port 0: a free port is picked, and another process may take it
        // before Start. A listener whose Start failed is disposed, so each attempt has a new one.
        for (var attempt = 0; ; attempt++)
        {
            var uri = new Uri($"http://127.0.0.1:{FreePort().ToString(CultureInfo.InvariantCulture)}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(uri.AbsoluteUri);
            try
            {
                listener.Start();
                (_listener, BaseUri) = (listener, uri);
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    public Uri BaseUri { get; }

    /// <summary>
    /// What successive GETs of a created execution answer: each entry is merged over the execution
    /// (state, result, error, status...); the last one repeats. Empty: the execution stays ACTIVE.
    /// </summary>
    public List<JsonObject> Script { get; } = [];

    public IReadOnlyList<Recorded> Requests { get { lock (_gate) { return [.. _requests]; } } }

    public IReadOnlyList<string> Violations { get { lock (_gate) { return [.. _violations]; } } }

    /// <summary>The next request is answered with this error instead (queued in order).</summary>
    public void FailNext(int status, string reason, string message)
    {
        lock (_gate)
        {
            _faults.Enqueue((status, reason, message));
        }
    }

    /// <summary>Adds an execution as if created earlier (for watch tests).</summary>
    public void Seed(string name, JsonObject execution)
    {
        execution["name"] = name;
        lock (_gate)
        {
            _executions[name] = (execution, 0);
        }
    }

    public void Dispose()
    {
        // Close alone: on Unix the managed HttpListener's Stop releases the port, and a Close after
        // it removes the listener again, binding the port once more to do so, which throws
        // "Address already in use" when another test took the port in between.
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                await HandleAsync(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The client went away; nothing to answer.
            }
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        string? body = null;
        if (request.HasEntityBody)
        {
            using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
            body = await reader.ReadToEndAsync();
        }

        var relative = request.RawUrl!.TrimStart('/');
        var result = DiscoveryContract.WorkflowExecutionsV1.Check(request.HttpMethod, relative, body);
        var recorded = new Recorded(request.HttpMethod, relative, body, request.Headers["Authorization"], result.MethodId);
        (int Status, string Json) answer;
        lock (_gate)
        {
            _requests.Add(recorded);
            if (!result.Ok)
            {
                _violations.AddRange(result.Violations);
                answer = Error(400, "badRequest", string.Join("; ", result.Violations));
            }
            else if (recorded.Authorization != "Bearer " + Token)
            {
                answer = Error(401, "authError", "Request had invalid authentication credentials.");
            }
            else if (_faults.TryDequeue(out var fault))
            {
                answer = Error(fault.Status, fault.Reason, fault.Message);
            }
            else
            {
                answer = Answer(result.MethodId!, relative, body);
            }
        }

        var bytes = Encoding.UTF8.GetBytes(answer.Json);
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private (int, string) Answer(string method, string relative, string? body)
    {
        var path = relative.Split('?')[0]["v1/".Length..];
        switch (method)
        {
            case "workflowexecutions.projects.locations.workflows.executions.create":
            {
                var request = JsonNode.Parse(body!)!.AsObject();
                if (request["argument"] is JsonValue argument)
                {
                    try
                    {
                        JsonNode.Parse(argument.GetValue<string>());
                    }
                    catch (JsonException)
                    {
                        return Error(400, "badRequest", "argument is not a JSON document");
                    }
                }

                var name = $"{path[..^"/executions".Length]}/executions/{(++_created).ToString("00000000", CultureInfo.InvariantCulture)}-fake";
                var execution = new JsonObject
                {
                    ["name"] = name,
                    ["state"] = "ACTIVE",
                    ["argument"] = request["argument"]?.DeepClone(),
                    ["startTime"] = "2025-03-01T10:00:00.123456789Z",
                    ["createTime"] = "2025-03-01T10:00:00.100Z",
                    ["workflowRevisionId"] = "000001-a1b",
                    ["callLogLevel"] = request["callLogLevel"]?.DeepClone() ?? "CALL_LOG_LEVEL_UNSPECIFIED",
                    ["status"] = new JsonObject(),
                };
                _executions[name] = (execution, 0);
                return (200, execution.ToJsonString());
            }

            case "workflowexecutions.projects.locations.workflows.executions.get":
            {
                var name = Uri.UnescapeDataString(path);
                if (!_executions.TryGetValue(name, out var entry))
                {
                    return Error(404, "notFound", $"Resource '{name}' was not found");
                }

                var polls = entry.Polls + 1;
                var current = entry.Execution;
                if (Script.Count > 0)
                {
                    var step = Script[Math.Min(polls, Script.Count) - 1];
                    foreach (var (key, value) in step)
                    {
                        current[key] = value?.DeepClone();
                    }
                }

                _executions[name] = (current, polls);
                return (200, current.ToJsonString());
            }

            case "workflowexecutions.projects.locations.workflows.executions.cancel":
            {
                var name = Uri.UnescapeDataString(path[..^":cancel".Length]);
                if (!_executions.TryGetValue(name, out var entry))
                {
                    return Error(404, "notFound", $"Resource '{name}' was not found");
                }

                if ((string?)entry.Execution["state"] != "ACTIVE")
                {
                    return Error(400, "failedPrecondition", "Execution is not active");
                }

                entry.Execution["state"] = "CANCELLED";
                entry.Execution["endTime"] = "2025-03-01T10:05:00Z";
                entry.Execution["error"] = new JsonObject { ["payload"] = "\"execution cancelled\"", ["context"] = "cancelled by the user" };
                return (200, entry.Execution.ToJsonString());
            }

            default:
                return Error(501, "notImplemented", $"the fake does not serve {method}");
        }
    }

    private static (int, string) Error(int status, string reason, string message)
        => (status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = status,
                ["message"] = message,
                ["errors"] = new JsonArray(new JsonObject { ["domain"] = "global", ["reason"] = reason, ["message"] = message }),
            },
        }.ToJsonString());

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    internal sealed record Recorded(string Method, string PathAndQuery, string? Body, string? Authorization, string? MethodId);
}
