using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Inspection;

/// <summary>
/// Where a database stands in its Prisma migration history (<c>_prisma_migrations</c>): the latest
/// migration that finished and was not rolled back, and how many rows are not cleanly applied.
/// </summary>
/// <remarks>
/// "Latest" is by migration name: Prisma names migrations with a leading UTC timestamp and applies
/// them in name order, so the greatest applied name is the head, whatever the clocks said when
/// each was applied.
/// </remarks>
public sealed record MigrationHead
{
    /// <summary>Prisma's migration history table.</summary>
    public const string TableName = "_prisma_migrations";

    /// <summary>False when the schema has no <c>_prisma_migrations</c> table (not a Prisma database, or an empty restore).</summary>
    public required bool TableExists { get; init; }

    /// <summary>The greatest name among finished, not rolled back migrations; null when none is.</summary>
    public string? Latest { get; init; }

    /// <summary>When <see cref="Latest"/> finished; null when <see cref="Latest"/> is.</summary>
    public DateTimeOffset? LatestFinishedAt { get; init; }

    /// <summary>Names of the finished, not rolled back migrations, in name order, each once.</summary>
    public IReadOnlyList<string> Applied { get; init; } = [];

    /// <summary>Rows neither finished nor rolled back: a migration that failed or is still running.</summary>
    public int Unfinished { get; init; }

    /// <summary>Rows marked rolled back (<c>prisma migrate resolve --rolled-back</c>).</summary>
    public int RolledBack { get; init; }

    /// <summary>True when the table exists, something is applied and nothing is half-applied.</summary>
    public bool IsClean => TableExists && Latest is not null && Unfinished == 0;

    /// <summary>Reads the history in <paramref name="schema"/> (Prisma's default is <c>public</c>).</summary>
    public static Task<MigrationHead> ReadAsync(
        NpgsqlDataSource dataSource,
        string schema = "public",
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(schema);
        return RunAsync(dataSource, (connection, ct) => ReadAsync(connection, schema, ct), cancellationToken);
    }

    internal static async Task<MigrationHead> ReadAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p'))",
            connection))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = schema });
            exists.Parameters.Add(new NpgsqlParameter { Value = TableName });
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return new MigrationHead { TableExists = false };
            }
        }

        var table = $"{Quote(schema)}.{Quote(TableName)}";
        var applied = new List<string>();
        DateTimeOffset? latestFinishedAt = null;
        await using (var names = new NpgsqlCommand(
            $"SELECT migration_name, max(finished_at) FROM {table} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL GROUP BY migration_name ORDER BY migration_name COLLATE \"C\"",
            connection))
        {
            await using var reader = await names.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied.Add(reader.GetString(0));
                latestFinishedAt = reader.GetFieldValue<DateTimeOffset>(1);
            }
        }

        await using var counts = new NpgsqlCommand($"""
            SELECT count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL)::int,
                   count(*) FILTER (WHERE rolled_back_at IS NOT NULL)::int
            FROM {table}
            """, connection);
        await using var countReader = await counts.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await countReader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new MigrationHead
        {
            TableExists = true,
            Latest = applied.Count > 0 ? applied[^1] : null,
            LatestFinishedAt = applied.Count > 0 ? latestFinishedAt : null,
            Applied = applied,
            Unfinished = countReader.GetInt32(0),
            RolledBack = countReader.GetInt32(1),
        };
    }
}
