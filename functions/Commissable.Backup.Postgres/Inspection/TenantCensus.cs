using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Inspection;

/// <summary>One business table's rows, by tenant.</summary>
/// <param name="Schema">Schema name, unquoted.</param>
/// <param name="Name">Table name, unquoted.</param>
/// <param name="RowCount">All rows of the table.</param>
/// <param name="RowsByTenant">Rows per tenant id (the id as text), ordered by id.</param>
/// <param name="RowsWithoutTenant">Rows whose tenant column is NULL: in a multi-tenant schema, a finding of its own.</param>
public sealed record TenantTable(
    string Schema,
    string Name,
    long RowCount,
    IReadOnlyDictionary<string, long> RowsByTenant,
    long RowsWithoutTenant)
{
    public int TenantCount => RowsByTenant.Count;
}

/// <summary>
/// Which tenants a database holds: the distinct values of the tenant column over every business
/// table (every table in scope with that column, found in the catalog, not from a list), and how
/// many rows each table has, in total and per tenant.
/// </summary>
public sealed class TenantCensus
{
    /// <summary>The column that marks a business table in the Commissable schema.</summary>
    public const string DefaultTenantColumn = Core.Databases.RestoreCheckOptions.DefaultTenantColumn;

    private TenantCensus(IReadOnlyList<TenantTable> tables)
    {
        Tables = tables;
        TenantIds = [.. tables.SelectMany(t => t.RowsByTenant.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>Distinct tenant ids over all business tables, ordered (ordinal).</summary>
    public IReadOnlyList<string> TenantIds { get; }

    /// <summary>The business tables, ordered by schema then name.</summary>
    public IReadOnlyList<TenantTable> Tables { get; }

    /// <summary>Counts in one read-only snapshot.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="scope">Schemas to look in.</param>
    /// <param name="tenantColumn">Name of the tenant column, exactly as in the catalog (case-sensitive).</param>
    /// <param name="cancellationToken">Stops the census.</param>
    public static Task<TenantCensus> TakeAsync(
        NpgsqlDataSource dataSource,
        InspectionScope scope = InspectionScope.PublicSchema,
        string tenantColumn = DefaultTenantColumn,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantColumn);
        return RunAsync(dataSource, (connection, ct) => TakeAsync(connection, scope, tenantColumn, ct), cancellationToken);
    }

    internal static async Task<TenantCensus> TakeAsync(NpgsqlConnection connection, InspectionScope scope, string tenantColumn, CancellationToken cancellationToken)
    {
        var candidates = new List<(string Schema, string Name)>();
        await using (var find = new NpgsqlCommand($"""
            SELECT n.nspname, c.relname
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE a.attname = $1 AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND {NamespaceFilter(scope, "n")} AND {NotExtensionMember("c")}
            """, connection))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = tenantColumn });
            await using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                candidates.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var tables = new List<TenantTable>();
        foreach (var (schema, name) in candidates.OrderBy(t => t.Schema, StringComparer.Ordinal).ThenBy(t => t.Name, StringComparer.Ordinal))
        {
            var byTenant = new SortedDictionary<string, long>(StringComparer.Ordinal);
            long withoutTenant = 0;
            await using var command = new NpgsqlCommand(
                $"SELECT {Quote(tenantColumn)}::text, count(*) FROM {Quote(schema)}.{Quote(name)} GROUP BY 1", connection);
            // Whole-table scans of a big restore can outlast any default timeout; the token bounds them.
            command.CommandTimeout = 0;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var count = reader.GetInt64(1);
                if (await reader.IsDBNullAsync(0, cancellationToken).ConfigureAwait(false)) withoutTenant += count;
                else byTenant[reader.GetString(0)] = count;
            }
            tables.Add(new TenantTable(schema, name, byTenant.Values.Sum() + withoutTenant, byTenant, withoutTenant));
        }
        return new TenantCensus(tables);
    }
}
