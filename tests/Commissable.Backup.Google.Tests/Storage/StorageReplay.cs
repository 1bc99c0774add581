using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Google.Tests.Contracts;

namespace Commissable.Backup.Google.Tests.Storage;

/// <summary>
/// Replays expected Cloud Storage exchanges in order, for <c>Google.Cloud.Storage.V1</c>'s
/// <c>StorageClient</c>. It adapts the idea of <see cref="Replay.ReplayingHandler"/> (which is bound
/// to one API root and JSON bodies) to what Cloud Storage needs: the JSON API below
/// <c>storage/v1/</c>, media uploads below <c>upload/storage/v1/</c> (both checked against the
/// <c>storage.v1</c> discovery document, the upload against <c>objects.insert</c>), upload session
/// URIs the server hands out (opaque, so not in the document), binary bodies, and gzip-compressed
/// request bodies. Each request must match the next expectation's method and path-and-query
/// exactly and carry the bearer token; <see cref="VerifyAllUsed"/> fails on leftovers.
/// </summary>
internal sealed class StorageReplay : HttpMessageHandler
{
    public static readonly Uri Root = new("http://storage.test/");
    public const string Token = "ya29.storage-test-token";
    private const string JsonApi = "storage/v1/";
    private const string UploadApi = "upload/storage/v1/";

    private static readonly Lazy<DiscoveryContract> Document = new(() => DiscoveryContract.Load("storage.v1.json"));

    private readonly Queue<StorageExchange> _expected = new();
    private readonly List<StorageRequest> _requests = [];
    private readonly List<string> _failures = [];
    private readonly Lock _gate = new();

    public static DiscoveryContract Contract => Document.Value;

    public IReadOnlyList<StorageRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Expects a request to <paramref name="pathAndQuery"/> below <see cref="Root"/>.</summary>
    public StorageExchange Expect(HttpMethod method, string pathAndQuery)
    {
        var exchange = new StorageExchange(method, pathAndQuery);
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
        var relative = absolute.StartsWith(Root.AbsoluteUri, StringComparison.Ordinal) ? absolute[Root.AbsoluteUri.Length..] : absolute;
        var captured = new StorageRequest(request.Method, relative, request.Headers, request.Content?.Headers, body);

        var problems = new List<string>();
        StorageExchange? exchange;
        lock (_gate)
        {
            _requests.Add(captured);
            _expected.TryDequeue(out exchange);
        }

        if (exchange is null)
        {
            problems.Add($"unexpected request {request.Method} {relative}");
        }
        else
        {
            if (request.Method != exchange.Method || relative != exchange.PathAndQuery)
            {
                problems.Add($"expected {exchange.Method} {exchange.PathAndQuery} but got {request.Method} {relative}");
            }

            if (!exchange.IsUploadSession)
            {
                problems.AddRange(CheckContract(captured).Select(v => "contract: " + v));
            }

            problems.AddRange(exchange.Checks(captured));
        }

        var auth = request.Headers.Authorization;
        if (auth?.Scheme != "Bearer" || auth.Parameter != Token)
        {
            problems.Add($"{request.Method} {relative}: missing or wrong bearer token");
        }

        if (problems.Count > 0)
        {
            lock (_gate)
            {
                _failures.AddRange(problems);
            }

            Assert.Fail(string.Join(Environment.NewLine, problems));
        }

        return exchange!.CreateResponse(request, captured);
    }

    /// <summary>The request against the discovery document: JSON API methods, and media uploads as objects.insert.</summary>
    private static IEnumerable<string> CheckContract(StorageRequest request)
    {
        string below;
        if (request.PathAndQuery.StartsWith(UploadApi, StringComparison.Ordinal))
        {
            below = request.PathAndQuery[UploadApi.Length..];
            var insert = Contract.Methods.Single(m => m.Id == "storage.objects.insert");
            if (request.Method.Method != insert.HttpMethod || !insert.PathPattern.IsMatch(below.Split('?')[0]))
            {
                return [$"{request.Method} {request.PathAndQuery}: only objects.insert takes media uploads"];
            }
        }
        else if (request.PathAndQuery.StartsWith(JsonApi, StringComparison.Ordinal))
        {
            below = request.PathAndQuery[JsonApi.Length..];
        }
        else
        {
            return [$"{request.Method} {request.PathAndQuery} is neither below {JsonApi} nor {UploadApi}"];
        }

        var json = request.IsJson ? request.Text : null;
        if (!request.IsJson && request.Body is { Length: > 0 })
        {
            return [$"{request.Method} {request.PathAndQuery}: a {request.ContentType} body where the document defines JSON"];
        }

        var result = Contract.Check(request.Method.Method, below, json);
        return result.Violations;
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

/// <summary>One request as the fake received it (body decompressed).</summary>
internal sealed record StorageRequest(
    HttpMethod Method,
    string PathAndQuery,
    HttpRequestHeaders Headers,
    HttpContentHeaders? ContentHeaders,
    byte[]? Body)
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
internal sealed class StorageExchange(HttpMethod method, string pathAndQuery)
{
    private readonly List<Func<StorageRequest, string?>> _checks = [];
    private Func<StorageRequest, HttpResponseMessage> _respond = _ => Json(HttpStatusCode.OK, "{}");

    public HttpMethod Method { get; } = method;
    public string PathAndQuery { get; } = pathAndQuery;

    /// <summary>A URI the fake server handed out (a resumable session): not in the discovery document.</summary>
    public bool IsUploadSession { get; private set; }

    public StorageExchange AsUploadSession()
    {
        IsUploadSession = true;
        return this;
    }

    /// <summary>Requires the body to equal <paramref name="json"/> as JSON.</summary>
    public StorageExchange WithJsonBody(string json)
        => Check(r => r.IsJson && JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(r.Text))
            ? null
            : $"{Method} {PathAndQuery}: expected JSON body {json} but got {r.ContentType} {r.Text}");

    /// <summary>A further assertion on the request; returns a problem, or null when it holds.</summary>
    public StorageExchange Check(Func<StorageRequest, string?> check)
    {
        _checks.Add(check);
        return this;
    }

    public StorageExchange RespondJson(string json, HttpStatusCode status = HttpStatusCode.OK)
    {
        _respond = _ => Json(status, json);
        return this;
    }

    /// <summary>Answers <paramref name="status"/> with an empty body (204 for a delete).</summary>
    public StorageExchange Respond(HttpStatusCode status)
    {
        _respond = _ => new HttpResponseMessage(status) { Content = new ByteArrayContent([]) };
        return this;
    }

    public StorageExchange RespondWith(Func<StorageRequest, HttpResponseMessage> respond)
    {
        _respond = respond;
        return this;
    }

    /// <summary>Google's error shape with <paramref name="reason"/> in errors[0].</summary>
    public StorageExchange RespondError(HttpStatusCode status, string reason, string message)
    {
        var error = new JsonObject
        {
            ["code"] = (int)status,
            ["message"] = message,
            ["errors"] = new JsonArray(new JsonObject { ["domain"] = "global", ["reason"] = reason, ["message"] = message }),
        };
        return RespondJson(new JsonObject { ["error"] = error }.ToJsonString(), status);
    }

    internal IEnumerable<string> Checks(StorageRequest request)
        => _checks.Select(c => c(request)).OfType<string>();

    internal HttpResponseMessage CreateResponse(HttpRequestMessage request, StorageRequest captured)
    {
        var response = _respond(captured);
        response.RequestMessage = request;
        return response;
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json)
        => new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public override string ToString() => $"{Method} {PathAndQuery}";
}
