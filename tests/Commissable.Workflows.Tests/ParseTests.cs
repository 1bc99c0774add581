namespace Commissable.Workflows.Tests;

public class ParseTests
{
    private static WorkflowSyntaxException Refused(string yaml) =>
        Assert.Throws<WorkflowSyntaxException>(() => WorkflowProgram.Parse(yaml, "test.yaml"));

    [Fact]
    public void Parallel_is_refused_with_its_name_and_line()
    {
        var error = Refused("""
            main:
              steps:
                - start:
                    assign:
                      - x: 1
                - fan_out:
                    parallel:
                      branches:
                        - b1:
                            steps:
                              - s:
                                  return: 1
            """);

        var problem = Assert.Single(error.Problems);
        Assert.Equal(7, problem.Line);
        Assert.Equal("line 7: 'parallel' is not supported by the local runner", problem.ToString());
    }

    [Fact]
    public void An_unknown_step_key_is_refused_with_its_line()
    {
        var error = Refused("- a:\n    assign:\n      - x: 1\n- b:\n    sleep: 5\n");

        var problem = Assert.Single(error.Problems);
        Assert.Equal(5, problem.Line);
        Assert.Contains("unknown step key 'sleep'", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_in_line_order()
    {
        var error = Refused("- a:\n    bogus: 1\n- b:\n    next: nowhere\n- c:\n    return: '${nosuch.fn(1)}'\n");

        Assert.Equal([2, 4, 6], error.Problems.Select(p => p.Line));
        Assert.Contains("'next: nowhere' names no step", error.Problems[1].Message, StringComparison.Ordinal);
        Assert.Contains("unknown function 'nosuch.fn'", error.Problems[2].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("- a:\n    assign:\n      - x: [1, 2\n- b:\n")]
    [InlineData("- a:\n    assign:\n      - x: a: b\n")]
    [InlineData("- a:\n    return: 1\n    return: 2\n")]
    public void Malformed_yaml_is_a_problem_with_a_line(string yaml)
    {
        var error = Refused(yaml);

        Assert.Contains("malformed YAML", Assert.Single(error.Problems).Message, StringComparison.Ordinal);
        Assert.True(error.Problems[0].Line >= 3);
    }

    [Theory]
    [InlineData("- a:\n    return: \"id-${x}\"\n", "an expression must be the whole value")]
    [InlineData("- a:\n    next: break\n", "only allowed inside a for loop")]
    [InlineData("- a:\n    assign:\n      - x: 1\n    call: sys.now\n", "a step does one thing")]
    [InlineData("- a:\n    assign:\n      - x: 1\n    args: {}\n", "'args' is not allowed with 'assign'")]
    [InlineData("- a:\n    call: text.split\n    args:\n      source: a\n      sep: \",\"\n", "'text.split' has no argument 'sep'")]
    [InlineData("- a:\n    call: sys.get_env\n", "'sys.get_env' needs argument 'name'")]
    [InlineData("- a:\n    return: '${len(1, 2)}'\n", "takes 1..1 argument(s)")]
    [InlineData("- a:\n    return: '${1 +}'\n", "invalid expression")]
    [InlineData("- a:\n    try:\n      call: http.get\n    retry: ${retry.always}\n", "retry policy")]
    [InlineData("- a:\n    try:\n      call: http.get\n    retry:\n      predicate: ${nope}\n      max_retries: 1\n      backoff: {initial_delay: 1, max_delay: 2, multiplier: 2}\n", "neither a built-in predicate nor a subworkflow")]
    [InlineData("- a:\n    for:\n      value: v\n      in: [1]\n      steps:\n        - b:\n            next: a\n", "a loop body cannot jump out")]
    [InlineData("- a:\n    assign:\n      - x: 1\n- a:\n    assign:\n      - x: 2\n", "used twice")]
    [InlineData("- a:\n    assign:\n      - f(x): 1\n", "not an assignment target")]
    [InlineData("sub:\n  steps:\n    - a:\n        return: 1\n", "needs one named 'main'")]
    [InlineData("main:\n  params: [a, b]\n  steps:\n    - a:\n        return: 1\n", "'main' takes at most one parameter")]
    [InlineData("main:\n  steps:\n    - a:\n        call: sub\n        args:\n          z: 1\nsub:\n  params: [x]\n  steps:\n    - b:\n        return: 1\n", "'sub' has no argument 'z'")]
    public void Constructs_outside_the_subset_are_named(string yaml, string expected)
    {
        var error = Refused(yaml);

        Assert.Contains(error.Problems, p => p.Message.Contains(expected, StringComparison.Ordinal) && p.Line > 0);
    }

    [Fact]
    public void Calls_lists_every_call_target_with_its_line()
    {
        var program = WorkflowProgram.Parse("""
            main:
              params: [args]
              steps:
                - get:
                    call: googleapis.sqladmin.v1beta4.instances.get
                    args:
                      project: p
                      instance: i
                    result: instance
                - check:
                    try:
                      call: http.post
                      args:
                        url: https://example.com
                    retry: ${http.default_retry}
                - helper:
                    call: helper
            helper:
              steps:
                - log:
                    call: sys.log
                    args:
                      text: hi
            """, "test.yaml");

        Assert.Equal(
            [("googleapis.sqladmin.v1beta4.instances.get", 5), ("http.post", 12), ("helper", 17), ("sys.log", 21)],
            program.Calls);
    }

    [Fact]
    public void Check_lists_calls_no_handler_serves_with_their_lines()
    {
        var program = WorkflowProgram.Parse("- a:\n    call: http.get\n    args: {url: x}\n- b:\n    call: events.await_callback\n- c:\n    call: sys.sleep\n    args: {seconds: 1}\n", "test.yaml");
        var harness = new Harness();
        harness.Handlers.Add(new FakeHandler("http.", (_, _) => null));

        var problem = Assert.Single(harness.Interpreter().Check(program));

        Assert.Equal(5, problem.Line);
        Assert.Contains("events.await_callback", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_json_workflow_parses_like_yaml()
    {
        var program = WorkflowProgram.Parse("""{"main": {"params": ["args"], "steps": [{"done": {"return": "${args.x + 1}"}}]}}""", "test.json");

        Assert.Empty(program.Calls);
        Assert.Equal("2", Harness.Json(await new Harness().Interpreter().RunAsync(program, System.Text.Json.Nodes.JsonNode.Parse("""{"x": 1}"""), CancellationToken.None)));
    }
}
