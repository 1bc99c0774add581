using System.Globalization;
using Commissable.Backup.Core.Backups.Content;

namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>What kind of values a column holds, as far as masking cares.</summary>
public enum ColumnCategory
{
    /// <summary><c>text</c>, <c>character varying(n)</c>, <c>character(n)</c>, <c>citext</c>, <c>name</c>.</summary>
    Text,

    /// <summary><c>json</c> and <c>jsonb</c>.</summary>
    Json,

    /// <summary>An array of a text type.</summary>
    TextArray,

    /// <summary><c>smallint</c>, <c>integer</c>, <c>bigint</c>.</summary>
    WholeNumber,

    /// <summary><c>numeric</c>, <c>real</c>, <c>double precision</c>.</summary>
    Fractional,

    /// <summary>Anything else (enums, dates, uuid, bytea, domains, …): not personal by its type.</summary>
    Other,
}

/// <summary>One column of a table as the dump's <c>CREATE TABLE</c> declares it.</summary>
/// <param name="Name">Unquoted.</param>
/// <param name="Type">The type as pg_dump prints it (<c>character varying(36)</c>).</param>
/// <param name="Category">What kind of values it holds.</param>
/// <param name="MaxLength">For a length-limited text type, the limit in characters.</param>
/// <param name="NotNull">Declared <c>NOT NULL</c>.</param>
/// <param name="Generated">A generated column: computed on restore, never in the dump's rows.</param>
public sealed record DumpColumn(string Name, string Type, ColumnCategory Category, int? MaxLength, bool NotNull, bool Generated)
{
    /// <summary>The range of an integer type.</summary>
    public (long Min, long Max)? IntegerRange => Type switch
    {
        "smallint" => (short.MinValue, short.MaxValue),
        "integer" => (int.MinValue, int.MaxValue),
        "bigint" => (long.MinValue, long.MaxValue),
        _ => null,
    };
}

/// <summary>One table as the dump declares it: its columns and the tables it inherits from or is a partition of.</summary>
public sealed class DumpTable(TableName name)
{
    public TableName Name { get; } = name;
    public List<DumpColumn> Columns { get; } = [];
    public List<TableName> Parents { get; } = [];

    public DumpColumn? Column(string name) => Columns.FirstOrDefault(c => c.Name == name);
}

/// <summary>
/// The tables of a dump as its schema statements declare them (<c>CREATE TABLE</c>, <c>INHERITS</c>,
/// <c>PARTITION OF</c>, <c>ATTACH PARTITION</c>), read from pg_dump's pre-data section before any row.
/// </summary>
public sealed class DumpSchema
{
    private readonly Dictionary<TableName, DumpTable> _tables = [];

    public IReadOnlyDictionary<TableName, DumpTable> Tables => _tables;

    /// <summary>A column of <paramref name="table"/>, its own or inherited; null when it has none of that name.</summary>
    public DumpColumn? Column(TableName table, string column) => Column(table, column, 0);

    /// <summary>The table and the tables it inherits from, nearest first.</summary>
    public IEnumerable<TableName> SelfAndAncestors(TableName table)
    {
        var seen = new HashSet<TableName>();
        var queue = new Queue<TableName>([table]);
        while (queue.Count > 0)
        {
            var next = queue.Dequeue();
            if (!seen.Add(next)) continue;
            yield return next;
            if (_tables.TryGetValue(next, out var known))
            {
                foreach (var parent in known.Parents) queue.Enqueue(parent);
            }
        }
    }

    private DumpColumn? Column(TableName table, string column, int depth)
    {
        if (depth > 32 || !_tables.TryGetValue(table, out var known)) return null;
        return known.Column(column) ?? known.Parents.Select(p => Column(p, column, depth + 1)).FirstOrDefault(c => c is not null);
    }

