using System.Text.Json.Nodes;
using Commissable.Workflows.Local.Approvals;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Workflows.Local.Tests;

/// <summary>Callbacks resolve to an approval on the terminal, or time out at once when nobody can approve.</summary>
public sealed class ApprovalTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"appr-{Guid.NewGuid():N}"[..13]);

    private CallbackEvents Events(IApprover approver, TimeProvider? clock = null) =>
        new(new CallbackContext("proj", "workflows/disaster-recovery.yaml", Path.Combine(_state, "approvals"), "crm-dr-1", "exec-1"), approver, clock);

    private static async Task<JsonObject> EndpointAsync(CallbackEvents events) =>
        (await events.CallAsync("events.create_callback_endpoint", new JsonObject { ["http_callback_method"] = "POST" }))!.AsObject();

    [Fact]
    public async Task A_preapproved_callback_returns_the_documented_request_and_is_recorded()
    {
        var events = Events(new PreApproved("alice"));
        var endpoint = await EndpointAsync(events);
        Assert.Contains("/callbacks/", (string?)endpoint["url"], StringComparison.Ordinal);

        var received = (await events.CallAsync("events.await_callback", new JsonObject { ["callback"] = endpoint, ["timeout"] = 86400 }, step: "await_approval"))!.AsObject();

        Assert.Equal("HTTP", (string?)received["type"]);
        Assert.NotNull(received["received_time"]);
        var request = received["http_request"]!;
        Assert.Equal("POST", (string?)request["method"]);
        Assert.True((bool)request["body"]!["approved"]!);
        Assert.Equal("alice", (string?)request["body"]!["approvedBy"]);
        Assert.NotNull(request["headers"]);
        Assert.NotNull(request["query"]);
        Assert.StartsWith("/v1/projects/proj/", (string?)request["url"], StringComparison.Ordinal);

        var record = Assert.Single(Directory.GetFiles(Path.Combine(_state, "approvals"), "*-await_approval.json"));
        var saved = JsonNode.Parse(await File.ReadAllTextAsync(record))!;
        Assert.Equal("alice", (string?)saved["approvedBy"]);
        Assert.Equal((string?)endpoint["url"], (string?)saved["callbackUrl"]);
        Assert.EndsWith("disaster-recovery.yaml", (string?)saved["workflow"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_anyone_to_approve_the_await_raises_TimeoutError_at_once()
    {
        // A clock only the test moves, and it never does: a call that waited out its timeout would
        // never end (the real-time bound only turns such a hang into a failure).
        var clock = new FakeTimeProvider();
        var events = Events(new NoApprover(), clock);
        var endpoint = await EndpointAsync(events);
        var error = await events.RaisesAsync("TimeoutError", "events.await_callback", new JsonObject { ["callback"] = endpoint, ["timeout"] = 86400 })
            .WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Contains("--approve", (string?)error["message"], StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_state, "approvals")));
    }

    [Fact]
    public async Task On_a_terminal_the_operator_must_type_the_word_asked_for()
    {
        var output = new StringWriter();
        var events = Events(new TerminalApprover(new StringReader("yes\ncrm-dr-1\n"), output, "bob"));
        var received = await events.CallAsync("events.await_callback", new JsonObject { ["callback"] = await EndpointAsync(events) });
        Assert.Equal("bob", (string?)received!["http_request"]!["body"]!["approvedBy"]);
        Assert.Contains("Type 'crm-dr-1' to approve", output.ToString(), StringComparison.Ordinal);

        var prompts = new StringWriter();
        var refused = Events(new TerminalApprover(new StringReader("no\n"), prompts, "bob"));
        var endpoint = await EndpointAsync(refused);
        await refused.RaisesAsync("TimeoutError", "events.await_callback", new JsonObject { ["callback"] = endpoint });
        // A workflow that awaits again in rounds is not asked again: the refusal stands.
        await refused.RaisesAsync("TimeoutError", "events.await_callback", new JsonObject { ["callback"] = endpoint.DeepClone() });
        Assert.Single(prompts.ToString().Split("APPROVAL NEEDED")[1..]);
        var ended = Events(new TerminalApprover(new StringReader(""), new StringWriter(), "bob"));
        await ended.RaisesAsync("TimeoutError", "events.await_callback", new JsonObject { ["callback"] = await EndpointAsync(ended) });
    }

    [Fact]
    public async Task An_unknown_callback_is_a_ValueError()
    {
        await Events(new PreApproved("a")).RaisesAsync("ValueError", "events.await_callback", new JsonObject { ["callback"] = new JsonObject { ["url"] = "local://elsewhere" } });
    }

    public void Dispose()
    {
        if (Directory.Exists(_state)) Directory.Delete(_state, recursive: true);
    }
}
