using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Naming;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// Reads request bodies as Google's front end does: JSON objects only, a key at most once per
/// object, and every field the local cloud reads of the type the discovery document gives it. A
/// body that fails is a 400 naming the field, answered before any work, so the handlers' reads
/// (<c>(string?)body["name"]</c>) can never meet a number where they expect a string.
/// </summary>
internal static class RequestJson
{
    /// <summary>The largest request body the API reads; Cloud SQL's requests are a few kilobytes.</summary>
    public const long MaxBodyBytes = 1 << 20;

    private static readonly JsonDocumentOptions Document = new()
    {
        // Last-one-wins would let {"instance":"a","instance":"b"} mean what a reviewer did not read.
        AllowDuplicateProperties = false,
        MaxDepth = 32,
    };

    /// <summary>Reads the body as a JSON object of <paramref name="shape"/>; an empty body reads as <c>{}</c> when <paramref name="emptyAllowed"/>.</summary>
    public static async Task<JsonObject> ReadAsync(HttpContext context, Shape shape, bool emptyAllowed = false)
    {
        var request = context.Request;
        var hasBody = request.ContentLength is null or > 0;
        if (hasBody && request.ContentType is { } type && !IsJson(type))
        {
            throw ApiException.BadRequest(
                $"Invalid JSON payload received. Content-Type '{CloudNames.Printable(type)}' is not supported: send the body as application/json.", "parseError");
        }
        var bytes = await ReadBoundedAsync(request.Body, context.RequestAborted).ConfigureAwait(false);
        if (bytes.Length == 0)
        {
            return emptyAllowed ? new JsonObject() : throw ApiException.BadRequest("Invalid JSON payload received. The request body is empty; expected a JSON object.", "parseError");
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes, documentOptions: Document);
        }
        catch (JsonException error)
        {
            throw ApiException.BadRequest($"Invalid JSON payload received. {Describe(error, bytes)}", "parseError");
        }
        var body = node as JsonObject
            ?? throw ApiException.BadRequest($"Invalid JSON payload received. The body is {KindOf(node)}; expected a JSON object.", "parseError");
        shape.Check(body, "");
        return body;
    }

    /// <summary>
    /// The body, at most <see cref="MaxBodyBytes"/>. A larger one is read to its end (the server's
    /// own limit bounds that) before the 400, so the client hears the answer instead of a reset.
    /// </summary>
    private static async Task<byte[]> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total <= MaxBodyBytes) buffer.Write(chunk, 0, read);
        }
        return total > MaxBodyBytes
            ? throw ApiException.BadRequest($"Request payload size exceeds the limit: {MaxBodyBytes} bytes.")
            : buffer.ToArray();
    }

    private static bool IsJson(string contentType)
    {
        var media = contentType.Split(';', 2)[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>What is wrong, without the parser's .NET wording: the duplicated key and where, or where the text stopped being JSON.</summary>
    private static string Describe(JsonException error, byte[] bytes)
    {
        if (FindDuplicate(bytes) is var (key, path))
        {
            var where = path.Length == 0 ? "" : $" at '{CloudNames.Printable(path)}'";
            return $"The key '{CloudNames.Printable(key)}' appears more than once in one object{where}; each field may be given once.";
        }
        var line = (error.LineNumber ?? 0) + 1;
        var column = (error.BytePositionInLine ?? 0) + 1;
        return $"The body is not valid JSON (line {line.ToString(CultureInfo.InvariantCulture)}, column {column.ToString(CultureInfo.InvariantCulture)}).";
    }

    /// <summary>The first key given twice in one object, and the path of that object; null when there is none (or the text is not JSON).</summary>
    internal static (string Key, string Path)? FindDuplicate(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = Document.MaxDepth });
        var objects = new Stack<(HashSet<string> Keys, string Path)>();
        var containers = new Stack<bool>();
        string? pending = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        var parent = objects.Count > 0 && containers.Peek() ? objects.Peek().Path : "";
                        var path = pending is null ? parent : parent.Length == 0 ? pending : $"{parent}.{pending}";
                        objects.Push((new HashSet<string>(StringComparer.Ordinal), path));
                        containers.Push(true);
                        pending = null;
                        break;
                    case JsonTokenType.StartArray:
                        containers.Push(false);
                        pending = null;
                        break;
                    case JsonTokenType.EndObject:
                        objects.Pop();
                        containers.Pop();
                        break;
                    case JsonTokenType.EndArray:
                        containers.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        var key = reader.GetString()!;
                        if (!objects.Peek().Keys.Add(key)) return (key, objects.Peek().Path);
                        pending = key;
                        break;
                    default:
                        pending = null;
                        break;
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    internal static string KindOf(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
    };

    /// <summary>A value quoted for an error message, short and without control characters.</summary>
    internal static string Quote(JsonNode? node) => node is null ? "null" : CloudNames.Printable(node.ToJsonString(ApiResults.Wire));
}

/// <summary>
/// The type a request field must have (proto3 JSON as Google reads it). Checking also normalises
/// what proto3 JSON allows two ways: an int32 sent as <c>"4"</c> becomes the number 4, so readers
/// see one form. <c>null</c> is accepted anywhere and means "not set", as in proto3 JSON.
/// </summary>
internal abstract class Shape
{
    public static readonly Shape String = new Scalar("TYPE_STRING", JsonValueKind.String);
    public static readonly Shape Bool = new Scalar("TYPE_BOOL", JsonValueKind.True);
    public static readonly Shape Int32 = new Integer("TYPE_INT32", int.MinValue, int.MaxValue, toNumber: true);
    /// <summary>Int64 fields stay as sent (Google's convention is a string; numbers from lenient clients).</summary>
    public static readonly Shape Int64 = new Integer("TYPE_INT64", long.MinValue, long.MaxValue, toNumber: false);
    /// <summary>A field the local cloud keeps as sent but never reads inside: it must only be an object.</summary>
    public static readonly Shape AnyObject = new Message([], open: true);

