using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Google.Tests.Contracts;

namespace Commissable.Backup.Google.Tests.Replay;

/// <summary>
/// Replays expected HTTP exchanges in order, for every Google API the project speaks (the REST
/// clients' own transport, and <c>Google.Cloud.Storage.V1</c>'s <c>StorageClient</c>). Each request
/// must be below the API root, match the next expectation exactly (method, path and query, and
/// the expectation's checks such as its JSON body), carry the bearer token, and be a request the
/// API's discovery document defines (unless the expectation is a URI the server handed out).
/// Request bodies are read whole, gzip undone. <see cref="VerifyAllUsed"/> fails on leftovers.
/// </summary>
internal sealed class ReplayingHandler : HttpMessageHandler
{
    private readonly Queue<Exchange> _expected = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<string> _failures = [];
    private readonly Lock _gate = new();
    private readonly Uri _root;
    private readonly string _token;
    private readonly Func<RecordedRequest, ContractResult> _contract;

    /// <summary>An API whose methods all lie directly below <paramref name="root"/>, with JSON bodies.</summary>
    public ReplayingHandler(Uri root, string token, DiscoveryContract contract)
        : this(root, token, request => CheckJson(contract, request.PathAndQuery, request))
    {
    }

    /// <summary>An API whose requests <paramref name="contract"/> checks (path and query relative to <paramref name="root"/>).</summary>
    public ReplayingHandler(Uri root, string token, Func<RecordedRequest, ContractResult> contract)
    {
        _root = root;
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

    /// <summary>
    /// The request against <paramref name="contract"/>, at <paramref name="below"/> (its path and
    /// query below the document's root): a body must be JSON, as the documents define them.
    /// </summary>
    public static ContractResult CheckJson(DiscoveryContract contract, string below, RecordedRequest request)
    {
        if (request.Body is { Length: > 0 } && !request.IsJson)
        {
            return new ContractResult(null, [$"{request.Method} {request.PathAndQuery}: a {request.ContentType ?? "untyped"} body where the document defines JSON"]);
        }

        return contract.Check(request.Method.Method, below, request.IsJson ? request.Text : null);
    }

    /// <summary>Expects a request; <paramref name="jsonBody"/> (when given) is compared as JSON.</summary>
    public Exchange Expect(HttpMethod method, string pathAndQuery, string? jsonBody = null)
    {
        var exchange = new Exchange(method, pathAndQuery);
        if (jsonBody is not null)
        {
            exchange.WithJsonBody(jsonBody);
        }

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
        var body = request.Content is null ? null : await ReadBodyAsync(request.Content, cancellationToken);
        var absolute = request.RequestUri!.AbsoluteUri;
        var relative = absolute.StartsWith(_root.AbsoluteUri, StringComparison.Ordinal) ? absolute[_root.AbsoluteUri.Length..] : null;
        var captured = new RecordedRequest(request.Method, relative ?? absolute, request.Headers, request.Content?.Headers, body, null);

        var problems = new List<string>();
        Exchange? exchange;
        lock (_gate)
        {
            _expected.TryDequeue(out exchange);
        }

        if (relative is null)
        {
            problems.Add($"request to {absolute} is not below the API root {_root}");
        }
        else if (exchange is not { IsHandedOut: true })
        {
            var contract = _contract(captured);
            captured = captured with { DiscoveryMethodId = contract.MethodId };
            problems.AddRange(contract.Violations.Select(v => "contract: " + v));
        }

        if (exchange is null)
        {
            problems.Add($"unexpected request {request.Method} {captured.PathAndQuery}{(body is null ? "" : " " + captured.Text)}");
        }
        else
        {
            problems.AddRange(exchange.Mismatches(captured));
        }

        var auth = request.Headers.Authorization;
        if (auth?.Scheme != "Bearer" || auth.Parameter != _token)
        {
            problems.Add($"{request.Method} {captured.PathAndQuery}: missing or wrong bearer token");
        }

        lock (_gate)
        {
            _requests.Add(captured);
            _failures.AddRange(problems);
        }

        if (problems.Count > 0)
        {
            Assert.Fail(string.Join(Environment.NewLine, problems));
        }

        return exchange!.CreateResponse(request, captured);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var bytes = await content.ReadAsByteArrayAsync(cancellationToken);
        if (!content.Headers.ContentEncoding.Contains("gzip"))
        {
            return bytes;
        }

        using var unzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        await unzip.CopyToAsync(plain, cancellationToken);
        return plain.ToArray();
    }
}

/// <summary>One request as the fake received it (body decompressed), with the discovery method it matched.</summary>
internal sealed record RecordedRequest(
    HttpMethod Method,
    string PathAndQuery,
    HttpRequestHeaders Headers,
    HttpContentHeaders? ContentHeaders,
    byte[]? Body,
    string? DiscoveryMethodId)
{
    public string? ContentType => ContentHeaders?.ContentType?.MediaType;
    public bool IsJson => ContentType == "application/json" && Body is { Length: > 0 };
    public string Text => Body is null ? "" : Encoding.UTF8.GetString(Body);

    public string? Header(string name)
        => Headers.TryGetValues(name, out var values) || (ContentHeaders?.TryGetValues(name, out values) ?? false)
            ? string.Join(",", values!)
            : null;
}

/// <summary>One expected request and its answer (200 with <c>{}</c> unless told otherwise).</summary>
internal sealed class Exchange(HttpMethod method, string pathAndQuery)
{
    private readonly List<Func<RecordedRequest, string?>> _checks = [];
    private readonly List<(string Name, string Value)> _headers = [];
    private Func<RecordedRequest, HttpResponseMessage> _respond = _ => Json(HttpStatusCode.OK, "{}");
    private Exception? _exception;
    private string? _jsonBody;

