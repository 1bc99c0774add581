using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local;

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
