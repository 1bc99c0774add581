using System.Data;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Commissable.Backup.Core.Tenants;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Tenants;

/// <summary>
/// Plans a per-tenant restore: compares one tenant's rows in a staged copy (a scratch restore) with
/// production, table by table, then tries the writes in one transaction on production and rolls it
/// back, so conflicts are found before anything is written. <see cref="TenantApplier"/> runs the
/// same steps and commits the writes instead, when the plan they make is the approved one.
/// </summary>
/// <remarks>
/// <para>
/// Rows are never held in memory: each table's tenant rows are copied (<c>COPY ... TO STDOUT</c>,
/// text format, output settings pinned on both sides) from the staged database straight into a
/// temporary table of the production session, inside the trial transaction. Missing, changed and
/// extra rows are then counted by SQL joins on the primary key (the row compared as its text, so
/// types without an equality operator such as <c>json</c> compare too); a table without a primary
/// key is compared as a multiset of whole rows.
/// </para>
/// <para>
/// The trial writes, each table in a savepoint so one failure does not hide the next: in exact mode
/// first the extra rows are deleted (tables in reverse write order), then changed rows updated;
/// then missing rows inserted in write order (generated columns left out, <c>OVERRIDING SYSTEM
/// VALUE</c> for <c>GENERATED ALWAYS</c> identities). Deferrable constraints are deferred and
/// checked at the end. Errors are reported as the constraint's name and SQLSTATE only: PostgreSQL's
/// messages and details can hold row values, and they are never copied into a plan. The
/// transaction is always rolled back.
/// </para>
/// <para>
/// Row-level security: a table with it enabled hides rows from a login that is not a superuser,
/// has no BYPASSRLS, and is not the table's owner (or is, and the table forces it). Such a table
/// gets a problem on either side instead of a silent under-count.
/// </para>
/// </remarks>
public static class TenantPlanner
{
    internal const string PinnedOutput = """
        SET LOCAL search_path = public;
        SET LOCAL DateStyle = 'ISO, YMD';
        SET LOCAL IntervalStyle = 'postgres';
        SET LOCAL TimeZone = 'UTC';
        SET LOCAL extra_float_digits = 3;
        SET LOCAL bytea_output = 'hex';
        """;

