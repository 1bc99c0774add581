using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local.CloudSql;

/// <summary>
/// <c>googleapis.sqladmin.v1beta4.*</c> against a Cloud SQL Admin endpoint (locally the local cloud):
/// arguments as the connector takes them (path parameters, documented query parameters,
/// <c>body</c>, <c>connector_params</c>), answers returned as parsed JSON. Methods that start an
/// operation wait for it like the real connector: poll <c>operations.get</c> with the documented
/// back-off until <c>DONE</c>, return the finished operation, raise <c>OperationError</c> (with the
/// operation) when it failed and <c>TimeoutError</c> when it outlives <c>connector_params.timeout</c>.
/// Error answers are <c>HttpError</c>s; 429 and 503 (and, for reads, 502, 504 and dropped
/// connections) are retried first, as the connectors' retry policies do.
/// </summary>
internal sealed class CloudSqlConnector : IWorkflowCallHandler
{
    private const int Attempts = 5;
    private readonly HttpClient _http;
    private readonly ConnectorParams _defaults;
    private readonly TimeProvider _time;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    /// <param name="http">Its <c>BaseAddress</c> is the API root (locally the local cloud's URL) and it sends the bearer token.</param>
    /// <param name="defaults">The polling defaults; <see cref="ConnectorParams.Documented"/> unless a test needs speed.</param>
    public CloudSqlConnector(HttpClient http, ConnectorParams? defaults = null, TimeProvider? time = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _defaults = defaults ?? ConnectorParams.Documented;
        _time = time ?? TimeProvider.System;
        _delay = delay ?? ((span, token) => Task.Delay(span, _time, token));
    }

    public bool Serves(string functionName) =>
        functionName.StartsWith(SqlAdminMethods.Prefix, StringComparison.Ordinal)
        && SqlAdminMethods.All.ContainsKey(functionName[SqlAdminMethods.Prefix.Length..]);

    public async Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var method = SqlAdminMethods.All[request.Function[SqlAdminMethods.Prefix.Length..]];
        var args = new CallArguments(request);
        var parameters = ConnectorParams.From(args.Raw("connector_params"), _defaults);
        var started = _time.GetTimestamp();

        var path = method.Path;
        foreach (var name in method.PathParameters)
        {
            path = path.Replace("{" + name + "}", Uri.EscapeDataString(args.RequiredString(name)), StringComparison.Ordinal);
        }
        var query = new List<string>();
        foreach (var name in method.Query)
        {
            if (args.Raw(name) is { } value)
            {
                query.Add($"{name}={Uri.EscapeDataString(QueryValue(value))}");
            }
        }
        JsonNode? body = null;
        if (method.TakesBody)
        {
            body = args.Raw("body") ?? throw WorkflowErrors.Value($"{request.Function}: missing required argument 'body'");
        }
        args.RejectUnknown([]);
        var uri = query.Count == 0 ? path : path + "?" + string.Join('&', query);

        var answer = await SendAsync(new HttpMethod(method.HttpMethod), uri, body, cancellationToken);
        if (!method.ReturnsOperation || parameters.SkipPolling)
        {
            return answer;
        }
        return await WaitAsync(args.RequiredString("project"), answer as JsonObject ?? throw WorkflowErrors.Type($"{request.Function}: the answer is not an Operation"), parameters, started, cancellationToken);
    }

    private async Task<JsonNode> WaitAsync(string project, JsonObject operation, ConnectorParams parameters, long started, CancellationToken cancellationToken)
    {
        var name = (string?)operation["name"] ?? throw WorkflowErrors.Type("the Operation has no name");
        for (var attempt = 0; (string?)operation["status"] != "DONE"; attempt++)
        {
            var remaining = parameters.Timeout - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                throw WorkflowErrors.Timeout(string.Create(CultureInfo.InvariantCulture,
                    $"Operation {name} ({(string?)operation["operationType"]}) did not finish within the timeout of {parameters.Timeout.TotalSeconds:0} seconds (connector_params.timeout)"));
            }
            var delay = parameters.DelayBefore(attempt);
            await _delay(delay < remaining ? delay : remaining, cancellationToken);
            operation = await SendAsync(HttpMethod.Get, $"sql/v1beta4/projects/{Uri.EscapeDataString(project)}/operations/{Uri.EscapeDataString(name)}", null, cancellationToken) as JsonObject
                ?? throw WorkflowErrors.Type("operations.get answered something other than an Operation");
        }
        if (operation["error"] is JsonObject error)
        {
            var first = error["errors"]?.AsArray().Select(e => (string?)e?["message"]).FirstOrDefault(m => m is not null) ?? "unknown error";
            throw WorkflowErrors.Operation($"Operation {name} ({(string?)operation["operationType"]}) failed: {first}", operation);
        }
        return operation;
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string uri, JsonNode? body, CancellationToken cancellationToken)
    {
        var idempotent = method == HttpMethod.Get;
        for (var attempt = 1; ; attempt++)
        {
            using var message = new HttpRequestMessage(method, uri);
            if (body is not null)
            {
                message.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(message, cancellationToken);
            }
            catch (HttpRequestException error) when (error.InnerException is SocketException || error.HttpRequestError == HttpRequestError.ConnectionError)
            {
                if (idempotent && attempt < Attempts)
                {
                    await _delay(Backoff(attempt), cancellationToken);
                    continue;
                }
                throw WorkflowErrors.Connection($"{method} {uri}: {error.Message}");
            }
            using (response)
            {
                var code = (int)response.StatusCode;
                var retriable = code is 429 or 503 || (idempotent && code is 502 or 504);
                if (retriable && attempt < Attempts)
                {
                    await _delay(Backoff(attempt), cancellationToken);
                    continue;
                }
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                var parsed = Parse(text);
                if (code >= 400)
                {
                    throw WorkflowErrors.Http(code, parsed, HttpCalls.HeadersOf(response));
                }
                return parsed;
            }
        }
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromSeconds(Math.Min(Math.Pow(2, attempt - 1), 60));

    private static JsonNode? Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static string QueryValue(JsonNode value) => value switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>() ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        JsonArray list => string.Join(',', list.Select(i => i is null ? "" : QueryValue(i))),
        _ => throw WorkflowErrors.Type("a query argument must be a string, number, boolean or list"),
    };
}
