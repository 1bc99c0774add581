using System.Text;

namespace Commissable.Backup.Core.Backups.Content;

internal enum SqlTokenKind
{
    Word,
    QuotedIdentifier,
    String,
    DollarString,
    Number,
    Symbol,
}

/// <summary>One token of a statement: its kind and where it lies in the text.</summary>
internal readonly record struct SqlToken(SqlTokenKind Kind, int Start, int End, int Depth)
{
    public int Length => End - Start;

    public bool IsIdentifier => Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier;

    public bool Is(string text, string word) =>
        Kind == SqlTokenKind.Word && text.AsSpan(Start, Length).Equals(word, StringComparison.OrdinalIgnoreCase);

    public bool IsSymbol(string text, char symbol) => Kind == SqlTokenKind.Symbol && text[Start] == symbol;
}

/// <summary>
/// Just enough of PostgreSQL's lexical rules to read pg_dump's statements: identifiers (quoted or
/// not), string literals (standard and <c>E''</c>), dollar quotes, comments, parentheses.
/// </summary>
internal static class SqlText
{
    /// <summary>Collapses every run of whitespace to one space and trims, as the schema fingerprint is defined.</summary>
    public static string Normalize(string statement)
    {
        var builder = new StringBuilder(statement.Length);
        var space = false;
        foreach (var c in statement)
        {
            if (c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')
            {
                space = builder.Length > 0;
                continue;
            }
            if (space)
            {
                builder.Append(' ');
                space = false;
            }
            builder.Append(c);
        }
        return builder.ToString();
    }

    public static List<SqlToken> Tokenize(string text)
    {
        var tokens = new List<SqlToken>();
        var depth = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            var start = i;
            if (c == '-' && At(text, i + 1) == '-')
            {
                while (i < text.Length && text[i] != '\n') i++;
                continue;
            }
            if (c == '/' && At(text, i + 1) == '*')
            {
                i = SkipBlockComment(text, i);
                continue;
            }
            if (c == '"')
            {
                i = SkipQuoted(text, i, '"', backslashEscapes: false);
                tokens.Add(new(SqlTokenKind.QuotedIdentifier, start, i, depth));
                continue;
            }
            if (c == '\'')
            {
                i = SkipQuoted(text, i, '\'', backslashEscapes: false);
                tokens.Add(new(SqlTokenKind.String, start, i, depth));
                continue;
            }
            if ((c is 'E' or 'e') && At(text, i + 1) == '\'')
            {
                i = SkipQuoted(text, i + 1, '\'', backslashEscapes: true);
                tokens.Add(new(SqlTokenKind.String, start, i, depth));
                continue;
            }
            if (c == '$' && DollarTagLength(text, i) is var tag and > 0)
            {
                var close = text.IndexOf(text.Substring(i, tag), i + tag, StringComparison.Ordinal);
                i = close < 0 ? text.Length : close + tag;
                tokens.Add(new(SqlTokenKind.DollarString, start, i, depth));
                continue;
            }
            if (IsIdentifierStart(c))
            {
                while (i < text.Length && IsIdentifierPart(text[i])) i++;
                tokens.Add(new(SqlTokenKind.Word, start, i, depth));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                while (i < text.Length && (IsIdentifierPart(text[i]) || text[i] == '.')) i++;
                tokens.Add(new(SqlTokenKind.Number, start, i, depth));
                continue;
            }
            if (c == ')') depth--;
            tokens.Add(new(SqlTokenKind.Symbol, start, i + 1, depth));
            if (c == '(') depth++;
            i++;
        }
        return tokens;
    }

    /// <summary>
    /// The qualified name starting at token <paramref name="index"/> (<c>public."Contact"</c>), as
    /// printed; null when no identifier is there. <paramref name="next"/> is the token after it.
    /// </summary>
    public static string? QualifiedName(string text, List<SqlToken> tokens, int index, out int next)
    {
        next = index;
        if (index >= tokens.Count || !tokens[index].IsIdentifier) return null;
        var last = index;
        while (last + 2 < tokens.Count
            && tokens[last + 1].IsSymbol(text, '.') && tokens[last + 1].Start == tokens[last].End
            && tokens[last + 2].IsIdentifier && tokens[last + 2].Start == tokens[last + 1].End)
        {
            last += 2;
        }
        next = last + 1;
        return text[tokens[index].Start..tokens[last].End];
    }

