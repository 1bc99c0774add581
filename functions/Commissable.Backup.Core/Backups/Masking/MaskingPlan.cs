using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>What the masker does to one field of a COPY row.</summary>
internal enum FieldAction
{
    /// <summary>Copied as it is.</summary>
    Pass,

    /// <summary>Copied as it is, after its value is checked for e-mail addresses and phone numbers.</summary>
    Inspect,

    /// <summary>Replaced as its rule says.</summary>
    Mask,
}

/// <summary>One field of a COPY block: what is done to it, and for <see cref="FieldAction.Mask"/> with which rule.</summary>
internal sealed record FieldPlan(FieldAction Action, string Column, MaskRule? Rule = null, int MaxLength = int.MaxValue, bool Json = false, byte[]? FixedText = null);

/// <summary>
/// The rules checked against the dump's schema: every rule names a column the dump has and its
/// type can take; every text-like column whose name looks personal has a rule. Built before a row
/// is read, so a refusal on these grounds comes before anything is written anywhere.
/// </summary>
internal sealed class MaskingPlan
{
    private readonly DumpSchema _schema;
    private readonly MaskingRules _rules;

    private MaskingPlan(DumpSchema schema, MaskingRules rules)
    {
        _schema = schema;
        _rules = rules;
    }

    /// <summary>The plan, or every problem found (rules first, then personal-looking columns without one).</summary>
    public static MaskingPlan Create(DumpSchema schema, MaskingRules rules)
    {
        var problems = new List<MaskingProblem>();
        foreach (var (column, rule) in rules.Rules.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal))
        {
            if (Check(schema, column, rule) is { } problem) problems.Add(new MaskingProblem(column.ToString(), problem));
        }
        var plan = new MaskingPlan(schema, rules);
        foreach (var table in schema.Tables.Values.OrderBy(t => t.Name.ToString(), StringComparer.Ordinal))
        {
            foreach (var column in table.Columns)
            {
                if (column.Generated || column.Category is not (ColumnCategory.Text or ColumnCategory.Json or ColumnCategory.TextArray)) continue;
                if (PersonalData.ByName(column.Name) is not { } why || plan.RuleFor(table.Name, column.Name) is not null) continue;
                // An inherited column is reported once, at the table it comes from.
                if (schema.SelfAndAncestors(table.Name).Skip(1).Any(a => schema.Tables.TryGetValue(a, out var t) && t.Column(column.Name) is not null)) continue;
                problems.Add(new MaskingProblem(new ColumnName(table.Name.Schema, table.Name.Name, column.Name).ToString(), $"has no rule, and {why}"));
            }
        }
        return problems.Count > 0 ? throw new MaskingRefusedException(problems) : plan;
    }

    /// <summary>The rule of a column: its own table's, else the nearest ancestor's (a partition follows its parent).</summary>
    public MaskRule? RuleFor(TableName table, string column) =>
        _schema.SelfAndAncestors(table).Select(t => _rules.For(new ColumnName(t.Schema, t.Name, column))).FirstOrDefault(r => r is not null);

    /// <summary>What to do with each field of a COPY block of <paramref name="table"/> listing <paramref name="columns"/>.</summary>
    public FieldPlan[] Fields(TableName table, IReadOnlyList<string> columns)
    {
        var known = _schema.Tables.ContainsKey(table);
        var fields = new FieldPlan[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            var name = new ColumnName(table.Schema, table.Name, columns[i]).ToString();
            var column = _schema.Column(table, columns[i]);
            var rule = known ? RuleFor(table, columns[i]) : null;
            if (rule is null)
            {
                // A table the schema statements do not declare (an extension's configuration table): every column is inspected.
                var inspect = column is null || column.Category is ColumnCategory.Text or ColumnCategory.Json or ColumnCategory.TextArray;
                fields[i] = new FieldPlan(inspect ? FieldAction.Inspect : FieldAction.Pass, name);
                continue;
            }
            if (rule.Kind == MaskKind.Keep)
            {
                fields[i] = new FieldPlan(FieldAction.Pass, name, rule);
                continue;
            }
            var json = column?.Category == ColumnCategory.Json;
            fields[i] = new FieldPlan(FieldAction.Mask, name, rule, column?.MaxLength ?? int.MaxValue, json,
                rule.Kind == MaskKind.Fixed ? Encoding.UTF8.GetBytes(Escape(rule.FixedValue!)) : null);
        }
        return fields;
    }

    /// <summary>Whether <paramref name="rule"/> can mask <paramref name="name"/> of this dump; the problem when it cannot.</summary>
    private static string? Check(DumpSchema schema, ColumnName name, MaskRule rule)
    {
        if (!schema.Tables.ContainsKey(name.TableName))
        {
            return $"the dump has no table {name.TableName}";
        }
        var column = schema.Column(name.TableName, name.Column);
        if (column is null)
        {
            return $"the dump's table {name.TableName} has no column {name.Column}";
        }
        if (column.Generated)
        {
            return "is a generated column: its values are computed on restore from the other columns, never dumped";
        }
        var type = $"{column.Type} column";
        switch (rule.Kind)
        {
            case MaskKind.Keep:
                return null;
            case MaskKind.Null:
                return column.NotNull ? "null: the column is NOT NULL" : null;
            case MaskKind.Fixed:
                return CheckFixed(column, rule.FixedValue!);
            case MaskKind.Email or MaskKind.Name or MaskKind.Phone or MaskKind.Text:
                if (column.Category == ColumnCategory.Json) return null;
                if (column.Category != ColumnCategory.Text) return $"{rule.KindName} needs a text or json column, not a {type}";
                return column.MaxLength is { } limit && limit < Pseudonyms.ShortestLength(rule.Kind)
                    ? string.Create(CultureInfo.InvariantCulture, $"{rule.KindName} pseudonyms need at least {Pseudonyms.ShortestLength(rule.Kind)} characters; the column holds {limit}")
                    : null;
            case MaskKind.Number:
                if (column.Category is ColumnCategory.Json or ColumnCategory.Fractional) return null;
                if (column.IntegerRange is { } range)
                {
                    return rule.Min < range.Min || rule.Max > range.Max
                        ? string.Create(CultureInfo.InvariantCulture, $"number {rule.Min}..{rule.Max} does not fit a {type} ({range.Min}..{range.Max})")
                        : null;
                }
                if (column.Category != ColumnCategory.Text) return $"number needs a numeric, text or json column, not a {type}";
                var digits = Math.Max(rule.Min.ToString(CultureInfo.InvariantCulture).Length, rule.Max.ToString(CultureInfo.InvariantCulture).Length);
                return column.MaxLength is { } max && max < digits
                    ? string.Create(CultureInfo.InvariantCulture, $"number {rule.Min}..{rule.Max} needs {digits} characters; the column holds {max}")
                    : null;
            default:
                return $"unknown rule kind {rule.Kind}";
        }
    }

    private static string? CheckFixed(DumpColumn column, string value)
    {
        switch (column.Category)
        {
            case ColumnCategory.Text:
                return column.MaxLength is { } max && value.Length > max
                    ? string.Create(CultureInfo.InvariantCulture, $"fixed: the value is {value.Length} characters long; the column ({column.Type}) holds {max}")
                    : null;
            case ColumnCategory.Json:
                try
                {
                    using var _ = JsonDocument.Parse(value);
                    return null;
                }
                catch (JsonException)
                {
                    return $"fixed: the value is not JSON, and the column is {column.Type}";
                }
            case ColumnCategory.WholeNumber:
                return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                    && column.IntegerRange is { } range && number >= range.Min && number <= range.Max
                    ? null
                    : $"fixed: the value is not a whole number a {column.Type} column holds";
            default:
                // Other types are checked by PostgreSQL when the copy is restored, which names the column.
                return null;
        }
    }

    /// <summary>A value in COPY's text format: backslash, tab, newline and carriage return escaped.</summary>
    public static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '\\' => "\\\\",
                '\t' => "\\t",
                '\n' => "\\n",
                '\r' => "\\r",
                _ => c.ToString(),
            });
        }
        return builder.ToString();
    }
}
