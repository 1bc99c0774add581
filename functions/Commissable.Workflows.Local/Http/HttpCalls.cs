using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local;

/// <summary>
/// <c>http.get/post/put/patch/delete/request</c> as Google documents them: arguments <c>url</c>,
/// <c>headers</c>, <c>body</c>, <c>query</c>, <c>auth</c>, <c>timeout</c> (default 300 s, at most
/// 1800 s); the answer is <c>{body, code, headers}</c> with a JSON body decoded; a status of 400 or
/// more raises <c>HttpError</c> (with <c>code</c>, <c>body</c>, <c>headers</c>), a request that outlives
/// its timeout <c>TimeoutError</c>, an unreachable server <c>ConnectionError</c>. No retries: those
/// belong to the step's <c>retry</c> policy. <c>auth: {type: OIDC|OAuth2}</c> is checked and then not
/// sent: the locally hosted functions take no tokens, and no Google identity exists here to mint one.
/// Bodies are never logged.
/// </summary>
internal sealed class HttpCalls : IWorkflowCallHandler
{
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
    private readonly HttpClient _http;

    /// <param name="http">A client without its own timeout (each call sets one); shared, thread-safe.</param>
    public HttpCalls(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
    }

    public bool Serves(string functionName) => functionName is "http.get" or "http.post" or "http.put" or "http.patch" or "http.delete" or "http.request";

    public async Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new CallArguments(request);
        var method = request.Function == "http.request"
            ? args.RequiredString("method").ToUpperInvariant()
            : request.Function["http.".Length..].ToUpperInvariant();
        if (!Methods.Contains(method))
        {
            throw WorkflowErrors.Value($"http.request: method '{method}' is not one of {string.Join(", ", Methods)}");
        }
        var url = args.RequiredString("url");
        var timeout = args.OptionalNumber("timeout") ?? 300;
        if (timeout <= 0 || timeout > 1800)
        {
            throw WorkflowErrors.Value($"{request.Function}: timeout must be more than 0 and at most 1800 seconds");
        }
        var headers = Headers(args.OptionalMap("headers"), request.Function);
        CheckAuth(args.OptionalMap("auth"), request.Function);
        var query = args.OptionalMap("query");
        var body = args.Raw("body");
        args.RejectUnknown(["private_service_name"]);

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw WorkflowErrors.Value($"{request.Function}: url '{url}' is not an absolute http(s) URL");
        }
        if (query is { Count: > 0 })
        {
            var builder = new UriBuilder(uri);
            var extra = string.Join('&', query.SelectMany(p => QueryValues(p.Value).Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v)}")));
            builder.Query = string.IsNullOrEmpty(builder.Query) ? extra : builder.Query.TrimStart('?') + "&" + extra;
            uri = builder.Uri;
        }

        using var message = new HttpRequestMessage(new HttpMethod(method), uri);
        string? contentType = null;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                contentType = value;
            }
            else if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                throw WorkflowErrors.Value($"{request.Function}: header '{name}' cannot be set");
            }
        }
        if (body is not null)
        {
            message.Content = Content(body, contentType, request.Function);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(timeout));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WorkflowErrorException(new JsonObject { ["message"] = "request timed out", ["tags"] = new JsonArray("TimeoutError", "OSError") });
        }
        catch (HttpRequestException error)
        {
            throw new WorkflowErrorException(new JsonObject
            {
                ["message"] = $"{method} {uri.GetLeftPart(UriPartial.Path)}: {(error.InnerException as SocketException)?.Message ?? error.Message}",
                ["tags"] = new JsonArray("ConnectionError", "OSError"),
            });
        }
        using (response)
        {
            var code = (int)response.StatusCode;
            var responseHeaders = HeadersOf(response);
            var responseBody = await BodyAsync(response, deadline.Token);
            if (code >= 400)
            {
                throw WorkflowErrors.Http(code, responseBody, responseHeaders);
            }
            return new JsonObject { ["body"] = responseBody, ["code"] = code, ["headers"] = responseHeaders };
        }
    }

    /// <summary>Response and content headers as one map of strings (repeated headers joined by ", ").</summary>
    public static JsonObject HeadersOf(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var map = new JsonObject();
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            map[name] = string.Join(", ", values);
        }
        return map;
    }

    private static async Task<JsonNode?> BodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (text.Length == 0) return null;
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        if (mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal))
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                return JsonValue.Create(text);
            }
        }
        return JsonValue.Create(text);
    }

    private static HttpContent Content(JsonNode body, string? contentType, string function)
    {
        if (contentType is null || contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            if (contentType is not null) content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
            return content;
        }
        if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) && body is JsonObject form)
        {
            return new FormUrlEncodedContent(form.SelectMany(p => QueryValues(p.Value).Select(v => KeyValuePair.Create(p.Key, v))));
        }
        if (body is JsonValue text && text.GetValueKind() == JsonValueKind.String)
        {
            var content = new StringContent(text.GetValue<string>(), Encoding.UTF8);
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
            return content;
        }
        throw WorkflowErrors.Type($"{function}: a body for Content-Type '{contentType}' must be a string");
    }

    private static List<(string Name, string Value)> Headers(JsonObject? headers, string function)
    {
        var list = new List<(string, string)>();
        foreach (var (name, value) in headers ?? [])
        {
            list.Add((name, value is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : throw WorkflowErrors.Type($"{function}: header '{name}' must be a string")));
        }
        return list;
    }

    private static void CheckAuth(JsonObject? auth, string function)
    {
        if (auth is null) return;
        var type = auth["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
        if (type is not ("OIDC" or "OAuth2"))
        {
            throw WorkflowErrors.Value($"{function}: auth.type must be OIDC or OAuth2");
        }
    }

    private static IEnumerable<string> QueryValues(JsonNode? value) => value switch
    {
        null => [""],
        JsonArray list => list.SelectMany(QueryValues),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => [v.GetValue<bool>() ? "true" : "false"],
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => [double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)],
        _ => throw WorkflowErrors.Type("query values must be strings, numbers, booleans or lists of those"),
    };
}