    /// <summary>An identifier as PostgreSQL sees it: quotes removed (<c>""</c> is one quote), anything else as printed.</summary>
    /// <summary>
    /// The rest of pg_dump's <c>COPY &lt;table&gt; (&lt;columns&gt;) FROM stdin;</c> after the table's
    /// name (which ends before token <paramref name="next"/>): the columns as printed (quoted as pg_dump
    /// quotes them); null when the line does not go on that way.
    /// </summary>
    public static List<string>? CopyColumns(string line, List<SqlToken> tokens, int next)
    {
        var columns = new List<string>();
        if (next < tokens.Count && tokens[next].IsSymbol(line, '('))
        {
            next++;
            while (next < tokens.Count && tokens[next].IsIdentifier)
            {
                columns.Add(line[tokens[next].Start..tokens[next].End]);
                next++;
                if (next < tokens.Count && tokens[next].IsSymbol(line, ',')) next++;
            }
            if (next >= tokens.Count || !tokens[next].IsSymbol(line, ')')) return null;
            next++;
        }
        return next + 3 == tokens.Count && tokens[next].Is(line, "FROM") && tokens[next + 1].Is(line, "stdin") && tokens[next + 2].IsSymbol(line, ';')
            ? columns
            : null;
    }

    public static string Unquote(string identifier) =>
        identifier.Length >= 2 && identifier[0] == '"' && identifier[^1] == '"'
            ? identifier[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal)
            : identifier;

    /// <summary>Each part of a qualified name, unquoted, joined by dots (<c>public."a.b"</c> stays unambiguous only as printed).</summary>
    public static string UnquoteQualified(string text, List<SqlToken> tokens, int index)
    {
        var parts = new List<string>();
        for (var i = index; i < tokens.Count && tokens[i].IsIdentifier; i += 2)
        {
            parts.Add(Unquote(text[tokens[i].Start..tokens[i].End]));
            if (i + 1 >= tokens.Count || !tokens[i + 1].IsSymbol(text, '.')) break;
        }
        return string.Join('.', parts);
    }

    /// <summary>A string literal's value: <c>''</c> is one quote; an <c>E''</c> literal keeps its backslashes as printed.</summary>
    public static string LiteralValue(string text, SqlToken token)
    {
        var literal = text[token.Start..token.End];
        var open = literal.IndexOf('\'', StringComparison.Ordinal);
        var inner = literal.Length - open >= 2 && literal[^1] == '\'' ? literal[(open + 1)..^1] : literal[(open + 1)..];
        return inner.Replace("''", "'", StringComparison.Ordinal);
    }

    /// <summary><c>ALTER … OWNER TO role;</c>: a statement that only says who owns an object.</summary>
    public static bool IsOwnership(string statement, List<SqlToken> tokens)
    {
        var n = tokens.Count;
        if (n > 0 && tokens[n - 1].IsSymbol(statement, ';')) n--;
        return n >= 4 && tokens[n - 3].Is(statement, "OWNER") && tokens[n - 2].Is(statement, "TO") && tokens[n - 1].IsIdentifier;
    }

    /// <summary>The length of the dollar-quote tag starting at <paramref name="i"/> (<c>$$</c>, <c>$_$</c>), 0 when none (<c>$1</c>).</summary>
    public static int DollarTagLength(string text, int i)
    {
        if (i > 0 && IsIdentifierPart(text[i - 1])) return 0;
        var j = i + 1;
        if (j < text.Length && IsIdentifierStart(text[j]))
        {
            while (j < text.Length && IsIdentifierPart(text[j]) && text[j] != '$') j++;
        }
        return j < text.Length && text[j] == '$' ? j - i + 1 : 0;
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= '\u0080';

    private static bool IsIdentifierPart(char c) => IsIdentifierStart(c) || char.IsAsciiDigit(c) || c == '$';

    private static char At(string text, int i) => i < text.Length ? text[i] : '\0';

    private static int SkipQuoted(string text, int open, char quote, bool backslashEscapes)
    {
        var i = open + 1;
        while (i < text.Length)
        {
            var c = text[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
                continue;
            }
            if (c == quote)
            {
                if (At(text, i + 1) == quote)
                {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return text.Length;
    }

    private static int SkipBlockComment(string text, int i)
    {
        var depth = 0;
        while (i < text.Length)
        {
            if (text[i] == '/' && At(text, i + 1) == '*')
            {
                depth++;
                i += 2;
            }
            else if (text[i] == '*' && At(text, i + 1) == '/')
            {
                i += 2;
                if (--depth == 0) return i;
            }
            else
            {
                i++;
            }
        }
        return i;
    }
}