    /// <summary>Reads one complete statement of the dump (as printed); statements that declare no table are ignored.</summary>
    internal void Read(string statement)
    {
        var tokens = SqlText.Tokenize(statement);
        if (tokens.Count < 3) return;
        if (tokens[0].Is(statement, "CREATE"))
        {
            var i = 1;
            while (i < tokens.Count && (tokens[i].Is(statement, "UNLOGGED") || tokens[i].Is(statement, "FOREIGN"))) i++;
            if (i >= tokens.Count || !tokens[i].Is(statement, "TABLE")) return;
            i++;
            if (i + 2 < tokens.Count && tokens[i].Is(statement, "IF") && tokens[i + 1].Is(statement, "NOT") && tokens[i + 2].Is(statement, "EXISTS")) i += 3;
            CreateTable(statement, tokens, i);
        }
        else if (tokens[0].Is(statement, "ALTER") && tokens[1].Is(statement, "TABLE"))
        {
            var i = 2;
            if (tokens[i].Is(statement, "ONLY")) i++;
            var parent = Name(statement, tokens, i, out var next);
            if (parent is null || next + 2 >= tokens.Count || !tokens[next].Is(statement, "ATTACH") || !tokens[next + 1].Is(statement, "PARTITION")) return;
            var child = Name(statement, tokens, next + 2, out _);
            if (child is not null) Table(child).Parents.Add(parent);
        }
    }

    private DumpTable Table(TableName name)
    {
        if (!_tables.TryGetValue(name, out var table)) _tables[name] = table = new DumpTable(name);
        return table;
    }

    /// <summary>The qualified name at token <paramref name="index"/>, unquoted; schema <c>public</c> when unqualified.</summary>
    internal static TableName? Name(string text, List<SqlToken> tokens, int index, out int next)
    {
        if (SqlText.QualifiedName(text, tokens, index, out next) is null) return null;
        var parts = new List<string>();
        for (var k = index; k < next; k += 2) parts.Add(SqlText.Unquote(text[tokens[k].Start..tokens[k].End]));
        return parts.Count switch
        {
            1 => new TableName("public", parts[0]),
            2 => new TableName(parts[0], parts[1]),
            _ => new TableName(parts[^2], parts[^1]),
        };
    }

    private void CreateTable(string statement, List<SqlToken> tokens, int index)
    {
        var name = Name(statement, tokens, index, out var next);
        if (name is null) return;
        var table = Table(name);
        if (next < tokens.Count && tokens[next].Is(statement, "PARTITION") && next + 1 < tokens.Count && tokens[next + 1].Is(statement, "OF"))
        {
            if (Name(statement, tokens, next + 2, out var after) is { } parent) table.Parents.Add(parent);
            next = after;
        }
        else if (next < tokens.Count && tokens[next].Is(statement, "OF"))
        {
            // A typed table: its columns come from a composite type this reader does not follow.
            return;
        }
        if (next >= tokens.Count || !tokens[next].IsSymbol(statement, '(')) return;
        var open = next;
        var depth = tokens[open].Depth + 1;
        var element = new List<SqlToken>();
        var k = open + 1;
        for (; k < tokens.Count; k++)
        {
            var token = tokens[k];
            if (token.Depth < depth) break;
            if (token.Depth == depth && token.IsSymbol(statement, ','))
            {
                Element(statement, element, depth, table);
                element.Clear();
                continue;
            }
            element.Add(token);
        }
        Element(statement, element, depth, table);
        // After the closing parenthesis: INHERITS (parents).
        for (k++; k + 1 < tokens.Count; k++)
        {
            if (!tokens[k].Is(statement, "INHERITS") || !tokens[k + 1].IsSymbol(statement, '(')) continue;
            for (var p = k + 2; p < tokens.Count && !tokens[p].IsSymbol(statement, ')'); p++)
            {
                if (Name(statement, tokens, p, out var end) is { } parent)
                {
                    table.Parents.Add(parent);
                    p = end - 1;
                }
            }
            break;
        }
    }

