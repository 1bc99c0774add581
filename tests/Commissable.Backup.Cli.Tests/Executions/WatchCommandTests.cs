using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;

namespace Commissable.Backup.Cli.Tests.Executions;

/// <summary>executions watch follows an execution to its end and says how it ended.</summary>
public sealed class WatchCommandTests : CliHarness
{
    private const string Name = "projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions/0b6f7c1e-4d2a-4c3e-9a51-2f1d7e8c9a10";

    public WatchCommandTests()
    {
        Api.Seed(Name, new JsonObject { ["state"] = "ACTIVE", ["startTime"] = "2025-03-01T11:00:00Z" });
    }

    [Fact]
    public async Task Watch_follows_ACTIVE_to_SUCCEEDED_printing_each_change_and_the_result()
    {
        Api.Script.Add(Active("main", "restore"));
        Api.Script.Add(Active("main", "restore"));
        Api.Script.Add(Active("main", "restore"));
        Api.Script.Add(Active("smoke_test", "verify"));
        Api.Script.Add(new JsonObject
        {
            ["state"] = "SUCCEEDED",
            ["result"] = """{"newInstance":"prod-r1","verification":{"passed":true},"oldInstance":"prod"}""",
            ["endTime"] = "2025-03-01T11:42:30Z",
            ["status"] = new JsonObject { ["currentSteps"] = new JsonArray(new JsonObject { ["routine"] = "main", ["step"] = "done" }) },
        });

        var code = await ExecutionsWatchCommand.RunAsync([Name, .. Connection], Context());

        Assert.Equal(0, code);
        var progress = Error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
        [
            "2025-03-01T12:00:00Z  ACTIVE  at main.restore",
            "2025-03-01T12:00:00Z  ACTIVE  at smoke_test.verify",
            "2025-03-01T12:00:00Z  SUCCEEDED  at main.done",
            "execution SUCCEEDED after 2550s (ended 2025-03-01T11:42:30Z); result:",
        ], progress);
        // Back to 1 s after every change, doubling while nothing changes.
        Assert.Equal([1, 2, 4, 1], Waits.Select(w => w.TotalSeconds));
        var result = Out.ToString();
        Assert.Contains("\n  \"verification\": {\n    \"passed\": true\n  },", result, StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"newInstance":"prod-r1","verification":{"passed":true},"oldInstance":"prod"}"""), JsonNode.Parse(result)));
        Assert.All(Api.Requests, r => Assert.Equal("workflowexecutions.projects.locations.workflows.executions.get", r.MethodId));
        Assert.Equal($"v1/{Name}", Api.Requests[0].PathAndQuery);
        Assert.Empty(Api.Violations);
        AssertNoSecretsPrinted();
    }

    [Fact]
    public async Task Polling_backs_off_from_one_second_to_at_most_ten()
    {
        for (var i = 0; i < 7; i++)
        {
            Api.Script.Add(new JsonObject { ["state"] = "ACTIVE" });
        }

        Api.Script.Add(new JsonObject { ["state"] = "SUCCEEDED", ["result"] = "42" });

        Assert.Equal(0, await ExecutionsWatchCommand.RunAsync([Name, .. Connection], Context()));

        Assert.Equal([1, 2, 4, 8, 10, 10, 10], Waits.Select(w => w.TotalSeconds));
        Assert.Equal("42", Out.ToString().Trim());
    }

    [Fact]
    public async Task Watch_follows_ACTIVE_to_FAILED_and_prints_the_error_payload_and_context()
    {
        Api.Script.Add(Active("main", "verify"));
        Api.Script.Add(new JsonObject
        {
            ["state"] = "FAILED",
            ["endTime"] = "2025-03-01T11:10:00Z",
            ["duration"] = "600s",
            ["error"] = new JsonObject
            {
                ["payload"] = """{"message":"restore-verify failed: row counts differ","tags":["RestoreVerifyFailed"],"checks":{"rowCounts":"failed"}}""",
                ["context"] = "RuntimeError: restore-verify failed\nin step \"verify\", routine \"main\", line: 88",
            },
        });

        var code = await ExecutionsWatchCommand.RunAsync([Name, .. Connection], Context());

        Assert.Equal(1, code);
        var error = Error.ToString();
        Assert.Contains("2025-03-01T12:00:00Z  FAILED", error, StringComparison.Ordinal);
        Assert.Contains("execution FAILED after 600s (ended 2025-03-01T11:10:00Z); error:", error, StringComparison.Ordinal);
        Assert.Contains("  \"message\": \"restore-verify failed: row counts differ\",", error, StringComparison.Ordinal);
        Assert.Contains("    \"rowCounts\": \"failed\"", error, StringComparison.Ordinal);
        Assert.Contains("context: RuntimeError: restore-verify failed", error, StringComparison.Ordinal);
        Assert.Equal("", Out.ToString());
    }

    [Fact]
    public async Task A_cancelled_execution_exits_1_with_its_error()
    {
        Api.Script.Add(new JsonObject { ["state"] = "CANCELLED", ["error"] = new JsonObject { ["payload"] = "\"cancelled by jane@example.com\"" } });

        Assert.Equal(1, await ExecutionsWatchCommand.RunAsync([Name, .. Connection], Context()));
        Assert.Contains("execution CANCELLED; error:\n\"cancelled by jane@example.com\"", Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_that_is_not_JSON_is_printed_as_sent()
    {
        Api.Script.Add(new JsonObject { ["state"] = "FAILED", ["error"] = new JsonObject { ["payload"] = "plain text failure" } });

        Assert.Equal(1, await ExecutionsWatchCommand.RunAsync([Name, .. Connection], Context()));
        Assert.Contains("error:\nplain text failure", Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_C_stops_watching_exits_2_and_leaves_the_execution_running()
    {
        InterruptAtWait = 2;

        var code = await ExecutionsWatchCommand.RunAsync([Name, .. Connection], Context());

        Assert.Equal(2, code);
        var error = Error.ToString();
        Assert.Contains("interrupted: stopped watching; the execution keeps running on Google Cloud (nothing was cancelled).", error, StringComparison.Ordinal);
        Assert.Contains($"follow it again with: commissable-backup executions watch {Name} --endpoint ", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Api.Requests, r => r.MethodId?.EndsWith(".cancel", StringComparison.Ordinal) == true);
        Assert.Equal(2, Api.Requests.Count);
    }

    [Fact]
    public async Task An_unknown_execution_exits_69_with_Googles_message()
    {
        var code = await ExecutionsWatchCommand.RunAsync([Name.Replace("0b6f", "ffff", StringComparison.Ordinal), .. Connection], Context());

        Assert.Equal(69, code);
        Assert.Contains("answered 404 (notFound)", Error.ToString(), StringComparison.Ordinal);
        AssertNoSecretsPrinted();
    }

    [Theory]
    [InlineData(new string[0], "the execution to watch is required")]
    [InlineData(new[] { "0b6f7c1e" }, "'0b6f7c1e' is not an execution name")]
    [InlineData(new[] { "projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery" }, "is not an execution name")]
    [InlineData(new[] { "projects/p/locations/l/workflows/w/executions/../x" }, "is not an execution name")]
    [InlineData(new[] { Name, Name }, "unexpected argument")]
    [InlineData(new[] { Name, "--endpoint" }, "--endpoint needs a value")]
    [InlineData(new[] { Name, "--watch" }, "unknown option --watch")]
    public async Task A_bad_execution_name_or_option_is_a_usage_error(string[] args, string expected)
    {
        Assert.Equal(64, await ExecutionsWatchCommand.RunAsync(args, Context()));
        Assert.StartsWith("executions watch: ", Error.ToString(), StringComparison.Ordinal);
        Assert.Contains(expected, Error.ToString().Split('\n')[0], StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    private static JsonObject Active(string routine, string step) => new()
    {
        ["state"] = "ACTIVE",
        ["status"] = new JsonObject { ["currentSteps"] = new JsonArray(new JsonObject { ["routine"] = routine, ["step"] = step }) },
    };
}
