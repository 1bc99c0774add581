using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Commissable.Backup.Core.Backups.Content;

internal sealed partial class DumpParser
{
    /// <summary>How long a schema line's label is at least (it is longer where the names need it).</summary>
    public const int LabelLength = 160;

    /// <summary>Statements that set up the session, set positions, comment, own or grant: none is a schema object.</summary>
    private static readonly string[] NotSchema =
    [
        "SET ", "RESET ", "SELECT pg_catalog.set_config(", "GRANT ", "REVOKE ", "ALTER DEFAULT PRIVILEGES ",
        // --create: the database's own name and settings differ in a restore under another name.
        "CREATE DATABASE ", "ALTER DATABASE ",
        // --clean: what to drop before creating.
        "DROP ",
        // The transaction pg_dump writes large-object data in (the data itself: LargeObjectData).
        "BEGIN;", "COMMIT;",
    ];

    /// <summary>The large object being written (<c>lo_open</c> to <c>lo_close</c>) and the hash of its <c>lowrite</c> calls so far.</summary>
    private (string Id, IncrementalHash Data)? _largeObject;

    private void Statement(string raw)
    {
        var statement = SqlText.Normalize(raw);
        if (statement.StartsWith("SELECT pg_catalog.lo", StringComparison.Ordinal) && LargeObjectData(statement))
        {
            return;
        }
        if (statement.StartsWith("SELECT pg_catalog.setval(", StringComparison.Ordinal))
        {
            Sequence(statement);
            return;
        }
        if (statement.StartsWith("COMMENT ON ", StringComparison.Ordinal))
        {
            Comment(raw);
            return;
        }
        if (statement.StartsWith("REFRESH MATERIALIZED VIEW ", StringComparison.Ordinal))
        {
            var refresh = SqlText.Tokenize(statement);
            var first = refresh.Count > 3 && refresh[3].Is(statement, "CONCURRENTLY") ? 4 : 3;
            var view = SqlText.QualifiedName(statement, refresh, first, out _)
                ?? throw Unreadable("REFRESH MATERIALIZED VIEW");
            _materializedViews[view] = true;
            return;
        }
        if (statement.StartsWith("INSERT INTO ", StringComparison.Ordinal))
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Line {_statementLine} holds rows as INSERT statements (pg_dump --inserts or --column-inserts): the content manifest reads rows from COPY blocks only; dump without those options."));
        }
        foreach (var prefix in NotSchema)
        {
            if (statement.StartsWith(prefix, StringComparison.Ordinal)) return;
        }

        var tokens = SqlText.Tokenize(statement);
        if (tokens.Count > 0 && tokens[0].Is(statement, "ALTER") && (SqlText.IsOwnership(statement, tokens) || IsCleanPhase(statement, tokens)))
        {
            return;
        }

