using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Commissable.Workflows.Runtime;

/// <summary>What a standard library function may use: the run's options and its cancellation.</summary>
internal sealed record StdContext(WorkflowRunOptions Options, CancellationToken CancellationToken);

/// <summary>
/// A standard library function. <see cref="Params"/> are Google's argument names, used by <c>call:</c>
/// steps (named) and in this order by expressions (positional); the first <see cref="Required"/> are required.
/// </summary>
internal sealed record StdFunction(string Name, IReadOnlyList<string> Params, int Required, Func<StdContext, object?[], ValueTask<object?>> Invoke);

/// <summary>
/// The part of Google's standard library and expression helpers the local runner implements. A missing
/// optional argument arrives as <see cref="Missing"/>.
/// </summary>
internal static class StandardLibrary
{
    public static readonly object Missing = new();

    private static readonly Dictionary<string, StdFunction> Functions = Build().ToDictionary(f => f.Name, StringComparer.Ordinal);

    public static bool TryGet(string name, out StdFunction function) => Functions.TryGetValue(name, out function!);

    public static bool Contains(string name) => Functions.ContainsKey(name);

    private static StdFunction Sync(string name, string[] parameters, int required, Func<object?[], object?> body) =>
        new(name, parameters, required, (_, args) => ValueTask.FromResult(body(args)));

    private static StdFunction Sync(string name, string[] parameters, int required, Func<StdContext, object?[], object?> body) =>
        new(name, parameters, required, (context, args) => ValueTask.FromResult(body(context, args)));

