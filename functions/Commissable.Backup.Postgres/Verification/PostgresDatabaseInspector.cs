using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Export;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>How the functions log in to an instance's databases to read them.</summary>
public sealed record DatabaseLoginOptions
{
    /// <summary>A role that can read every table (for example a member of <c>pg_read_all_data</c>).</summary>
    public required string User { get; init; }
    /// <summary>A file holding the password (a mounted Secret Manager secret on Cloud Run); read at each use, never logged.</summary>
    public required string PasswordFile { get; init; }
    /// <summary>
    /// Directory of the instances' Unix sockets, <c>/cloudsql</c> on Cloud Run (a socket per
    /// connection name beneath it); null connects to the instance's first IP address instead.
    /// </summary>
    public string? SocketRoot { get; init; }

    /// <summary>The port every instance listens on (Cloud SQL's; its socket directory names the same port).</summary>
    public const int Port = 5432;

    /// <summary>
    /// Where an instance is reached: its socket directory under <see cref="SocketRoot"/> (named by
    /// its connection name), else its first IP address.
    /// </summary>
    public string Host(DatabaseInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return SocketRoot is { } root
            ? Path.Combine(root, instance.ConnectionName ?? throw new ArgumentException($"Instance '{instance.Name}' has no connection name.", nameof(instance)))
            : (instance.IpAddresses is [var first, ..] ? first.IpAddress : null) ?? throw new ArgumentException($"Instance '{instance.Name}' has no IP address.", nameof(instance));
    }

    /// <summary>The password, read from <see cref="PasswordFile"/> now (a rotated secret takes effect at the next use); never log it.</summary>
    public string ReadPassword() => File.ReadAllText(PasswordFile).Trim();
}

/// <summary>Reads the snapshot a manifest records (migration head, row counts, tenants, schema) from a live database.</summary>
/// <param name="options">The login.</param>
/// <param name="tenantColumn">The tenant column whose values are the snapshot's tenants, exactly as in the catalog.</param>
public sealed class PostgresDatabaseInspector(DatabaseLoginOptions options, string tenantColumn = RestoreCheckOptions.DefaultTenantColumn) : IDatabaseInspector
{
    public async Task<DatabaseSnapshot> SnapshotAsync(DatabaseInstance instance, string database, DatabaseWaitLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(limits);
        // Set at connection start, so they bound every statement of the session, the pinned
        // settings' transaction included; whole milliseconds, as PostgreSQL takes them.
        var lockMs = Math.Max(1, (long)limits.LockTimeout.TotalMilliseconds);
        var statementMs = Math.Max(1, (long)limits.StatementTimeout.TotalMilliseconds);
        var connection = new NpgsqlConnectionStringBuilder(ConnectionString(instance, database))
        {
            Options = string.Create(CultureInfo.InvariantCulture, $"-c lock_timeout={lockMs} -c statement_timeout={statementMs}"),
            // A backstop should the server stop answering: the statement limit, and a little more.
            CommandTimeout = (int)Math.Min(int.MaxValue, limits.StatementTimeout.TotalSeconds + 30),
        };
        await using var dataSource = NpgsqlDataSource.Create(connection.ConnectionString);
        try
        {
            return await DatabaseSnapshotReader.ReadAsync(dataSource, tenantColumn, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new DatabaseWaitExceededException(string.Create(CultureInfo.InvariantCulture,
                $"Reading database '{database}' of '{instance.Name}' before the export waited longer than {limits.LockTimeout.TotalSeconds:0.###} s (lock_timeout) for a table lock another session holds (a migration, LOCK TABLE, VACUUM FULL): nothing was exported."), error);
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.QueryCanceled && !cancellationToken.IsCancellationRequested)
        {
            throw new DatabaseWaitExceededException(string.Create(CultureInfo.InvariantCulture,
                $"Reading database '{database}' of '{instance.Name}' before the export ran a statement longer than {limits.StatementTimeout.TotalSeconds:0.###} s (statement_timeout): nothing was exported."), error);
        }
    }

    /// <summary>The connection string for a database of an instance; it holds the password, so it is never logged.</summary>
    public string ConnectionString(DatabaseInstance instance, string database)
    {
        return new NpgsqlConnectionStringBuilder
        {
            Host = options.Host(instance),
            Port = DatabaseLoginOptions.Port,
            Username = options.User,
            Password = options.ReadPassword(),
            Database = database,
            Pooling = false,
            Timeout = 30,
            CommandTimeout = 0,
        }.ConnectionString;
    }
}
