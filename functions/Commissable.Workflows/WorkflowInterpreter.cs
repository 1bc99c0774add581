using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows;

/// <summary>What a run may use: the call handlers, the environment <c>sys.get_env</c> reads, a clock, and a way to wait.</summary>
public sealed class WorkflowRunOptions
{
    /// <summary>Serve every <c>call:</c> that is neither the standard library nor a subworkflow; the first handler that serves a name wins.</summary>
    public IReadOnlyList<IWorkflowCallHandler> Handlers { get; init; } = [];

    /// <summary>What <c>sys.get_env</c> reads (<c>GOOGLE_CLOUD_PROJECT_ID</c>, user variables set at deploy time).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The clock <c>sys.now</c> reads.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Told about every step as it starts and every <c>sys.log</c>; null for none.</summary>
    public IWorkflowObserver? Observer { get; init; }

    /// <summary>How <c>sys.sleep</c> and retry backoff wait; null means <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }

    /// <summary>Steps a run may execute before it fails with <c>ResourceLimitError</c> (Google's limit is 100,000).</summary>
    public int MaxSteps { get; init; } = 100_000;

    /// <summary>How deep subworkflow calls may nest before a <c>RecursionError</c>.</summary>
    public int MaxCallDepth { get; init; } = 20;
}

/// <summary>A run ended with an error nothing caught.</summary>
public sealed class WorkflowFailedException : Exception
{
    public WorkflowFailedException(JsonNode? error, string? step, int line, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        Step = step;
        Line = line;
    }

    public WorkflowFailedException() : this(null, null, 0, "the workflow failed") { }

    public WorkflowFailedException(string message) : this(null, null, 0, message) { }

    public WorkflowFailedException(string message, Exception innerException) : this(null, null, 0, message, innerException) { }

    /// <summary>The raised value: Google's error map (<c>message</c>, <c>tags</c>, ...) or whatever <c>raise</c> raised.</summary>
    public JsonNode? Error { get; }

    /// <summary>The path of the step that raised it (<c>main/restore/clone</c>), when known.</summary>
    public string? Step { get; }

    /// <summary>The 1-based line of that step, 0 when unknown.</summary>
    public int Line { get; }
}

/// <summary>
/// Runs <see cref="WorkflowProgram"/>s locally: the language and standard library here, every other call
/// through <see cref="WorkflowRunOptions.Handlers"/>.
/// </summary>
public sealed class WorkflowInterpreter
{
    private readonly WorkflowRunOptions _options;

    public WorkflowInterpreter(WorkflowRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Handlers);
        ArgumentNullException.ThrowIfNull(options.Environment);
        ArgumentNullException.ThrowIfNull(options.Time);
        _options = options;
    }

    /// <summary>The <c>call:</c> targets that no standard library function, subworkflow or handler serves, with their lines.</summary>
    public IReadOnlyList<WorkflowProblem> Check(WorkflowProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return program.Calls
            .Where(call => !program.Subworkflows.ContainsKey(call.Function)
                && !StandardLibrary.Contains(call.Function)
                && !_options.Handlers.Any(handler => handler.Serves(call.Function)))
            .Select(call => new WorkflowProblem($"nothing serves '{call.Function}': it is not in the standard library, not a subworkflow, and no handler serves it", call.Line))
            .ToList();
    }

    /// <summary>Runs <c>main</c> with <paramref name="arguments"/> bound to its parameter and returns what it returns.</summary>
    /// <exception cref="WorkflowFailedException">An error was raised and nothing caught it, or a limit was hit.</exception>
    public async Task<JsonNode?> RunAsync(WorkflowProgram program, JsonNode? arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(program);
        var execution = new Execution(program, _options, cancellationToken);
        try
        {
            var result = await execution.RunMainAsync(Values.FromJson(arguments)).ConfigureAwait(false);
            if (Values.ContainsBytes(result))
            {
                throw WorkflowErrors.TypeError("a workflow cannot return bytes; encode them with base64.encode first");
            }

            return Values.ToEdgeJson(result);
        }
        catch (WorkflowRaisedException e)
        {
            var where = e.StepPath is null ? string.Empty : $" at {e.StepPath} (line {e.Line})";
            throw new WorkflowFailedException(Values.ToEdgeJson(e.Value), e.StepPath, e.Line, $"{program.SourceName}: workflow failed{where}: {Describe(e.Value)}");
        }
    }

    private static string Describe(object? error)
    {
        if (error is OrderedDictionary<string, object?> map && map.TryGetValue("tags", out var tags) && tags is List<object?> { Count: > 0 } list)
        {
            return $"{string.Join(", ", list)}: {WorkflowRaisedException.MessageOf(error)}";
        }

        return WorkflowRaisedException.MessageOf(error);
    }
}
