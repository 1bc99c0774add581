using System.Globalization;
using System.Text.Json;
using Commissable.Backup.Core.Naming;
using Commissable.Functions.Events;

namespace Commissable.Functions.Completion;

/// <summary>
/// Reads what an audit entry carries as free-form JSON (its request and response): a value at a
/// path, as text, a number or a time, and the few shapes the completion functions look for.
/// Anything missing or of another type reads as null, never as an error.
/// </summary>
internal static class AuditPayload
{
    /// <summary>The error of an entry: a non-zero status, or an operation response with errors; null for success.</summary>
    public static string? FailureOf(AuditLog audit)
    {
        if (audit.Status is { Code: { } code } status && code != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"status {code}: {status.Message ?? "(no message)"}");
        }
        if (Child(audit.Response, "error", "errors") is { ValueKind: JsonValueKind.Array } errors && errors.GetArrayLength() > 0)
        {
            return string.Join("; ", errors.EnumerateArray().Select(e => $"{Text(Child(e, "code"))}: {Text(Child(e, "message"))}"));
        }
        return null;
    }

    public static bool TryReadInstance(AuditLog audit, out string project, out string instance)
    {
        var parts = (audit.ResourceName ?? "").Split('/');
        // Both become URL segments and the instance a catalog path: Google's rules, or nothing.
        var ok = parts is ["projects", var p, "instances", var i] && CloudNames.IsProject(p) && CloudNames.IsInstance(i);
        project = ok ? parts[1] : "";
        instance = ok ? parts[3] : "";
        return ok;
    }

    // Cloud SQL's operation names are UUIDs; the name becomes a URL segment.
    public static bool IsOperationName(string name) =>
        name.Length is > 0 and <= 100 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static JsonElement? Child(JsonElement? element, params string[] path)
    {
        var current = element;
        foreach (var key in path)
        {
            if (current is not { ValueKind: JsonValueKind.Object } value || !value.TryGetProperty(key, out var next))
            {
                return null;
            }
            current = next;
        }
        return current is { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } ? null : current;
    }

    public static string? Text(JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => null,
    };

    public static long? Long(JsonElement? element) =>
        long.TryParse(Text(element), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static DateTimeOffset? Time(JsonElement? element) =>
        DateTimeOffset.TryParse(Text(element), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value.ToUniversalTime() : null;
}
