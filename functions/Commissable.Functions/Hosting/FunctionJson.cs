using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Hosting;

/// <summary>
/// The JSON conventions of every request, response and event payload: camelCase, names matched
/// case-insensitively, Google's int64-as-string numbers accepted (<c>"size": "352"</c>), nulls
/// omitted when writing, non-nullable properties and <c>required</c> members enforced when reading,
/// and a key given twice refused (<c>{"instance":"nope","instance":"prod"}</c> would otherwise act
/// on the last one while a proxy or a log reader saw the first).
/// </summary>
public static class FunctionJson
{
    /// <summary>The options; read-only.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>
    /// <see cref="Options"/> for HTTP request bodies, which also refuse a key the request type does
    /// not have: a misspelt field (<c>"databse"</c>) would otherwise be dropped silently and the
    /// request run with a default. CloudEvent data keeps <see cref="Options"/>, since Google adds
    /// fields to its events.
    /// </summary>
    public static JsonSerializerOptions RequestOptions { get; } = CreateRequestOptions();

    /// <summary>How JSON documents (a CloudEvent's envelope and data) are parsed: a key given twice is refused, as in <see cref="Options"/>.</summary>
    public static JsonDocumentOptions DocumentOptions { get; } = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// A one-line description of why <paramref name="exception"/> happened and where, for a 400:
    /// e.g. <c>The JSON value could not be converted to System.Int32 (at $.count, line 1, position 12)</c>.
    /// </summary>
    public static string Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);

        // System.Text.Json appends " Path: $.x | LineNumber: 0 | BytePositionInLine: 7."; say it once, 1-based.
        var reason = exception.Message;
        var pathAt = reason.IndexOf(" Path:", StringComparison.Ordinal);
        if (pathAt < 0)
        {
            pathAt = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        reason = (pathAt >= 0 ? reason[..pathAt] : reason).TrimEnd('.', ' ');
        var where = new List<string>();
        if (!string.IsNullOrEmpty(exception.Path))
        {
            where.Add("at " + exception.Path);
        }

        if (exception.LineNumber is { } line)
        {
            where.Add($"line {line + 1}");
        }

        if (exception.BytePositionInLine is { } position)
        {
            where.Add($"position {position + 1}");
        }

        var text = where.Count == 0 ? reason : $"{reason} ({string.Join(", ", where)})";
        return SecretRedactor.Redact(text);
    }

    private static JsonSerializerOptions CreateRequestOptions()
    {
        var options = new JsonSerializerOptions(Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };
        options.MakeReadOnly();
        return options;
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            AllowDuplicateProperties = false,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly();
        return options;
    }
}