    private static readonly string[] ConstraintStarts = ["CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "EXCLUDE", "FOREIGN", "LIKE"];
    private static readonly string[] TypeEnds = ["COLLATE", "NOT", "NULL", "DEFAULT", "GENERATED", "CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "REFERENCES", "STORAGE", "COMPRESSION", "WITH", "OPTIONS"];

    /// <summary>One element of a <c>CREATE TABLE</c> list: a column (name, type, constraints) or a table constraint.</summary>
    private static void Element(string statement, List<SqlToken> tokens, int depth, DumpTable table)
    {
        if (tokens.Count < 2 || !tokens[0].IsIdentifier) return;
        if (tokens[0].Kind == SqlTokenKind.Word && ConstraintStarts.Any(w => tokens[0].Is(statement, w))) return;
        var name = SqlText.Unquote(statement[tokens[0].Start..tokens[0].End]);
        var typeEnd = 1;
        while (typeEnd < tokens.Count && !(tokens[typeEnd].Depth == depth && tokens[typeEnd].Kind == SqlTokenKind.Word && TypeEnds.Any(w => tokens[typeEnd].Is(statement, w))))
        {
            typeEnd++;
        }
        if (typeEnd == 1) return;
        var type = SqlText.Normalize(statement[tokens[1].Start..tokens[typeEnd - 1].End]);
        var notNull = false;
        var generated = false;
        for (var k = typeEnd; k + 1 < tokens.Count; k++)
        {
            if (tokens[k].Depth != depth) continue;
            if (tokens[k].Is(statement, "NOT") && tokens[k + 1].Is(statement, "NULL")) notNull = true;
            // GENERATED ALWAYS AS ( expression ) STORED; an identity is GENERATED … AS IDENTITY and is dumped.
            if (tokens[k].Is(statement, "GENERATED") && k + 3 < tokens.Count && tokens[k + 1].Is(statement, "ALWAYS") && tokens[k + 2].Is(statement, "AS") && tokens[k + 3].IsSymbol(statement, '('))
            {
                generated = true;
            }
        }
        var (category, maxLength) = Classify(type);
        table.Columns.Add(new DumpColumn(name, type, category, maxLength, notNull, generated));
    }

    /// <summary>The category of a type as pg_dump prints it, and its length limit where it has one.</summary>
    public static (ColumnCategory Category, int? MaxLength) Classify(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var t = type.Trim().ToLowerInvariant();
        var dot = t.LastIndexOf('.');
        var unqualified = dot >= 0 && !t.Contains('(', StringComparison.Ordinal) ? t[(dot + 1)..] : t;
        if (unqualified.EndsWith("[]", StringComparison.Ordinal))
        {
            return (Classify(unqualified[..^2]).Category == ColumnCategory.Text ? ColumnCategory.TextArray : ColumnCategory.Other, null);
        }
        if (unqualified is "text" or "citext" or "name" or "character varying" or "varchar" or "bpchar")
        {
            return (ColumnCategory.Text, null);
        }
        foreach (var prefix in (string[])["character varying(", "varchar(", "character(", "char("])
        {
            if (unqualified.StartsWith(prefix, StringComparison.Ordinal) && unqualified.EndsWith(')')
                && int.TryParse(unqualified[prefix.Length..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                return (ColumnCategory.Text, length);
            }
        }
        if (unqualified is "character" or "char") return (ColumnCategory.Text, 1);
        return unqualified switch
        {
            "json" or "jsonb" => (ColumnCategory.Json, null),
            "smallint" or "integer" or "bigint" => (ColumnCategory.WholeNumber, null),
            "real" or "double precision" => (ColumnCategory.Fractional, null),
            _ when unqualified.StartsWith("numeric", StringComparison.Ordinal) => (ColumnCategory.Fractional, null),
            _ => (ColumnCategory.Other, null),
        };
    }
}
