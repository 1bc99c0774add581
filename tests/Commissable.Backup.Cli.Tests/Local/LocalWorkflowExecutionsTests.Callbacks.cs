using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.Workflows;
using Commissable.Workflows;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Backup.Cli.Tests.Local;

/// <summary><c>executions.callbacks.list</c> and sending a callback, with the production client.</summary>
public sealed partial class LocalWorkflowExecutionsTests
{
    /// <summary>
    /// Makes a PUT callback it takes only after a POST callback (the gate) has been answered, so a
    /// request to the first arrives while nobody awaits it.
    /// </summary>
    private const string EarlyPayloadWorkflow = """
        main:
          steps:
            - make_early:
                call: events.create_callback_endpoint
                args:
                  http_callback_method: PUT
                result: early
            - make_gate:
                call: events.create_callback_endpoint
                result: gate
            - tell:
                call: sys.log
                args:
                  data: ${early.url}
            - hold:
                call: events.await_callback
                args:
                  callback: ${gate}
                  timeout: 3600
                result: opened
            - take:
                call: events.await_callback
                args:
                  callback: ${early}
                  timeout: 3600
                result: taken
            - done:
                return:
                  early: ${taken.http_request.body}
                  gate: ${opened.http_request.body}
        """;

    private static string CallbacksPath(string execution) => $"v1/{execution}/callbacks";

