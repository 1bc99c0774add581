using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Commissable.Backup.Google.Tests.Contracts;

/// <summary>
/// Checks a request against a Google discovery document: the HTTP method and path template name a
/// method, every query parameter is one the method (or the API globally) defines, and every JSON
/// body field, recursively, is a property of the request schema with the right JSON type (int64 as
/// a string, enums from the document).
/// </summary>
internal sealed class DiscoveryContract
{
    private static readonly Lazy<DiscoveryContract> SqlAdmin = new(() => Load("sqladmin.v1beta4.json"));
    private static readonly Lazy<DiscoveryContract> WorkflowExecutions = new(() => Load("workflowexecutions.v1.json"));

    private readonly JsonElement _schemas;
    private readonly JsonElement _globalParameters;
    private readonly List<DiscoveryMethod> _methods = [];

    private DiscoveryContract(JsonDocument document)
    {
        var root = document.RootElement;
        _schemas = root.GetProperty("schemas");
        _globalParameters = root.GetProperty("parameters");
        CollectMethods(root.GetProperty("resources"));
    }

    public static DiscoveryContract SqlAdminV1Beta4 => SqlAdmin.Value;

    public static DiscoveryContract WorkflowExecutionsV1 => WorkflowExecutions.Value;

    public IReadOnlyList<DiscoveryMethod> Methods => _methods;

