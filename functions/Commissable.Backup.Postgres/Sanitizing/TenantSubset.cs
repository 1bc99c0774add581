using System.Globalization;
using System.Text.Json;
using Commissable.Backup.Postgres.Tenants;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Sanitizing;

/// <summary>
/// Limits a database to some tenants: every row outside their closure (<see cref="TenantClosure"/>)
/// is deleted, table by table in the reverse of the closure's write order (rows that reference
/// come out before the rows they reference), in one transaction. Tables outside the closure
/// (shared ones such as a permission catalog, <c>_prisma_migrations</c>) are kept whole.
/// </summary>
internal static class TenantSubset
{
    /// <summary>Deletes every row not in the closure of <paramref name="tenants"/>; returns the rows deleted per table.</summary>
    /// <exception cref="SanitizeRefusedException">The schema has no tenant table, or a tenant is not in it.</exception>
    public static async Task<IReadOnlyDictionary<string, long>> KeepAsync(NpgsqlConnection connection, string tenantColumn, IReadOnlyList<string> tenants, CancellationToken cancellationToken)
    {
        var closure = await TenantClosure.DiscoverAsync(connection, tenantColumn, cancellationToken).ConfigureAwait(false);
        if (closure.TenantTable is null || closure.TenantKey is null)
        {
            throw new SanitizeRefusedException($"--tenant: the backup's tenants cannot be told apart: {(closure.Problems.Count > 0 ? string.Join("; ", closure.Problems) : $"no table has the column \"{tenantColumn}\"")}");
        }
        var ids = JsonSerializer.Serialize(tenants);
        await using (var missing = new NpgsqlCommand(
            $"SELECT kept.id FROM jsonb_array_elements_text(CAST(@ids AS jsonb)) AS kept(id) WHERE NOT EXISTS (SELECT 1 FROM public.{Quote(closure.TenantTable)} AS t WHERE CAST(t.{Quote(closure.TenantKey)} AS text) = kept.id) ORDER BY 1",
            connection))
        {
            missing.Parameters.AddWithValue("ids", ids);
            var absent = new List<string>();
            await using (var reader = await missing.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) absent.Add(reader.GetString(0));
            }
            if (absent.Count > 0)
            {
                throw new SanitizeRefusedException($"--tenant: {string.Join(", ", absent.Select(a => $"'{Printable(a)}'"))} {(absent.Count == 1 ? "is not a tenant" : "are not tenants")} of the backup (no row of {closure.TenantTable} has that {closure.TenantKey})");
            }
        }

        var deleted = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // row_security off: a table whose policies would hide rows from this login fails instead of keeping them.
        await using (var setup = new NpgsqlCommand("SET CONSTRAINTS ALL DEFERRED; SET LOCAL row_security = off; SELECT set_config(@setting, @ids, true)", connection, transaction))
        {
            setup.Parameters.AddWithValue("setting", TenantClosureShape.TenantSetSetting);
            setup.Parameters.AddWithValue("ids", ids);
            await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var table in closure.Tables.Reverse())
        {
            await using var delete = new NpgsqlCommand(
                $"DELETE FROM public.{Quote(table.Name)} AS r WHERE ({closure.KeptPredicate(table, "r")}) IS NOT TRUE", connection, transaction);
            deleted[table.Name] = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    private static string Printable(string value) =>
        new(value.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

/// <summary>A masked copy cannot be made as asked (a tenant that is not there, an output that exists); the message says why.</summary>
public sealed class SanitizeRefusedException : Exception
{
    public SanitizeRefusedException()
    {
    }

    public SanitizeRefusedException(string message)
        : base(message)
    {
    }

    public SanitizeRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
