using System.Globalization;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Tenants;

/// <summary>Why a table belongs to a tenant's closure.</summary>
public enum ClosureRole
{
    /// <summary>The table the tenant columns reference (for example <c>"Tenant"</c> keyed by <c>id</c>).</summary>
    TenantTable,

    /// <summary>A table with the tenant column.</summary>
    TenantColumn,

    /// <summary>A table without the tenant column whose rows reference the tenant's rows by foreign key.</summary>
    Reachable,
}

/// <summary>A foreign key by which a <see cref="ClosureRole.Reachable"/> table's rows belong to the tenant.</summary>
/// <param name="Columns">The referencing columns.</param>
/// <param name="Parent">The referenced closure table.</param>
/// <param name="ParentColumns">The referenced columns, in the same order.</param>
public sealed record MembershipKey(IReadOnlyList<string> Columns, string Parent, IReadOnlyList<string> ParentColumns);

/// <summary>One table of the closure, all names unquoted, in schema <c>public</c>.</summary>
/// <param name="Name">The table (a partitioned table is one table: its partitions are not listed).</param>
/// <param name="Role">Why it is in the closure.</param>
/// <param name="Columns">The columns a restore writes: every column except generated ones, in column order.</param>
/// <param name="PrimaryKey">The primary-key columns in key order; empty when the table has none.</param>
/// <param name="HasAlwaysIdentity">A <c>GENERATED ALWAYS</c> identity column: inserts need <c>OVERRIDING SYSTEM VALUE</c>.</param>
/// <param name="AlwaysIdentityColumns">Those columns (an UPDATE may not set them).</param>
/// <param name="Membership">For <see cref="ClosureRole.Reachable"/>: the foreign keys to tables found before it.</param>
/// <param name="HasRowSecurity">Row-level security is enabled on the table.</param>
public sealed record ClosureTable(
    string Name,
    ClosureRole Role,
    IReadOnlyList<string> Columns,
    IReadOnlyList<string> PrimaryKey,
    bool HasAlwaysIdentity,
    IReadOnlyList<string> AlwaysIdentityColumns,
    IReadOnlyList<MembershipKey> Membership,
    bool HasRowSecurity);

/// <summary>
/// A tenant's closure as the catalog describes it: its tables in the order rows are written
/// (referenced tables before the tables that reference them), and how to select one tenant's rows
/// of each.
/// </summary>
/// <param name="TenantColumn">The tenant column (for example <c>tenantId</c>).</param>
/// <param name="TenantTable">The table the tenant columns reference, or null when no foreign key says.</param>
/// <param name="TenantKey">The referenced column of <paramref name="TenantTable"/> (for example <c>id</c>).</param>
/// <param name="TenantKeyType">The SQL type of the tenant key, as <c>format_type</c> prints it.</param>
/// <param name="Tables">The tables in write order.</param>
/// <param name="Problems">What makes the closure unsafe to restore (a cycle through non-deferrable foreign keys, an ambiguous tenant table).</param>
public sealed record TenantClosureShape(
    string TenantColumn,
    string? TenantTable,
    string? TenantKey,
    string TenantKeyType,
    IReadOnlyList<ClosureTable> Tables,
    IReadOnlyList<string> Problems)
{
    /// <summary>The name of the session setting the tenant id travels in, so it is never spliced into SQL (COPY takes no parameters).</summary>
    internal const string TenantSetting = "commissable.tenant_id";

    /// <summary>
    /// The name of the session setting a set of tenant ids travels in, as a JSON array of strings
    /// (<see cref="KeptPredicate"/>), for the same reason.
    /// </summary>
    internal const string TenantSetSetting = "commissable.tenant_ids";

    /// <summary>The table named <paramref name="name"/>.</summary>
    public ClosureTable Get(string name) => Tables.First(t => t.Name == name);

    /// <summary>
    /// SQL condition on <paramref name="alias"/> (a row of <paramref name="table"/>): the row is the
    /// tenant's. Computed on whichever database it runs in, from that database's rows.
    /// </summary>
    /// <remarks>
    /// A row of a table without the tenant column is the tenant's when a foreign key leads to the
    /// tenant's rows and none leads to another tenant's: a row linking two tenants (a referral
    /// between two tenants' accounts) is neither's, so restoring one tenant never changes or
    /// deletes what the other refers to. A key whose columns are NULL leads nowhere.
    /// </remarks>
    internal string Predicate(ClosureTable table, string alias, int depth = 0) =>
        Predicate(table, alias, key => $"{key} = CAST(current_setting('{TenantSetting}') AS {TenantKeyType})", depth, everyPath: true);

    /// <summary>
    /// SQL condition on <paramref name="alias"/>: the row belongs to one of the tenants listed in
    /// <see cref="TenantSetSetting"/> (NULL, not false, for a row whose key is NULL: test with <c>IS TRUE</c>).
    /// </summary>
    internal string KeptPredicate(ClosureTable table, string alias) =>
        Predicate(table, alias, key => $"{key} IN (SELECT CAST(kept.id AS {TenantKeyType}) FROM jsonb_array_elements_text(CAST(current_setting('{TenantSetSetting}') AS jsonb)) AS kept(id))", 0, everyPath: false);

    private string Predicate(ClosureTable table, string alias, Func<string, string> isTenant, int depth, bool everyPath)
    {
        switch (table.Role)
        {
            case ClosureRole.TenantColumn:
                return isTenant($"{alias}.{Quote(TenantColumn)}");
            case ClosureRole.TenantTable:
                return isTenant($"{alias}.{Quote(TenantKey!)}");
            default:
                var parentAlias = string.Create(CultureInfo.InvariantCulture, $"m{depth}");
                var ors = table.Membership.Select(m =>
                {
                    var parent = Get(m.Parent);
                    return $"({string.Join(", ", m.Columns.Select(c => $"{alias}.{Quote(c)}"))}) IN (SELECT {string.Join(", ", m.ParentColumns.Select(c => $"{parentAlias}.{Quote(c)}"))} FROM public.{Quote(parent.Name)} AS {parentAlias} WHERE {Predicate(parent, parentAlias, isTenant, depth + 1, everyPath)})";
                }).ToList();
                if (!everyPath || ors.Count == 1)
                {
                    return $"({string.Join(" OR ", ors)})";
                }
                // Every key that leads somewhere leads to the tenant's rows.
                var alls = table.Membership.Select((m, i) => $"({string.Join(" OR ", m.Columns.Select(c => $"{alias}.{Quote(c)} IS NULL"))} OR {ors[i]})");
                return $"(({string.Join(" OR ", ors)}) AND {string.Join(" AND ", alls)})";
        }
    }
}

