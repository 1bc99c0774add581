using System.Globalization;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups.Masking;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>
/// The rules file of <c>sanitize</c>: YAML with one mapping <c>rules</c>, one entry per column,
/// <c>table.column</c> (schema public) or <c>schema.table.column</c>, names as the database has
/// them (case-sensitive, unquoted):
/// <code>
/// rules:
///   User.email: email            # email, name, phone, text: deterministic pseudonyms
///   User.passwordHash: null      # every value NULL
///   Tenant.name: keep            # explicitly not masked
///   AuditLog.ipAddress: { fixed: 192.0.2.1 }
///   Opportunity.probability: { number: { min: 0, max: 100 } }
/// </code>
/// Every problem of the file is reported at once, each with its line.
/// </summary>
internal static class SanitizeRulesFile
{
    public static MaskingRules Read(string option, string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException error)
        {
            throw new UsageException($"{option} {path} cannot be read: {error.Message}");
        }
        return Parse(option, path, text);
    }

    public static MaskingRules Parse(string option, string shown, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var problems = new List<string>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException error)
        {
            throw new UsageException($"{option} {shown}: line {error.Start.Line}: not YAML: {error.Message}");
        }
        catch (InvalidOperationException)
        {
            throw new UsageException($"{option} {shown}: not YAML: a bracket, quote or block is left open at the end of the file");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new UsageException($"{option} {shown}: the file must be one YAML mapping with the key 'rules'");
        }
        YamlMappingNode? rules = null;
        foreach (var (key, value) in root.Children)
        {
            if (Scalar(key) != "rules")
            {
                problems.Add($"line {key.Start.Line}: unknown key '{Printable(Scalar(key) ?? "?")}' (the file has one key, 'rules')");
                continue;
            }
            rules = value as YamlMappingNode;
            if (rules is null) problems.Add($"line {value.Start.Line}: 'rules' must be a mapping of table.column to a rule");
        }
        if (rules is null && problems.Count == 0) problems.Add("there is no 'rules' mapping");

        var parsed = new List<KeyValuePair<ColumnName, MaskRule>>();
        var seen = new Dictionary<ColumnName, long>();
        foreach (var (key, value) in rules?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
        {
            var line = key.Start.Line;
            var name = Scalar(key);
            if (name is null || !ColumnName.TryParse(name, out var column))
            {
                problems.Add($"line {line}: '{Printable(name ?? "?")}' is not table.column or schema.table.column");
                continue;
            }
            if (seen.TryGetValue(column, out var first))
            {
                problems.Add($"line {line}: {column} has a rule already (line {first})");
                continue;
            }
            seen[column] = line;
            try
            {
                parsed.Add(new(column, Rule(value)));
            }
            catch (FormatException problem)
            {
                problems.Add($"line {value.Start.Line}: {column}: {problem.Message}");
            }
        }
        if (problems.Count > 0)
        {
            throw new UsageException($"{option} {shown}: {string.Join("; ", problems)}");
        }
        return new MaskingRules(parsed);
    }

    private const string Kinds = "keep, null, email, name, phone, text, { fixed: VALUE } or { number: { min: A, max: B } }";

    private static MaskRule Rule(YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                // A plain null, ~ or nothing is YAML's null: the rule 'null'.
                if (scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "null" or "~" or "Null" or "NULL")
                {
                    return MaskRule.SetNull;
                }
                return scalar.Value switch
                {
                    "keep" => MaskRule.Keep,
                    "email" => MaskRule.Pseudonym(MaskKind.Email),
                    "name" => MaskRule.Pseudonym(MaskKind.Name),
                    "phone" => MaskRule.Pseudonym(MaskKind.Phone),
                    "text" => MaskRule.Pseudonym(MaskKind.Text),
                    "fixed" or "number" => throw new FormatException($"'{scalar.Value}' needs its value: {Kinds}"),
                    _ => throw new FormatException($"'{Printable(scalar.Value ?? "")}' is not a rule; one of {Kinds}"),
                };
            case YamlMappingNode { Children.Count: 1 } mapping:
                var (key, value) = mapping.Children.First();
                switch (Scalar(key))
                {
                    case "fixed":
                        return value is YamlScalarNode { Value: { } text } fixedValue && !(fixedValue.Style == ScalarStyle.Plain && text is "null" or "~")
                            ? MaskRule.Fixed(text)
                            : throw new FormatException("fixed takes one value (a string; use the rule null for NULL)");
                    case "number":
                        if (value is not YamlMappingNode range) throw new FormatException("number takes { min: A, max: B }");
                        long? min = null, max = null;
                        foreach (var (k, v) in range.Children)
                        {
                            var bound = Scalar(v) is { } n && long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
                                ? parsed
                                : throw new FormatException($"number: {Scalar(k)} must be a whole number");
                            switch (Scalar(k))
                            {
                                case "min": min = bound; break;
                                case "max": max = bound; break;
                                default: throw new FormatException($"number takes min and max, not '{Printable(Scalar(k) ?? "?")}'");
                            }
                        }
                        if (min is null || max is null) throw new FormatException("number needs both min and max");
                        if (min > max) throw new FormatException($"number: min ({min}) is greater than max ({max})");
                        return MaskRule.Number(min.Value, max.Value);
                    default:
                        throw new FormatException($"'{Printable(Scalar(key) ?? "?")}' is not a rule; one of {Kinds}");
                }
            default:
                throw new FormatException($"a rule is one of {Kinds}");
        }
    }

    private static string? Scalar(YamlNode node) => node is YamlScalarNode scalar ? scalar.Value : null;

    private static string Printable(string value) => OperatorRules.Printable(value);
}