    /// <summary>Makes the plan; production is left exactly as it was.</summary>
    /// <param name="staged">The scratch restore holding the tenant's rows as they should be.</param>
    /// <param name="production">The live database.</param>
    /// <param name="tenantId">The tenant's key (a value of the tenant table's key, as text).</param>
    /// <param name="options">Tenant column, mode, example count, lock timeout.</param>
    /// <param name="cancellationToken">Stops the plan (the trial is rolled back).</param>
    public static async Task<TenantPlan> PlanAsync(
        NpgsqlDataSource staged,
        NpgsqlDataSource production,
        string tenantId,
        TenantPlanOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staged);
        ArgumentNullException.ThrowIfNull(production);
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.ExampleKeys);

        await using var source = await staged.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var sourceTransaction = await source.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var target = await production.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var trial = await target.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        try
        {
            return (await RunAsync(source, target, tenantId, options, cancellationToken).ConfigureAwait(false)).Plan;
        }
        finally
        {
            await trial.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            await sourceTransaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The core a plan and an apply share, in transactions the caller opened (REPEATABLE READ on
    /// <paramref name="source"/>, READ COMMITTED on <paramref name="target"/>): pins the output
    /// settings and the lock timeout, discovers the closure, stages and compares each table, and
    /// makes the mode's writes when nothing stands in the way. The caller decides what becomes of
    /// the writes: a plan rolls them back, an apply commits them when the plan still holds.
    /// </summary>
    internal static async Task<TenantRun> RunAsync(
        NpgsqlConnection source,
        NpgsqlConnection target,
        string tenantId,
        TenantPlanOptions options,
        CancellationToken cancellationToken)
    {
        await PrepareAsync(source, "SET TRANSACTION READ ONLY;\n" + PinnedOutput, tenantId, cancellationToken).ConfigureAwait(false);
        await PrepareAsync(target, LockTimeout(options) + PinnedOutput, tenantId, cancellationToken).ConfigureAwait(false);

        var shape = await TenantClosure.DiscoverAsync(target, options.TenantColumn, cancellationToken).ConfigureAwait(false);
        var problems = new List<string>(shape.Problems);
        var states = new List<TableState>();
        var idProblem = await TenantIdProblemAsync(target, shape, tenantId, cancellationToken).ConfigureAwait(false);
        if (idProblem is not null)
        {
            problems.Add(idProblem);
        }
        for (var i = 0; i < shape.Tables.Count && idProblem is null; i++)
        {
            var table = shape.Tables[i];
            var state = new TableState(table, i);
            states.Add(state);
            state.Problem = await HiddenRowsAsync(source, table, "staged", cancellationToken).ConfigureAwait(false)
                ?? await HiddenRowsAsync(target, table, "production", cancellationToken).ConfigureAwait(false);
            if (state.Problem is not null)
            {
                continue;
            }
            if (!await TryStageAsync(source, target, shape, state, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }
            await CompareAsync(target, shape, state, options.ExampleKeys, cancellationToken).ConfigureAwait(false);
        }
        if (idProblem is null && states.All(s => s.Problem is null) && !await StagedHasTenantAsync(target, shape, states, cancellationToken).ConfigureAwait(false))
        {
            problems.Add(shape.TenantTable is { } tenantTable
                ? $"the tenant has no row in the staged copy's \"{tenantTable}\": there is nothing to restore it from (ids are compared exactly: check the id and the restore point)"
                : "the tenant has no row in any table of the staged copy: there is nothing to restore it from (ids are compared exactly: check the id and the restore point)");
        }
        var wrote = false;
        if (problems.Count == 0 && states.All(s => s.Problem is null))
        {
            await WriteAsync(target, shape, states, options.Mode, problems, cancellationToken).ConfigureAwait(false);
            wrote = true;
        }

        var tables = states.Select(s => new TablePlan(
            s.Table.Name,
            s.Missing,
            s.Changed,
            s.Extra,
            options.Mode switch
            {
                TenantRestoreMode.MissingOnly => s.Missing,
                TenantRestoreMode.Exact => s.Missing + s.Changed + s.Extra,
                _ => 0,
            },
            s.Examples,
            s.KeyDigest,
            s.Problem)).ToList();
        return new TenantRun(new TenantPlan(tenantId, options.Mode, tables, problems, Digest(tenantId, options.Mode, tables, problems)), shape, states, wrote);
    }

    /// <summary>
    /// The tenant id must be a value of the tenant key's type as it is written: a cast can change it
    /// silently (<c>varchar(8)</c> cuts <c>acme-inc-eu</c> to <c>acme-inc</c>, another tenant; an
    /// integer reads <c>007</c> as <c>7</c>), and the plan, the approval and the records would then
    /// name one tenant while the writes act on another.
    /// </summary>
    private static async Task<string?> TenantIdProblemAsync(NpgsqlConnection target, TenantClosureShape shape, string tenantId, CancellationToken cancellationToken)
    {
        await ExecuteAsync(target, "SAVEPOINT tenant_id", cancellationToken).ConfigureAwait(false);
        try
        {
            string? read;
            await using (var command = new NpgsqlCommand($"SELECT CAST(CAST(current_setting('{TenantClosureShape.TenantSetting}') AS {shape.TenantKeyType}) AS text)", target))
            {
                read = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            }
            await ExecuteAsync(target, "RELEASE SAVEPOINT tenant_id", cancellationToken).ConfigureAwait(false);
            return string.Equals(read, tenantId, StringComparison.Ordinal)
                ? null
                : $"the tenant id reads as '{read}' in the tenant key's type {shape.TenantKeyType}: give the id exactly as the key holds it";
        }
        catch (PostgresException failure) when (!IsSessionFailure(failure))
        {
            await ExecuteAsync(target, "ROLLBACK TO SAVEPOINT tenant_id", cancellationToken).ConfigureAwait(false);
            return $"the tenant id is not a value of the tenant key's type {shape.TenantKeyType} (SQLSTATE {failure.SqlState})";
        }
    }

    /// <summary>
    /// Whether the staged copy holds the tenant at all: its row of the tenant table or, without a
    /// tenant table, a row in any closure table. A plan for a tenant the staged copy does not have
    /// (a mistyped id) would otherwise compare nothing with nothing and call it proven.
    /// </summary>
    private static async Task<bool> StagedHasTenantAsync(NpgsqlConnection target, TenantClosureShape shape, List<TableState> states, CancellationToken cancellationToken)
    {
        var tables = shape.TenantTable is { } tenantTable ? states.Where(s => s.Table.Name == tenantTable).ToList() : states;
        if (tables.Count == 0)
        {
            return false;
        }
        var sql = "SELECT " + string.Join(" OR ", tables.Select(s => $"EXISTS (SELECT 1 FROM {Quote(s.Staging)})"));
        await using var command = new NpgsqlCommand(sql, target);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    /// <summary>What <see cref="RunAsync"/> found and did, for the apply that goes on in the same transaction.</summary>
    /// <param name="Plan">The plan.</param>
    /// <param name="Shape">The closure it was made on.</param>
    /// <param name="States">Per table, in write order: its temporary tables and the rows each write touched.</param>
    /// <param name="Wrote">The writes ran (no problem was found before them); they may still have failed.</param>
    internal sealed record TenantRun(TenantPlan Plan, TenantClosureShape Shape, IReadOnlyList<TableState> States, bool Wrote);

    internal static string LockTimeout(TenantPlanOptions options) =>
        string.Create(CultureInfo.InvariantCulture, $"SET LOCAL lock_timeout = '{Math.Max(1, (long)options.LockTimeout.TotalMilliseconds)}ms';\n");

    /// <summary>One table's part of a run: its temporary tables in the production session, its counts and its writes.</summary>
    internal sealed class TableState(ClosureTable table, int index)
    {
        public ClosureTable Table { get; } = table;

        /// <summary>The tenant's staged rows, copied into the production session.</summary>
        public string Staging { get; } = string.Create(CultureInfo.InvariantCulture, $"tenant_staged_{index}");

        /// <summary>Production's rows of the tenant the staged copy does not have (keys, or <c>tableoid</c> and <c>ctid</c> without a primary key).</summary>
        public string Extras { get; } = string.Create(CultureInfo.InvariantCulture, $"tenant_extra_{index}");

        /// <summary>The keys of the rows on both sides whose contents differ (primary-key tables only).</summary>
        public string ChangedKeys { get; } = string.Create(CultureInfo.InvariantCulture, $"tenant_changed_{index}");

        public long Missing { get; set; }
        public long Changed { get; set; }
        public long Extra { get; set; }
        public long Inserted { get; set; }
        public long Updated { get; set; }
        public long Deleted { get; set; }
        public List<string> Examples { get; } = [];
        public string KeyDigest { get; set; } = "";
        public string? Problem { get; set; }
    }

    internal static async Task PrepareAsync(NpgsqlConnection connection, string settings, string tenantId, CancellationToken cancellationToken)
    {
        await using (var pin = new NpgsqlCommand(settings, connection))
        {
            await pin.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        // The tenant id travels as a parameter into a transaction-local setting, because COPY takes no parameters.
        await using var set = new NpgsqlCommand($"SELECT set_config('{TenantClosureShape.TenantSetting}', $1, true)", connection);
        set.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        await set.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string?> HiddenRowsAsync(NpgsqlConnection connection, ClosureTable table, string side, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT c.relrowsecurity
               AND NOT (r.rolsuper OR r.rolbypassrls)
               AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, pg_roles r
            WHERE n.nspname = 'public' AND c.relname = $1 AND r.rolname = current_user
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = table.Name });
        var hidden = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return hidden is true
            ? $"row-level security can hide rows of this table from the {side} login (not a superuser, no BYPASSRLS, not an owner exempt from it): use a login with BYPASSRLS"
            : null;
    }

    internal static string Columns(IEnumerable<string> columns, string? alias = null) =>
        string.Join(", ", columns.Select(c => alias is null ? Quote(c) : $"{alias}.{Quote(c)}"));

    internal static string RowText(ClosureTable table, string alias) => $"ROW({Columns(table.Columns, alias)})::text";

    internal static string KeyMatch(ClosureTable table, string left, string right) =>
        string.Join(" AND ", table.PrimaryKey.Select(c => $"{left}.{Quote(c)} = {right}.{Quote(c)}"));

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies the table's staged rows, each side in a savepoint: a staged copy whose table does not
    /// read as production's (a column added or dropped since the restore point) is that table's
    /// problem, and the other tables are still planned.
    /// </summary>
    private static async Task<bool> TryStageAsync(NpgsqlConnection source, NpgsqlConnection target, TenantClosureShape shape, TableState state, CancellationToken cancellationToken)
    {
        await ExecuteAsync(source, "SAVEPOINT tenant_read", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(target, "SAVEPOINT tenant_stage", cancellationToken).ConfigureAwait(false);
        try
        {
            await StageAsync(source, target, shape, state, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(source, "RELEASE SAVEPOINT tenant_read", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(target, "RELEASE SAVEPOINT tenant_stage", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException failure) when (!IsSessionFailure(failure))
        {
            state.Problem = $"the staged rows could not be copied into production's table shape: {Describe(failure)}";
            await ExecuteAsync(source, "ROLLBACK TO SAVEPOINT tenant_read", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(target, "ROLLBACK TO SAVEPOINT tenant_stage", cancellationToken).ConfigureAwait(false);
            return false;
        }
    }

    private static async Task StageAsync(NpgsqlConnection source, NpgsqlConnection target, TenantClosureShape shape, TableState state, CancellationToken cancellationToken)
    {
        var table = state.Table;
        var qualified = $"public.{Quote(table.Name)}";
        await ExecuteAsync(target, $"CREATE TEMP TABLE {Quote(state.Staging)} ON COMMIT DROP AS SELECT {Columns(table.Columns)} FROM {qualified} WITH NO DATA", cancellationToken).ConfigureAwait(false);
        await CopyAsync(
            source, $"SELECT {Columns(table.Columns, "t")} FROM {qualified} AS t WHERE {shape.Predicate(table, "t")}",
            target, $"{Quote(state.Staging)} ({Columns(table.Columns)})",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams what <paramref name="query"/> returns on <paramref name="source"/> into
    /// <paramref name="into"/> (a table and its column list) on <paramref name="target"/>, in COPY's
    /// text format, without holding the rows in memory.
    /// </summary>
    internal static async Task CopyAsync(NpgsqlConnection source, string query, NpgsqlConnection target, string into, CancellationToken cancellationToken)
    {
        var reader = await source.BeginTextExportAsync($"COPY ({query}) TO STDOUT", cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            var writer = await target.BeginTextImportAsync($"COPY {into} FROM STDIN", cancellationToken).ConfigureAwait(false);
            await using (writer.ConfigureAwait(false))
            {
                var buffer = new char[64 * 1024];
                int read;
                while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task CompareAsync(NpgsqlConnection target, TenantClosureShape shape, TableState state, int examples, CancellationToken cancellationToken)
    {
        var table = state.Table;
        var qualified = $"public.{Quote(table.Name)}";
        var staged = Quote(state.Staging);
        var mine = shape.Predicate(table, "p");
        const string Hash = "('x' || md5({0}))::bit(64)::bigint";
        string sql;
        if (table.PrimaryKey.Count > 0)
        {
            var keyText = (string alias) => $"ROW({Columns(table.PrimaryKey, alias)})::text";
            var inProduction = $"SELECT 1 FROM {qualified} AS p WHERE {KeyMatch(table, "p", "s")} AND {mine}";
            // Extras and changed keys are remembered before any write, so the deletes and updates act
            // on exactly these rows, and an apply knows which rows it left alone.
            await ExecuteAsync(target, $"""
                CREATE TEMP TABLE {Quote(state.Extras)} ON COMMIT DROP AS
                SELECT {Columns(table.PrimaryKey, "p")} FROM {qualified} AS p
                WHERE {mine} AND NOT EXISTS (SELECT 1 FROM {staged} AS s WHERE {KeyMatch(table, "p", "s")});
                CREATE TEMP TABLE {Quote(state.ChangedKeys)} ON COMMIT DROP AS
                SELECT {Columns(table.PrimaryKey, "s")} FROM {staged} AS s JOIN {qualified} AS p ON {KeyMatch(table, "p", "s")} AND {mine}
                WHERE {RowText(table, "s")} IS DISTINCT FROM {RowText(table, "p")};
                """, cancellationToken).ConfigureAwait(false);
            sql = $"""
                WITH k AS (
                    SELECT 'missing' AS kind, {keyText("s")} AS key FROM {staged} AS s WHERE NOT EXISTS ({inProduction})
                    UNION ALL
                    SELECT 'changed', {keyText("c")} FROM {Quote(state.ChangedKeys)} AS c
                    UNION ALL
                    SELECT 'extra', {keyText("x")} FROM {Quote(state.Extras)} AS x
                )
                SELECT kind, count(*), COALESCE(sum({string.Format(CultureInfo.InvariantCulture, Hash, "kind || key")}), 0)::text,
                       (array_agg(key ORDER BY key))[1:{examples.ToString(CultureInfo.InvariantCulture)}]
                FROM k GROUP BY kind
                """;
        }
        else
        {
            await ExecuteAsync(target, $"""
                CREATE TEMP TABLE {Quote(state.Extras)} ON COMMIT DROP AS
                SELECT tableoid AS t, ctid AS c FROM (
                    SELECT p.tableoid, p.ctid, {RowText(table, "p")} AS r, row_number() OVER (PARTITION BY {RowText(table, "p")}) AS n
                    FROM {qualified} AS p WHERE {mine}) AS x
                WHERE x.n > (SELECT count(*) FROM {staged} AS s WHERE {RowText(table, "s")} = x.r)
                """, cancellationToken).ConfigureAwait(false);
            sql = $"""
                WITH s AS (SELECT {RowText(table, "s")} AS r, count(*) AS n FROM {staged} AS s GROUP BY 1),
                     p AS (SELECT {RowText(table, "p")} AS r, count(*) AS n FROM {qualified} AS p WHERE {mine} GROUP BY 1),
                     d AS (SELECT COALESCE(s.r, p.r) AS r, COALESCE(s.n, 0) - COALESCE(p.n, 0) AS diff FROM s FULL JOIN p ON s.r = p.r),
                     k AS (SELECT CASE WHEN diff > 0 THEN 'missing' ELSE 'extra' END AS kind, r, abs(diff) AS n FROM d WHERE diff <> 0)
                SELECT kind, sum(n)::bigint, COALESCE(sum({string.Format(CultureInfo.InvariantCulture, Hash, "kind || r")}::numeric * n), 0)::text, NULL::text[]
                FROM k GROUP BY kind
                """;
        }
        var digest = new StringBuilder();
        var byKind = new Dictionary<string, (long Count, string Sum, string[]? Keys)>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(sql, target) { CommandTimeout = 0 })
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                byKind[reader.GetString(0)] = (reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<string[]>(3));
            }
        }
        foreach (var kind in (string[])["missing", "changed", "extra"])
        {
            var (count, sum, keys) = byKind.TryGetValue(kind, out var found) ? found : (0, "0", null);
            digest.Append(CultureInfo.InvariantCulture, $"{kind} {count} {sum}\n");
            var room = examples - state.Examples.Count;
            if (room <= 0)
            {
                continue;
            }
            if (keys is not null)
            {
                state.Examples.AddRange(keys.Take(room).Select(k => $"{kind} {FormatKey(table.PrimaryKey, k)}"));
            }
            else if (table.PrimaryKey.Count == 0)
            {
                state.Examples.AddRange(Enumerable.Range(1, (int)Math.Min(room, count)).Select(n => string.Create(CultureInfo.InvariantCulture, $"{kind} row #{n}")));
            }
        }
        state.Missing = byKind.TryGetValue("missing", out var m) ? m.Count : 0;
        state.Changed = byKind.TryGetValue("changed", out var c) ? c.Count : 0;
        state.Extra = byKind.TryGetValue("extra", out var e) ? e.Count : 0;
        state.KeyDigest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(digest.ToString())));
    }

    /// <summary><c>id=42</c> or <c>userId=a, roleId=b</c>, from the key's row text <c>(42)</c> or <c>(a,b)</c>.</summary>
    private static string FormatKey(IReadOnlyList<string> columns, string rowText)
    {
        // Re-read the row text with PostgreSQL's own rules would need a round trip; the key columns
        // are plain ids, so splitting on top-level commas outside quotes is enough.
        var values = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        var inner = rowText.AsSpan(1, rowText.Length - 2);
        for (var i = 0; i < inner.Length; i++)
        {
            var ch = inner[i];
            if (ch == '"')
            {
                if (quoted && i + 1 < inner.Length && inner[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else
                {
                    quoted = !quoted;
                }
            }
            else if (ch == '\\' && quoted && i + 1 < inner.Length)
            {
                current.Append(inner[++i]);
            }
            else if (ch == ',' && !quoted)
            {
                values.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(ch);
            }
        }
        values.Add(current.ToString());
        return string.Join(", ", columns.Select((c, i) => $"{c}={(i < values.Count ? values[i] : "")}"));
    }

    /// <summary>
    /// The mode's writes, each table's in one statement in a savepoint: the missing rows inserted
    /// (write order; generated columns left out, identities kept), then in exact mode the changed
    /// rows updated (write order) and the extra rows deleted (reverse write order); then the
    /// deferred constraints checked. Each failure becomes its table's problem.
    /// </summary>
    /// <remarks>
    /// No one order fits every schema: a changed row may point at a parent the inserts put back
    /// (the parent was deleted and the reference set NULL), a missing row may share a unique value
    /// with an extra row that must go first (deleted, then created again), an extra row may still be
    /// referenced by a changed row until that is reverted. So a write that fails on a unique,
    /// foreign-key or exclusion constraint is tried again after the others, for as long as another
    /// write succeeded in between; what still fails then is the table's problem. Every write is
    /// limited to the tenant's rows (the closure's predicate is part of each statement), so a row
    /// another session moved to another tenant meanwhile is left alone, and the count of rows
    /// written then differs from the comparison's: a problem, never a silent success.
    /// </remarks>
    private static async Task WriteAsync(NpgsqlConnection target, TenantClosureShape shape, List<TableState> states, TenantRestoreMode mode, List<string> problems, CancellationToken cancellationToken)
    {
        await ExecuteAsync(target, "SET CONSTRAINTS ALL DEFERRED", cancellationToken).ConfigureAwait(false);
        var writes = new List<TableWriteStep>();
        foreach (var state in states.Where(s => s.Missing > 0))
        {
            var table = state.Table;
            var overriding = table.HasAlwaysIdentity ? " OVERRIDING SYSTEM VALUE" : "";
            var staged = Quote(state.Staging);
            var qualified = $"public.{Quote(table.Name)}";
            var sql = table.PrimaryKey.Count > 0
                ? $"""
                    INSERT INTO {qualified} ({Columns(table.Columns)}){overriding}
                    SELECT {Columns(table.Columns, "s")} FROM {staged} AS s
                    WHERE NOT EXISTS (SELECT 1 FROM {qualified} AS p WHERE {KeyMatch(table, "p", "s")} AND {shape.Predicate(table, "p")})
                    """
                : $"""
                    INSERT INTO {qualified} ({Columns(table.Columns)}){overriding}
                    SELECT {Columns(table.Columns, "x")} FROM (
                        SELECT s.*, {RowText(table, "s")} AS r__, row_number() OVER (PARTITION BY {RowText(table, "s")}) AS n__ FROM {staged} AS s) AS x
                    WHERE x.n__ > (SELECT count(*) FROM {qualified} AS p WHERE {shape.Predicate(table, "p")} AND {RowText(table, "p")} = x.r__)
                    """;
            writes.Add(new TableWriteStep(state, "inserted", state.Missing, sql, (s, n) => s.Inserted = n));
        }
        if (mode == TenantRestoreMode.Exact)
        {
            foreach (var state in states.Where(s => s.Changed > 0))
            {
                var table = state.Table;
                var settable = table.Columns.Except(table.PrimaryKey).Except(table.AlwaysIdentityColumns).ToList();
                if (settable.Count == 0)
                {
                    continue;
                }
                writes.Add(new TableWriteStep(state, "updated", state.Changed, $"""
                    UPDATE public.{Quote(table.Name)} AS p SET {string.Join(", ", settable.Select(c => $"{Quote(c)} = s.{Quote(c)}"))}
                    FROM {Quote(state.Staging)} AS s JOIN {Quote(state.ChangedKeys)} AS c ON {KeyMatch(table, "c", "s")}
                    WHERE {KeyMatch(table, "p", "s")} AND {shape.Predicate(table, "p")} AND {RowText(table, "s")} IS DISTINCT FROM {RowText(table, "p")}
                    """, (s, n) => s.Updated = n));
            }
            foreach (var state in Enumerable.Reverse(states).Where(s => s.Extra > 0))
            {
                var table = state.Table;
                var qualified = $"public.{Quote(table.Name)}";
                var sql = table.PrimaryKey.Count > 0
                    ? $"DELETE FROM {qualified} AS p USING {Quote(state.Extras)} AS x WHERE {KeyMatch(table, "p", "x")} AND {shape.Predicate(table, "p")}"
                    : $"DELETE FROM {qualified} AS p WHERE (p.tableoid, p.ctid) IN (SELECT t, c FROM {Quote(state.Extras)}) AND {shape.Predicate(table, "p")}";
                writes.Add(new TableWriteStep(state, "deleted", state.Extra, sql, (s, n) => s.Deleted = n));
            }
        }

        var pending = writes;
        while (pending.Count > 0)
        {
            var again = new List<(TableWriteStep Write, PostgresException Failure)>();
            var succeeded = false;
            foreach (var write in pending.Where(w => w.State.Problem is null))
            {
                var failure = await TryAsync(target, write, cancellationToken).ConfigureAwait(false);
                if (failure is null)
                {
                    succeeded = true;
                    continue;
                }
                if (failure.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ForeignKeyViolation or PostgresErrorCodes.ExclusionViolation)
                {
                    again.Add((write, failure));
                }
                else
                {
                    write.State.Problem ??= Describe(failure);
                }
            }
            if (!succeeded || again.Count == 0)
            {
                foreach (var (write, failure) in again)
                {
                    write.State.Problem ??= Describe(failure);
                }
                break;
            }
            pending = [.. again.Select(a => a.Write)];
        }

        // Deferred constraints are checked here, as a commit would check them.
        try
        {
            await ExecuteAsync(target, "SAVEPOINT tenant_check; SET CONSTRAINTS ALL IMMEDIATE", cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException failure) when (!IsSessionFailure(failure))
        {
            var state = states.FirstOrDefault(s => s.Table.Name == failure.TableName && s.Problem is null);
            if (state is not null)
            {
                state.Problem = Describe(failure);
            }
            else
            {
                problems.Add($"{failure.TableName ?? "?"}: {Describe(failure)}");
            }
        }
    }

    /// <summary>One table's write: the statement, the rows the comparison counted for it, and where its count goes.</summary>
    private sealed record TableWriteStep(TableState State, string Verb, long Expected, string Sql, Action<TableState, long> Record);

    /// <summary>
    /// Runs one write in a savepoint and records the rows it touched; returns the constraint failure
    /// that rolled it back, or null. A write that succeeds but touches another number of rows than
    /// the comparison counted is its table's problem: the plan would not describe what an apply does,
    /// and an apply with it is refused.
    /// </summary>
    private static async Task<PostgresException?> TryAsync(NpgsqlConnection target, TableWriteStep write, CancellationToken cancellationToken)
    {
        await ExecuteAsync(target, "SAVEPOINT tenant_write", cancellationToken).ConfigureAwait(false);
        try
        {
            int written;
            await using (var command = new NpgsqlCommand(write.Sql, target) { CommandTimeout = 0 })
            {
                written = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await ExecuteAsync(target, "RELEASE SAVEPOINT tenant_write", cancellationToken).ConfigureAwait(false);
            write.Record(write.State, written);
            if (written != write.Expected)
            {
                write.State.Problem ??= string.Create(CultureInfo.InvariantCulture, $"the write {write.Verb} {written} rows where the comparison counted {write.Expected}");
            }
            return null;
        }
        catch (PostgresException failure) when (!IsSessionFailure(failure))
        {
            await ExecuteAsync(target, "ROLLBACK TO SAVEPOINT tenant_write", cancellationToken).ConfigureAwait(false);
            return failure;
        }
    }

    /// <summary>
    /// The session itself failed (terminated, cancelled, out of resources, connection or internal
    /// error): not a row's problem, so it is not reported in a plan but thrown.
    /// </summary>
    internal static bool IsSessionFailure(PostgresException failure) =>
        failure.SqlState.Length == 5 && failure.SqlState[..2] is "08" or "53" or "57" or "58" or "XX";

    /// <summary>The failure without PostgreSQL's message or detail, which can quote row values.</summary>
    internal static string Describe(PostgresException failure)
    {
        var what = failure.SqlState switch
        {
            PostgresErrorCodes.UniqueViolation => "unique-key conflict",
            PostgresErrorCodes.CheckViolation => "check failure",
            PostgresErrorCodes.ForeignKeyViolation => "foreign-key failure",
            PostgresErrorCodes.NotNullViolation => $"not-null failure on column \"{failure.ColumnName}\"",
            PostgresErrorCodes.ExclusionViolation => "exclusion conflict",
            PostgresErrorCodes.LockNotAvailable => "lock wait timed out",
            PostgresErrorCodes.InsufficientPrivilege => "permission denied",
            PostgresErrorCodes.UndefinedColumn => $"a column is missing{(failure.TableName is null ? "" : $" in \"{failure.TableName}\"")}",
            PostgresErrorCodes.UndefinedTable => "a table is missing",
            _ => "write failed",
        };
        var constraint = failure.ConstraintName is null ? "" : $" on constraint \"{failure.ConstraintName}\"";
        return $"{what}{constraint} (SQLSTATE {failure.SqlState})";
    }

    internal static string Digest(string tenantId, TenantRestoreMode mode, IReadOnlyList<TablePlan> tables, IReadOnlyList<string> problems)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("tenantId", tenantId);
            json.WriteString("mode", mode.ToString());
            json.WriteStartArray("tables");
            foreach (var t in tables)
            {
                json.WriteStartObject();
                json.WriteString("table", t.Table);
                json.WriteNumber("missing", t.Missing);
                json.WriteNumber("changed", t.Changed);
                json.WriteNumber("extra", t.Extra);
                json.WriteNumber("writes", t.Writes);
                json.WriteString("keyDigest", t.KeyDigest);
                json.WriteStartArray("exampleKeys");
                foreach (var key in t.ExampleKeys)
                {
                    json.WriteStringValue(key);
                }
                json.WriteEndArray();
                json.WriteString("problem", t.Problem);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("problems");
            foreach (var problem in problems)
            {
                json.WriteStringValue(problem);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Convert.ToHexStringLower(SHA256.HashData(stream.ToArray()));
    }
}