    /// <summary>The repository's copy of the discovery documents, tests/contracts.</summary>
    public static string ContractsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "contracts");
            if (File.Exists(Path.Combine(candidate, "sqladmin.v1beta4.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"tests/contracts/sqladmin.v1beta4.json not found above {AppContext.BaseDirectory}.");
    }

    public static DiscoveryContract Load(string fileName)
    {
        using var stream = File.OpenRead(Path.Combine(ContractsDirectory(), fileName));
        // The document stays alive for the test run: its elements are read lazily.
        return new DiscoveryContract(JsonDocument.Parse(stream));
    }

    private void CollectMethods(JsonElement resources)
    {
        foreach (var resource in resources.EnumerateObject())
        {
            if (resource.Value.TryGetProperty("methods", out var methods))
            {
                foreach (var method in methods.EnumerateObject())
                {
                    _methods.Add(new DiscoveryMethod(method.Value));
                }
            }

            if (resource.Value.TryGetProperty("resources", out var nested))
            {
                CollectMethods(nested);
            }
        }
    }

    /// <summary>Checks one request; <paramref name="relativeUri"/> is the path and query below the API root.</summary>
    public ContractResult Check(string httpMethod, string relativeUri, string? jsonBody)
    {
        var violations = new List<string>();
        var queryStart = relativeUri.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? relativeUri : relativeUri[..queryStart];
        var query = queryStart < 0 ? "" : relativeUri[(queryStart + 1)..];

        var candidates = _methods
            .Where(m => string.Equals(m.HttpMethod, httpMethod, StringComparison.Ordinal))
            .Select(m => (Method: m, Match: m.PathPattern.Match(path)))
            .Where(c => c.Match.Success)
            .OrderByDescending(c => c.Method.LiteralLength)
            .ToList();
        if (candidates.Count == 0)
        {
            var sameShape = _methods.Where(m => m.PathPattern.IsMatch(path)).Select(m => $"{m.HttpMethod} {m.Id}").ToList();
            violations.Add(sameShape.Count == 0
                ? $"{httpMethod} {path}: no method of the discovery document has this path"
                : $"{httpMethod} {path}: the path belongs to {string.Join(", ", sameShape)}, not to {httpMethod}");
            return new ContractResult(null, violations);
        }

        var (method, match) = candidates[0];
        foreach (var name in method.PathParameters)
        {
            var value = Uri.UnescapeDataString(match.Groups[GroupName(name)].Value);
            if (value.Length == 0)
            {
                violations.Add($"{method.Id}: path parameter {name} is empty");
            }
        }

        var sent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            sent[key] = sent.GetValueOrDefault(key) + 1;
            if (!TryGetQueryParameter(method, key, out var parameter))
            {
                violations.Add($"{method.Id}: query parameter '{key}' is not defined by the method");
                continue;
            }

            if (sent[key] > 1 && !(parameter.TryGetProperty("repeated", out var repeated) && repeated.GetBoolean()))
            {
                violations.Add($"{method.Id}: query parameter '{key}' is not repeated but was sent {sent[key]} times");
            }

            CheckScalar(value, parameter, $"{method.Id}?{key}", violations);
        }

        foreach (var required in method.RequiredQueryParameters.Where(p => !sent.ContainsKey(p)))
        {
            violations.Add($"{method.Id}: required query parameter '{required}' is missing");
        }

        var hasBody = !string.IsNullOrEmpty(jsonBody);
        if (method.RequestSchema is null)
        {
            if (hasBody)
            {
                violations.Add($"{method.Id}: the method takes no request body, but one was sent");
            }
        }
        else if (!hasBody)
        {
            violations.Add($"{method.Id}: the method takes a {method.RequestSchema} body, but none was sent");
        }
        else
        {
            try
            {
                using var body = JsonDocument.Parse(jsonBody!);
                CheckValue(body.RootElement, Ref(method.RequestSchema), method.RequestSchema, violations);
            }
            catch (JsonException e)
            {
                violations.Add($"{method.Id}: the body is not JSON ({e.Message})");
            }
        }

        return new ContractResult(method.Id, violations);
    }

    private bool TryGetQueryParameter(DiscoveryMethod method, string key, out JsonElement parameter)
    {
        if (method.Parameters.TryGetValue(key, out parameter)
            && parameter.TryGetProperty("location", out var location)
            && location.GetString() == "query")
        {
            return true;
        }

        return _globalParameters.TryGetProperty(key, out parameter);
    }

    private JsonElement Ref(string name)
        => _schemas.TryGetProperty(name, out var schema)
            ? schema
            : throw new InvalidOperationException($"The discovery document has no schema {name}.");

    private void CheckValue(JsonElement value, JsonElement schema, string where, List<string> violations)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            schema = Ref(reference.GetString()!);
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : "object";
        switch (type)
        {
            case "object":
                if (value.ValueKind != JsonValueKind.Object)
                {
                    violations.Add($"{where}: expected a JSON object, got {value.ValueKind}");
                    return;
                }

                var hasProperties = schema.TryGetProperty("properties", out var properties);
                var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
                foreach (var property in value.EnumerateObject())
                {
                    if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
                    {
                        CheckValue(property.Value, propertySchema, $"{where}.{property.Name}", violations);
                    }
                    else if (hasAdditional)
                    {
                        CheckValue(property.Value, additional, $"{where}[{property.Name}]", violations);
                    }
                    else
                    {
                        violations.Add($"{where}.{property.Name}: not a field of the schema");
                    }
                }

                break;
            case "array":
                if (value.ValueKind != JsonValueKind.Array)
                {
                    violations.Add($"{where}: expected a JSON array, got {value.ValueKind}");
                    return;
                }

                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    CheckValue(item, schema.GetProperty("items"), $"{where}[{index++}]", violations);
                }

                break;
            case "string":
                if (value.ValueKind != JsonValueKind.String)
                {
                    violations.Add($"{where}: expected a JSON string{FormatHint(schema)}, got {value.ValueKind}");
                    return;
                }

                CheckScalar(value.GetString()!, schema, where, violations);
                break;
            case "integer":
            case "number":
                if (value.ValueKind != JsonValueKind.Number)
                {
                    violations.Add($"{where}: expected a JSON number, got {value.ValueKind}");
                }
                else if (type == "integer" && !value.TryGetInt64(out _))
                {
                    violations.Add($"{where}: expected an integer, got {value.GetRawText()}");
                }

                break;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    violations.Add($"{where}: expected a JSON boolean, got {value.ValueKind}");
                }

                break;
            case "any":
                break;
            default:
                violations.Add($"{where}: the checker does not know schema type '{type}'");
                break;
        }
    }

    private static string FormatHint(JsonElement schema)
        => schema.TryGetProperty("format", out var format) ? $" ({format.GetString()})" : "";

    /// <summary>A string value (query parameter or JSON string) against its type, format and enum.</summary>
    private static void CheckScalar(string value, JsonElement schema, string where, List<string> violations)
    {
        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : "string";
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        var ok = (type, format) switch
        {
            ("boolean", _) => value is "true" or "false",
            ("integer", _) => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            ("string", "int64") => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            ("string", "uint64") => ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _),
            ("string", "google-datetime") => DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
            ("string", "google-duration") => value.EndsWith('s'),
            _ => true,
        };
        if (!ok)
        {
            violations.Add($"{where}: '{value}' is not a valid {type}{(format is null ? "" : $" ({format})")}");
        }

        if (schema.TryGetProperty("enum", out var values)
            && !values.EnumerateArray().Any(v => string.Equals(v.GetString(), value, StringComparison.Ordinal)))
        {
            violations.Add($"{where}: '{value}' is not one of the enum values");
        }
    }

    internal static string GroupName(string parameter) => "p_" + Regex.Replace(parameter, "[^A-Za-z0-9]", "_");
}

