using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary><c>migrations.finished</c>: every <c>_prisma_migrations</c> row finished, none rolled back (unless applied again since).</summary>
internal sealed class MigrationsFinishedCheck : IRestoreCheck
{
    public string Name => RestoreChecks.MigrationsFinished;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var head = await MigrationHead.ReadAsync(connection, RowCounter.Schema, cancellationToken).ConfigureAwait(false);
        if (!head.TableExists)
        {
            // Whether the backup had one is compared by migrations.head.
            return new(Name, true, $"no {MigrationHead.TableName} table (not a Prisma database): nothing unfinished");
        }

        var rows = await QueryAsync(connection, $"""
            SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL
            FROM {Quote(RowCounter.Schema)}.{Quote(MigrationHead.TableName)}
            WHERE finished_at IS NULL OR rolled_back_at IS NOT NULL
            ORDER BY migration_name COLLATE "C", started_at
            """, cancellationToken).ConfigureAwait(false);
        var applied = head.Applied.ToHashSet(StringComparer.Ordinal);
        var offending = new List<string>();
        var resolved = new List<string>();
        foreach (var row in rows)
        {
            var (migration, finished, rolledBack) = ((string)row[0]!, (bool)row[1]!, (bool)row[2]!);
            if (!rolledBack && !finished)
            {
                offending.Add($"{migration} not finished (failed or still running)");
            }
            else if (applied.Contains(migration))
            {
                // prisma migrate resolve --rolled-back, then deploy again: the history Prisma itself accepts.
                resolved.Add(migration);
            }
            else
            {
                offending.Add($"{migration} rolled back and not applied again");
            }
        }
        if (offending.Count > 0)
        {
            return new(Name, false, string.Create(CultureInfo.InvariantCulture,
                $"{offending.Count} migration row(s) not cleanly applied: {Listed(offending)}"));
        }
        var detail = string.Create(CultureInfo.InvariantCulture, $"{head.Applied.Count} migrations applied, none unfinished or rolled back");
        return new(Name, true, resolved.Count == 0
            ? detail
            : string.Create(CultureInfo.InvariantCulture, $"{head.Applied.Count} migrations applied, none unfinished; rolled back then applied again: {Listed(resolved.Distinct(StringComparer.Ordinal).ToList())}"));
    }
}
