using System.Data;
using System.Globalization;
using Npgsql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Tenants;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Tenants.TenantPlanner;

namespace Commissable.Backup.Postgres.Tenants;

/// <summary>
/// Applies an approved tenant plan: in one transaction on production, makes the plan again with
/// <see cref="TenantPlanner"/>'s own steps (its trial writes become the real ones), commits only
/// when the plan made is the approved one and has no problem, then proves the result with
/// <see cref="TenantProof"/>.
/// </summary>
/// <remarks>
/// <para>
/// The transaction is READ COMMITTED with the plan's <c>lock_timeout</c>, so other sessions keep
/// writing: the apply takes row locks only (its inserts, updates and deletes, and the key-share
/// locks of foreign-key checks), never a table lock beyond the ordinary ones of reads and writes,
/// and a lock it cannot get in time makes that table's problem, so the apply is refused rather
/// than left waiting. Statements have no time limit of their own: how long they take grows with the
/// tenant's rows, not with other sessions, and the caller's cancellation or a lost connection ends
/// the transaction (the server rolls it back). <c>idle_in_transaction_session_timeout</c> bounds
/// the time the transaction can hold its locks while the client does nothing.
/// </para>
/// <para>
/// Order of the decision: a plan with a problem is refused (a conflict, hidden rows, a lock wait,
/// a write that touched another number of rows than counted), whatever its digest; a plan without
/// one but with another digest than the approved one means production changed for the tenant:
/// nothing is written and the new plan is returned to be approved.
/// </para>
/// <para>
/// Sequences: every sequence that feeds an integer column of a closure table (owned by it as
/// <c>serial</c> or identity, or named by a <c>nextval</c> default without being owned) is moved
/// past the largest value of that column among the tenant's staged rows, only when the value
/// <c>nextval</c> would return next is not already past it; never backwards. A sequence counting
/// down is left alone. <c>setval</c> is not transactional: a sequence moved stays moved if the commit
/// then fails, which costs unused numbers and nothing else.
/// </para>
/// </remarks>
public static class TenantApplier
{
    /// <summary>
    /// How long the apply's transaction may sit idle holding its locks (5 minutes: the production
    /// session is idle while the staged side starts a table's COPY, which a large reachable table's
    /// membership join can make slow; a client that stops answering is cut off after it).
    /// </summary>
    private const string IdleLimit = "SET LOCAL idle_in_transaction_session_timeout = '300s';\n";