    [Fact]
    public async Task The_client_lists_the_awaited_callback_and_its_send_resumes_the_execution()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("approval"), null, cancellationToken: ct);
        var name = ExecutionName.Parse(created.Name!);
        var url = await _observer.FirstLog.Task.WaitAsync(ct);
        await _server.WhenAwaitingCallbackAsync(created.Name!).WaitAsync(ct);

        var callback = Assert.Single(await _client.ListCallbacksAsync(name, ct));
        Assert.Equal(url, new Uri(_server.BaseUri, "v1/" + callback.Name).AbsoluteUri);
        Assert.Equal("POST", callback.Method);
        Assert.Equal("1", callback.Waiters);
        Assert.True(callback.HasWaiters);
        Assert.Empty(callback.AvailablePayloads!);

        // Any spelling of the method: the client sends Google's.
        var approval = new JsonObject { ["approved"] = true, ["approvedBy"] = "carol", ["note"] = "ticket 42" };
        await _client.SendCallbackAsync(name, callback.Id!, "post", approval, ct);

        await _server.WhenStoppedAsync(created.Name!).WaitAsync(ct);
        var done = await _client.GetExecutionAsync(name, ct);
        Assert.Equal(ExecutionStates.Succeeded, done.State);
        var result = JsonNode.Parse(done.Result!)!;
        Assert.True(JsonNode.DeepEquals(approval, result["body"]), result.ToJsonString());
        Assert.Equal("POST", (string?)result["method"]);
        Assert.DoesNotContain(Token, done.Result, StringComparison.Ordinal);

        // The execution has ended: its callbacks are gone from the list and refuse a send.
        Assert.Empty(await _client.ListCallbacksAsync(name, ct));
        var gone = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => _client.SendCallbackAsync(name, callback.Id!, "POST", new JsonObject(), ct));
        Assert.Equal(404, gone.HttpStatus);
    }

    [Fact]
    public async Task A_callback_sent_before_any_step_awaits_it_is_an_available_payload_until_taken()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("early"), null, cancellationToken: ct);
        var name = ExecutionName.Parse(created.Name!);
        var earlyUrl = await _observer.FirstLog.Task.WaitAsync(ct);
        var earlyId = earlyUrl[(earlyUrl.LastIndexOf('/') + 1)..];
        await _server.WhenAwaitingCallbackAsync(created.Name!).WaitAsync(ct);

        // A method other than the callback's is another callback: 404, and nothing is queued.
        var wrong = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => _client.SendCallbackAsync(name, earlyId, "POST", new JsonObject { ["n"] = 0 }, ct));
        Assert.Equal(404, wrong.HttpStatus);
        await _client.SendCallbackAsync(name, earlyId, "PUT", new JsonObject { ["n"] = 1 }, ct);

        var callbacks = await _client.ListCallbacksAsync(name, ct);
        Assert.Equal(2, callbacks.Count);
        Assert.Equal(callbacks.Select(c => c.Id).Order(StringComparer.Ordinal), callbacks.Select(c => c.Id));
        var early = Assert.Single(callbacks, c => c.Id == earlyId);
        var gate = Assert.Single(callbacks, c => c.Id != earlyId);
        Assert.Equal(("PUT", "0", false), (early.Method, early.Waiters, early.HasWaiters));
        Assert.Equal(("POST", "1", true), (gate.Method, gate.Waiters, gate.HasWaiters));
        Assert.Empty(gate.AvailablePayloads!);
        var payload = JsonNode.Parse(Assert.Single(early.AvailablePayloads!))!;
        Assert.Equal(1, (int)payload["http_request"]!["body"]!["n"]!);
        Assert.Equal("PUT", (string?)payload["http_request"]!["method"]);
        Assert.DoesNotContain(Token, early.AvailablePayloads![0], StringComparison.Ordinal);

        // Pages of one, in id order, the token leading from the first to the second.
        var first = await GetJson(CallbacksPath(created.Name!) + "?pageSize=1", ct);
        Assert.Equal(callbacks[0].Name, (string?)Assert.Single(first["callbacks"]!.AsArray())!["name"]);
        var token = (string)first["nextPageToken"]!;
        var second = await GetJson(CallbacksPath(created.Name!) + "?pageSize=1&pageToken=" + token, ct);
        Assert.Equal(callbacks[1].Name, (string?)Assert.Single(second["callbacks"]!.AsArray())!["name"]);
        Assert.Null(second["nextPageToken"]);

        await _client.SendCallbackAsync(name, gate.Id!, "POST", new JsonObject { ["open"] = true }, ct);
        await _server.WhenStoppedAsync(created.Name!).WaitAsync(ct);
        var done = await _client.GetExecutionAsync(name, ct);
        Assert.Equal(ExecutionStates.Succeeded, done.State);
        var result = JsonNode.Parse(done.Result!)!;
        Assert.Equal(1, (int)result["early"]!["n"]!);
        Assert.True((bool)result["gate"]!["open"]!);
    }

    [Theory]
    [InlineData("?pageSize=-1")]
    [InlineData("?pageSize=1001")]
    [InlineData("?pageSize=ten")]
    [InlineData("?pageSize=1.5")]
    [InlineData("?pageSize=1&pageSize=2")]
    [InlineData("?pageToken=zzz")]
    [InlineData("?pageToken=0123456789ABCDEF0123456789ABCDEF")]
    public async Task A_bad_page_size_or_token_for_the_callbacks_is_400_in_Googles_shape(string query)
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("approval"), null, cancellationToken: ct);
        await _server.WhenAwaitingCallbackAsync(created.Name!).WaitAsync(ct);

        using var answer = await Send(HttpMethod.Get, new Uri(_server.BaseUri, CallbacksPath(created.Name!) + query).AbsoluteUri, null, ct);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var error = JsonNode.Parse(await answer.Content.ReadAsStringAsync(ct))!["error"]!;
        Assert.Equal(400, (int)error["code"]!);
        Assert.Equal("INVALID_ARGUMENT", (string?)error["status"]);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
    }

    [Fact]
    public async Task Listing_callbacks_needs_the_token_the_GET_method_and_a_known_execution()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("approval"), null, cancellationToken: ct);
        await _server.WhenAwaitingCallbackAsync(created.Name!).WaitAsync(ct);
        var path = new Uri(_server.BaseUri, CallbacksPath(created.Name!));

        using (var anonymous = await _http.GetAsync(path, ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        var other = Path.Combine(_directory, "other-token");
        await File.WriteAllTextAsync(other, "not-the-token", ct);
        using (var client = new WorkflowExecutionsClientBuilder { BaseUri = _server.BaseUri, TokenSource = new FileTokenSource(other) }.Build())
        {
            var refused = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => client.ListCallbacksAsync(ExecutionName.Parse(created.Name!), ct));
            Assert.Equal(401, refused.HttpStatus);
            Assert.DoesNotContain("not-the-token", refused.Message, StringComparison.Ordinal);
        }
        using (var post = await Send(HttpMethod.Post, path.AbsoluteUri, "{}", ct))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        }
        var missing = ExecutionName.Parse("projects/drill-project/locations/local/workflows/approval/executions/no-such-execution");
        var unknown = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => _client.ListCallbacksAsync(missing, ct));
        Assert.Equal(404, unknown.HttpStatus);

        // The refusals changed nothing: the one callback still has its waiter.
        var callback = Assert.Single(await _client.ListCallbacksAsync(ExecutionName.Parse(created.Name!), ct));
        Assert.Equal("1", callback.Waiters);
    }

    [Fact]
    public async Task A_callback_awaited_past_its_timeout_fails_the_execution_with_TimeoutError_and_is_gone()
    {
        var ct = _deadline.Token;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 4, 0, 0, TimeSpan.Zero));
        await using var server = await LocalWorkflowExecutions.StartAsync(Workflows, TokenFile, 0, time, _ => new WorkflowRunOptions(), ct);
        using var client = new WorkflowExecutionsClientBuilder { BaseUri = server.BaseUri, TokenSource = new FileTokenSource(TokenFile) }.Build();
        var created = await client.CreateExecutionAsync(Workflow("approval"), null, cancellationToken: ct);
        var name = ExecutionName.Parse(created.Name!);
        await server.WhenAwaitingCallbackAsync(created.Name!).WaitAsync(ct);
        Assert.Equal("1", Assert.Single(await client.ListCallbacksAsync(name, ct)).Waiters);

        time.Advance(TimeSpan.FromSeconds(3600));
        await server.WhenStoppedAsync(created.Name!).WaitAsync(ct);

        var done = await client.GetExecutionAsync(name, ct);
        Assert.Equal(ExecutionStates.Failed, done.State);
        Assert.Contains("TimeoutError", done.Error!.Payload, StringComparison.Ordinal);
        Assert.Empty(await client.ListCallbacksAsync(name, ct));
    }
}
