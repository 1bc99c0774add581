namespace Commissable.Workflows.Runtime;

/// <summary>A value raised inside a run (by <c>raise</c>, the language, the standard library or a handler), on its way to an <c>except</c>.</summary>
internal sealed class WorkflowRaisedException : Exception
{
    public WorkflowRaisedException(object? value)
        : base(MessageOf(value)) => Value = value;

    public WorkflowRaisedException() : this((object?)null) { }

    public WorkflowRaisedException(string message) : this((object?)message) { }

    public WorkflowRaisedException(string message, Exception innerException) : base(message, innerException) => Value = message;

    /// <summary>What <c>except: as:</c> binds: a map with <c>message</c> and <c>tags</c>, or whatever <c>raise</c> raised.</summary>
    public object? Value { get; }

    /// <summary>Where it was raised: the innermost step, filled in as it leaves that step.</summary>
    public string? StepPath { get; set; }

    public int Line { get; set; }

    public static string MessageOf(object? value) => value switch
    {
        OrderedDictionary<string, object?> map when map.TryGetValue("message", out var message) && message is string text => text,
        string text => text,
        _ => Values.Describe(value),
    };
}

/// <summary>Google's built-in error shapes: a map with <c>message</c> and <c>tags</c>.</summary>
internal static class WorkflowErrors
{
    public static WorkflowRaisedException Tagged(string tag, string message)
    {
        var map = Values.NewMap();
        map["message"] = message;
        map["tags"] = new List<object?> { tag };
        return new WorkflowRaisedException(map);
    }

    public static WorkflowRaisedException TypeError(string message) => Tagged("TypeError", message);

    public static WorkflowRaisedException KeyError(string message) => Tagged("KeyError", message);

    public static WorkflowRaisedException IndexError(string message) => Tagged("IndexError", message);

    public static WorkflowRaisedException ValueError(string message) => Tagged("ValueError", message);

    public static WorkflowRaisedException ZeroDivisionError(string message) => Tagged("ZeroDivisionError", message);

    public static WorkflowRaisedException RecursionError(string message) => Tagged("RecursionError", message);
}
