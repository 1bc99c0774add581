using System.Text.Json.Nodes;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.Tests.Contracts;
using Commissable.Backup.Google.Tests.Replay;
using Commissable.Backup.Google.Workflows;

namespace Commissable.Backup.Google.Tests.Executions;

/// <summary>
/// The Workflow Executions client against a loopback server that answers like the API and checks
/// every request against the discovery document.
/// </summary>
public sealed class WorkflowExecutionsClientTests : IDisposable
{
    private static readonly WorkflowName Workflow = new("commissable-prod", "europe-west1", "disaster-recovery");

    private readonly FakeExecutionsApi _api = new();
    private readonly WorkflowExecutionsClient _client;

    public WorkflowExecutionsClientTests()
    {
        _client = Client(new StaticTokenSource(FakeExecutionsApi.Token));
    }

    [Fact]
    public async Task Create_posts_the_argument_as_a_JSON_string_and_returns_the_typed_execution()
    {
        var argument = new JsonObject { ["sourceInstance"] = "prod", ["criticalTables"] = new JsonArray("Tenant", "Invoice") };

        var execution = await _client.CreateExecutionAsync(Workflow, argument, CallLogLevels.LogErrorsOnly);

        var request = Assert.Single(_api.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("v1/projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions", request.PathAndQuery);
        Assert.Equal("workflowexecutions.projects.locations.workflows.executions.create", request.MethodId);
        var body = JsonNode.Parse(request.Body!)!.AsObject();
        Assert.Equal(["argument", "callLogLevel"], body.Select(p => p.Key).Order());
        Assert.True(JsonNode.DeepEquals(argument, JsonNode.Parse((string)body["argument"]!)));
        Assert.Equal("LOG_ERRORS_ONLY", (string?)body["callLogLevel"]);

        Assert.StartsWith("projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions/", execution.Name, StringComparison.Ordinal);
        Assert.Equal(ExecutionStates.Active, execution.State);
        Assert.Equal("000001-a1b", execution.WorkflowRevisionId);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 10, 0, 0, TimeSpan.Zero), execution.StartTime!.Value.AddTicks(-(execution.StartTime.Value.Ticks % TimeSpan.TicksPerSecond)));
        Assert.False(execution.IsFinished);
        Assert.Empty(_api.Violations);
    }

    [Fact]
    public async Task Create_without_a_call_log_level_sends_only_the_argument()
    {
        await _client.CreateExecutionAsync(Workflow, new JsonObject { ["a"] = 1 });

        var body = JsonNode.Parse(_api.Requests[0].Body!)!.AsObject();
        Assert.Equal("argument", Assert.Single(body).Key);
        Assert.Equal("""{"a":1}""", (string?)body["argument"]);
    }

    [Fact]
    public async Task Get_follows_an_execution_to_its_result_and_to_its_error()
    {
        _api.Script.Add(new JsonObject { ["state"] = "ACTIVE", ["status"] = new JsonObject { ["currentSteps"] = new JsonArray(new JsonObject { ["routine"] = "main", ["step"] = "clone" }) } });
        _api.Script.Add(new JsonObject { ["state"] = "SUCCEEDED", ["result"] = """{"newInstance":"prod-restored"}""", ["endTime"] = "2025-03-01T10:30:00Z", ["duration"] = "1800s" });
        var created = await _client.CreateExecutionAsync(Workflow, new JsonObject());
        var name = ExecutionName.Parse(created.Name!);

        var first = await _client.GetExecutionAsync(name);
        var second = await _client.GetExecutionAsync(name);

        Assert.Equal("clone", first.Status!.CurrentSteps![0].Step);
        Assert.Equal(ExecutionStates.Succeeded, second.State);
        Assert.True(second.IsFinished);
        Assert.Equal("prod-restored", (string?)JsonNode.Parse(second.Result!)!["newInstance"]);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 10, 30, 0, TimeSpan.Zero), second.EndTime);
        Assert.Equal($"v1/{created.Name}", _api.Requests[^1].PathAndQuery);
        Assert.Empty(_api.Violations);
    }

    [Fact]
    public async Task A_failed_execution_carries_the_error_payload_and_context()
    {
        _api.Script.Add(new JsonObject
        {
            ["state"] = "FAILED",
            ["error"] = new JsonObject
            {
                ["payload"] = """{"message":"smoke tests failed","tags":["RestoreVerifyFailed"]}""",
                ["context"] = "RuntimeError: ... in step \"verify\"",
                ["stackTrace"] = new JsonObject { ["elements"] = new JsonArray(new JsonObject { ["step"] = "verify", ["routine"] = "main", ["position"] = new JsonObject { ["line"] = "42", ["column"] = "5", ["length"] = "10" } }) },
            },
        });
        var created = await _client.CreateExecutionAsync(Workflow, new JsonObject());

        var failed = await _client.GetExecutionAsync(Name(created));

        Assert.Equal(ExecutionStates.Failed, failed.State);
        Assert.Equal("smoke tests failed", (string?)JsonNode.Parse(failed.Error!.Payload!)!["message"]);
        Assert.Contains("verify", failed.Error.Context, StringComparison.Ordinal);
        Assert.Equal("42", failed.Error.StackTrace!.Elements![0].Position!.Line);
    }

    [Fact]
    public async Task Cancel_posts_an_empty_request_to_the_cancel_method()
    {
        var created = await _client.CreateExecutionAsync(Workflow, new JsonObject());

        var cancelled = await _client.CancelExecutionAsync(Name(created));

        Assert.Equal(ExecutionStates.Cancelled, cancelled.State);
        var request = _api.Requests[^1];
        Assert.Equal(("POST", $"v1/{created.Name}:cancel", "{}"), (request.Method, request.PathAndQuery, request.Body));
        Assert.Equal("workflowexecutions.projects.locations.workflows.executions.cancel", request.MethodId);
        Assert.Empty(_api.Violations);
    }

    [Fact]
    public async Task Transient_answers_are_retried_with_backoff_for_create_and_get()
    {
        _api.FailNext(429, "rateLimitExceeded", "Quota exceeded");
        _api.FailNext(503, "backendError", "The service is currently unavailable.");
        var created = await _client.CreateExecutionAsync(Workflow, new JsonObject());
        _api.FailNext(500, "backendError", "Internal error");
        var read = await _client.GetExecutionAsync(Name(created));

        Assert.Equal(created.Name, read.Name);
        Assert.Equal(5, _api.Requests.Count);
    }

    [Fact]
    public async Task An_error_answer_is_one_typed_exception_with_Googles_message_and_no_token()
    {
        var missing = ExecutionName.Parse("projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions/nope");

        var e = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => _client.GetExecutionAsync(missing));

        Assert.Equal(404, e.HttpStatus);
        Assert.Equal("notFound", e.Reason);
        Assert.Contains("was not found", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeExecutionsApi.Token, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retries_that_run_out_say_how_many_attempts_were_made()
    {
        for (var i = 0; i < 3; i++)
        {
            _api.FailNext(503, "backendError", "unavailable");
        }

        var e = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => _client.CreateExecutionAsync(Workflow, new JsonObject()));

        Assert.Equal(503, e.HttpStatus);
        Assert.Contains("gave up after 3 attempts", e.ApiMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_token_is_refused_and_the_token_file_source_is_read_per_request()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "wrong-token\n");
            using var client = Client(new FileTokenSource(file));
            var e = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => client.CreateExecutionAsync(Workflow, new JsonObject()));
            Assert.Equal(401, e.HttpStatus);

            await File.WriteAllTextAsync(file, FakeExecutionsApi.Token + "\n");
            var created = await client.CreateExecutionAsync(Workflow, new JsonObject());
            Assert.Equal(ExecutionStates.Active, created.State);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_argument_over_32_KiB_is_refused_before_any_request()
    {
        var big = new JsonObject { ["criticalTables"] = new JsonArray([.. Enumerable.Range(0, 4000).Select(i => (JsonNode)$"table_{i}")]) };

        await Assert.ThrowsAsync<ArgumentException>(() => _client.CreateExecutionAsync(Workflow, big));
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public void The_default_endpoint_is_Googles_and_a_bad_override_is_refused()
    {
        Assert.Equal("https://workflowexecutions.googleapis.com/", new WorkflowExecutionsClientBuilder { TokenSource = new StaticTokenSource("t") }.Build().BaseUri.AbsoluteUri);
        Assert.Throws<InvalidOperationException>(() => new WorkflowExecutionsClientBuilder { BaseUri = new Uri("ftp://x/") }.Build());
        Assert.Equal("http://127.0.0.1:1/prefix/", new WorkflowExecutionsClientBuilder { BaseUri = new Uri("http://127.0.0.1:1/prefix"), TokenSource = new StaticTokenSource("t") }.Build().BaseUri.AbsoluteUri);
    }

    [Theory]
    [InlineData("""{"arguments":"{}"}""", "arguments: not a field")]
    [InlineData("""{"argument":{"a":1}}""", "argument: expected a JSON string")]
    [InlineData("""{"argument":"{}","callLogLevel":"VERBOSE"}""", "not one of the enum values")]
    public void The_contract_rejects_a_create_body_the_document_does_not_define(string body, string expected)
    {
        var result = DiscoveryContract.WorkflowExecutionsV1.Check("POST", "v1/projects/p/locations/l/workflows/w/executions", body);

        Assert.Contains(result.Violations, v => v.Contains(expected, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _client.Dispose();
        _api.Dispose();
    }

    private WorkflowExecutionsClient Client(IAccessTokenSource tokens) => new WorkflowExecutionsClientBuilder
    {
        BaseUri = _api.BaseUri,
        TokenSource = tokens,
        RetrySettings = new GoogleRetrySettings { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
    }.Build();

    private static ExecutionName Name(Execution execution) => ExecutionName.Parse(execution.Name!);
}
