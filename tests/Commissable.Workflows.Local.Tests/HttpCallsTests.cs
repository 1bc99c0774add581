using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Commissable.Workflows.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Commissable.Workflows.Local.Tests;

/// <summary>http.* against a real listener on 127.0.0.1: the documented request encoding, answer map and errors.</summary>
public sealed class HttpCallsTests : IAsyncLifetime, IDisposable
{
    private readonly HttpClient _client = new() { Timeout = Timeout.InfiniteTimeSpan };
    private WebApplication _app = null!;
    private string _base = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapPost("/echo", async (HttpContext c) =>
        {
            var body = await JsonNode.ParseAsync(c.Request.Body);
            return Results.Json(new JsonObject
            {
                ["received"] = body,
                ["contentType"] = c.Request.ContentType,
                ["query"] = c.Request.QueryString.Value,
                ["authorization"] = c.Request.Headers.Authorization.ToString(),
                ["custom"] = c.Request.Headers["X-Custom"].ToString(),
            });
        });
        _app.MapGet("/text", () => Results.Text("plain words"));
        _app.MapPost("/refuse", () => Results.Json(new { error = new { code = 412, message = "backups are off" } }, statusCode: 412));
        _app.MapGet("/slow", async (CancellationToken ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
            return "late";
        });
        await _app.StartAsync();
        _base = _app.Urls.First();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task A_post_sends_json_and_returns_body_code_and_headers()
    {
        var answer = (await new HttpCalls(_client).CallAsync("http.post", new JsonObject
        {
            ["url"] = _base + "/echo",
            ["body"] = new JsonObject { ["instance"] = "prod", ["n"] = 3 },
            ["query"] = new JsonObject { ["dry"] = true, ["k"] = "a b" },
            ["headers"] = new JsonObject { ["X-Custom"] = "yes" },
            ["auth"] = new JsonObject { ["type"] = "OIDC" },
            ["timeout"] = 30,
        }))!.AsObject();

        Assert.Equal(200, (int)answer["code"]!);
        Assert.StartsWith("application/json", (string?)answer["headers"]!["Content-Type"], StringComparison.Ordinal);
        var body = answer["body"]!;
        Assert.Equal("prod", (string?)body["received"]!["instance"]);
        Assert.StartsWith("application/json", (string?)body["contentType"], StringComparison.Ordinal);
        Assert.Equal("?dry=true&k=a%20b", (string?)body["query"]);
        Assert.Equal("yes", (string?)body["custom"]);
        // auth is accepted and not sent: no Google identity exists locally.
        Assert.Equal("", (string?)body["authorization"]);
    }

    [Fact]
    public async Task A_text_answer_stays_a_string()
    {
        var answer = await new HttpCalls(_client).CallAsync("http.request", new JsonObject { ["method"] = "GET", ["url"] = _base + "/text" });
        Assert.Equal("plain words", (string?)answer!["body"]);
    }

    [Fact]
    public async Task An_error_status_raises_HttpError_with_code_body_and_headers()
    {
        var error = await new HttpCalls(_client).RaisesAsync("HttpError", "http.post", new JsonObject { ["url"] = _base + "/refuse", ["body"] = new JsonObject() });
        Assert.Equal(412, (int)error["code"]!);
        Assert.Equal("backups are off", (string?)error["body"]!["error"]!["message"]);
        Assert.NotNull(error["headers"]!["Content-Type"]);
    }

    [Fact]
    public async Task A_slow_answer_raises_TimeoutError_and_a_closed_port_ConnectionError()
    {
        await new HttpCalls(_client).RaisesAsync("TimeoutError", "http.get", new JsonObject { ["url"] = _base + "/slow", ["timeout"] = 0.2 });
        using var closed = ClosedPort();
        await new HttpCalls(_client).RaisesAsync("ConnectionError", "http.get", new JsonObject { ["url"] = $"http://127.0.0.1:{((IPEndPoint)closed.LocalEndPoint!).Port}/" });
    }

    [Fact]
    public async Task Bad_arguments_are_refused()
    {
        var http = new HttpCalls(_client);
        await http.RaisesAsync("ValueError", "http.get", new JsonObject { ["url"] = _base, ["auth"] = new JsonObject { ["type"] = "Basic" } });
        await http.RaisesAsync("ValueError", "http.get", new JsonObject { ["url"] = _base, ["timeout"] = 5000 });
        await http.RaisesAsync("TypeError", "http.get", new JsonObject { ["url"] = _base, ["uri"] = "x" });
        await http.RaisesAsync("ValueError", "http.get", new JsonObject { ["url"] = "not a url" });
    }

    /// <summary>
    /// A port bound and never listened on, held until disposed: a connection to it is refused, and
    /// no other program can start listening on it meanwhile (as it could on one picked and let go).
    /// </summary>
    private static Socket ClosedPort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
