using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Commissable.Backup.Core.Naming;
using Microsoft.Extensions.Logging;

namespace Commissable.Functions.Hosting.Logging;

/// <summary>Formats one entry as one line of JSON in Cloud Logging's structured shape.</summary>
internal static class LogEntryWriter
{
    public const string TraceKey = "logging.googleapis.com/trace";
    public const string SpanIdKey = "logging.googleapis.com/spanId";
    public const string TraceSampledKey = "logging.googleapis.com/trace_sampled";
    public const string LabelsKey = "logging.googleapis.com/labels";

    private const int MaxItems = 100;
    private const string OriginalFormatKey = "{OriginalFormat}";

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "severity", "message", "time", "event", "logger", "exception", TraceKey, SpanIdKey, TraceSampledKey, LabelsKey,
    };

    // Escapes control characters (so a line never breaks) but leaves readable text alone.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    public static string Format<TState>(
        StructuredLogOptions options,
        IExternalScopeProvider scopes,
        string category,
        LogLevel level,
        EventId eventId,
        TState state,
        Exception? exception,
        string? message)
    {
        var collected = new Collected(options.Labels);
        scopes.ForEachScope(static (scope, into) => into.AddScope(scope), collected);
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            collected.AddFields(values);
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("severity", Severity(level, collected.Notice));
            var text = string.IsNullOrEmpty(message) ? eventId.Name ?? exception?.GetType().FullName ?? string.Empty : message;
            writer.WriteString("message", SecretRedactor.Redact(collected.WithoutSensitiveValues(text)));
            writer.WriteString("time", options.TimeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            if (!string.IsNullOrEmpty(eventId.Name))
            {
                writer.WriteString("event", eventId.Name);
            }

            writer.WriteString("logger", category);
            if (collected.Trace is { } trace && options.ProjectId is { Length: > 0 } project)
            {
                writer.WriteString(TraceKey, $"projects/{project}/traces/{trace.TraceId}");
                if (trace.SpanId is not null)
                {
                    writer.WriteString(SpanIdKey, trace.SpanId);
                }

                writer.WriteBoolean(TraceSampledKey, trace.Sampled);
            }

            if (collected.Labels.Count > 0)
            {
                writer.WriteStartObject(LabelsKey);
                foreach (var (key, value) in collected.Labels)
                {
                    writer.WriteString(key, SecretRedactor.Redact(value));
                }

                writer.WriteEndObject();
            }

            foreach (var (key, value) in collected.Fields)
            {
                writer.WritePropertyName(key);
                if (value is not null && SensitiveNames.IsSensitive(key))
                {
                    writer.WriteStringValue(SecretRedactor.Marker);
                }
                else
                {
                    WriteValue(writer, value, nested: false);
                }
            }

            if (exception is not null)
            {
                WriteException(writer, exception);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Severity(LogLevel level, bool notice) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => notice ? "NOTICE" : "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        _ => "CRITICAL",
    };

    private static void WriteException(Utf8JsonWriter writer, Exception exception)
    {
        writer.WriteStartObject("exception");
        writer.WriteString("type", exception.GetType().FullName);
        writer.WriteString("message", SecretRedactor.Redact(exception.Message));
        if (exception.StackTrace is { } stack)
        {
            // Frames name methods and files, never values; joined so the entry stays one line.
            var frames = stack.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            writer.WriteString("stackTrace", string.Join(" | ", frames));
        }

        var inner = new List<string>();
        for (var e = exception.InnerException; e is not null && inner.Count < 5; e = e.InnerException)
        {
            inner.Add($"{e.GetType().FullName}: {SecretRedactor.Redact(e.Message)}");
        }

        if (inner.Count > 0)
        {
            writer.WriteString("inner", string.Join(" --> ", inner));
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, bool nested)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(SecretRedactor.Redact(s));
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int or long or short or byte or sbyte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong u:
                writer.WriteNumberValue(u);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case float f when float.IsFinite(f):
                writer.WriteNumberValue(f);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case DateTimeOffset t:
                writer.WriteStringValue(t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
                break;
            case DateTime t:
                var utc = t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);
                writer.WriteStringValue(utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
                break;
            case TimeSpan span:
                writer.WriteStringValue(span.ToString("c", CultureInfo.InvariantCulture));
                break;
            case Enum e:
                writer.WriteStringValue(e.ToString());
                break;
            case IEnumerable items when !nested:
                writer.WriteStartArray();
                foreach (var item in items.Cast<object?>().Take(MaxItems))
                {
                    WriteValue(writer, item, nested: true);
                }

                writer.WriteEndArray();
                break;
            case IFormattable formattable:
                writer.WriteStringValue(SecretRedactor.Redact(formattable.ToString(null, CultureInfo.InvariantCulture)));
                break;
            default:
                writer.WriteStringValue(SecretRedactor.Redact(value.ToString()));
                break;
        }
    }

    /// <summary>What the scopes and the state contribute, the innermost winning.</summary>
    private sealed class Collected(IReadOnlyDictionary<string, string> labels)
    {
        public Dictionary<string, string> Labels { get; } = new(labels, StringComparer.Ordinal);

        public Dictionary<string, object?> Fields { get; } = new(StringComparer.Ordinal);

        public TraceContext? Trace { get; private set; }

        public bool Notice { get; private set; }

        public void AddScope(object? scope)
        {
            switch (scope)
            {
                case FunctionLogScope invocation:
                    Labels["function"] = invocation.FunctionName;
                    Trace = invocation.Trace ?? Trace;
                    break;
                case NoticeSeverityScope:
                    Notice = true;
                    break;
                case IEnumerable<KeyValuePair<string, object?>> values:
                    AddFields(values);
                    break;
                case IEnumerable<KeyValuePair<string, string>> values:
                    AddFields(values.Select(v => new KeyValuePair<string, object?>(v.Key, v.Value)));
                    break;
                default:
                    // A plain-text scope carries no field name: there is nothing structured to keep.
                    break;
            }
        }

        public void AddFields(IEnumerable<KeyValuePair<string, object?>> values)
        {
            foreach (var (key, value) in values)
            {
                if (key == OriginalFormatKey || string.IsNullOrEmpty(key))
                {
                    continue;
                }

                Fields[FieldName(key)] = value;
            }
        }

        /// <summary>
        /// Removes from <paramref name="message"/> the values of fields whose names say they are
        /// secret: the template renders <c>{Password}</c> into the message as well as into its field.
        /// </summary>
        public string WithoutSensitiveValues(string message)
        {
            foreach (var (key, value) in Fields)
            {
                if (value is not null && SensitiveNames.IsSensitive(key) && Convert.ToString(value, CultureInfo.InvariantCulture) is { Length: > 0 } text)
                {
                    message = message.Replace(text, SecretRedactor.Marker, StringComparison.Ordinal);
                }
            }

            return message;
        }

        private static string FieldName(string key)
        {
            // Template placeholders may carry a destructuring hint: {@Manifest}, {$Value}.
            var name = key.TrimStart('@', '$');
            if (name.Length == 0)
            {
                return "field_";
            }

            name = char.ToLowerInvariant(name[0]) + name[1..];
            return Reserved.Contains(name) ? name + "_" : name;
        }
    }
}