        _schemaObjects.Add(SchemaLine(statement));
        if (tokens.Count < 3) return;
        if (tokens[0].Is(statement, "CREATE"))
        {
            Created(statement, tokens);
        }
        else if (tokens[0].Is(statement, "ALTER") && tokens[1].Is(statement, "TABLE"))
        {
            Attached(statement, tokens);
        }
    }

    /// <summary>
    /// A large object's data, as pg_dump writes it: <c>lo_open('oid', …)</c>, its bytes in
    /// <c>lowrite</c> calls, <c>lo_close</c>. It becomes one schema line, <c>LARGE OBJECT oid DATA
    /// hash</c>, beside the object's <c>lo_create</c>: so its bytes are compared too (the schema
    /// check names the object), and memory holds one line per object, never its data.
    /// </summary>
    /// <returns>False for another <c>lo…</c> call (such as <c>lo_create</c>, a schema statement).</returns>
    private bool LargeObjectData(string statement)
    {
        if (statement.StartsWith("SELECT pg_catalog.lo_open(", StringComparison.Ordinal))
        {
            var open = LargeObjectOpenPattern().Match(statement);
            if (!open.Success || _largeObject is not null)
            {
                throw Unreadable("SELECT pg_catalog.lo_open");
            }
            _largeObject = (open.Groups[1].Value, IncrementalHash.CreateHash(HashAlgorithmName.SHA256));
            return true;
        }
        if (statement.StartsWith("SELECT pg_catalog.lowrite(", StringComparison.Ordinal))
        {
            var data = (_largeObject ?? throw Unreadable("SELECT pg_catalog.lowrite")).Data;
            data.AppendData(Encoding.UTF8.GetBytes(statement));
            data.AppendData("\n"u8);
            return true;
        }
        if (statement.StartsWith("SELECT pg_catalog.lo_close(", StringComparison.Ordinal))
        {
            var (id, hash) = _largeObject ?? throw Unreadable("SELECT pg_catalog.lo_close");
            _largeObject = null;
            using (hash)
            {
                _schemaObjects.Add($"LARGE OBJECT {id} DATA {Convert.ToHexStringLower(hash.GetHashAndReset())[..16]}");
            }
            return true;
        }
        return false;
    }

    [GeneratedRegex(@"^SELECT pg_catalog\.lo_open\('([0-9]+)', [0-9]+\);$", RegexOptions.CultureInvariant)]
    private static partial Regex LargeObjectOpenPattern();

    private void Sequence(string statement)
    {
        var match = SetvalPattern().Match(statement);
        if (!match.Success || !long.TryParse(match.Groups[2].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw Unreadable("SELECT pg_catalog.setval");
        }
        var name = match.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal);
        _sequences[name] = new RecordedSequence(value, match.Groups[3].Value == "true");
    }

    private void Comment(string raw)
    {
        var tokens = SqlText.Tokenize(raw);
        var last = tokens.Count - 1;
        if (last >= 0 && tokens[last].IsSymbol(raw, ';')) last--;
        if (last < 3 || !tokens[last - 1].Is(raw, "IS"))
        {
            throw Unreadable("COMMENT ON");
        }
        var target = SqlText.Normalize(raw[tokens[2].Start..tokens[last - 1].Start]);
        if (tokens[last].Kind == SqlTokenKind.Word && tokens[last].Is(raw, "NULL"))
        {
            _comments.Remove(target);
            return;
        }
        if (tokens[last].Kind != SqlTokenKind.String) throw Unreadable("COMMENT ON");
        _comments[target] = Sha256Prefix(SqlText.LiteralValue(raw, tokens[last]));
    }

    /// <summary>A CREATE: tables (and partitions), extensions, materialized views.</summary>
    private void Created(string statement, List<SqlToken> tokens)
    {
        var i = 1;
        if (tokens[i].Is(statement, "UNLOGGED")) i++;
        if (tokens[i].Is(statement, "TABLE"))
        {
            i++;
            if (tokens.Count > i + 3 && tokens[i].Is(statement, "IF") && tokens[i + 1].Is(statement, "NOT") && tokens[i + 2].Is(statement, "EXISTS")) i += 3;
            var name = SqlText.QualifiedName(statement, tokens, i, out var next) ?? throw Unreadable("CREATE TABLE");
            var table = Table(name);
            if (name == MigrationAccumulator.TableName) _migrations ??= new MigrationAccumulator();
            for (var k = next; k + 1 < tokens.Count; k++)
            {
                if (tokens[k].Depth != 0 || !tokens[k].Is(statement, "PARTITION")) continue;
                if (tokens[k + 1].Is(statement, "BY"))
                {
                    table.DeclaredPartitioned = true;
                }
                else if (tokens[k + 1].Is(statement, "OF") && SqlText.QualifiedName(statement, tokens, k + 2, out _) is { } parent)
                {
                    _parentOf[name] = parent;
                }
            }
            return;
        }
        if (tokens[1].Is(statement, "EXTENSION"))
        {
            i = 2;
            if (tokens.Count > 5 && tokens[2].Is(statement, "IF") && tokens[3].Is(statement, "NOT") && tokens[4].Is(statement, "EXISTS")) i = 5;
            if (i >= tokens.Count || !tokens[i].IsIdentifier) throw Unreadable("CREATE EXTENSION");
            var extension = SqlText.Unquote(statement[tokens[i].Start..tokens[i].End]);
            for (var k = i + 1; k + 1 < tokens.Count; k++)
            {
                if (tokens[k].Is(statement, "SCHEMA") && tokens[k + 1].IsIdentifier)
                {
                    extension += " in " + SqlText.Unquote(statement[tokens[k + 1].Start..tokens[k + 1].End]);
                    break;
                }
            }
            _extensions.Add(extension);
            return;
        }
        if (tokens[1].Is(statement, "MATERIALIZED") && tokens[2].Is(statement, "VIEW"))
        {
            var view = SqlText.QualifiedName(statement, tokens, 3, out _) ?? throw Unreadable("CREATE MATERIALIZED VIEW");
            var populated = !statement.EndsWith(" WITH NO DATA;", StringComparison.Ordinal);
            _materializedViews[view] = populated || _materializedViews.GetValueOrDefault(view);
        }
    }

    /// <summary><c>ALTER TABLE [ONLY] parent ATTACH PARTITION child …</c>.</summary>
    private void Attached(string statement, List<SqlToken> tokens)
    {
        var i = 2;
        if (tokens[i].Is(statement, "ONLY")) i++;
        var parent = SqlText.QualifiedName(statement, tokens, i, out var next);
        if (parent is null || next + 2 >= tokens.Count
            || !tokens[next].Is(statement, "ATTACH") || !tokens[next + 1].Is(statement, "PARTITION"))
        {
            return;
        }
        var child = SqlText.QualifiedName(statement, tokens, next + 2, out _) ?? throw Unreadable("ALTER TABLE … ATTACH PARTITION");
        _parentOf[child] = parent;
        Table(parent).DeclaredPartitioned = true;
        Table(child);
    }

    /// <summary>
    /// The drops <c>--clean</c> prints before creating anything: <c>ALTER TABLE [IF EXISTS] … DROP
    /// CONSTRAINT …</c> and <c>… ALTER COLUMN … DROP DEFAULT</c> (pg_dump's creating statements never drop).
    /// </summary>
    private static bool IsCleanPhase(string statement, List<SqlToken> tokens)
    {
        if (tokens.Count < 3 || !tokens[1].Is(statement, "TABLE")) return false;
        if (tokens[2].Is(statement, "IF")) return true;
        for (var k = 3; k + 1 < tokens.Count; k++)
        {
            if (tokens[k].Depth == 0 && tokens[k].Is(statement, "DROP")
                && (tokens[k + 1].Is(statement, "CONSTRAINT") || tokens[k + 1].Is(statement, "DEFAULT")))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// <c>label sha256-16</c>: the label is the statement's first <see cref="LabelLength"/>
    /// characters, or more where the names it must show (an index's table, a constraint's name, a
    /// trigger's or policy's table) end later; never the credentials a subscription or user mapping holds.
    /// </summary>
    private static string SchemaLine(string statement)
    {
        var length = Math.Min(statement.Length, LabelLength);
        var namesEnd = NamesEnd(statement);
        if (namesEnd > 0) length = Math.Max(length, namesEnd);
        var secret = SecretPattern().Match(statement);
        if (secret.Success) length = Math.Min(length, secret.Index + secret.Length);
        return statement[..length].TrimEnd() + " " + Sha256Prefix(statement);
    }

    private static string Sha256Prefix(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    private InvalidDataException Unreadable(string what) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"The {what} statement at line {_statementLine} is not in the form pg_dump prints: the dump is damaged or not pg_dump's."));

    [GeneratedRegex(@"^SELECT pg_catalog\.setval\('((?:[^']|'')*)', (-?[0-9]+), (true|false)\);$", RegexOptions.CultureInvariant)]
    private static partial Regex SetvalPattern();

    private const string Name = @"(?:""(?:[^""]|"""")*""|[^\s.""(),;]+)(?:\.(?:""(?:[^""]|"""")*""|[^\s.""(),;]+))*";

    /// <summary>
    /// Where the names a label must show end (an index's table, a constraint's name, a partition,
    /// a trigger's, policy's or rule's table), or 0 for a statement of no such kind. One pattern
    /// per kind, tried in this order, each anchored at the start: the first that matches is the one
    /// a single alternation of them all would match. They are kept apart because the runtime
    /// compiles a hot method twice more with full optimisation, and that single alternation's
    /// matcher (some 18 KB of IL) was the largest method the host compiled; the compiler's memory
    /// at its peak, which the host keeps, was 20.4 MB with it and 17.8 MB without (heaptrack).
    /// </summary>
    private static int NamesEnd(string statement)
    {
        foreach (var pattern in NamingPatterns)
        {
            var match = pattern.Match(statement);
            if (match.Success) return match.Index + match.Length;
        }
        return 0;
    }

    private static readonly Regex[] NamingPatterns =
        [IndexNames(), ConstraintNames(), PartitionNames(), TriggerNames(), PolicyNames(), RuleNames()];

    [GeneratedRegex(@"^CREATE (?:UNIQUE )?INDEX " + Name + " ON (?:ONLY )?" + Name, RegexOptions.CultureInvariant)]
    private static partial Regex IndexNames();

    [GeneratedRegex(@"^ALTER TABLE (?:ONLY )?" + Name + " ADD CONSTRAINT " + Name, RegexOptions.CultureInvariant)]
    private static partial Regex ConstraintNames();

    [GeneratedRegex(@"^ALTER (?:TABLE|INDEX) (?:ONLY )?" + Name + " ATTACH PARTITION " + Name, RegexOptions.CultureInvariant)]
    private static partial Regex PartitionNames();

    [GeneratedRegex(@"^CREATE (?:CONSTRAINT )?TRIGGER " + Name + " [^;]*? ON " + Name, RegexOptions.CultureInvariant)]
    private static partial Regex TriggerNames();

    [GeneratedRegex(@"^CREATE POLICY " + Name + " ON " + Name, RegexOptions.CultureInvariant)]
    private static partial Regex PolicyNames();

    [GeneratedRegex(@"^CREATE RULE " + Name + " AS ON [A-Z]+ TO " + Name, RegexOptions.CultureInvariant)]
    private static partial Regex RuleNames();

    [GeneratedRegex(@"^(?:CREATE|ALTER) (?:SUBSCRIPTION|USER MAPPING|SERVER)\b.*?(?= CONNECTION '| OPTIONS \()", RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();
}
