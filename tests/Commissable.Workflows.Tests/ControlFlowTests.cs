using System.Text.Json.Nodes;

namespace Commissable.Workflows.Tests;

public class ControlFlowTests
{
    private readonly Harness _harness = new();

    [Fact]
    public async Task Variables_first_assigned_in_a_loop_vanish_after_it_while_outer_ones_keep_their_updates()
    {
        var failure = await _harness.FailAsync("""
            - init:
                assign:
                  - total: 0
            - loop:
                for:
                  value: v
                  in: [1, 2, 3]
                  steps:
                    - add:
                        assign:
                          - total: ${total + v}
                          - inner: ${v}
            - after:
                return: ${inner}
            """);

        Assert.Equal(["KeyError"], Harness.Tags(failure.Error));
        Assert.Equal("main/after", failure.Step);

        var total = await _harness.RunAsync("- init:\n    assign:\n      - total: 0\n- loop:\n    for:\n      value: v\n      in: [1, 2, 3]\n      steps:\n        - add:\n            assign:\n              - total: ${total + v}\n- done:\n    return: ${total}\n");
        Assert.Equal("6", Harness.Json(total));
    }

    [Fact]
    public async Task Range_is_inclusive_and_break_and_continue_steer_the_loop()
    {
        var result = await _harness.RunAsync("""
            - init:
                assign:
                  - seen: []
            - loop:
                for:
                  value: i
                  index: n
                  range: [1, 10]
                  steps:
                    - skip_even:
                        switch:
                          - condition: ${i % 2 == 0}
                            next: continue
                          - condition: ${i > 7}
                            next: break
                    - keep:
                        assign:
                          - seen: ${list.concat(seen, [i, n])}
            - done:
                return: ${seen}
            """);

        Assert.Equal("[[1,0],[3,2],[5,4],[7,6]]", Harness.Json(result));
        Assert.Equal("[5]", Harness.Json(await _harness.RunAsync("- l:\n    for:\n      value: i\n      range: [5, 5]\n      steps:\n        - r:\n            return: ${[i]}\n")));
    }

    [Fact]
    public async Task A_switch_without_a_match_falls_through_to_the_next_step()
    {
        var result = await _harness.RunAsync("""
            - decide:
                switch:
                  - condition: ${1 > 2}
                    return: "first"
                  - condition: false
                    return: "second"
            - fallthrough:
                return: "after the switch"
            """);

        Assert.Equal("\"after the switch\"", Harness.Json(result));
    }

    [Fact]
    public async Task A_matching_switch_runs_its_steps_then_continues_after_the_switch()
    {
        var result = await _harness.RunAsync("""
            - decide:
                switch:
                  - condition: true
                    steps:
                      - mark:
                          assign:
                            - path: "steps"
                  - condition: true
                    assign:
                      - path: "second condition"
            - after:
                return: ${path}
            """);

        Assert.Equal("\"steps\"", Harness.Json(result));
    }

    [Fact]
    public async Task Next_jumps_forwards_and_back_and_end_stops()
    {
        var result = await _harness.RunAsync("""
            - init:
                assign:
                  - count: 0
                next: body
            - never:
                return: "skipped"
            - body:
                assign:
                  - count: ${count + 1}
            - again:
                switch:
                  - condition: ${count < 3}
                    next: body
            - stop:
                next: end
            - unreachable:
                return: "unreachable"
            """);

        Assert.Null(result);
        Assert.Equal(["main/init", "main/body", "main/again", "main/body", "main/again", "main/body", "main/again", "main/stop"], _harness.Steps.Select(s => s.Path));
    }

    [Fact]
    public async Task A_nested_step_can_jump_to_an_outer_step()
    {
        var result = await _harness.RunAsync("""
            - outer:
                steps:
                  - inner:
                      next: target
                  - skipped:
                      return: "skipped"
            - also_skipped:
                return: "also skipped"
            - target:
                return: "target"
            """);

        Assert.Equal("\"target\"", Harness.Json(result));
    }

