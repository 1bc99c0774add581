using System.Text.Json.Nodes;

namespace Commissable.Workflows.Tests;

public class HandlerTests
{
    private readonly Harness _harness = new();

    [Fact]
    public async Task A_handler_receives_evaluated_arguments_step_and_line_and_its_answer_is_the_result()
    {
        var handler = new FakeHandler("googleapis.", (_, _) => JsonNode.Parse("""{"name": "op-1", "status": "DONE", "size": 3}"""));
        _harness.Handlers.Add(handler);

        var result = await _harness.RunAsync("""
            main:
              params: [args]
              steps:
                - clone:
                    call: googleapis.sqladmin.v1beta4.instances.clone
                    args:
                      project: ${args.project}
                      instance: ${args.source}
                      body:
                        cloneContext:
                          destinationInstanceName: ${args.source + "-restored"}
                          pointInTime: ${args.at}
                        retries: ${1 + 2}
                        payload: ${text.encode("hi")}
                    result: operation
                - done:
                    return: ${operation.status + " " + string(operation.size * 2)}
            """, JsonNode.Parse("""{"project": "p", "source": "crm", "at": "2024-03-01T12:00:00Z"}"""));

        Assert.Equal("\"DONE 6\"", Harness.Json(result));
        var call = Assert.Single(handler.Calls);
        Assert.Equal("googleapis.sqladmin.v1beta4.instances.clone", call.Function);
        Assert.Equal("clone", call.Step);
        Assert.Equal(4, call.Line);
        Assert.Equal(
            """{"project":"p","instance":"crm","body":{"cloneContext":{"destinationInstanceName":"crm-restored","pointInTime":"2024-03-01T12:00:00Z"},"retries":3,"payload":"aGk="}}""",
            call.Arguments.ToJsonString());
        Assert.Equal(3, (int)call.Arguments["body"]!["retries"]!);
    }

    [Fact]
    public async Task The_first_handler_that_serves_a_name_gets_the_call()
    {
        var first = new FakeHandler("http.", (_, _) => JsonValue.Create("first"));
        var second = new FakeHandler("http.", (_, _) => JsonValue.Create("second"));
        _harness.Handlers.AddRange([first, second]);

        var result = await _harness.RunAsync("- get:\n    call: http.get\n    args:\n      url: x\n    result: r\n- done:\n    return: ${r}\n");

        Assert.Equal("\"first\"", Harness.Json(result));
        Assert.Empty(second.Calls);
    }

    [Fact]
    public async Task A_handler_result_is_a_copy_the_workflow_can_change()
    {
        var answer = JsonNode.Parse("""{"items": [1]}""")!;
        _harness.Handlers.Add(new FakeHandler("http.", (_, _) => answer));

        await _harness.RunAsync("- get:\n    call: http.get\n    args:\n      url: x\n    result: r\n- change:\n    assign:\n      - r.items[0]: 2\n");

        Assert.Equal("""{"items":[1]}""", answer.ToJsonString());
    }

    [Fact]
    public async Task Cancellation_stops_the_run_between_steps()
    {
        using var cancellation = new CancellationTokenSource();
        _harness.Handlers.Add(new FakeHandler("http.", (_, _) =>
        {
            cancellation.Cancel();
            return null;
        }));
        var program = WorkflowProgram.Parse("- get:\n    call: http.get\n    args:\n      url: x\n- next_step:\n    return: 1\n", "test.yaml");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _harness.Interpreter().RunAsync(program, null, cancellation.Token));
        Assert.Equal(["main/get"], _harness.Steps.Select(s => s.Path));
    }
}
