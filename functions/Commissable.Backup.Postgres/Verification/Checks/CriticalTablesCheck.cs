using System.Globalization;
using Commissable.Backup.Core.Backups;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary><c>tables.critical</c>: every configured critical table exists and has rows.</summary>
internal sealed class CriticalTablesCheck : IRestoreCheck
{
    public string Name => RestoreChecks.TablesCritical;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var wanted = context.Options.CriticalTables.Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return new(Name, true, "no critical tables configured");
        }
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using (var find = new NpgsqlCommand("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2)
            """, connection))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = RowCounter.Schema });
            find.Parameters.Add(new NpgsqlParameter { Value = wanted.ToArray() });
            await using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                existing.Add(reader.GetString(0));
            }
        }
        var missing = wanted.Where(t => !existing.Contains(t)).Select(t => Quote(t)).ToList();
        var empty = new List<string>();
        foreach (var table in wanted.Where(existing.Contains))
        {
            await using var probe = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {Quote(RowCounter.Schema)}.{Quote(table)})", connection);
            if (!(bool)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                empty.Add(Quote(table));
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
}
