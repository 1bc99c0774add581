using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Google.Tests.Contracts;

namespace Commissable.Backup.Google.Tests.Replay;

/// <summary>
/// Replays expected HTTP exchanges in order. Each request must match the next expectation exactly
/// (method, path and query below the API root, JSON body when given, bearer token), and must be a
/// request the discovery document defines. <see cref="VerifyAllUsed"/> fails on leftovers.
/// </summary>
internal sealed class ReplayingHandler : HttpMessageHandler
{
    private readonly Queue<Exchange> _expected = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<string> _failures = [];
    private readonly Lock _gate = new();
    private readonly Uri _baseUri;
    private readonly DiscoveryContract _contract;
    private readonly string _token;

    public ReplayingHandler(Uri baseUri, string token, DiscoveryContract contract)
    {
        _baseUri = baseUri;
        _token = token;
        _contract = contract;
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Expects a request; <paramref name="jsonBody"/> (when given) is compared as JSON.</summary>
    public Exchange Expect(HttpMethod method, string pathAndQuery, string? jsonBody = null)
    {
        var exchange = new Exchange(method, pathAndQuery, jsonBody);
        lock (_gate)
        {
            _expected.Enqueue(exchange);
        }

        return exchange;
    }

    public void VerifyAllUsed()
    {
        lock (_gate)
        {
            var problems = new List<string>(_failures);
            problems.AddRange(_expected.Select(e => $"expected exchange never requested: {e}"));
            if (problems.Count > 0)
            {
                Assert.Fail(string.Join(Environment.NewLine, problems));
            }
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var absolute = request.RequestUri!.AbsoluteUri;
        var relative = absolute.StartsWith(_baseUri.AbsoluteUri, StringComparison.Ordinal)
            ? absolute[_baseUri.AbsoluteUri.Length..]
            : null;

        var problems = new List<string>();
        ContractResult? contract = null;
        if (relative is null)
        {
            problems.Add($"request to {absolute} is not below the API root {_baseUri}");
        }
        else
        {
            contract = _contract.Check(request.Method.Method, relative, body);
            problems.AddRange(contract.Violations.Select(v => "contract: " + v));
        }

        var auth = request.Headers.Authorization;
        if (auth?.Scheme != "Bearer" || auth.Parameter != _token)
        {
            problems.Add($"{request.Method} {relative}: missing or wrong bearer token");
        }

        if (body is not null && request.Content!.Headers.ContentType?.MediaType != "application/json")
        {
            problems.Add($"{request.Method} {relative}: body sent without Content-Type application/json");
        }

        Exchange? exchange;
        lock (_gate)
        {
            _requests.Add(new RecordedRequest(request.Method, relative ?? absolute, body, contract?.MethodId));
            _expected.TryDequeue(out exchange);
            if (exchange is null)
            {
                problems.Add($"unexpected request {request.Method} {relative}{(body is null ? "" : " " + body)}");
            }
            else
            {
                problems.AddRange(exchange.Mismatches(request.Method, relative, body));
            }

            _failures.AddRange(problems);
        }

        if (problems.Count > 0)
        {
            Assert.Fail(string.Join(Environment.NewLine, problems));
        }

        return exchange!.CreateResponse(request);
    }
}

internal sealed record RecordedRequest(HttpMethod Method, string PathAndQuery, string? Body, string? DiscoveryMethodId);

/// <summary>One expected request and its canned answer (200 with <c>{}</c> unless told otherwise).</summary>
internal sealed class Exchange
{
    private HttpStatusCode _status = HttpStatusCode.OK;
    private string _responseBody = "{}";
    private string _contentType = "application/json";
    private readonly List<(string Name, string Value)> _headers = [];
    private Exception? _exception;

    public Exchange(HttpMethod method, string pathAndQuery, string? jsonBody)
    {
        Method = method;
        PathAndQuery = pathAndQuery;
        JsonBody = jsonBody;
    }

    public HttpMethod Method { get; }
    public string PathAndQuery { get; }
    public string? JsonBody { get; }

    public Exchange Respond(HttpStatusCode status, string body = "{}", string contentType = "application/json")
    {
        _status = status;
        _responseBody = body;
        _contentType = contentType;
        return this;
    }

    public Exchange RespondJson(object body) => Respond(HttpStatusCode.OK, JsonSerializer(body));

    /// <summary>Answers Google's error shape with <paramref name="reason"/> in errors[0].</summary>
    public Exchange RespondError(HttpStatusCode status, string? reason, string message)
    {
        var error = new JsonObject { ["code"] = (int)status, ["message"] = message, ["status"] = status.ToString().ToUpperInvariant() };
        if (reason is not null)
        {
            error["errors"] = new JsonArray(new JsonObject { ["domain"] = "global", ["reason"] = reason, ["message"] = message });
        }

        return Respond(status, new JsonObject { ["error"] = error }.ToJsonString());
    }

    public Exchange WithHeader(string name, string value)
    {
        _headers.Add((name, value));
        return this;
    }

    /// <summary>Fails the request as the transport would, for example connection refused.</summary>
    public Exchange Throw(Exception exception)
    {
        _exception = exception;
        return this;
    }

    internal IEnumerable<string> Mismatches(HttpMethod method, string? pathAndQuery, string? body)
    {
        if (method != Method || pathAndQuery != PathAndQuery)
        {
            yield return $"expected {Method} {PathAndQuery} but got {method} {pathAndQuery}";
        }

        if (JsonBody is not null)
        {
            if (body is null)
            {
                yield return $"{Method} {PathAndQuery}: expected body {JsonBody} but none was sent";
            }
            else if (!JsonNode.DeepEquals(JsonNode.Parse(JsonBody), JsonNode.Parse(body)))
            {
                yield return $"{Method} {PathAndQuery}: expected body {JsonBody} but got {body}";
            }
        }
    }

    internal HttpResponseMessage CreateResponse(HttpRequestMessage request)
    {
        if (_exception is not null)
        {
            throw _exception;
        }

        var response = new HttpResponseMessage(_status)
        {
            RequestMessage = request,
            Content = new StringContent(_responseBody, Encoding.UTF8, _contentType),
        };
        foreach (var (name, value) in _headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    private static string JsonSerializer(object body)
        => System.Text.Json.JsonSerializer.Serialize(body, Core.CloudSql.CloudSqlJson.Options);

    public override string ToString() => $"{Method} {PathAndQuery}{(JsonBody is null ? "" : " " + JsonBody)}";
}
