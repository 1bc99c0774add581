using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Tests;

public class ErrorHandlingTests
{
    private readonly Harness _harness = new();

    [Fact]
    public async Task Except_binds_the_error_map_with_its_tags()
    {
        var result = await _harness.RunAsync("""
            - risky:
                try:
                  steps:
                    - divide:
                        assign:
                          - x: ${1 / 0}
                except:
                  as: e
                  steps:
                    - handled:
                        return: ${[e.tags, "ZeroDivisionError" in e.tags]}
            """);

        Assert.Equal("""[["ZeroDivisionError"],true]""", Harness.Json(result));
    }

    [Fact]
    public async Task A_raised_string_is_caught_as_that_string()
    {
        var result = await _harness.RunAsync("""
            - risky:
                try:
                  steps:
                    - fail:
                        raise: "the new instance must not be the source"
                except:
                  as: e
                  steps:
                    - handled:
                        return: ${e}
            """);

        Assert.Equal("\"the new instance must not be the source\"", Harness.Json(result));
    }

    [Fact]
    public async Task An_uncaught_raised_map_ends_the_run_with_that_map_step_and_line()
    {
        var failure = await _harness.FailAsync("""
            - prepare:
                assign:
                  - code: 412
            - refuse:
                raise:
                  code: ${code}
                  message: "backups are off"
            """);

        Assert.Equal("""{"code":412,"message":"backups are off"}""", Harness.Json(failure.Error));
        Assert.Equal("main/refuse", failure.Step);
        Assert.Equal(4, failure.Line);
        Assert.Contains("main/refuse (line 4): backups are off", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_runtime_error_names_the_assignment_line()
    {
        var failure = await _harness.FailAsync("- a:\n    assign:\n      - x: {present: 1}\n      - y: ${x.missing}\n");

        Assert.Equal(4, failure.Line);
        Assert.Contains("KeyError: key not found: missing", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Variables_assigned_in_a_try_block_persist_after_it()
    {
        var result = await _harness.RunAsync("""
            - attempt:
                try:
                  steps:
                    - set:
                        assign:
                          - inside: "kept"
                except:
                  as: e
                  steps:
                    - never:
                        return: "failed"
            - after:
                return: ${inside}
            """);

        Assert.Equal("\"kept\"", Harness.Json(result));
    }

    [Fact]
    public async Task A_handler_error_can_be_caught_and_reraised()
    {
        _harness.Handlers.Add(new FakeHandler("http.", (_, _) => throw WorkflowErrorException.Http(404, "HTTP server responded with error code 404", JsonNode.Parse("""{"error":"no"}"""))));

        var failure = await _harness.FailAsync("""
            - fetch:
                try:
                  call: http.get
                  args:
                    url: https://example.com
                except:
                  as: e
                  steps:
                    - known:
                        switch:
                          - condition: ${e.code == 404}
                            raise:
                              message: '${"not found: " + e.body.error}'
                    - other:
                        raise: ${e}
            """);

        Assert.Equal("""{"message":"not found: no"}""", Harness.Json(failure.Error));
        Assert.Equal("main/fetch/known", failure.Step);
    }

    [Fact]
    public async Task A_switch_condition_that_is_not_a_boolean_is_a_TypeError()
    {
        var failure = await _harness.FailAsync("- s:\n    switch:\n      - condition: ${\"yes\"}\n        next: end\n");

        Assert.Equal(["TypeError"], Harness.Tags(failure.Error));
    }
}
