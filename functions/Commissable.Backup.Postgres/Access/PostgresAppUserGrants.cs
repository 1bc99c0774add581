using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Postgres.Access;

/// <summary>
/// <see cref="IAppUserGrants"/> over SQL: <see cref="AppUserGrants"/> run with the functions'
/// database login (<see cref="DatabaseLoginOptions"/>), the driver's connection failures turned
/// into <see cref="DatabaseUnreachableException"/>.
/// </summary>
public sealed class PostgresAppUserGrants(DatabaseLoginOptions login) : IAppUserGrants
{
    private readonly PostgresDatabaseInspector _connections = new(login);

    public string GrantingUser => login.User;

    public async Task<AppUserAccess> GrantAsync(
        DatabaseInstance instance, string database, string user, IReadOnlyList<string> defaultPrivilegeOwners, bool appUserOwns,
        CancellationToken cancellationToken = default)
    {
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(_connections.ConnectionString(instance, database));
            return await AppUserGrants.ApplyAsync(dataSource, database, user, defaultPrivilegeOwners, appUserOwns, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (IsUnreachable(error) && !cancellationToken.IsCancellationRequested)
        {
            throw new DatabaseUnreachableException(error is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : error.Message, error);
        }
    }

    /// <summary>
    /// The database could not be reached or logged in to (the caller may retry); any other SQL error
    /// is a bug and is not translated.
    /// </summary>
    private static bool IsUnreachable(Exception error) => error switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("28", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("3D", StringComparison.Ordinal) || pg.SqlState.StartsWith("57", StringComparison.Ordinal),
        NpgsqlException or ArgumentException or IOException or TimeoutException => true,
        _ => false,
    };
}