    /// <summary>An object with these fields; others are refused unless <paramref name="open"/> (kept, unread).</summary>
    public static Shape Object(bool open, params (string Name, Shape Shape)[] fields) => new Message(fields, open);

    public static Shape List(Shape item) => new Repeated(item);

    /// <summary>A map of string values (labels).</summary>
    public static Shape Map(Shape value) => new StringMap(value);

    protected abstract string TypeName { get; }

    /// <summary>Throws a 400 naming <paramref name="path"/> when <paramref name="node"/> does not have this shape; may replace it with its normal form.</summary>
    public abstract JsonNode? Check(JsonNode? node, string path);

    /// <summary>The 400 for a value of the wrong type. A field whose name says secret (<c>password</c>, <c>rootPassword</c>) is named but its value is not repeated.</summary>
    protected ApiException Invalid(JsonNode? node, string path) =>
        ApiException.BadRequest($"Invalid value at '{(path.Length == 0 ? "body" : path)}' ({TypeName}), {(IsSecret(path) ? SensitiveNames.Marker : RequestJson.Quote(node))}: expected {Expected}.");

    /// <summary>Whether any field on <paramref name="path"/> (<c>a.b[2].password</c>) is named as a secret, so a value inside one is not repeated either.</summary>
    private static bool IsSecret(string path) =>
        path.Split('.').Any(key => SensitiveNames.IsSensitive(key.Split('[', 2)[0]));

    protected abstract string Expected { get; }

    private sealed class Scalar(string typeName, JsonValueKind kind) : Shape
    {
        protected override string TypeName => typeName;
        protected override string Expected => kind == JsonValueKind.String ? "a string" : "true or false";

        public override JsonNode? Check(JsonNode? node, string path)
        {
            if (node is null) return null;
            var actual = node is JsonValue ? node.GetValueKind() : JsonValueKind.Undefined;
            var matches = kind == JsonValueKind.String ? actual == JsonValueKind.String : actual is JsonValueKind.True or JsonValueKind.False;
            return matches ? node : throw Invalid(node, path);
        }
    }

    private sealed class Integer(string typeName, long min, long max, bool toNumber) : Shape
    {
        protected override string TypeName => typeName;
        protected override string Expected => $"an integer from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";

        public override JsonNode? Check(JsonNode? node, string path)
        {
            if (node is null) return null;
            var text = node is JsonValue ? node.GetValueKind() switch
            {
                JsonValueKind.String => node.GetValue<string>(),
                JsonValueKind.Number => node.ToJsonString(),
                _ => null,
            } : null;
            if (text is null || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw Invalid(node, path);
            }
            return toNumber && node.GetValueKind() == JsonValueKind.String ? JsonValue.Create((int)value) : node;
        }
    }

    private sealed class Message((string Name, Shape Shape)[] fields, bool open) : Shape
    {
        private readonly Dictionary<string, Shape> _fields = fields.ToDictionary(f => f.Name, f => f.Shape, StringComparer.Ordinal);

        protected override string TypeName => "an object";
        protected override string Expected => "a JSON object";

        public override JsonNode? Check(JsonNode? node, string path)
        {
            if (node is null) return null;
            if (node is not JsonObject value) throw Invalid(node, path);
            foreach (var (key, child) in value.ToList())
            {
                var childPath = path.Length == 0 ? key : $"{path}.{key}";
                if (_fields.TryGetValue(key, out var shape))
                {
                    var normal = shape.Check(child, childPath);
                    if (!ReferenceEquals(normal, child)) value[key] = normal;
                }
                else if (!open)
                {
                    throw ApiException.BadRequest(
                        $"Invalid JSON payload received. Unknown name \"{CloudNames.Printable(key)}\" at '{(path.Length == 0 ? "body" : path)}': Cannot find field.");
                }
            }
            return node;
        }
    }

    private sealed class Repeated(Shape item) : Shape
    {
        protected override string TypeName => "a list";
        protected override string Expected => "a JSON list";

        public override JsonNode? Check(JsonNode? node, string path)
        {
            if (node is null) return null;
            if (node is not JsonArray list) throw Invalid(node, path);
            for (var i = 0; i < list.Count; i++)
            {
                var child = list[i];
                if (child is null) throw ApiException.BadRequest($"Invalid value at '{path}[{i}]': a list cannot hold null.");
                var normal = item.Check(child, $"{path}[{i}]");
                if (!ReferenceEquals(normal, child)) list[i] = normal;
            }
            return node;
        }
    }

    private sealed class StringMap(Shape value) : Shape
    {
        protected override string TypeName => "a map";
        protected override string Expected => "a JSON object";

        public override JsonNode? Check(JsonNode? node, string path)
        {
            if (node is null) return null;
            if (node is not JsonObject map) throw Invalid(node, path);
            foreach (var (key, child) in map.ToList())
            {
                value.Check(child, $"{path}.{key}");
            }
            return node;
        }
    }
}
