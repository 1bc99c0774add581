using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// Loads the rows into the migrated schema in one transaction. Indexes and keys are dropped first
/// and rebuilt from their own catalog definitions afterwards: one sorted build per index is much
/// faster than maintaining it row by row, and a foreign key validated in one pass is much faster
/// than a trigger per row. The rebuilt objects are byte-for-byte the migrations' definitions.
/// </summary>
internal static class DemoLoader
{
    private sealed record Deferred(string Table, string Name, string Definition);

    public static async Task LoadAsync(NpgsqlConnection connection, DemoPlan plan, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '256MB'", cancellationToken).ConfigureAwait(false);

        var keys = await ReadAsync(connection, """
            SELECT format('%I.%I', n.nspname, c.relname), con.conname, pg_get_constraintdef(con.oid)
            FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations' AND con.contype IN ('p', 'u')
            ORDER BY 1, 2
            """, cancellationToken).ConfigureAwait(false);
        var foreignKeys = await ReadAsync(connection, """
            SELECT format('%I.%I', n.nspname, c.relname), con.conname, pg_get_constraintdef(con.oid)
            FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND con.contype = 'f'
            ORDER BY 1, 2
            """, cancellationToken).ConfigureAwait(false);
        var indexes = await ReadAsync(connection, """
            SELECT format('%I.%I', n.nspname, c.relname), format('%I.%I', n.nspname, i.relname), pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class c ON c.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))
            ORDER BY 1, 2
            """, cancellationToken).ConfigureAwait(false);

        // Dependents first: foreign keys need the keys they reference.
        await ExecuteAsync(connection, Script(
            foreignKeys.Select(fk => $"ALTER TABLE {fk.Table} DROP CONSTRAINT {Quote(fk.Name)}")
                .Concat(indexes.Select(index => $"DROP INDEX {index.Name}"))
                .Concat(keys.Select(key => $"ALTER TABLE {key.Table} DROP CONSTRAINT {Quote(key.Name)}"))), cancellationToken).ConfigureAwait(false);

        var rows = new DemoRows(plan);
        foreach (var table in Enum.GetValues<DemoTable>())
        {
            var clock = Stopwatch.StartNew();
            // Binary COPY is a tight loop of small writes: run it synchronously on a pool thread.
            var written = await Task.Run(() => Copy(connection, rows, plan, table, cancellationToken), cancellationToken).ConfigureAwait(false);
            progress?.Report(string.Create(CultureInfo.InvariantCulture, $"{table}: {written:N0} rows in {clock.Elapsed.TotalSeconds:F1} s"));
        }

        var rebuild = Stopwatch.StartNew();
        await ExecuteAsync(connection, Script(
            keys.Select(key => $"ALTER TABLE {key.Table} ADD CONSTRAINT {Quote(key.Name)} {key.Definition}")
                .Concat(indexes.Select(index => index.Definition))
                .Concat(foreignKeys.Select(fk => $"ALTER TABLE {fk.Table} ADD CONSTRAINT {Quote(fk.Name)} {fk.Definition}"))), cancellationToken).ConfigureAwait(false);
        progress?.Report(string.Create(CultureInfo.InvariantCulture,
            $"{keys.Count} keys, {indexes.Count} indexes and {foreignKeys.Count} foreign keys built in {rebuild.Elapsed.TotalSeconds:F1} s"));

        await SetSequencesAsync(connection, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        // Only the demo's tables: a bare ANALYZE would also visit every system catalog.
        await ExecuteAsync(connection, "ANALYZE " + string.Join(", ", DemoDatabase.TableNames.Select(t => "public." + Quote(t))), cancellationToken).ConfigureAwait(false);
        progress?.Report("sequences set and statistics gathered");
    }

    private static ulong Copy(NpgsqlConnection connection, DemoRows rows, DemoPlan plan, DemoTable table, CancellationToken cancellationToken)
    {
        using var importer = connection.BeginBinaryImport(DemoRows.CopyCommand(table));
        var writer = new DemoRowWriter(importer);
        for (var tenant = 0; tenant < plan.Tenants; tenant++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rows.WriteTenant(table, writer, tenant, cancellationToken);
        }
        return importer.Complete();
    }

    /// <summary>
    /// Sets every serial and identity sequence to its column's maximum, so the application's next
    /// insert gets a fresh id (the rows were loaded with explicit ids).
    /// </summary>
    private static async Task SetSequencesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var owned = await ReadAsync(connection, """
            SELECT format('%I.%I', n.nspname, c.relname), quote_ident(a.attname), pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL
            ORDER BY 1, 2
            """, cancellationToken).ConfigureAwait(false);
        // The sequence names come from the catalog already quoted by pg_get_serial_sequence.
        await ExecuteAsync(connection, Script(owned.Select(o =>
            $"SELECT setval({Literal(o.Definition)}::regclass, COALESCE(max({o.Name}), 1), max({o.Name}) IS NOT NULL) FROM {o.Table}")), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<Deferred>> ReadAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        var result = new List<Deferred>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new Deferred(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }
        return result;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        if (sql.Length == 0) return;
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Statements sent in one round trip (the load is a single transaction anyway).</summary>
    private static string Script(IEnumerable<string> statements) => string.Join(";\n", statements);

    private static string Literal(string text) => $"'{text.Replace("'", "''", StringComparison.Ordinal)}'";

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
