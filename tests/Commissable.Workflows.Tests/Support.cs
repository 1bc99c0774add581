using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Tests;

/// <summary>Runs workflow text and records what a run reports, with waits recorded instead of slept.</summary>
internal sealed class Harness : IWorkflowObserver
{
    public List<(string Path, int Line)> Steps { get; } = [];

    public List<(string Severity, JsonNode? Data)> Logs { get; } = [];

    public List<TimeSpan> Delays { get; } = [];

    public List<IWorkflowCallHandler> Handlers { get; } = [];

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public TimeProvider Time { get; set; } = TimeProvider.System;

    public int MaxSteps { get; set; } = 100_000;

    public void StepStarted(string path, int line) => Steps.Add((path, line));

    public void Logged(string severity, JsonNode? data) => Logs.Add((severity, data));

    public WorkflowInterpreter Interpreter() => new(new WorkflowRunOptions
    {
        Handlers = Handlers,
        Environment = Environment,
        Time = Time,
        Observer = this,
        MaxSteps = MaxSteps,
        Delay = (delay, _) =>
        {
            Delays.Add(delay);
            return Task.CompletedTask;
        },
    });

    public Task<JsonNode?> RunAsync(string yaml, JsonNode? arguments = null) =>
        Interpreter().RunAsync(WorkflowProgram.Parse(yaml, "test.yaml"), arguments, CancellationToken.None);

    public async Task<WorkflowFailedException> FailAsync(string yaml, JsonNode? arguments = null) =>
        await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(yaml, arguments));

    /// <summary>Evaluates one expression as the value a workflow returns.</summary>
    public Task<JsonNode?> EvalAsync(string expression) =>
        RunAsync($"- r:\n    return: '${{{expression.Replace("'", "''", StringComparison.Ordinal)}}}'\n");

    public static string Json(JsonNode? node) => node?.ToJsonString() ?? "null";

    public static IReadOnlyList<string> Tags(JsonNode? error) =>
        error?["tags"]?.AsArray().Select(t => (string)t!).ToList() ?? [];
}

/// <summary>A call handler that records each call and answers from a script.</summary>
internal sealed class FakeHandler(string prefix, Func<WorkflowCall, int, JsonNode?> answer) : IWorkflowCallHandler
{
    public List<WorkflowCall> Calls { get; } = [];

    public bool Serves(string functionName) => functionName.StartsWith(prefix, StringComparison.Ordinal);

    public Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        Calls.Add(request);
        return Task.FromResult(answer(request, Calls.Count));
    }
}
