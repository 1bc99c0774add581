using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local;

/// <summary>
/// The tagged error maps Google's runtime raises (<c>{message, tags}</c>, plus what the tag adds), so a
/// workflow's <c>except</c> and <c>retry</c> predicates see locally what they would see in the cloud.
/// </summary>
internal static class WorkflowErrors
{
    public static WorkflowErrorException Tagged(string tag, string message) =>
        new(new JsonObject { ["message"] = message, ["tags"] = new JsonArray(tag) });

    /// <summary>A long-running operation or an <c>events.await_callback</c> ran out of time.</summary>
    public static WorkflowErrorException Timeout(string message) => Tagged("TimeoutError", message);

    /// <summary>The server could not be reached (refused, reset, no route).</summary>
    public static WorkflowErrorException Connection(string message) => Tagged("ConnectionError", message);

    public static WorkflowErrorException Type(string message) => Tagged("TypeError", message);

    public static WorkflowErrorException Value(string message) => Tagged("ValueError", message);

    /// <summary>A long-running operation ended with an error: the map carries the failed operation, as the connectors document.</summary>
    public static WorkflowErrorException Operation(string message, JsonNode operation) =>
        new(new JsonObject { ["message"] = message, ["tags"] = new JsonArray("OperationError"), ["operation"] = operation.DeepClone() });

    /// <summary>An HTTP error answer: message from Google's <c>{"error":{"message"}}</c> envelope when there is one.</summary>
    public static WorkflowErrorException Http(int code, JsonNode? body, JsonObject headers) =>
        WorkflowErrorException.Http(code, MessageOf(code, body), body, headers);

    private static string MessageOf(int code, JsonNode? body) =>
        body is JsonObject { } map && map["error"] is JsonObject error && error["message"] is JsonValue message
            ? string.Create(CultureInfo.InvariantCulture, $"HTTP server responded with error code {code}: {message}")
            : string.Create(CultureInfo.InvariantCulture, $"HTTP server responded with error code {code}");
}

/// <summary>Reads a call's arguments the way the runtime checks them: required, typed, nothing unknown.</summary>
internal sealed class CallArguments
{
    private readonly WorkflowCall _call;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CallArguments(WorkflowCall call) => _call = call;

    public string Function => _call.Function;

    public bool Has(string name) => _call.Arguments.ContainsKey(name) && _call.Arguments[name] is not null;

    public string RequiredString(string name) =>
        OptionalString(name) ?? throw WorkflowErrors.Value($"{Function}: missing required argument '{name}'");

    public string? OptionalString(string name)
    {
        var node = Raw(name);
        return node switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            _ => throw WorkflowErrors.Type($"{Function}: argument '{name}' must be a string, got {Kind(node)}"),
        };
    }

    public JsonObject? OptionalMap(string name) => Raw(name) switch
    {
        null => null,
        JsonObject map => map,
        var other => throw WorkflowErrors.Type($"{Function}: argument '{name}' must be a map, got {Kind(other)}"),
    };

    public double? OptionalNumber(string name)
    {
        var node = Raw(name);
        return node switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.Number => double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture),
            _ => throw WorkflowErrors.Type($"{Function}: argument '{name}' must be a number, got {Kind(node)}"),
        };
    }

    public bool? OptionalBool(string name)
    {
        var node = Raw(name);
        return node switch
        {
            null => null,
            JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
            _ => throw WorkflowErrors.Type($"{Function}: argument '{name}' must be a boolean, got {Kind(node)}"),
        };
    }

    /// <summary>Any value (a body may be a map, a list, a string).</summary>
    public JsonNode? Raw(string name)
    {
        _read.Add(name);
        return _call.Arguments.TryGetPropertyValue(name, out var node) ? node : null;
    }

    /// <summary>Refuses arguments the function does not take: a typo must fail, not be silently dropped.</summary>
    public void RejectUnknown(IEnumerable<string> accepted)
    {
        var known = new HashSet<string>(accepted, StringComparer.Ordinal) { "connector_params" };
        var unknown = _call.Arguments.Select(p => p.Key).Where(k => !known.Contains(k) && !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw WorkflowErrors.Type($"{Function}: unexpected argument(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}");
        }
    }

    public static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "map",
        JsonArray => "list",
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "value",
        },
        _ => "value",
    };
}