    private static IEnumerable<StdFunction> Build()
    {
        // Expression helpers.
        yield return Sync("len", ["value"], 1, a => Len(a[0]));
        yield return Sync("keys", ["map"], 1, a => Map(a[0], "keys").Keys.Select(k => (object?)k).ToList());
        yield return Sync("int", ["value"], 1, a => ToInt(a[0]));
        yield return Sync("double", ["value"], 1, a => ToDoubleValue(a[0]));
        yield return Sync("string", ["value"], 1, a => ToStringValue(a[0]));
        yield return Sync("default", ["value", "default_value"], 2, a => a[0] ?? a[1]);
        yield return Sync("type", ["value"], 1, a => Values.TypeName(a[0]));
        yield return Sync("get_type", ["value"], 1, a => Values.TypeName(a[0]));
        yield return Sync("if", ["condition", "if_true", "if_false"], 3, a => a[0] switch
        {
            true => a[1],
            false or null => a[2],
            _ => throw WorkflowErrors.TypeError($"if: the condition must be a boolean, got {Values.TypeName(a[0])}"),
        });

        // sys
        yield return Sync("sys.get_env", ["name", "default"], 1, (c, a) =>
            c.Options.Environment.TryGetValue(Str(a[0], "sys.get_env", "name"), out var value) ? value : Optional(a[1]));
        yield return Sync("sys.now", [], 0, (c, _) => (c.Options.Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond);
        yield return Sync("sys.log", ["data", "severity", "text", "json", "timestamp"], 0, (c, a) =>
        {
            var data = Optional(a[0]) ?? Optional(a[2]) ?? Optional(a[3]);
            var severity = Optional(a[1]) is { } s ? Str(s, "sys.log", "severity") : "INFO";
            c.Options.Observer?.Logged(severity, Values.ToEdgeJson(data));
            return null;
        });
        yield return new StdFunction("sys.sleep", ["seconds"], 1, async (c, a) =>
        {
            if (!Values.IsNumber(a[0]) || Values.ToDouble(a[0]) < 0)
            {
                throw WorkflowErrors.ValueError($"sys.sleep: seconds must be a non-negative number, got {Values.Describe(a[0])}");
            }

            await Delay(c, TimeSpan.FromSeconds(Values.ToDouble(a[0]))).ConfigureAwait(false);
            return null;
        });

        // text
        yield return Sync("text.replace_all", ["source", "substr", "repl"], 3, a =>
        {
            var substr = Str(a[1], "text.replace_all", "substr");
            return substr.Length == 0 ? Str(a[0], "text.replace_all", "source") : Str(a[0], "text.replace_all", "source").Replace(substr, Str(a[2], "text.replace_all", "repl"), StringComparison.Ordinal);
        });
        yield return Sync("text.split", ["source", "separator"], 2, a =>
        {
            var source = Str(a[0], "text.split", "source");
            var separator = Str(a[1], "text.split", "separator");
            var parts = separator.Length == 0 ? source.Select(ch => ch.ToString()).ToArray() : source.Split(separator);
            return parts.Select(p => (object?)p).ToList();
        });
        yield return Sync("text.substring", ["source", "start", "end"], 3, a =>
        {
            var source = Str(a[0], "text.substring", "source");
            var start = (int)Math.Clamp(Int(a[1], "text.substring", "start"), 0, source.Length);
            var end = (int)Math.Clamp(Int(a[2], "text.substring", "end"), 0, source.Length);
            return end <= start ? string.Empty : source[start..end];
        });
        yield return Sync("text.find_all", ["source", "substr"], 2, a =>
        {
            var source = Str(a[0], "text.find_all", "source");
            var substr = Str(a[1], "text.find_all", "substr");
            var found = new List<object?>();
            if (substr.Length == 0)
            {
                return found;
            }

            for (var index = source.IndexOf(substr, StringComparison.Ordinal); index >= 0; index = source.IndexOf(substr, index + substr.Length, StringComparison.Ordinal))
            {
                var match = Values.NewMap();
                match["index"] = (long)index;
                match["match"] = substr;
                found.Add(match);
            }

            return found;
        });
        yield return Sync("text.to_lower", ["source"], 1, a => Str(a[0], "text.to_lower", "source").ToLowerInvariant());
        yield return Sync("text.to_upper", ["source"], 1, a => Str(a[0], "text.to_upper", "source").ToUpperInvariant());
        // Percent-encodes everything but RFC 3986 unreserved characters, "/" included (object names in paths).
        yield return Sync("text.url_encode", ["source"], 1, a => Uri.EscapeDataString(Str(a[0], "text.url_encode", "source")));
        yield return Sync("text.match_regex", ["source", "regexp"], 2, a =>
        {
            try
            {
                return Regex.IsMatch(Str(a[0], "text.match_regex", "source"), Re2Ends(Str(a[1], "text.match_regex", "regexp")), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw WorkflowErrors.ValueError($"text.match_regex: invalid regular expression: {e.Message}");
            }
        });
        // Google: every match replaced by repl taken literally (no backreferences); an empty match
        // counts at the start and after each code point (never between a surrogate pair's halves),
        // but not right where the previous match ended, as RE2's global replace does ("aaa", "a*": one
        // replacement). Known difference: .NET picks the first alternative that matches where Google
        // documents the longest ("one|oneself" on "oneself").
        yield return Sync("text.replace_all_regex", ["source", "regexp", "repl"], 3, a =>
        {
            var source = Str(a[0], "text.replace_all_regex", "source");
            var pattern = Str(a[1], "text.replace_all_regex", "regexp");
            var repl = Str(a[2], "text.replace_all_regex", "repl");
            try
            {
                var previousEnd = -1;
                return new Regex(Re2Ends(pattern), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)).Replace(source, match =>
                {
                    var skip = match.Length == 0 && (match.Index == previousEnd
                        || (match.Index > 0 && match.Index < source.Length && char.IsSurrogatePair(source[match.Index - 1], source[match.Index])));
                    previousEnd = match.Index + match.Length;
                    return skip ? string.Empty : repl;
                });
            }
            catch (ArgumentException e)
            {
                throw WorkflowErrors.ValueError($"text.replace_all_regex: invalid regular expression: {e.Message}");
            }
        });
        yield return Sync("text.encode", ["text", "charset"], 1, a => Charset(a[1], "text.encode").GetBytes(Str(a[0], "text.encode", "text")));
        yield return Sync("text.decode", ["data", "charset"], 1, a =>
        {
            var data = a[0] as byte[] ?? throw WorkflowErrors.TypeError($"text.decode: data must be bytes, got {Values.TypeName(a[0])}");
            try
            {
                return Charset(a[1], "text.decode").GetString(data);
            }
            catch (DecoderFallbackException)
            {
                throw WorkflowErrors.ValueError("text.decode: the data is not valid in this charset");
            }
        });

        // json
        yield return Sync("json.encode_to_string", ["data", "indent"], 1, a => EncodeJson(a[0], a[1]));
        yield return Sync("json.encode", ["data", "indent"], 1, a => Encoding.UTF8.GetBytes(EncodeJson(a[0], a[1])));
        yield return Sync("json.decode", ["data"], 1, a =>
        {
            var text = a[0] switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string s => s,
                _ => throw WorkflowErrors.TypeError($"json.decode: data must be bytes or a string, got {Values.TypeName(a[0])}"),
            };
            try
            {
                return Values.FromJson(JsonNode.Parse(text));
            }
            catch (JsonException e)
            {
                throw WorkflowErrors.ValueError($"json.decode: not valid JSON: {e.Message}");
            }
        });

        // base64
        yield return Sync("base64.encode", ["data", "padding"], 1, a =>
        {
            var data = a[0] as byte[] ?? throw WorkflowErrors.TypeError($"base64.encode: data must be bytes, got {Values.TypeName(a[0])}");
            var text = Convert.ToBase64String(data);
            return Optional(a[1]) is false ? text.TrimEnd('=') : text;
        });
        yield return Sync("base64.decode", ["data", "padding"], 1, a =>
        {
            var text = Str(a[0], "base64.decode", "data");
            if (Optional(a[1]) is false)
            {
                text = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
            }

            try
            {
                return Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                throw WorkflowErrors.ValueError("base64.decode: the data is not valid base64");
            }
        });

        // time
        yield return Sync("time.format", ["seconds", "timezone"], 1, a => FormatTime(a[0], Optional(a[1])));
        yield return Sync("time.parse", ["value"], 1, a =>
        {
            var text = Str(a[0], "time.parse", "value");
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                throw WorkflowErrors.ValueError($"time.parse: not an RFC 3339 time: {Values.Describe(text)}");
            }

            return (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerSecond;
        });

        // map, list
        yield return Sync("map.get", ["map", "keys"], 2, a => MapGet(a[0], a[1]));
        yield return Sync("list.concat", ["objs", "val"], 2, a =>
        {
            var list = a[0] switch
            {
                null => [],
                List<object?> l => Values.DeepCopy(l) as List<object?>,
                _ => throw WorkflowErrors.TypeError($"list.concat: objs must be a list, got {Values.TypeName(a[0])}"),
            };
            list!.Add(Values.DeepCopy(a[1]));
            return list;
        });

        // retry predicates
        yield return Sync("http.default_retry_predicate", ["exception"], 1, a => IsRetryable(a[0], [429, 502, 503, 504], ["ConnectionError", "ConnectionFailedError", "TimeoutError"]));
        yield return Sync("http.default_retry_predicate_non_idempotent", ["exception"], 1, a => IsRetryable(a[0], [429, 503], []));
        yield return Sync("retry.always", ["exception"], 1, _ => true);
        yield return Sync("retry.never", ["exception"], 1, _ => false);
    }