/// <summary>
/// Finds a tenant's closure in the catalog of schema <c>public</c>, not in configuration.
/// </summary>
/// <remarks>
/// <para>
/// The closure is: every table with the tenant column; the tenant table (the one table those
/// columns reference by foreign key); and, repeatedly, every table without the column that has a
/// foreign key to a table already in the closure. A table reached only through a table it
/// references (like a shared <c>"Permission"</c> table referenced by a tenant's rows) is not the
/// tenant's and is left out.
/// </para>
/// <para>
/// Order and cycles: tables are ordered so that a referenced table comes before the tables that
/// reference it (ties by name). A self-reference (<c>"managerId"</c>) needs nothing: each table's
/// rows are written by one statement, and PostgreSQL checks a non-deferred foreign key at the end
/// of the statement, so a row may reference a row the same statement writes. The writes run with
/// <c>SET CONSTRAINTS ALL DEFERRED</c>, so the tables of a cycle are written together (after what
/// they reference, before what references them), ordered inside by their non-deferrable keys; a
/// cycle of non-deferrable keys alone is reported as a problem (the two-phase write, NULL first
/// then UPDATE, is not implemented).
/// </para>
/// </remarks>
public static class TenantClosure
{
    /// <summary>Reads the closure of tenant column <paramref name="tenantColumn"/> from the catalog.</summary>
    public static async Task<TenantClosureShape> DiscoverAsync(NpgsqlConnection connection, string tenantColumn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(tenantColumn);
        var relations = await ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
        var keys = await ReadForeignKeysAsync(connection, cancellationToken).ConfigureAwait(false);
        var problems = new List<string>();

        var withColumn = relations.Values.Where(r => r.Columns.Contains(tenantColumn)).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var tenantKeys = keys.Where(k => withColumn.Contains(k.Child) && k.Columns.Count == 1 && k.Columns[0] == tenantColumn).ToList();
        var tenantTables = tenantKeys.Select(k => (k.Parent, Key: k.ParentColumns[0])).Distinct().ToList();
        string? tenantTable = null;
        string? tenantKey = null;
        if (tenantTables.Count == 1)
        {
            (tenantTable, tenantKey) = tenantTables[0];
        }
        else if (tenantTables.Count == 0)
        {
            problems.Add($"no foreign key from column \"{tenantColumn}\": the tenant table is unknown");
        }
        else
        {
            problems.Add($"the \"{tenantColumn}\" columns reference more than one table or column: {string.Join(", ", tenantTables.Select(t => $"{t.Parent}.{t.Key}"))}");
        }
        var keyType = tenantTable is not null && tenantKey is not null
            ? relations[tenantTable].Types[tenantKey]
            : withColumn.Select(t => relations[t].Types[tenantColumn]).FirstOrDefault() ?? "text";

        var roles = new Dictionary<string, ClosureRole>(StringComparer.Ordinal);
        var membership = new Dictionary<string, List<MembershipKey>>(StringComparer.Ordinal);
        foreach (var name in withColumn)
        {
            roles[name] = ClosureRole.TenantColumn;
        }
        if (tenantTable is not null && !roles.ContainsKey(tenantTable))
        {
            roles[tenantTable] = ClosureRole.TenantTable;
        }
        // Breadth first: a reachable table's membership uses only tables found before it, so the
        // predicate of a reachable table never refers back to itself.
        while (true)
        {
            var found = keys
                .Where(k => !roles.ContainsKey(k.Child) && roles.ContainsKey(k.Parent))
                .GroupBy(k => k.Child, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToList();
            if (found.Count == 0)
            {
                break;
            }
            foreach (var group in found)
            {
                roles[group.Key] = ClosureRole.Reachable;
                membership[group.Key] = [.. group.Select(k => new MembershipKey(k.Columns, k.Parent, k.ParentColumns))];
            }
        }

        var order = Order(roles.Keys, keys, problems);
        var tables = order.Select(name =>
        {
            var r = relations[name];
            return new ClosureTable(
                name,
                roles[name],
                r.Writable,
                r.PrimaryKey,
                r.AlwaysIdentity.Count > 0,
                r.AlwaysIdentity,
                membership.TryGetValue(name, out var m) ? m : [],
                r.RowSecurity);
        }).ToList();
        return new TenantClosureShape(tenantColumn, tenantTable, tenantKey, keyType, tables, problems);
    }

    /// <summary>
    /// The tables parents first. Tables that reference each other in a cycle (a strongly connected
    /// part of the foreign-key graph) are placed together, after everything they reference and
    /// before everything that references them; inside, only the non-deferrable keys order them
    /// (deferred ones are checked at the end). A cycle of non-deferrable keys alone cannot be
    /// written in any order: that is the closure's problem. Ties go by name.
    /// </summary>
    private static List<string> Order(IEnumerable<string> names, IReadOnlyList<ForeignKey> keys, List<string> problems)
    {
        var set = names.ToHashSet(StringComparer.Ordinal);
        var edges = keys.Where(k => k.Child != k.Parent && set.Contains(k.Child) && set.Contains(k.Parent)).ToList();
        var parts = StronglyConnected(set, edges);
        var partOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < parts.Count; i++)
        {
            foreach (var table in parts[i])
            {
                partOf[table] = i;
            }
        }
        var between = edges.Where(e => partOf[e.Child] != partOf[e.Parent]).Select(e => (Child: partOf[e.Child], Parent: partOf[e.Parent])).ToList();
        var parted = Kahn(Enumerable.Range(0, parts.Count), between, i => parts[i].Min(StringComparer.Ordinal)!, out _);
        var result = new List<string>();
        foreach (var part in parted.Select(i => parts[i]))
        {
            var inner = edges.Where(e => !e.Deferrable && part.Contains(e.Child) && part.Contains(e.Parent)).ToList();
            var ordered = Kahn(part, inner.Select(e => (e.Child, e.Parent)), t => t, out var stuck);
            if (stuck.Count > 0)
            {
                var fixedKeys = inner.Where(e => stuck.Contains(e.Child) && stuck.Contains(e.Parent)).Select(e => e.Name).Order(StringComparer.Ordinal);
                problems.Add($"foreign keys form a cycle through non-deferrable constraints ({string.Join(", ", fixedKeys)}) between {string.Join(", ", stuck.Order(StringComparer.Ordinal))}: a restore in two phases is not supported");
            }
            result.AddRange(ordered);
        }
        return result;
    }