    /// <summary>Applies the plan if it is still <paramref name="approvedDigest"/>, then proves it.</summary>
    /// <param name="staged">The scratch restore holding the tenant's rows as they should be.</param>
    /// <param name="production">The live database, written to.</param>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="approvedDigest">The digest of the plan a person approved.</param>
    /// <param name="options">Tenant column, mode (missing-only or exact), example count, lock timeout.</param>
    /// <param name="cancellationToken">Stops the apply (before the commit: nothing is written).</param>
    /// <exception cref="ArgumentException">Report mode: it writes nothing.</exception>
    /// <exception cref="DatabaseUnreachableException">The connection was lost during COMMIT: whether it committed is unknown.</exception>
    public static async Task<TenantApplyResult> ApplyAsync(
        NpgsqlDataSource staged,
        NpgsqlDataSource production,
        string tenantId,
        string approvedDigest,
        TenantPlanOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staged);
        ArgumentNullException.ThrowIfNull(production);
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(approvedDigest);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.ExampleKeys);
        if (options.Mode == TenantRestoreMode.Report)
        {
            throw new ArgumentException("a report-mode plan writes nothing: it cannot be applied", nameof(options));
        }

        await using var source = await staged.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var target = await production.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        TenantRun run;
        List<string> moved;
        Dictionary<string, string> kept;
        await using (var sourceTransaction = await source.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false))
        await using (var transaction = await target.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(target, IdleLimit, cancellationToken).ConfigureAwait(false);
            run = await RunAsync(source, target, tenantId, options, cancellationToken).ConfigureAwait(false);
            if (!run.Plan.CanApply)
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                return new TenantApplyResult(TenantApplyOutcome.Refused, run.Plan, [], [], []);
            }
            if (!string.Equals(run.Plan.Digest, approvedDigest, StringComparison.Ordinal))
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                return new TenantApplyResult(TenantApplyOutcome.PlanChanged, run.Plan, [], [], []);
            }
            try
            {
                moved = await MoveSequencesAsync(target, run, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException failure) when (!IsSessionFailure(failure))
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                var problems = run.Plan.Problems.Append($"the sequences could not be moved past the restored values: {Describe(failure)}").ToList();
                var refused = run.Plan with { Problems = problems, Digest = Digest(tenantId, options.Mode, run.Plan.Tables, problems) };
                return new TenantApplyResult(TenantApplyOutcome.Refused, refused, [], [], []);
            }
            kept = await KeepChangedKeysAsync(target, run, options.Mode, cancellationToken).ConfigureAwait(false);
            try
            {
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception failure) when (failure is NpgsqlException or IOException or TimeoutException)
            {
                throw new DatabaseUnreachableException(
                    "the connection to production failed during COMMIT: whether the tenant's rows were written is unknown; make a new plan to see", failure);
            }
        }

        var writes = run.States.Select(s => new TableWrite(s.Table.Name, s.Inserted, s.Updated, s.Deleted)).ToList();
        var views = await RefreshViewsAsync(target, run, options, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<TableProof> proof;
        try
        {
            proof = await TenantProof.ProveAsync(source, target, run.Shape, tenantId, options, kept, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception failure) when (failure is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            // The writes are committed: the result must say so, with a proof that does not hold.
            // (A connection that broke earlier answers the next command with InvalidOperationException.)
            proof = [.. run.Shape.Tables.Select(t => new TableProof(t.Name, 0, "", $"not read: {Reason(failure)}"))];
        }
        return new TenantApplyResult(TenantApplyOutcome.Applied, run.Plan, writes, proof, moved) { MaterializedViews = views };
    }

    /// <summary>
    /// After the commit: every populated materialized view of schema public whose query reads a
    /// written table directly is refreshed CONCURRENTLY when it has a unique index on plain columns
    /// without a predicate (readers are not blocked; it waits at most the lock timeout). One without
    /// such an index is left stale and named: a plain REFRESH would block every reader of the view
    /// while it runs, which the operator decides. A failure to refresh is reported, never thrown:
    /// the tenant's rows are committed whatever happens to a view.
    /// </summary>
    private static async Task<IReadOnlyList<string>> RefreshViewsAsync(NpgsqlConnection target, TenantRun run, TenantPlanOptions options, CancellationToken cancellationToken)
    {
        var written = run.States.Where(s => s.Inserted + s.Updated + s.Deleted > 0).Select(s => s.Table.Name).ToArray();
        if (written.Length == 0)
        {
            return [];
        }
        var views = new List<(string Name, bool Concurrent)>();
        try
        {
            await using (var command = new NpgsqlCommand("""
                SELECT DISTINCT mv.relname,
                       EXISTS (SELECT 1 FROM pg_index i
                               WHERE i.indrelid = mv.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND NOT (0 = ANY (i.indkey::int2[])))
                FROM pg_class mv
                JOIN pg_namespace n ON n.oid = mv.relnamespace
                JOIN pg_rewrite r ON r.ev_class = mv.oid
                JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
                JOIN pg_class t ON t.oid = d.refobjid
                JOIN pg_namespace tn ON tn.oid = t.relnamespace
                WHERE mv.relkind = 'm' AND mv.relispopulated AND n.nspname = 'public' AND tn.nspname = 'public' AND t.relname = ANY($1)
                ORDER BY 1
                """, target))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = written });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    views.Add((reader.GetString(0), reader.GetBoolean(1)));
                }
            }
            await ExecuteAsync(target, string.Create(CultureInfo.InvariantCulture, $"SET lock_timeout = '{(long)options.LockTimeout.TotalMilliseconds}ms'"), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception failure) when (failure is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            return [$"materialized views not looked up: {Reason(failure)}; refresh the ones that read the restored tables"];
        }
        var outcome = new List<string>();
        foreach (var (name, concurrent) in views)
        {
            if (!concurrent)
            {
                outcome.Add($"{name}: stale: it has no unique index, so only a plain REFRESH MATERIALIZED VIEW would do, and that blocks the view's readers while it runs; run it when that is acceptable");
                continue;
            }
            try
            {
                await ExecuteAsync(target, $"REFRESH MATERIALIZED VIEW CONCURRENTLY public.{Quote(name)}", cancellationToken).ConfigureAwait(false);
                outcome.Add($"{name}: refreshed");
            }
            catch (Exception failure) when (failure is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                outcome.Add($"{name}: stale: the concurrent refresh failed ({Reason(failure)}); refresh it by hand");
                if (failure is not PostgresException)
                {
                    break;
                }
            }
        }
        return outcome;
    }

    /// <summary>A failure as its SQLSTATE (PostgreSQL's messages can quote row values) or, for a lost connection, its message.</summary>
    private static string Reason(Exception failure) => failure is PostgresException pg ? $"SQLSTATE {pg.SqlState}" : failure.Message;

    /// <summary>
    /// Moves each sequence feeding a closure table's integer column past the largest staged value
    /// of that column, when <c>nextval</c> would not already return more; returns <c>sequence=value</c>
    /// for each one moved.
    /// </summary>
    private static async Task<List<string>> MoveSequencesAsync(NpgsqlConnection target, TenantRun run, CancellationToken cancellationToken)
    {
        var written = run.States.Where(s => s.Inserted + s.Updated > 0).ToDictionary(s => s.Table.Name, StringComparer.Ordinal);
        var moved = new List<string>();
        if (written.Count == 0)
        {
            return moved;
        }
        // Owned sequences (serial: 'a', identity: 'i') depend on their column; a default naming a
        // sequence (owned or not) depends on it through pg_attrdef.
        var feeds = new List<(string Table, string Column, string Sequence, string Name, long Increment)>();
        await using (var command = new NpgsqlCommand("""
            WITH feeds AS (
                SELECT d.refobjid AS rel, d.refobjsubid AS att, d.objid AS seq
                FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
                UNION
                SELECT ad.adrelid, ad.adnum, d.refobjid
                FROM pg_attrdef ad
                JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
            )
            SELECT t.relname, a.attname, f.seq::regclass::text, q.relname, s.seqincrement
            FROM feeds f
            JOIN pg_sequence s ON s.seqrelid = f.seq
            JOIN pg_class q ON q.oid = f.seq
            JOIN pg_class t ON t.oid = f.rel
            JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.att
            WHERE n.nspname = 'public' AND t.relname = ANY($1)
              AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) AND a.attgenerated = ''
            ORDER BY 1, 2, 3
            """, target))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = written.Keys.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                feeds.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4)));
            }
        }
        foreach (var (table, column, sequence, name, increment) in feeds)
        {
            if (increment <= 0)
            {
                continue;
            }
            // One statement reads where the sequence stands and moves it, so the window in which
            // another session's nextval could pass the value first is as short as it can be without
            // locking the sequence. The sequence's name comes from the catalog, quoted by regclass.
            await using var command = new NpgsqlCommand($"""
                SELECT m.v, setval($1::regclass, m.v, true)
                FROM (SELECT max(s.{Quote(column)})::bigint AS v FROM {Quote(written[table].Staging)} AS s) AS m, {sequence} AS q
                WHERE m.v > CASE WHEN q.is_called THEN q.last_value ELSE q.last_value - $2 END
                """, target);
            command.Parameters.Add(new NpgsqlParameter { Value = sequence });
            command.Parameters.Add(new NpgsqlParameter { Value = increment });
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (value is long past)
            {
                moved.Add(string.Create(CultureInfo.InvariantCulture, $"{name}={past}"));
            }
        }
        return moved;
    }

    /// <summary>
    /// In missing-only mode, the keys (as row text, output settings pinned) of the changed rows that
    /// were left alone, in temporary tables that outlive the commit, for the proof to leave out.
    /// </summary>
    private static async Task<Dictionary<string, string>> KeepChangedKeysAsync(NpgsqlConnection target, TenantRun run, TenantRestoreMode mode, CancellationToken cancellationToken)
    {
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        if (mode != TenantRestoreMode.MissingOnly)
        {
            return kept;
        }
        for (var i = 0; i < run.States.Count; i++)
        {
            var state = run.States[i];
            if (state.Changed == 0 || state.Table.PrimaryKey.Count == 0)
            {
                continue;
            }
            var name = string.Create(CultureInfo.InvariantCulture, $"tenant_kept_{i}");
            await ExecuteAsync(target, $"CREATE TEMP TABLE {Quote(name)} AS SELECT ROW({Columns(state.Table.PrimaryKey, "c")})::text AS k FROM {Quote(state.ChangedKeys)} AS c", cancellationToken).ConfigureAwait(false);
            kept[state.Table.Name] = name;
        }
        return kept;
    }
}
