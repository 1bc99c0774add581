using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Tests;

public class RetryTests
{
    private readonly Harness _harness = new();

    private FakeHandler FailingTimes(int failures, int code) =>
        new("http.", (_, n) => n <= failures ? throw WorkflowErrorException.Http(code, $"HTTP {code}") : JsonNode.Parse("""{"body":"ok"}"""));

    private const string DefaultRetry = """
        - fetch:
            try:
              call: http.get
              args:
                url: https://example.com
              result: response
            retry: ${http.default_retry}
        - done:
            return: ${response.body}
        """;

    [Fact]
    public async Task The_default_policy_retries_503_with_Googles_backoff()
    {
        var handler = FailingTimes(3, 503);
        _harness.Handlers.Add(handler);

        var result = await _harness.RunAsync(DefaultRetry);

        Assert.Equal("\"ok\"", Harness.Json(result));
        Assert.Equal(4, handler.Calls.Count);
        Assert.Equal([1.0, 1.25, 1.5625], _harness.Delays.Select(d => d.TotalSeconds));
    }

    [Fact]
    public async Task The_default_policy_gives_up_after_five_retries()
    {
        var handler = FailingTimes(100, 503);
        _harness.Handlers.Add(handler);

        var failure = await _harness.FailAsync(DefaultRetry);

        Assert.Equal(6, handler.Calls.Count);
        Assert.Equal(5, _harness.Delays.Count);
        Assert.Equal(503, (int)failure.Error!["code"]!);
    }

    [Fact]
    public async Task The_default_policy_does_not_retry_a_404()
    {
        var handler = FailingTimes(1, 404);
        _harness.Handlers.Add(handler);

        var failure = await _harness.FailAsync(DefaultRetry);

        Assert.Single(handler.Calls);
        Assert.Empty(_harness.Delays);
        Assert.Equal(["HttpError"], Harness.Tags(failure.Error));
    }

    [Fact]
    public async Task The_non_idempotent_policy_does_not_retry_a_502()
    {
        var handler = FailingTimes(1, 502);
        _harness.Handlers.Add(handler);

        await _harness.FailAsync(DefaultRetry.Replace("http.default_retry", "http.default_retry_non_idempotent", StringComparison.Ordinal));

        Assert.Single(handler.Calls);
    }

    [Fact]
    public async Task A_custom_policy_uses_its_subworkflow_predicate_and_caps_the_delay()
    {
        var handler = new FakeHandler("googleapis.", (_, n) => n <= 4 ? throw new WorkflowErrorException(JsonNode.Parse("""{"message":"busy","code":409,"tags":["HttpError"]}""")) : JsonValue.Create("done"));
        _harness.Handlers.Add(handler);

        var result = await _harness.RunAsync("""
            main:
              steps:
                - clone:
                    try:
                      call: googleapis.sqladmin.v1beta4.instances.clone
                      args:
                        project: p
                      result: operation
                    retry:
                      predicate: ${busy}
                      max_retries: 10
                      backoff:
                        initial_delay: 2
                        max_delay: 10
                        multiplier: 3
                - done:
                    return: ${operation}
            busy:
              params: [e]
              steps:
                - check:
                    return: ${e.code == 409}
            """);

        Assert.Equal("\"done\"", Harness.Json(result));
        Assert.Equal([2.0, 6.0, 10.0, 10.0], _harness.Delays.Select(d => d.TotalSeconds));
    }

    [Fact]
    public async Task When_retries_run_out_except_handles_the_last_error()
    {
        var handler = FailingTimes(100, 429);
        _harness.Handlers.Add(handler);

        var result = await _harness.RunAsync("""
            - fetch:
                try:
                  call: http.get
                  args:
                    url: https://example.com
                retry:
                  predicate: ${http.default_retry_predicate}
                  max_retries: 2
                  backoff:
                    initial_delay: 0.5
                    max_delay: 60
                    multiplier: 2
                except:
                  as: e
                  steps:
                    - gave_up:
                        return: ${"gave up after " + string(e.code)}
            """);

        Assert.Equal("\"gave up after 429\"", Harness.Json(result));
        Assert.Equal(3, handler.Calls.Count);
        Assert.Equal([0.5, 1.0], _harness.Delays.Select(d => d.TotalSeconds));
    }

    [Fact]
    public async Task Retry_never_and_retry_always_are_predicates()
    {
        var handler = FailingTimes(2, 500);
        _harness.Handlers.Add(handler);

        var result = await _harness.RunAsync("""
            - fetch:
                try:
                  call: http.get
                  args:
                    url: https://example.com
                  result: response
                retry:
                  predicate: ${retry.always}
                  max_retries: 3
                  backoff: {initial_delay: 1, max_delay: 1, multiplier: 1}
            - done:
                return: ${response.body}
            """);

        Assert.Equal("\"ok\"", Harness.Json(result));
        Assert.Equal(3, handler.Calls.Count);
    }
}
