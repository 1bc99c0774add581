using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.Workflows;
using Commissable.Workflows;
using Commissable.Testing;
using Commissable.Workflows.Runtime;

namespace Commissable.Backup.Cli.Tests.Local;

/// <summary>The local Workflow Executions API, driven by the production client over HTTP.</summary>
public sealed partial class LocalWorkflowExecutionsTests : IAsyncLifetime, IDisposable
{
    private const string Token = "lc-test-token-0123456789abcdef";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"wfx-{Guid.NewGuid():N}"[..12]);
    private readonly Observer _observer = new();
    // A bound on every wait: a broken server fails the test instead of hanging it.
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));
    private LocalWorkflowExecutions _server = null!;
    private WorkflowExecutionsClient _client = null!;
    private HttpClient _http = null!;

    private string Workflows => Path.Combine(_directory, "workflows");
    private string TokenFile => Path.Combine(_directory, "token");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Workflows);
        await File.WriteAllTextAsync(TokenFile, Token);
        File.SetUnixFileMode(TokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(Path.Combine(Workflows, "adds.yaml"), """
            main:
              params: [args]
              steps:
                - add:
                    assign:
                      - total: ${args.a + args.b}
                - done:
                    return:
                      total: ${total}
                      workflow: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}
                      execution: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}
            """);
        await File.WriteAllTextAsync(Path.Combine(Workflows, "raises.yaml"), """
            main:
              steps:
                - fail:
                    raise:
                      message: "the source instance is not RUNNABLE"
                      code: 7
            """);
        await File.WriteAllTextAsync(Path.Combine(Workflows, "approval.yaml"), """
            main:
              steps:
                - make:
                    call: events.create_callback_endpoint
                    args:
                      http_callback_method: POST
                    result: callback
                - tell:
                    call: sys.log
                    args:
                      data: ${callback.url}
                - wait:
                    call: events.await_callback
                    args:
                      callback: ${callback}
                      timeout: 3600
                    result: answer
                - done:
                    return:
                      body: ${answer.http_request.body}
                      method: ${answer.http_request.method}
                      headers: ${answer.http_request.headers}
            """);
        await File.WriteAllTextAsync(Path.Combine(Workflows, "early.yaml"), EarlyPayloadWorkflow);
        await File.WriteAllTextAsync(Path.Combine(Workflows, "sleeps.yaml"), """
            main:
              steps:
                - nap:
                    call: sys.sleep
                    args:
                      seconds: 3600
                - done:
                    return: "woke"
            """);
        _server = await LocalWorkflowExecutions.StartAsync(Workflows, TokenFile, 0, TimeProvider.System,
            _ => new WorkflowRunOptions { Observer = _observer }, _deadline.Token);
        _client = new WorkflowExecutionsClientBuilder { BaseUri = _server.BaseUri, TokenSource = new FileTokenSource(TokenFile) }.Build();
        _http = new HttpClient { BaseAddress = _server.BaseUri };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _client.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    public void Dispose() => _deadline.Dispose();

    private static WorkflowName Workflow(string id) => new("drill-project", "local", id);

    [Fact]
    public async Task An_execution_runs_the_workflow_file_and_get_shows_its_result()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("adds"), new JsonObject { ["a"] = 2, ["b"] = 40 }, cancellationToken: ct);
        Assert.True(ExecutionName.TryParse(created.Name, out var name));
        Assert.Equal("adds", name.Workflow.Workflow);
        Assert.Equal("{\"a\":2,\"b\":40}", created.Argument);

        await _server.WhenStoppedAsync(created.Name!);
        var done = await _client.GetExecutionAsync(name, ct);

        Assert.Equal(ExecutionStates.Succeeded, done.State);
        var result = JsonNode.Parse(done.Result!)!;
        Assert.Equal(42, (int)result["total"]!);
        Assert.Equal("adds", (string?)result["workflow"]);
        Assert.Equal(name.Id, (string?)result["execution"]);
        Assert.Null(done.Error);
        Assert.Equal(LocalWorkflowExecutions.RevisionId, done.WorkflowRevisionId);
        Assert.NotNull(done.StartTime);
        Assert.True(done.EndTime >= done.StartTime);
    }

    [Fact]
    public async Task A_raised_error_fails_the_execution_with_the_error_as_payload()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("raises"), null, cancellationToken: ct);
        await _server.WhenStoppedAsync(created.Name!);
        var done = await _client.GetExecutionAsync(ExecutionName.Parse(created.Name!), ct);

        Assert.Equal(ExecutionStates.Failed, done.State);
        Assert.Null(done.Result);
        var payload = JsonNode.Parse(done.Error!.Payload!)!;
        Assert.Equal("the source instance is not RUNNABLE", (string?)payload["message"]);
        Assert.Equal(7, (int)payload["code"]!);
        Assert.Contains("fail", done.Error.Context, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_post_to_the_callback_url_is_what_await_callback_returns()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("approval"), null, cancellationToken: ct);
        var url = await _observer.FirstLog.Task.WaitAsync(ct);
        Assert.StartsWith(new Uri(_server.BaseUri, "v1/" + created.Name + "/callbacks/").AbsoluteUri, url, StringComparison.Ordinal);
        Assert.Equal(ExecutionStates.Active, (await _client.GetExecutionAsync(ExecutionName.Parse(created.Name!), ct)).State);

        // Without the token the callback is refused and the run goes on waiting.
        using (var anonymous = await _http.PostAsync(new Uri(url), Json("{\"approved\":true}"), ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        // Another method than the one the endpoint was made for is not this callback.
        using (var wrongMethod = await Send(HttpMethod.Put, url, "{\"approved\":true}", ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, wrongMethod.StatusCode);
        }
        using (var approve = await Send(HttpMethod.Post, url, "{\"approved\":true,\"approvedBy\":\"bob\"}", ct))
        {
            Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        }

        await _server.WhenStoppedAsync(created.Name!);
        var done = await _client.GetExecutionAsync(ExecutionName.Parse(created.Name!), ct);
        Assert.Equal(ExecutionStates.Succeeded, done.State);
        var result = JsonNode.Parse(done.Result!)!;
        Assert.Equal("bob", (string?)result["body"]!["approvedBy"]);
        Assert.True((bool)result["body"]!["approved"]!);
        Assert.Equal("POST", (string?)result["method"]);
        Assert.DoesNotContain(Token, done.Result, StringComparison.Ordinal);

        // The execution has ended: its callback is gone.
        using var late = await Send(HttpMethod.Post, url, "{}", ct);
        Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
    }

    [Fact]
    public async Task Cancel_stops_an_execution_waiting_on_a_callback()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("approval"), null, cancellationToken: ct);
        await _observer.FirstLog.Task.WaitAsync(ct);
        var name = ExecutionName.Parse(created.Name!);

        var cancelled = await _client.CancelExecutionAsync(name, ct);
        Assert.Equal(ExecutionStates.Cancelled, cancelled.State);
        await _server.WhenStoppedAsync(created.Name!).WaitAsync(ct);

        var done = await _client.GetExecutionAsync(name, ct);
        Assert.Equal(ExecutionStates.Cancelled, done.State);
        Assert.NotNull(done.EndTime);
        Assert.Contains("CancelledError", done.Error!.Payload, StringComparison.Ordinal);

        var again = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => _client.CancelExecutionAsync(name, ct));
        Assert.Equal(400, again.HttpStatus);
    }

    [Fact]
    public async Task Cancel_stops_an_execution_in_sys_sleep()
    {
        var ct = _deadline.Token;
        var created = await _client.CreateExecutionAsync(Workflow("sleeps"), null, cancellationToken: ct);
        await _observer.Started("nap").WaitAsync(ct);
        await _client.CancelExecutionAsync(ExecutionName.Parse(created.Name!), ct);
        await _server.WhenStoppedAsync(created.Name!).WaitAsync(ct);
        var done = await _client.GetExecutionAsync(ExecutionName.Parse(created.Name!), ct);
        Assert.Equal(ExecutionStates.Cancelled, done.State);
        Assert.Null(done.Result);
    }

    [Fact]
    public async Task List_pages_through_a_workflows_executions_newest_first()
    {
        var ct = _deadline.Token;
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            names.Add((await _client.CreateExecutionAsync(Workflow("adds"), new JsonObject { ["a"] = i, ["b"] = 0 }, cancellationToken: ct)).Name!);
        }
        await _client.CreateExecutionAsync(Workflow("raises"), null, cancellationToken: ct);

        var first = await GetJson("v1/projects/drill-project/locations/local/workflows/adds/executions?pageSize=2", ct);
        var firstPage = first["executions"]!.AsArray().Select(e => (string)e!["name"]!).ToList();
        Assert.Equal([names[2], names[1]], firstPage);
        var token = (string)first["nextPageToken"]!;
        var second = await GetJson($"v1/projects/drill-project/locations/local/workflows/adds/executions?pageSize=2&pageToken={token}", ct);
        Assert.Equal([names[0]], second["executions"]!.AsArray().Select(e => (string)e!["name"]!));
        Assert.Null(second["nextPageToken"]);
    }

    [Fact]
    public async Task Requests_without_the_token_or_with_another_are_401()
    {
        var ct = _deadline.Token;
        using var anonymous = await _http.GetAsync(new Uri("v1/projects/drill-project/locations/local/workflows/adds/executions", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var other = Path.Combine(_directory, "other-token");
        await File.WriteAllTextAsync(other, "not-the-token", ct);
        using var client = new WorkflowExecutionsClientBuilder { BaseUri = _server.BaseUri, TokenSource = new FileTokenSource(other) }.Build();
        var refused = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => client.CreateExecutionAsync(Workflow("adds"), null, cancellationToken: ct));
        Assert.Equal(401, refused.HttpStatus);
        Assert.DoesNotContain("not-the-token", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1/projects/drill-project/locations/local/workflows/..%2Fetc/executions", HttpStatusCode.BadRequest)]
    [InlineData("v1/projects/drill-project/locations/local/workflows/9starts-with-digit/executions", HttpStatusCode.BadRequest)]
    [InlineData("v1/projects/-bad/locations/local/workflows/adds/executions", HttpStatusCode.BadRequest)]
    [InlineData("v1/projects/drill-project/locations/LOCAL/workflows/adds/executions", HttpStatusCode.BadRequest)]
    [InlineData("v1/projects/drill-project/locations/local/workflows/adds/executions/-x", HttpStatusCode.BadRequest)]
    [InlineData("v1/projects/drill-project/locations/local/workflows/adds/executions/no-such-execution", HttpStatusCode.NotFound)]
    [InlineData("v1/projects/drill-project/locations/local/workflows/adds/executions?pageToken=zzz", HttpStatusCode.BadRequest)]
    [InlineData("v1/projects/drill-project/locations/local/workflows/adds/executions?pageSize=-1", HttpStatusCode.BadRequest)]
    [InlineData("v1/projects/drill-project/locations/local/workflows", HttpStatusCode.NotFound)]
    [InlineData("v2/anything", HttpStatusCode.NotFound)]
    public async Task Bad_names_and_unknown_resources_are_refused(string path, HttpStatusCode expected)
    {
        var ct = _deadline.Token;
        using var answer = await Send(HttpMethod.Get, new Uri(_server.BaseUri, path).AbsoluteUri, null, ct);
        Assert.Equal(expected, answer.StatusCode);
        var error = JsonNode.Parse(await answer.Content.ReadAsStringAsync(ct))!["error"]!;
        Assert.Equal((int)expected, (int)error["code"]!);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
    }

    [Fact]
    public async Task Creating_an_execution_of_an_unknown_workflow_is_404_and_a_bad_argument_400()
    {
        var ct = _deadline.Token;
        var unknown = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => _client.CreateExecutionAsync(Workflow("no-such-workflow"), null, cancellationToken: ct));
        Assert.Equal(404, unknown.HttpStatus);
        using var badArgument = await Send(HttpMethod.Post, new Uri(_server.BaseUri, "v1/projects/drill-project/locations/local/workflows/adds/executions").AbsoluteUri, "{\"argument\":\"{not json\"}", ct);
        Assert.Equal(HttpStatusCode.BadRequest, badArgument.StatusCode);
        using var notString = await Send(HttpMethod.Post, new Uri(_server.BaseUri, "v1/projects/drill-project/locations/local/workflows/adds/executions").AbsoluteUri, "{\"argument\":{\"a\":1}}", ct);
        Assert.Equal(HttpStatusCode.BadRequest, notString.StatusCode);
    }

    [GcloudFact]
    public async Task Gcloud_with_the_endpoint_override_runs_and_describes_executions()
    {
        var ct = _deadline.Token;
        var run = await Gcloud(ct, "workflows", "run", "adds", "--location=local", "--data={\"a\": 20, \"b\": 22}", "--format=json");
        var ran = JsonNode.Parse(run)!;
        Assert.Equal(ExecutionStates.Succeeded, (string?)ran["state"]);
        Assert.Equal(42, (int)JsonNode.Parse((string)ran["result"]!)!["total"]!);

        var created = await _client.CreateExecutionAsync(Workflow("raises"), null, cancellationToken: ct);
        await _server.WhenStoppedAsync(created.Name!);
        var described = JsonNode.Parse(await Gcloud(ct, "workflows", "executions", "describe", created.Name!, "--format=json"))!;
        Assert.Equal(created.Name, (string?)described["name"]);
        Assert.Equal(ExecutionStates.Failed, (string?)described["state"]);
        Assert.Contains("the source instance is not RUNNABLE", (string?)described["error"]!["payload"], StringComparison.Ordinal);
    }

    /// <summary>Runs gcloud with a private config, the workflowexecutions endpoint overridden to the server and the token from its file.</summary>
    private async Task<string> Gcloud(CancellationToken ct, params string[] arguments)
    {
        var start = GcloudStart.Info([.. arguments, "--project=drill-project"], Path.Combine(_directory, "gcloud"), TokenFile,
            new Dictionary<string, Uri> { ["workflowexecutions"] = _server.BaseUri }, project: null);
        var (exit, stdout, stderr) = await GcloudStart.RunAsync(start, ct);
        Assert.True(exit == 0, $"gcloud {string.Join(' ', arguments)} exited {exit}:\n{stderr}\n{stdout}");
        Assert.DoesNotContain(Token, stdout + stderr, StringComparison.Ordinal);
        return stdout;
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> Send(HttpMethod method, string url, string? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(url)) { Content = body is null ? null : Json(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return await _http.SendAsync(request, ct);
    }

    private async Task<JsonNode> GetJson(string path, CancellationToken ct)
    {
        using var answer = await Send(HttpMethod.Get, new Uri(_server.BaseUri, path).AbsoluteUri, null, ct);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return JsonNode.Parse(await answer.Content.ReadAsStringAsync(ct))!;
    }

    /// <summary>Tells the test the first <c>sys.log</c> and when a step starts.</summary>
    private sealed class Observer : IWorkflowObserver
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _steps = new(StringComparer.Ordinal);

        public TaskCompletionSource<string> FirstLog { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started(string step) => _steps.GetOrAdd(step, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void StepStarted(string path, int line) =>
            _steps.GetOrAdd(path[(path.LastIndexOf('/') + 1)..], _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        public void Logged(string severity, JsonNode? data)
        {
            if (data is JsonValue value && value.TryGetValue<string>(out var text))
            {
                FirstLog.TrySetResult(text);
            }
        }
    }
}
