using System.Globalization;
using Commissable.Backup.Core.Backups;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>
/// <c>tables.critical</c>: every configured critical table exists and has rows. With none
/// configured, at least one table of the database must have a row: an empty database (a restore
/// to before the data was loaded, a schema-only dump, the wrong database) is not a restore, and a
/// check that names nothing must not pass by default.
/// </summary>
internal sealed class CriticalTablesCheck : IRestoreCheck
{
    public string Name => RestoreChecks.TablesCritical;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var wanted = context.Options.CriticalTables.Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return await AnyRowsAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        // "table" is in the schema the counts read (public); "schema.table" names its schema.
        var named = wanted.Select(w => w.IndexOf('.', StringComparison.Ordinal) is var dot and > 0 && dot < w.Length - 1
            ? (Given: w, Schema: w[..dot], Table: w[(dot + 1)..])
            : (Given: w, Schema: RowCounter.Schema, Table: w)).ToList();
        var existing = new HashSet<(string, string)>();
        await using (var find = new NpgsqlCommand("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            """, connection))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = named.Select(n => n.Schema).ToArray() });
            find.Parameters.Add(new NpgsqlParameter { Value = named.Select(n => n.Table).ToArray() });
            await using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                existing.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        var missing = named.Where(n => !existing.Contains((n.Schema, n.Table))).Select(n => Shown(n.Schema, n.Table)).ToList();
        var empty = new List<string>();
        foreach (var (_, schema, table) in named.Where(n => existing.Contains((n.Schema, n.Table))))
        {
            await using var probe = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {Quote(schema)}.{Quote(table)})", connection);
            if (!(bool)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                empty.Add(Shown(schema, table));
            }
        }
        if (missing.Count == 0 && empty.Count == 0)
        {
            return new(Name, true, string.Create(CultureInfo.InvariantCulture, $"{wanted.Count} critical tables present, none empty"));
        }
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing: {Listed(missing)}");
        if (empty.Count > 0) parts.Add($"empty: {Listed(empty)}");
        return new(Name, false, string.Create(CultureInfo.InvariantCulture,
            $"{missing.Count + empty.Count} of {wanted.Count} critical tables unusable; {string.Join("; ", parts)}"));
    }

    /// <summary>
    /// With no critical table named: passes at the first table of a user schema found to hold a row
    /// (not an extension's table, nor <c>_prisma_migrations</c>, which a database without data also
    /// fills; the largest by the planner's estimate first, so a loaded database answers at once; a partitioned
    /// table is read through its root); fails when none does.
    /// </summary>
    private async Task<CheckResult> AnyRowsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var tables = new List<(string Schema, string Table)>();
        await using (var find = new NpgsqlCommand("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
              AND c.relname <> '_prisma_migrations'
            ORDER BY c.reltuples DESC, n.nspname, c.relname
            """, connection))
        {
            await using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tables.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        foreach (var (schema, table) in tables)
        {
            await using var probe = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {Quote(schema)}.{Quote(table)})", connection);
            if ((bool)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return new(Name, true, $"no critical tables configured; {Shown(schema, table)} holds rows, so the database is not empty");
            }
        }
        return new(Name, false, string.Create(CultureInfo.InvariantCulture,
            $"no critical tables configured, and none of the database's {tables.Count} tables holds a row: an empty database is not a restore (name the tables that must hold rows in criticalTables)"));
    }

    /// <summary>A table as the detail names it: quoted, with its schema when it is not the default one.</summary>
    private static string Shown(string schema, string table) =>
        schema == RowCounter.Schema ? Quote(table) : $"{Quote(schema)}.{Quote(table)}";
}
