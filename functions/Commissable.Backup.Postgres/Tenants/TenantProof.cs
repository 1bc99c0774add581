using System.Data;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Commissable.Backup.Core.Tenants;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Tenants.TenantPlanner;

namespace Commissable.Backup.Postgres.Tenants;

/// <summary>
/// Proves a committed per-tenant restore table by table: an order-independent digest of the rows
/// the mode restores, read from the staged copy and from production.
/// </summary>
/// <remarks>
/// <para>
/// Each row is hashed where it lives, in SQL, with the planner's pinned output settings: the row's
/// text (every column a restore writes, so generated columns are left out) through <c>md5</c>,
/// cut to a positive 60-bit number. The staged database computes its rows' hashes (and key texts);
/// they are streamed into a temporary table of the production session, never held in memory, so
/// the staged rows can be matched with production's by key. A table's digest is the SHA-256 of
/// "<c>count sum</c>" of the selected rows' hashes; <see cref="TableProof.Rows"/> is the staged count.
/// </para>
/// <para>
/// What is selected: in exact mode, all of the tenant's rows on both sides. In missing-only mode,
/// for a table with a primary key, the staged rows whose key was not reported changed (those rows
/// were left alone), against production's rows of the tenant with those keys. For a table without
/// a primary key in missing-only mode, rows created after the restore point were left alone, so
/// the staged multiset must be contained in production's: the staged digest sums every staged
/// row's hash once per copy, and production's sums the same hashes once per copy production has,
/// up to the staged number of copies. Every hash is at least 1, so the two are equal exactly when
/// production holds each staged row at least as many times as the staged copy does.
/// </para>
/// <para>
/// Equal digests mean equal rows unless two different row sets have equal hash sums (60-bit
/// hashes: not a concern for one tenant's rows, and the counts must be equal too). Nothing is
/// written (only temporary tables, and both transactions are rolled back); each side is read at one
/// REPEATABLE READ snapshot, production with the plan's lock timeout.
/// </para>
/// </remarks>
internal static class TenantProof
{
    /// <summary>Proves every table of <paramref name="shape"/> on the two open connections (no transaction open on either).</summary>
    /// <param name="source">The staged copy.</param>
    /// <param name="target">Production; for missing-only mode its session holds the kept-key tables of <paramref name="kept"/>.</param>
    /// <param name="shape">The closure the apply wrote.</param>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="options">The mode (missing-only or exact), the lock timeout.</param>
    /// <param name="kept">Per table, a temporary table (column <c>k</c>: the key's row text) of the rows left alone; a table not listed left none.</param>
    /// <param name="cancellationToken">Stops the proof.</param>
    public static async Task<IReadOnlyList<TableProof>> ProveAsync(
        NpgsqlConnection source,
        NpgsqlConnection target,
        TenantClosureShape shape,
        string tenantId,
        TenantPlanOptions options,
        IReadOnlyDictionary<string, string> kept,
        CancellationToken cancellationToken)
    {
        if (options.Mode == TenantRestoreMode.Report)
        {
            throw new ArgumentException("report mode restores nothing, so there is nothing to prove", nameof(options));
        }
        await using var sourceTransaction = await source.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var targetTransaction = await target.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await PrepareAsync(source, "SET TRANSACTION READ ONLY;\n" + PinnedOutput, tenantId, cancellationToken).ConfigureAwait(false);
        await PrepareAsync(target, TenantPlanner.LockTimeout(options) + PinnedOutput, tenantId, cancellationToken).ConfigureAwait(false);
        var proofs = new List<TableProof>();
        for (var i = 0; i < shape.Tables.Count; i++)
        {
            proofs.Add(await ProveTableAsync(source, target, shape, shape.Tables[i], i, options.Mode, kept.GetValueOrDefault(shape.Tables[i].Name), cancellationToken).ConfigureAwait(false));
        }
        await targetTransaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        await sourceTransaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        return proofs;
    }

    private static async Task<TableProof> ProveTableAsync(
        NpgsqlConnection source,
        NpgsqlConnection target,
        TenantClosureShape shape,
        ClosureTable table,
        int index,
        TenantRestoreMode mode,
        string? keptTable,
        CancellationToken cancellationToken)
    {
        var qualified = $"public.{Quote(table.Name)}";
        var hashes = Quote(string.Create(CultureInfo.InvariantCulture, $"tenant_proof_{index}"));
        var hasKey = table.PrimaryKey.Count > 0;
        string KeyText(string alias) => hasKey ? $"ROW({Columns(table.PrimaryKey, alias)})::text" : "NULL::text";
        string RowHash(string alias) => $"(('x' || substr(md5({RowText(table, alias)}), 1, 15))::bit(60)::bigint + 1)";

        await ExecuteAsync(target, $"CREATE TEMP TABLE {hashes} (k text, h bigint NOT NULL) ON COMMIT DROP", cancellationToken).ConfigureAwait(false);
        await CopyAsync(
            source, $"SELECT {KeyText("t")}, {RowHash("t")} FROM {qualified} AS t WHERE {shape.Predicate(table, "t")}",
            target, $"{hashes} (k, h)",
            cancellationToken).ConfigureAwait(false);

        var mine = shape.Predicate(table, "p");
        string sql;
        if (mode == TenantRestoreMode.Exact)
        {
            sql = $"""
                SELECT (SELECT count(*) FROM {hashes}), (SELECT COALESCE(sum(h), 0) FROM {hashes})::text,
                       count(*), COALESCE(sum({RowHash("p")}), 0)::text
                FROM {qualified} AS p WHERE {mine}
                """;
        }
        else if (hasKey)
        {
            var leftAlone = keptTable is null ? "" : $"WHERE NOT EXISTS (SELECT 1 FROM {Quote(keptTable)} AS c WHERE c.k = x.k)";
            sql = $"""
                WITH s AS (SELECT x.k, x.h FROM {hashes} AS x {leftAlone})
                SELECT (SELECT count(*) FROM s), (SELECT COALESCE(sum(h), 0) FROM s)::text,
                       count(*), COALESCE(sum({RowHash("p")}), 0)::text
                FROM {qualified} AS p WHERE {mine} AND {KeyText("p")} IN (SELECT k FROM s)
                """;
        }
        else
        {
            sql = $"""
                WITH s AS (SELECT h, count(*) AS n FROM {hashes} GROUP BY h),
                     p AS (SELECT {RowHash("p")} AS h, count(*) AS n FROM {qualified} AS p WHERE {mine} GROUP BY 1),
                     m AS (SELECT s.h, s.n, LEAST(s.n, COALESCE(p.n, 0)) AS found FROM s LEFT JOIN p ON p.h = s.h)
                SELECT COALESCE(sum(n), 0)::bigint, COALESCE(sum(h::numeric * n), 0)::text,
                       COALESCE(sum(found), 0)::bigint, COALESCE(sum(h::numeric * found), 0)::text
                FROM m
                """;
        }
        await using var command = new NpgsqlCommand(sql, target) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var stagedRows = reader.GetInt64(0);
        return new TableProof(
            table.Name,
            stagedRows,
            Digest(stagedRows, reader.GetString(1)),
            Digest(reader.GetInt64(2), reader.GetString(3)));
    }

    private static string Digest(long rows, string sum) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{rows} {sum}"))));
}