    [Fact]
    public async Task Subworkflows_take_params_with_defaults_and_have_their_own_scope()
    {
        var result = await _harness.RunAsync("""
            main:
              params: [args]
              steps:
                - secret:
                    assign:
                      - hidden: "main value"
                - greet:
                    call: greet
                    args:
                      name: ${args.name}
                    result: called
                - in_expression:
                    return: ${[called, greet("Ada", "Hi"), hidden]}
            greet:
              params: [name, greeting: "Hello"]
              steps:
                - look:
                    assign:
                      - visible: ${"hidden" in ["x"]}
                - answer:
                    return: ${greeting + ", " + name}
            """, JsonNode.Parse("""{"name": "Grace"}"""));

        Assert.Equal("""["Hello, Grace","Hi, Ada","main value"]""", Harness.Json(result));
    }

    [Fact]
    public async Task A_subworkflow_cannot_see_its_callers_variables()
    {
        var failure = await _harness.FailAsync("""
            main:
              steps:
                - set:
                    assign:
                      - mine: 1
                - call_it:
                    call: peek
            peek:
              steps:
                - look:
                    return: ${mine}
            """);

        Assert.Equal(["KeyError"], Harness.Tags(failure.Error));
        Assert.Equal("peek/look", failure.Step);
        Assert.Equal(10, failure.Line);
    }

    [Fact]
    public async Task Assignments_create_map_keys_and_replace_list_items_without_aliasing()
    {
        var result = await _harness.RunAsync("""
            - build:
                assign:
                  - m: {}
                  - m.a: 1
                  - m["b c"]: [1, 2, 3]
                  - key: "b c"
                  - m[key][1]: "two"
                  - copy: ${m}
                  - copy.a: "changed"
            - done:
                return: ${[m, copy.a]}
            """);

        Assert.Equal("""[{"a":1,"b c":[1,"two",3]},"changed"]""", Harness.Json(result));
    }

    [Fact]
    public async Task Main_receives_the_run_arguments_and_typed_yaml_literals()
    {
        var result = await _harness.RunAsync("""
            main:
              params: [args]
              steps:
                - r:
                    return:
                      arg: ${args.n * 2}
                      int: 3
                      double: 2.5
                      quoted: "3"
                      bool: True
                      nothing: null
            """, JsonNode.Parse("""{"n": 21}"""));

        Assert.Equal("""{"arg":42,"int":3,"double":2.5,"quoted":"3","bool":true,"nothing":null}""", Harness.Json(result));
    }

    [Fact]
    public async Task Yaml_literals_keep_their_workflow_types()
    {
        var result = await _harness.RunAsync("- a:\n    assign:\n      - n: 3\n      - d: 3.0\n      - s: '3'\n- b:\n    return: ${[type(n), type(d), type(s), n / 2, n // 2]}\n");

        Assert.Equal("""["int","double","string",1.5,1]""", Harness.Json(result));
    }

    [Fact]
    public async Task Runaway_recursion_fails_with_a_RecursionError()
    {
        var failure = await _harness.FailAsync("""
            main:
              steps:
                - go:
                    call: forever
            forever:
              steps:
                - again:
                    call: forever
            """);

        Assert.Equal(["RecursionError"], Harness.Tags(failure.Error));
    }

    [Fact]
    public async Task A_runaway_loop_hits_the_step_limit()
    {
        _harness.MaxSteps = 500;

        var failure = await _harness.FailAsync("- spin:\n    next: spin\n");

        Assert.Equal(["ResourceLimitError"], Harness.Tags(failure.Error));
        Assert.Contains("500 steps", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Steps_report_their_path_and_line_as_they_start()
    {
        await _harness.RunAsync("""
            main:
              steps:
                - validate:
                    steps:
                      - check_target:
                          call: helper
            helper:
              steps:
                - inside:
                    return: 1
            """);

        Assert.Equal([("main/validate", 3), ("main/validate/check_target", 5), ("helper/inside", 9)], _harness.Steps);
    }
}
