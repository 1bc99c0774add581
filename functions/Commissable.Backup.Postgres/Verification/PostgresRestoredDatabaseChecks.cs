using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>
/// <see cref="IRestoredDatabaseChecks"/> over SQL with the functions' database login
/// (<see cref="DatabaseLoginOptions"/>): <see cref="RestoreChecks"/>, and a log-in that asks for
/// the server's version.
/// </summary>
public sealed class PostgresRestoredDatabaseChecks(DatabaseLoginOptions login) : IRestoredDatabaseChecks
{
    private readonly PostgresDatabaseInspector _connections = new(login);

    public async Task<string?> ServerVersionAsync(DatabaseInstance instance, string database, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(_connections.ConnectionString(instance, database));
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT current_setting('server_version')", connection);
            return (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is NpgsqlException or ArgumentException or IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new DatabaseUnreachableException(error is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : error.Message, error);
        }
    }

    public async Task<IReadOnlyList<CheckResult>> RunAsync(
        DatabaseInstance instance, string database, RestoreCheckOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var verification = new VerificationOptions { CriticalTables = options.CriticalTables };
        await using var dataSource = NpgsqlDataSource.Create(_connections.ConnectionString(instance, database));
        return await RestoreChecks.RunAsync(dataSource, verification, cancellationToken).ConfigureAwait(false);
    }
}
