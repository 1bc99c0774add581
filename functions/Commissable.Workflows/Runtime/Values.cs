using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Commissable.Workflows.Runtime;

/// <summary>
/// The Workflows value model inside the interpreter: <c>null</c>, <see cref="bool"/>, <see cref="long"/>
/// (int), <see cref="double"/>, <see cref="string"/>, <see cref="List{T}"/> (list),
/// <see cref="OrderedDictionary{TKey, TValue}"/> (map) and <see cref="byte"/>[] (bytes). Values cross
/// into JSON only at the edges (run arguments, handler calls, the result).
/// </summary>
internal static class Values
{
    public static string TypeName(object? value) => value switch
    {
        null => "null",
        bool => "bool",
        long => "int",
        double => "double",
        string => "string",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "map",
        byte[] => "bytes",
        _ => throw new InvalidOperationException($"not a workflow value: {value.GetType()}"),
    };

    public static OrderedDictionary<string, object?> NewMap() => new(StringComparer.Ordinal);

    public static object? FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var map = NewMap();
                foreach (var (key, child) in obj)
                {
                    map[key] = FromJson(child);
                }

                return map;
            case JsonArray array:
                return array.Select(FromJson).ToList();
            case JsonValue value:
                return value.GetValueKind() switch
                {
                    JsonValueKind.String => value.GetValue<string>(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number => NumberOf(value.ToJsonString()),
                    JsonValueKind.Null or JsonValueKind.Undefined => null,
                    var kind => throw new InvalidOperationException($"unexpected JSON value {kind}"),
                };
            default:
                throw new InvalidOperationException($"unexpected JSON node {node.GetType()}");
        }
    }

    /// <summary>JSON numbers written without a fraction or exponent are ints (when they fit), all others doubles.</summary>
    private static object NumberOf(string raw)
    {
        var integral = raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
        return integral && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
            ? (object)integer
            : double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>Converts to JSON; bytes become base64 text, the form a handler can put on the wire.</summary>
    public static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        string s => JsonValue.Create(s),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        List<object?> list => new JsonArray(list.Select(ToJson).ToArray()),
        OrderedDictionary<string, object?> map => ToJsonObject(map),
        _ => throw new InvalidOperationException($"not a workflow value: {value.GetType()}"),
    };

    /// <summary>
    /// JSON for code outside the interpreter (handlers, callers of a run). Re-parsed from text so every
    /// number reads as any numeric type (<c>(int)node</c> works on an int that is stored as a long).
    /// </summary>
    public static JsonNode? ToEdgeJson(object? value) =>
        ToJson(value) is { } node ? JsonNode.Parse(node.ToJsonString()) : null;

    public static JsonObject ToJsonObject(OrderedDictionary<string, object?> map)
    {
        var obj = new JsonObject();
        foreach (var (key, child) in map)
        {
            obj[key] = ToJson(child);
        }

        return obj;
    }

    /// <summary>Workflows values are values: assigning one copies it, so later edits of either side stay apart.</summary>
    public static object? DeepCopy(object? value) => value switch
    {
        List<object?> list => list.Select(DeepCopy).ToList(),
        OrderedDictionary<string, object?> map => CopyMap(map),
        byte[] bytes => bytes.ToArray(),
        _ => value,
    };

    private static OrderedDictionary<string, object?> CopyMap(OrderedDictionary<string, object?> map)
    {
        var copy = NewMap();
        foreach (var (key, child) in map)
        {
            copy[key] = DeepCopy(child);
        }

        return copy;
    }

    public static bool ContainsBytes(object? value) => value switch
    {
        byte[] => true,
        List<object?> list => list.Any(ContainsBytes),
        OrderedDictionary<string, object?> map => map.Values.Any(ContainsBytes),
        _ => false,
    };

    public static bool IsNumber(object? value) => value is long or double;

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        _ => throw new InvalidOperationException("not a number"),
    };

    public static new bool Equals(object? left, object? right) => (left, right) switch
    {
        (null, null) => true,
        (null, _) or (_, null) => false,
        (long a, long b) => a == b,
        (long or double, long or double) => ToDouble(left) == ToDouble(right),
        (bool a, bool b) => a == b,
        (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
        (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
        (List<object?> a, List<object?> b) => a.Count == b.Count && a.Zip(b).All(pair => Equals(pair.First, pair.Second)),
        (OrderedDictionary<string, object?> a, OrderedDictionary<string, object?> b) =>
            a.Count == b.Count && a.All(entry => b.TryGetValue(entry.Key, out var other) && Equals(entry.Value, other)),
        _ => false,
    };

    /// <summary>A short JSON rendering for error messages.</summary>
    public static string Describe(object? value)
    {
        var text = value switch
        {
            string s => JsonSerializer.Serialize(s),
            double d => FormatDouble(d),
            _ => ToJson(value)?.ToJsonString() ?? "null",
        };
        return text.Length > 120 ? text[..117] + "..." : text;
    }

    public static string FormatDouble(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