internal sealed record ContractResult(string? MethodId, IReadOnlyList<string> Violations)
{
    public bool Ok => MethodId is not null && Violations.Count == 0;
}

/// <summary>One method of the discovery document with its path compiled to a pattern.</summary>
internal sealed partial class DiscoveryMethod
{
    public DiscoveryMethod(JsonElement method)
    {
        Id = method.GetProperty("id").GetString()!;
        HttpMethod = method.GetProperty("httpMethod").GetString()!;
        // flatPath is the concrete shape of {+name} paths (projects/{projectsId}/backups/...).
        var template = (method.TryGetProperty("flatPath", out var flat) ? flat : method.GetProperty("path")).GetString()!;
        Template = template;
        Parameters = method.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal)
            : [];
        RequiredQueryParameters = Parameters
            .Where(p => p.Value.TryGetProperty("location", out var l) && l.GetString() == "query"
                && p.Value.TryGetProperty("required", out var r) && r.GetBoolean())
            .Select(p => p.Key)
            .ToList();
        RequestSchema = method.TryGetProperty("request", out var request) ? request.GetProperty("$ref").GetString() : null;

        var pathParameters = new List<string>();
        var pattern = new System.Text.StringBuilder("^");
        var literal = 0;
        var position = 0;
        foreach (Match m in Placeholder().Matches(template))
        {
            pattern.Append(Regex.Escape(template[position..m.Index]));
            literal += m.Index - position;
            var name = m.Groups[2].Value;
            pathParameters.Add(name);
            // {+name} is a reserved expansion: it may contain slashes.
            pattern.Append($"(?<{DiscoveryContract.GroupName(name)}>{(m.Groups[1].Value == "+" ? ".+" : "[^/]+")})");
            position = m.Index + m.Length;
        }

        pattern.Append(Regex.Escape(template[position..])).Append('$');
        literal += template.Length - position;
        PathParameters = pathParameters;
        LiteralLength = literal;
        PathPattern = new Regex(pattern.ToString(), RegexOptions.CultureInvariant);
    }

    public string Id { get; }
    public string HttpMethod { get; }
    public string Template { get; }
    public Regex PathPattern { get; }
    public int LiteralLength { get; }
    public IReadOnlyList<string> PathParameters { get; }
    public IReadOnlyDictionary<string, JsonElement> Parameters { get; }
    public IReadOnlyList<string> RequiredQueryParameters { get; }
    public string? RequestSchema { get; }

    [GeneratedRegex(@"\{(\+?)([A-Za-z0-9_.]+)\}")]
    private static partial Regex Placeholder();
}