    /// <summary>
    /// Kahn's order of <paramref name="nodes"/> under (child, parent) edges, parents first, ties by
    /// <paramref name="key"/>; what a cycle keeps from being ordered goes last, by key, and is <paramref name="stuck"/>.
    /// </summary>
    private static List<T> Kahn<T>(IEnumerable<T> nodes, IEnumerable<(T Child, T Parent)> edges, Func<T, string> key, out HashSet<T> stuck)
        where T : notnull
    {
        var remaining = nodes.ToHashSet();
        var edgeList = edges.ToList();
        var result = new List<T>();
        while (remaining.Count > 0)
        {
            var ready = remaining.Where(n => !edgeList.Any(e => e.Child.Equals(n) && remaining.Contains(e.Parent))).OrderBy(key, StringComparer.Ordinal).ToList();
            if (ready.Count == 0)
            {
                break;
            }
            result.AddRange(ready);
            remaining.ExceptWith(ready);
        }
        stuck = remaining;
        result.AddRange(remaining.OrderBy(key, StringComparer.Ordinal));
        return result;
    }

    /// <summary>The strongly connected parts of the foreign-key graph (tables that reach each other), each a set.</summary>
    private static List<HashSet<string>> StronglyConnected(HashSet<string> tables, List<ForeignKey> edges)
    {
        var parents = tables.ToDictionary(t => t, t => edges.Where(e => e.Child == t).Select(e => e.Parent).ToList(), StringComparer.Ordinal);
        var reach = tables.ToDictionary(t => t, t =>
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var next = new Stack<string>(parents[t]);
            while (next.TryPop(out var table))
            {
                if (seen.Add(table))
                {
                    foreach (var parent in parents[table])
                    {
                        next.Push(parent);
                    }
                }
            }
            return seen;
        }, StringComparer.Ordinal);
        var parts = new List<HashSet<string>>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in tables.Order(StringComparer.Ordinal))
        {
            if (placed.Contains(table))
            {
                continue;
            }
            var part = new HashSet<string>(StringComparer.Ordinal) { table };
            part.UnionWith(reach[table].Where(other => reach[other].Contains(table)));
            placed.UnionWith(part);
            parts.Add(part);
        }
        return parts;
    }

    private sealed record Relation(
        string Name,
        List<string> Columns,
        Dictionary<string, string> Types,
        List<string> Writable,
        List<string> PrimaryKey,
        List<string> AlwaysIdentity,
        bool RowSecurity);

    private sealed record ForeignKey(string Name, string Child, IReadOnlyList<string> Columns, string Parent, IReadOnlyList<string> ParentColumns, bool Deferrable);

    private static async Task<Dictionary<string, Relation>> ReadTablesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var relations = new Dictionary<string, Relation>(StringComparer.Ordinal);
        var rows = await QueryAsync(connection, $"""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '', a.attidentity = 'a',
                   COALESCE(array_position(pk.conkey, a.attnum), 0), c.relrowsecurity
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND {NotExtensionMember("c")}
            ORDER BY c.relname, a.attnum
            """, cancellationToken).ConfigureAwait(false);
        var keyPositions = new Dictionary<string, SortedList<int, string>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var table = (string)row[0]!;
            var column = (string)row[1]!;
            if (!relations.TryGetValue(table, out var relation))
            {
                relation = new Relation(table, [], new Dictionary<string, string>(StringComparer.Ordinal), [], [], [], (bool)row[6]!);
                relations[table] = relation;
                keyPositions[table] = [];
            }
            relation.Columns.Add(column);
            relation.Types[column] = (string)row[2]!;
            if (!(bool)row[3]!)
            {
                relation.Writable.Add(column);
            }
            if ((bool)row[4]!)
            {
                relation.AlwaysIdentity.Add(column);
            }
            var position = Convert.ToInt32(row[5], CultureInfo.InvariantCulture);
            if (position > 0)
            {
                keyPositions[table].Add(position, column);
            }
        }
        foreach (var (table, positions) in keyPositions)
        {
            relations[table].PrimaryKey.AddRange(positions.Values);
        }
        return relations;
    }

    private static async Task<List<ForeignKey>> ReadForeignKeysAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // conparentid = 0: the constraint as declared, not its copies on partitions.
        var rows = await QueryAsync(connection, """
            SELECT k.conname, c.relname, p.relname, k.condeferrable,
                   ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
                   ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)
            FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid
            JOIN pg_class p ON p.oid = k.confrelid
            JOIN pg_namespace cn ON cn.oid = c.relnamespace
            JOIN pg_namespace pn ON pn.oid = p.relnamespace
            WHERE k.contype = 'f' AND k.conparentid = 0 AND cn.nspname = 'public' AND pn.nspname = 'public'
              AND NOT c.relispartition AND NOT p.relispartition
            ORDER BY c.relname, k.conname
            """, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new ForeignKey((string)r[0]!, (string)r[1]!, (string[])r[4]!, (string)r[2]!, (string[])r[5]!, (bool)r[3]!))];
    }
}