    private static Task Delay(StdContext context, TimeSpan delay) =>
        context.Options.Delay is { } custom ? custom(delay, context.CancellationToken) : Task.Delay(delay, context.CancellationToken);

    private static object? Optional(object? value) => ReferenceEquals(value, Missing) ? null : value;

    private static string Str(object? value, string function, string parameter) =>
        value as string ?? throw WorkflowErrors.TypeError($"{function}: {parameter} must be a string, got {Values.TypeName(Optional(value))}");

    private static long Int(object? value, string function, string parameter) =>
        value is long l ? l : throw WorkflowErrors.TypeError($"{function}: {parameter} must be an integer, got {Values.TypeName(Optional(value))}");

    private static OrderedDictionary<string, object?> Map(object? value, string function) =>
        value as OrderedDictionary<string, object?> ?? throw WorkflowErrors.TypeError($"{function}: expected a map, got {Values.TypeName(value)}");

    private static long Len(object? value) => value switch
    {
        string s => s.EnumerateRunes().Count(),
        List<object?> list => list.Count,
        OrderedDictionary<string, object?> map => map.Count,
        byte[] bytes => bytes.Length,
        _ => throw WorkflowErrors.TypeError($"len: expected a string, list, map or bytes, got {Values.TypeName(value)}"),
    };

