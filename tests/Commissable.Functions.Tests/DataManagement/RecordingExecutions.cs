using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Executions;

namespace Commissable.Functions.Tests.DataManagement;

/// <summary>
/// The Workflow Executions API as data-management's unit tests need it: records what was started
/// and lets the test move each execution (state, result, a waiting callback) as the workflow would.
/// The same function runs against the local Workflow Executions API end to end in the CLI's tests.
/// </summary>
internal sealed class RecordingExecutions : IWorkflowExecutions
{
    public sealed class Run(ExecutionName name, JsonObject? argument)
    {
        public ExecutionName Name { get; } = name;
        public JsonObject? Argument { get; } = argument;
        public string State { get; set; } = ExecutionStates.Active;
        public string? Result { get; set; }
        public string? ErrorPayload { get; set; }
        public string? WaitingCallback { get; set; }
        public List<JsonObject> Received { get; } = [];
    }

    private readonly ConcurrentDictionary<string, Run> _runs = new(StringComparer.Ordinal);
    private int _sequence;

    public IReadOnlyList<Run> Runs => [.. _runs.Values.OrderBy(r => r.Name.Id, StringComparer.Ordinal)];

    /// <summary>Set to make create answer this API error.</summary>
    public WorkflowExecutionsApiException? FailCreate { get; set; }

    /// <summary>Set to make callbacks.list answer this API error.</summary>
    public WorkflowExecutionsApiException? FailCallbacks { get; set; }

    public Run Single(string workflow) => Assert.Single(_runs.Values, r => r.Name.Workflow.Workflow == workflow);

    public Task<Execution> CreateExecutionAsync(WorkflowName workflow, JsonObject? argument, string? callLogLevel = null, CancellationToken cancellationToken = default)
    {
        if (FailCreate is { } failure) throw failure;
        var id = $"exec-{Interlocked.Increment(ref _sequence):D4}";
        var run = new Run(new ExecutionName(workflow, id), (JsonObject?)argument?.DeepClone());
        _runs[run.Name.ToString()] = run;
        return Task.FromResult(Snapshot(run));
    }

    public Task<Execution> GetExecutionAsync(ExecutionName execution, CancellationToken cancellationToken = default) =>
        Task.FromResult(Snapshot(Find(execution)));

    public Task<Execution> CancelExecutionAsync(ExecutionName execution, CancellationToken cancellationToken = default)
    {
        var run = Find(execution);
        run.State = ExecutionStates.Cancelled;
        return Task.FromResult(Snapshot(run));
    }

    public Task<IReadOnlyList<ExecutionCallback>> ListCallbacksAsync(ExecutionName execution, CancellationToken cancellationToken = default)
    {
        if (FailCallbacks is { } failure) throw failure;
        var run = Find(execution);
        IReadOnlyList<ExecutionCallback> callbacks = run.WaitingCallback is { } id && !ExecutionStates.IsFinished(run.State)
            ? [new ExecutionCallback { Name = $"{run.Name}/callbacks/{id}", Method = "POST", Waiters = "1" }]
            : [];
        return Task.FromResult(callbacks);
    }

    public Task SendCallbackAsync(ExecutionName execution, string callbackId, string method, JsonObject body, CancellationToken cancellationToken = default)
    {
        var run = Find(execution);
        if (ExecutionStates.IsFinished(run.State) || run.WaitingCallback != callbackId || method != "POST")
        {
            throw new WorkflowExecutionsApiException(404, "notFound", $"Callback '{callbackId}' was not found.");
        }
        run.Received.Add((JsonObject)body.DeepClone());
        run.WaitingCallback = null;
        return Task.CompletedTask;
    }

    private Run Find(ExecutionName execution) =>
        _runs.TryGetValue(execution.ToString(), out var run) ? run : throw new WorkflowExecutionsApiException(404, "notFound", $"Execution '{execution}' was not found.");

    private static Execution Snapshot(Run run) => new()
    {
        Name = run.Name.ToString(),
        State = run.State,
        Argument = run.Argument?.ToJsonString(),
        Result = run.Result,
        Error = run.ErrorPayload is null ? null : new ExecutionError { Payload = run.ErrorPayload },
        Status = new ExecutionStatus { CurrentSteps = [new ExecutionStep { Routine = "main", Step = run.WaitingCallback is null ? "working" : "await_approval" }] },
    };
}
