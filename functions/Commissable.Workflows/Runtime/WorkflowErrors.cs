using System.Globalization;
using System.Text.Json.Nodes;

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

/// <summary>
/// Google's built-in error shapes, in one place: a map with <c>message</c> and <c>tags</c> (plus what
/// the tag adds), so a workflow's <c>except</c> and <c>retry</c> predicates see locally what they would
/// see in the cloud. Call handlers (connectors, <c>http.*</c>) throw the public
/// <see cref="WorkflowErrorException"/> forms; the interpreter and its standard library raise the same
/// maps through the internal <c>*Error</c> forms.
/// </summary>
public static class WorkflowErrors
{
    /// <summary>An error map <c>{message, tags: [tag]}</c>.</summary>
    public static WorkflowErrorException Tagged(string tag, string message) =>
        new(new JsonObject { ["message"] = message, ["tags"] = new JsonArray(tag) });

    /// <summary>A value of the wrong type (an argument, a parameter).</summary>
    public static WorkflowErrorException Type(string message) => Tagged("TypeError", message);

    /// <summary>A value of the right type that is not acceptable (missing, out of range, unknown).</summary>
    public static WorkflowErrorException Value(string message) => Tagged("ValueError", message);

    /// <summary>A long-running operation or an <c>events.await_callback</c> ran out of time.</summary>
    public static WorkflowErrorException Timeout(string message) => Tagged("TimeoutError", message);

    /// <summary>The server could not be reached (refused, reset, no route).</summary>
    public static WorkflowErrorException Connection(string message) => Tagged("ConnectionError", message);

    /// <summary>A long-running operation ended with an error: the map carries the failed operation, as the connectors document.</summary>
    public static WorkflowErrorException Operation(string message, JsonNode operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return new(new JsonObject { ["message"] = message, ["tags"] = new JsonArray("OperationError"), ["operation"] = operation.DeepClone() });
    }

    /// <summary>An HTTP error answer: message from Google's <c>{"error":{"message"}}</c> envelope when there is one.</summary>
    public static WorkflowErrorException Http(int code, JsonNode? body, JsonObject headers) =>
        WorkflowErrorException.Http(code, HttpMessage(code, body), body, headers);

    internal static WorkflowRaisedException TypeError(string message) => Raised(Type(message));

    internal static WorkflowRaisedException KeyError(string message) => Raised(Tagged("KeyError", message));

    internal static WorkflowRaisedException IndexError(string message) => Raised(Tagged("IndexError", message));

    internal static WorkflowRaisedException ValueError(string message) => Raised(Value(message));

    internal static WorkflowRaisedException ZeroDivisionError(string message) => Raised(Tagged("ZeroDivisionError", message));

    internal static WorkflowRaisedException RecursionError(string message) => Raised(Tagged("RecursionError", message));

    /// <summary>The same map as the interpreter holds values (what <c>except: as:</c> binds).</summary>
    private static WorkflowRaisedException Raised(WorkflowErrorException error) => new(Values.FromJson(error.Error));

    private static string HttpMessage(int code, JsonNode? body) =>
        body is JsonObject map && map["error"] is JsonObject error && error["message"] is JsonValue message
            ? string.Create(CultureInfo.InvariantCulture, $"HTTP server responded with error code {code}: {message}")
            : string.Create(CultureInfo.InvariantCulture, $"HTTP server responded with error code {code}");
}
