using System.Security.Cryptography;
using System.Text;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Inspection;

/// <summary>
/// A deterministic description of a database's schema and its SHA-256: what a restored database is
/// compared with to know that its structure came back whole.
/// </summary>
/// <remarks>
/// <para>
/// One line per object or attribute, each starting with the qualified name of the object it
/// belongs to, sorted ordinally: tables (persistence, partitioning, row-level security), columns
/// (position among live columns, name, type with typmod, nullability, default, identity,
/// generation, non-default collation), constraints (<c>pg_get_constraintdef</c>), indexes
/// (<c>pg_get_indexdef</c>, with the table's schema qualification removed), sequences (type,
/// start, increment, min, max, cache, cycle and owning column, never the current value), enum
/// types with their labels in order, domains, composite types, views and materialized views,
/// functions and procedures (as an MD5 of their definition), triggers, row-level security
/// policies and extensions.
/// </para>
/// <para>
/// Nothing depends on OIDs, attribute numbers, catalog order or data: a database restored from a
/// dump has the same fingerprint as its source. Objects that belong to an extension are left out
/// (the extension is listed instead). Definitions are printed with <c>search_path = public</c>
/// pinned, so objects in <c>public</c> appear unqualified and all others qualified.
/// </para>
/// </remarks>
public sealed class SchemaFingerprint
{
    private SchemaFingerprint(IReadOnlyList<string> lines)
    {
        Lines = lines;
        Text = string.Concat(lines.Select(l => l + "\n"));
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Text)));
    }

    /// <summary>The description, one object or attribute per line, sorted.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>The lines joined, each ending with a newline: what <see cref="Sha256"/> hashes.</summary>
    public string Text { get; }

    /// <summary>Lowercase hex SHA-256 of the UTF-8 <see cref="Text"/>.</summary>
    public string Sha256 { get; }

    /// <summary>Reads the fingerprint of the database behind <paramref name="dataSource"/>, in one read-only snapshot.</summary>
    public static Task<SchemaFingerprint> CaptureAsync(
        NpgsqlDataSource dataSource,
        InspectionScope scope = InspectionScope.PublicSchema,
        CancellationToken cancellationToken = default) =>
        RunAsync(dataSource, (connection, ct) => CaptureAsync(connection, scope, ct), cancellationToken);

    /// <summary>
    /// What differs, object by object: lines only in this fingerprint start with <c>- </c>, lines
    /// only in <paramref name="other"/> with <c>+ </c>. Empty when the schemas are the same.
    /// </summary>
    public IReadOnlyList<string> Differences(SchemaFingerprint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return [.. OneSided(Lines, other.Lines).Select(d => (d.OnlyLeft ? "- " : "+ ") + d.Line).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The fingerprint lines found on one side only, each once: <c>OnlyLeft</c> for a line of
    /// <paramref name="left"/> that <paramref name="right"/> lacks, else the other way round. Every
    /// comparison of two schemas (this line diff, the restore check's diff by object) starts here.
    /// </summary>
    public static IEnumerable<(string Line, bool OnlyLeft)> OneSided(IReadOnlyList<string> left, IReadOnlyList<string> right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        var leftSet = left.ToHashSet(StringComparer.Ordinal);
        var rightSet = right.ToHashSet(StringComparer.Ordinal);
        return leftSet.Where(l => !rightSet.Contains(l)).Select(l => (l, true))
            .Concat(rightSet.Where(l => !leftSet.Contains(l)).Select(l => (l, false)));
    }

    public override string ToString() => Sha256;

    internal static async Task<SchemaFingerprint> CaptureAsync(NpgsqlConnection connection, InspectionScope scope, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        foreach (var query in Queries(scope))
        {
            foreach (var row in await QueryAsync(connection, query, cancellationToken).ConfigureAwait(false))
            {
                // Definitions can span lines (views, long check constraints): keep one line per object.
                lines.Add(((string)row[0]!).ReplaceLineEndings(" "));
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return new SchemaFingerprint(lines);
    }

    private static IEnumerable<string> Queries(InspectionScope scope)
    {
        var inScope = NamespaceFilter(scope, "n");
        var relation = NotExtensionMember("c");
        const string Owner = "format('%I.%I', n.nspname, c.relname)";

        if (scope == InspectionScope.AllUserSchemas)
        {
            yield return $"SELECT 'schema ' || quote_ident(n.nspname) FROM pg_namespace n WHERE {inScope}";
        }

        yield return $"""
            SELECT 'extension ' || quote_ident(x.extname) || ' ' || x.extversion || ' in ' || quote_ident(n.nspname)
            FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
            WHERE {inScope}
            """;

        yield return $"""
            SELECT {Owner} || ' table'
                || CASE c.relpersistence WHEN 'u' THEN ' unlogged' ELSE '' END
                || CASE WHEN c.relkind = 'p' THEN ' partitioned by ' || pg_get_partkeydef(c.oid) ELSE '' END
                || CASE WHEN c.relispartition THEN ' partition of ' || (
                       SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_inherits i
                       JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
                       WHERE i.inhrelid = c.oid) || ' ' || pg_get_expr(c.relpartbound, c.oid) ELSE '' END
                || CASE WHEN c.relrowsecurity THEN ' row-level-security' ELSE '' END
                || CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE '' END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND {inScope} AND {relation}
            """;

        yield return $"""
            SELECT {Owner} || ' column ' || lpad((row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum))::text, 4, '0')
                || ' ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || CASE a.attidentity WHEN 'a' THEN ' generated always as identity' WHEN 'd' THEN ' generated by default as identity' ELSE '' END
                || CASE WHEN a.attgenerated = 's' THEN ' generated always as (' || pg_get_expr(d.adbin, d.adrelid) || ') stored'
                        WHEN d.adbin IS NOT NULL THEN ' default ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
                || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN ' collate ' || (
                       SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                       JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) ELSE '' END
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {inScope} AND {relation}
            """;

        yield return $"""
            SELECT {Owner} || ' constraint ' || quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid)
            FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {inScope} AND {relation}
            """;

        yield return $"""
            SELECT {Owner} || ' index ' || quote_ident(i.relname) || ' '
                || replace(replace(pg_get_indexdef(i.oid),
                       ' ON ONLY ' || {Owner} || ' ', ' ON ONLY ' || quote_ident(c.relname) || ' '),
                       ' ON ' || {Owner} || ' ', ' ON ' || quote_ident(c.relname) || ' ')
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class c ON c.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {inScope} AND {relation}
            """;

        yield return $"""
            SELECT {Owner} || ' sequence ' || format_type(s.seqtypid, NULL)
                || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax
                || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE ' no cycle' END
                || COALESCE((
                       SELECT ' owned by ' || format('%I.%I.%I', tn.nspname, t.relname, a.attname)
                           || CASE d.deptype WHEN 'i' THEN ' (identity)' ELSE '' END
                       FROM pg_depend d
                       JOIN pg_class t ON t.oid = d.refobjid
                       JOIN pg_namespace tn ON tn.oid = t.relnamespace
                       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
                       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                       LIMIT 1), '')
            FROM pg_class c
            JOIN pg_sequence s ON s.seqrelid = c.oid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'S' AND {inScope} AND {relation}
            """;

        var type = NotExtensionMember("t", "pg_type");
        yield return $"""
            SELECT format('%I.%I', n.nspname, t.typname) || ' enum '
                || COALESCE((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                             FROM pg_enum e WHERE e.enumtypid = t.oid), '')
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.typtype = 'e' AND {inScope} AND {type}
            """;

        yield return $"""
            SELECT format('%I.%I', n.nspname, t.typname) || ' domain ' || format_type(t.typbasetype, t.typtypmod)
                || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                || COALESCE(' default ' || t.typdefault, '')
                || COALESCE((SELECT ' ' || string_agg(quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid), ' ' ORDER BY con.conname)
                             FROM pg_constraint con WHERE con.contypid = t.oid), '')
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.typtype = 'd' AND {inScope} AND {type}
            """;

        yield return $"""
            SELECT {Owner} || ' composite type ' || COALESCE((
                       SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                       FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'c' AND {inScope} AND {relation}
            """;

        yield return $"""
            SELECT {Owner} || CASE c.relkind WHEN 'm' THEN ' materialized view ' ELSE ' view ' END
                || btrim(regexp_replace(pg_get_viewdef(c.oid, true), '\s+', ' ', 'g'))
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('v', 'm') AND {inScope} AND {relation}
            """;

        var routine = NotExtensionMember("p", "pg_proc");
        yield return $"""
            SELECT format('%I.%I', n.nspname, p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ') '
                || CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END || ' md5 ' || md5(pg_get_functiondef(p.oid))
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prokind IN ('f', 'p') AND {inScope} AND {routine}
            """;

        yield return $"""
            SELECT {Owner} || ' trigger ' || quote_ident(tg.tgname) || ' ' || pg_get_triggerdef(tg.oid, false)
                || CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (replica)' WHEN 'A' THEN ' (always)' ELSE '' END
            FROM pg_trigger tg
            JOIN pg_class c ON c.oid = tg.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT tg.tgisinternal AND {inScope} AND {relation}
            """;

        yield return $"""
            SELECT {Owner} || ' policy ' || quote_ident(p.polname)
                || CASE WHEN p.polpermissive THEN ' permissive' ELSE ' restrictive' END || ' for ' || p.polcmd::text
                || ' to ' || COALESCE((
                       SELECT string_agg(r.name, ',' ORDER BY r.name)
                       FROM (SELECT CASE WHEN role = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(role)) END AS name
                             FROM unnest(p.polroles) AS role) r), '')
                || COALESCE(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
                || COALESCE(' with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
            FROM pg_policy p
            JOIN pg_class c ON c.oid = p.polrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {inScope} AND {relation}
            """;
    }
}