    private static long ToInt(object? value)
    {
        switch (value)
        {
            case long l:
                return l;
            case double d when double.IsFinite(d) && Math.Truncate(d) >= long.MinValue && Math.Truncate(d) <= long.MaxValue:
                return (long)Math.Truncate(d);
            case double d:
                throw WorkflowErrors.ValueError($"int: {Values.FormatDouble(d)} does not fit in a 64-bit integer");
            case string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed):
                return parsed;
            case string s:
                throw WorkflowErrors.ValueError($"int: cannot convert {Values.Describe(s)} to an integer");
            default:
                throw WorkflowErrors.TypeError($"int: expected a string, an integer or a double, got {Values.TypeName(value)}");
        }
    }

    private static double ToDoubleValue(object? value) => value switch
    {
        long l => l,
        double d => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        string s => throw WorkflowErrors.ValueError($"double: cannot convert {Values.Describe(s)} to a double"),
        _ => throw WorkflowErrors.TypeError($"double: expected a string, an integer or a double, got {Values.TypeName(value)}"),
    };

    private static string ToStringValue(object? value) => value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Values.FormatDouble(d),
        bool b => b ? "true" : "false",
        _ => throw WorkflowErrors.TypeError($"string: expected an integer, a double, a boolean or a string, got {Values.TypeName(value)}"),
    };

    private static Encoding Charset(object? charset, string function)
    {
        var name = Optional(charset) is { } c ? Str(c, function, "charset") : "UTF-8";
        return name.ToUpperInvariant() switch
        {
            "UTF-8" or "UTF8" => new UTF8Encoding(false, throwOnInvalidBytes: true),
            "US-ASCII" or "ASCII" => Encoding.ASCII,
            "ISO-8859-1" or "LATIN1" => Encoding.Latin1,
            _ => throw WorkflowErrors.ValueError($"{function}: unsupported charset {Values.Describe(name)}"),
        };
    }

    private static string EncodeJson(object? data, object? indent)
    {
        if (Values.ContainsBytes(data))
        {
            throw WorkflowErrors.TypeError("json: bytes cannot be encoded as JSON; use base64.encode first");
        }

        var size = Optional(indent) switch
        {
            null or false => 0,
            true => 2,
            long n when n is >= 0 and <= 127 => (int)n,
            var other => throw WorkflowErrors.TypeError($"json: indent must be a boolean or a small integer, got {Values.Describe(other)}"),
        };
        var node = Values.ToJson(data);
        return node is null ? "null" : node.ToJsonString(new JsonSerializerOptions { WriteIndented = size > 0, IndentSize = Math.Max(size, 1) });
    }

    private static string FormatTime(object? seconds, object? timezone)
    {
        if (!Values.IsNumber(seconds))
        {
            throw WorkflowErrors.TypeError($"time.format: seconds must be a number, got {Values.TypeName(seconds)}");
        }

        var ticks = (long)Math.Round(Values.ToDouble(seconds) * 1_000_000) * 10;
        var utc = DateTimeOffset.UnixEpoch.AddTicks(ticks);
        var zoneName = timezone is null ? "UTC" : Str(timezone, "time.format", "timezone");
        if (zoneName is "UTC" or "Etc/UTC" or "Z")
        {
            return utc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture) + "Z";
        }

        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(zoneName);
        }
        catch (TimeZoneNotFoundException)
        {
            throw WorkflowErrors.ValueError($"time.format: unknown time zone {Values.Describe(zoneName)}");
        }

        return TimeZoneInfo.ConvertTime(utc, zone).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFzzz", CultureInfo.InvariantCulture);
    }

    private static object? MapGet(object? map, object? keys)
    {
        IEnumerable<object?> path = keys switch
        {
            string key => [key],
            List<object?> list => list,
            _ => throw WorkflowErrors.TypeError($"map.get: keys must be a string or a list of strings, got {Values.TypeName(keys)}"),
        };
        var current = map;
        foreach (var key in path)
        {
            if (current is null)
            {
                return null;
            }

            var dictionary = current as OrderedDictionary<string, object?> ?? throw WorkflowErrors.TypeError($"map.get: expected a map, got {Values.TypeName(current)}");
            if (key is not string name)
            {
                throw WorkflowErrors.TypeError($"map.get: keys must be strings, got {Values.TypeName(key)}");
            }

            current = dictionary.TryGetValue(name, out var next) ? next : null;
        }

        return current;
    }

    private static bool IsRetryable(object? error, long[] codes, string[] tags)
    {
        if (error is not OrderedDictionary<string, object?> map)
        {
            return false;
        }

        if (map.TryGetValue("code", out var code) && code is long c && codes.Contains(c))
        {
            return true;
        }

        return map.TryGetValue("tags", out var found) && found is List<object?> list && list.Any(t => t is string s && tags.Contains(s));
    }

    /// <summary>
    /// Google's expressions are RE2's, where <c>$</c> (without the <c>m</c> flag) matches only at
    /// the end of the text; .NET's <c>$</c> also matches before a final newline, so <c>^prod$</c>
    /// would accept <c>"prod\n"</c> here and not on Google. Each <c>$</c> that is an anchor (not
    /// escaped, not in a character class) becomes <c>\z</c>, unless the pattern turns on multi-line.
    /// </summary>
    internal static string Re2Ends(string pattern)
    {
        if (!pattern.Contains('$', StringComparison.Ordinal) || Regex.IsMatch(pattern, @"\(\?[a-zA-Z]*m", RegexOptions.CultureInvariant))
        {
            return pattern;
        }
        var result = new StringBuilder(pattern.Length + 4);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                result.Append(c).Append(pattern[++i]);
                continue;
            }
            if (inClass)
            {
                inClass = c != ']';
                result.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                result.Append(c);
                // A ']' first in the class (after an optional '^') is a literal.
                if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                {
                    result.Append(pattern[++i]);
                }
                if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                {
                    result.Append(pattern[++i]);
                }
                continue;
            }
            result.Append(c == '$' ? "\\z" : c.ToString());
        }
        return result.ToString();
    }
}