    public HttpMethod Method { get; } = method;
    public string PathAndQuery { get; } = pathAndQuery;

    /// <summary>A URI the fake server handed out: not in the discovery document.</summary>
    public bool IsHandedOut { get; private set; }

    /// <summary>A resumable upload session's URI.</summary>
    public Exchange AsUploadSession()
    {
        IsHandedOut = true;
        return this;
    }

    /// <summary>
    /// A callback URL (<c>events.create_callback_endpoint</c>'s, <c>executions.callbacks.sendHttpCallback</c>):
    /// the reference documents it, the discovery document does not list it.
    /// </summary>
    public Exchange AsCallbackUrl()
    {
        IsHandedOut = true;
        return this;
    }

    /// <summary>Requires the body to equal <paramref name="json"/> as JSON (formatting and member order aside).</summary>
    public Exchange WithJsonBody(string json)
    {
        _jsonBody = json;
        return Check(r => r.Body is null
            ? $"{Method} {PathAndQuery}: expected body {json} but none was sent"
            : r.IsJson && JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(r.Text))
                ? null
                : $"{Method} {PathAndQuery}: expected body {json} but got {r.ContentType} {r.Text}");
    }

    /// <summary>A further assertion on the request; returns a problem, or null when it holds.</summary>
    public Exchange Check(Func<RecordedRequest, string?> check)
    {
        _checks.Add(check);
        return this;
    }

    public Exchange Respond(HttpStatusCode status, string body = "{}", string contentType = "application/json")
        => RespondWith(_ => new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, contentType) });

    public Exchange RespondJson(string json, HttpStatusCode status = HttpStatusCode.OK) => RespondWith(_ => Json(status, json));

    /// <summary>Answers Google's error shape with <paramref name="reason"/> in errors[0].</summary>
    public Exchange RespondError(HttpStatusCode status, string? reason, string message)
    {
        var error = new JsonObject { ["code"] = (int)status, ["message"] = message, ["status"] = status.ToString().ToUpperInvariant() };
        if (reason is not null)
        {
            error["errors"] = new JsonArray(new JsonObject { ["domain"] = "global", ["reason"] = reason, ["message"] = message });
        }

        return RespondJson(new JsonObject { ["error"] = error }.ToJsonString(), status);
    }

    public Exchange RespondWith(Func<RecordedRequest, HttpResponseMessage> respond)
    {
        _respond = respond;
        return this;
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

    internal IEnumerable<string> Mismatches(RecordedRequest request)
    {
        if (request.Method != Method || request.PathAndQuery != PathAndQuery)
        {
            yield return $"expected {Method} {PathAndQuery} but got {request.Method} {request.PathAndQuery}";
        }

        foreach (var problem in _checks.Select(c => c(request)).OfType<string>())
        {
            yield return problem;
        }
    }

    internal HttpResponseMessage CreateResponse(HttpRequestMessage request, RecordedRequest captured)
    {
        if (_exception is not null)
        {
            throw _exception;
        }

        var response = _respond(captured);
        response.RequestMessage = request;
        foreach (var (name, value) in _headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json)
        => new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public override string ToString() => $"{Method} {PathAndQuery}{(_jsonBody is null ? "" : " " + _jsonBody)}";
}
