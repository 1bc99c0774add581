using System.Globalization;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>
/// <see cref="IDatabaseCensus"/> over SQL with the functions' database login: the tenant census,
/// the row counts (<see cref="TenantCensus"/>, <see cref="RowCounter"/>), the column lists, the
/// Prisma migration head and the schema fingerprint, in one read-only REPEATABLE READ snapshot.
/// </summary>
/// <remarks>
/// Cost: one scan of every table with the tenant column (grouped by tenant), a <c>count(*)</c> of
/// the others, and catalog queries; the same reads as the snapshot a manifest used to record.
/// </remarks>
public sealed class PostgresDatabaseCensus(DatabaseLoginOptions login) : IDatabaseCensus
{
    private readonly PostgresDatabaseInspector _connections = new(login);

    public async Task<DatabaseCensus> TakeAsync(DatabaseInstance instance, string database, string tenantColumn, DatabaseWaitLimits? limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentException.ThrowIfNullOrEmpty(tenantColumn);
        string connectionString;
        try
        {
            connectionString = _connections.ConnectionString(instance, database);
        }
        catch (Exception error) when (error is ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new DatabaseUnreachableException(error.Message, error);
        }
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (limits is not null)
        {
            // Set at connection start, so they bound every statement of the session, as the export's snapshot does.
            builder.Options = string.Create(CultureInfo.InvariantCulture,
                $"-c lock_timeout={Math.Max(1, (long)limits.LockTimeout.TotalMilliseconds)} -c statement_timeout={Math.Max(1, (long)limits.StatementTimeout.TotalMilliseconds)}");
            builder.CommandTimeout = (int)Math.Min(int.MaxValue, limits.StatementTimeout.TotalSeconds + 30);
        }
        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            return await ReadAsync(dataSource, tenantColumn, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException error) when (limits is not null && error.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new DatabaseUnreachableException(string.Create(CultureInfo.InvariantCulture,
                $"a table was locked by another session for longer than {limits.LockTimeout.TotalSeconds:0.###} s (lock_timeout)"), error);
        }
        catch (PostgresException error) when (limits is not null && error.SqlState == PostgresErrorCodes.QueryCanceled && !cancellationToken.IsCancellationRequested)
        {
            throw new DatabaseUnreachableException(string.Create(CultureInfo.InvariantCulture,
                $"counting took longer than {limits.StatementTimeout.TotalSeconds:0.###} s for one statement (statement_timeout)"), error);
        }
        catch (Exception error) when (error is NpgsqlException or IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new DatabaseUnreachableException(error is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : error.Message, error);
        }
    }

    /// <summary>Reads the census of the database behind <paramref name="dataSource"/>.</summary>
    /// <exception cref="NpgsqlException">The database could not be read.</exception>
    public static Task<DatabaseCensus> ReadAsync(NpgsqlDataSource dataSource, string tenantColumn, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrEmpty(tenantColumn);
        return RunAsync(dataSource, async (connection, ct) =>
        {
            var head = await MigrationHead.ReadAsync(connection, RowCounter.Schema, ct).ConfigureAwait(false);
            var fingerprint = await SchemaFingerprint.CaptureAsync(connection, InspectionScope.PublicSchema, ct).ConfigureAwait(false);
            var census = await TenantCensus.TakeAsync(connection, InspectionScope.PublicSchema, tenantColumn, ct).ConfigureAwait(false);
            var rows = await RowCounter.CountAsync(connection, census, ct).ConfigureAwait(false);
            var columns = await ColumnsAsync(connection, ct).ConfigureAwait(false);
            return new DatabaseCensus
            {
                Rows = rows,
                Tenants = census.Tables.Where(t => t.Schema == RowCounter.Schema)
                    .ToDictionary(t => t.Name, t => new TenantRows(t.RowsByTenant, t.RowsWithoutTenant), StringComparer.Ordinal),
                Columns = columns,
                MigrationsTable = head.TableExists,
                MigrationHead = head.Latest,
                SchemaFingerprint = fingerprint.Sha256,
            };
        }, cancellationToken);
    }

    /// <summary>The columns a dump's COPY lists, per ordinary table of <c>public</c>, in column order.</summary>
    private static async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> ColumnsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(connection, $"""
            SELECT c.relname, a.attname
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname = '{RowCounter.Schema}' AND {NotExtensionMember("c")}
              AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY c.relname COLLATE "C", a.attnum
            """, cancellationToken).ConfigureAwait(false);
        var columns = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var group in rows.GroupBy(r => (string)r[0]!, StringComparer.Ordinal))
        {
            columns[group.Key] = [.. group.Select(r => (string)r[1]!)];
        }
        return columns;
    }
}
