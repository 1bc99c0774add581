using System.Globalization;

namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>What a masking rule does to a column's values.</summary>
public enum MaskKind
{
    /// <summary>The values stay as they are (an explicit decision that the column is not personal).</summary>
    Keep,

    /// <summary>Every value becomes NULL.</summary>
    Null,

    /// <summary>Every non-NULL value becomes the rule's fixed value.</summary>
    Fixed,

    /// <summary>A deterministic pseudonym <c>u-HEX@example.invalid</c>.</summary>
    Email,

    /// <summary>A deterministic pseudonym <c>Word HEX</c>.</summary>
    Name,

    /// <summary>A deterministic pseudonym <c>+999 NNN NNN NNNN</c> (999 is a country code no country has).</summary>
    Phone,

    /// <summary>A deterministic placeholder <c>masked-HEX</c>.</summary>
    Text,

    /// <summary>A deterministic whole number within the rule's range.</summary>
    Number,
}

/// <summary>One column's masking rule as the rules file states it.</summary>
/// <param name="Kind">What is done to the values.</param>
/// <param name="FixedValue">For <see cref="MaskKind.Fixed"/>: the value (as PostgreSQL reads it from COPY text, unescaped).</param>
/// <param name="Min">For <see cref="MaskKind.Number"/>: the smallest number.</param>
/// <param name="Max">For <see cref="MaskKind.Number"/>: the largest number.</param>
public sealed record MaskRule(MaskKind Kind, string? FixedValue = null, long Min = 0, long Max = 0)
{
    public static MaskRule Keep { get; } = new(MaskKind.Keep);
    public static MaskRule SetNull { get; } = new(MaskKind.Null);

    public static MaskRule Fixed(string value) => new(MaskKind.Fixed, value ?? throw new ArgumentNullException(nameof(value)));

    public static MaskRule Pseudonym(MaskKind kind) => kind is MaskKind.Email or MaskKind.Name or MaskKind.Phone or MaskKind.Text
        ? new(kind)
        : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only email, name, phone and text are pseudonym kinds.");

    public static MaskRule Number(long min, long max) => min <= max
        ? new(MaskKind.Number, null, min, max)
        : throw new ArgumentOutOfRangeException(nameof(max), $"number: min ({min}) is greater than max ({max}).");

    /// <summary>The kind as the rules file and the manifest name it: <c>keep</c>, <c>null</c>, <c>fixed</c>, <c>email</c>, …</summary>
    public string KindName => Kind.ToString().ToLowerInvariant();

    /// <summary>What the rule does, for messages; never the fixed value (it may be anything).</summary>
    public override string ToString() => Kind == MaskKind.Number
        ? string.Create(CultureInfo.InvariantCulture, $"number {Min}..{Max}")
        : KindName;
}

/// <summary>A column a rule names: schema, table and column, each unquoted (as PostgreSQL stores them).</summary>
public sealed record ColumnName(string Schema, string Table, string Column)
{
    /// <summary>
    /// Reads <c>table.column</c> (schema <c>public</c>) or <c>schema.table.column</c>; names are
    /// taken as written (case-sensitive, no quotes), so a name holding a dot cannot be named.
    /// </summary>
    public static bool TryParse(string text, out ColumnName name)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('.');
        name = null!;
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || p.Any(char.IsControl) || p.Contains('"', StringComparison.Ordinal)))
        {
            return false;
        }
        name = parts.Length == 2 ? new ColumnName("public", parts[0], parts[1]) : new ColumnName(parts[0], parts[1], parts[2]);
        return true;
    }

    /// <summary>The table as <see cref="TableName"/> keys it.</summary>
    public TableName TableName => new(Schema, Table);

    /// <summary><c>table.column</c> in schema public, else <c>schema.table.column</c>.</summary>
    public override string ToString() => Schema == "public" ? $"{Table}.{Column}" : $"{Schema}.{Table}.{Column}";
}

/// <summary>A table: schema and name, unquoted.</summary>
public sealed record TableName(string Schema, string Name)
{
    public override string ToString() => Schema == "public" ? Name : $"{Schema}.{Name}";
}

/// <summary>The rules of one rules file: at most one per column.</summary>
public sealed class MaskingRules
{
    private readonly Dictionary<ColumnName, MaskRule> _rules;

    public MaskingRules(IEnumerable<KeyValuePair<ColumnName, MaskRule>> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [];
        foreach (var (column, rule) in rules)
        {
            if (!_rules.TryAdd(column, rule))
            {
                throw new ArgumentException($"{column} has two rules.", nameof(rules));
            }
        }
    }

    public IReadOnlyDictionary<ColumnName, MaskRule> Rules => _rules;

    public MaskRule? For(ColumnName column) => _rules.GetValueOrDefault(column);
}
