using System.Security.Cryptography;
using Commissable.Backup.Postgres.Access;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Npgsql;

namespace Commissable.LocalCloud.Transfer;

/// <summary>
/// How an import logs in as its import user without knowing that user's password, and without
/// changing it: a login role made for this one import, with a random password, no attributes,
/// NOINHERIT, and membership in the import user only. The programs connect as it and start as the
/// import user (<c>role=</c>), so objects belong to the import user, as when it logs in on Cloud SQL.
/// The session's <c>session_user</c> is this role, never a superuser: whatever the imported file
/// runs (<c>RESET ROLE</c>, <c>SET ROLE</c>, <c>SET SESSION AUTHORIZATION</c>) it can reach the
/// import user and nothing above it. The role is dropped when the import ends, its objects (if the
/// file created any as itself) handed to the import user.
/// </summary>
internal sealed class ImportLogin : IAsyncDisposable
{
    /// <summary>Names of these roles start with this; no user can be created with it.</summary>
    public const string RolePrefix = "cloudsqlimport_";

    private static readonly string[] ServerAccessRoles = ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"];

    private readonly InstanceManager _instances;
    private readonly InstanceRecord _instance;

    private ImportLogin(InstanceManager instances, InstanceRecord instance, string role, string password, string user)
    {
        _instances = instances;
        _instance = instance;
        Role = role;
        Password = password;
        User = user;
    }

    /// <summary>The login role; pass it as the connection's user.</summary>
    public string Role { get; }

    /// <summary>Its password; it goes in PGPASSWORD, never on a command line.</summary>
    public string Password { get; }

    /// <summary>The import user the session acts as.</summary>
    public string User { get; }

    /// <summary>Checks the import user and creates the login for it; drops logins a crash left behind first.</summary>
    public static async Task<ImportLogin> CreateAsync(InstanceManager instances, InstanceRecord instance, string user, CancellationToken cancellationToken)
    {
        await using var connection = await instances.OpenAdminAsync(instance, cancellationToken: cancellationToken).ConfigureAwait(false);
        await DropLeftoversAsync(instances, instance, connection, cancellationToken).ConfigureAwait(false);
        await using (var check = new NpgsqlCommand(
            """
            SELECT r.rolsuper
                OR r.rolname = ANY($2) OR r.rolname LIKE 'pg\_%' OR starts_with(r.rolname, $3)
                OR EXISTS (SELECT 1 FROM pg_roles s
                           WHERE s.oid <> r.oid AND (s.rolsuper OR s.rolname = ANY($4)) AND pg_has_role(r.oid, s.oid, 'MEMBER'))
            FROM pg_roles r WHERE r.rolname = $1
            """, connection))
        {
            check.Parameters.Add(new NpgsqlParameter { Value = user });
            check.Parameters.Add(new NpgsqlParameter { Value = new[] { InstanceManager.AdminUser, InstanceManager.SuperuserRole } });
            check.Parameters.Add(new NpgsqlParameter { Value = RolePrefix });
            check.Parameters.Add(new NpgsqlParameter { Value = ServerAccessRoles });
            switch (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))
            {
                case null or DBNull:
                    throw new OperationFailedException("ERROR_RDBMS", $"The import user '{user}' does not exist on instance '{instance.Name}'.");
                case true:
                    throw new OperationFailedException("ERROR_RDBMS",
                        $"The import user '{user}' cannot run imports: it is an internal role, or can act as a superuser or with server file access.");
            }
        }
        var role = RolePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var password = InstanceManager.NewSecret();
        // The verifier, not the password, goes to the server: a failing statement is copied into its log.
        await using (var create = new NpgsqlCommand(
            $"""
            CREATE ROLE {SqlIdentifier.Quote(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT
                PASSWORD '{Scram.Verifier(password)}';
            GRANT {SqlIdentifier.Quote(user)} TO {SqlIdentifier.Quote(role)};
            DO $do$ BEGIN EXECUTE format('ALTER ROLE %I VALID UNTIL %L', '{role}', now() + interval '1 day'); END $do$;
            """, connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return new ImportLogin(instances, instance, role, password, user);
    }

    /// <summary>Ends the role's sessions, gives what it owns to the import user and drops it.</summary>
    public async ValueTask DisposeAsync()
    {
        await using var connection = await _instances.OpenAdminAsync(_instance).ConfigureAwait(false);
        await DropAsync(_instances, _instance, connection, Role, User, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the sessions of logins a crash left behind and drops them: an import cut off by a crash
    /// must not go on (a statement waiting for a lock would still commit when it gets it).
    /// </summary>
    public static async Task DropLeftoversAsync(InstanceManager instances, InstanceRecord instance, CancellationToken cancellationToken)
    {
        await using var connection = await instances.OpenAdminAsync(instance, cancellationToken: cancellationToken).ConfigureAwait(false);
        await DropLeftoversAsync(instances, instance, connection, cancellationToken).ConfigureAwait(false);
    }

    private static async Task DropLeftoversAsync(InstanceManager instances, InstanceRecord instance, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var leftovers = new List<(string Role, string Owner)>();
        await using (var find = new NpgsqlCommand(
            """
            SELECT r.rolname, coalesce((SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid LIMIT 1), $2)
            FROM pg_roles r WHERE starts_with(r.rolname, $1)
            """, connection))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = RolePrefix });
            find.Parameters.Add(new NpgsqlParameter { Value = InstanceManager.SuperuserRole });
            await using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                leftovers.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        foreach (var (role, owner) in leftovers)
        {
            await DropAsync(instances, instance, connection, role, owner, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task DropAsync(InstanceManager instances, InstanceRecord instance, NpgsqlConnection connection, string role, string owner, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, $"SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE usename = '{role}'", cancellationToken).ConfigureAwait(false);
        var databases = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname", connection))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                databases.Add(reader.GetString(0));
            }
        }
        // Objects the file created as the login role itself (after RESET ROLE) live in any database it reached.
        foreach (var database in databases)
        {
            await using var inDatabase = await instances.OpenAdminAsync(instance, database, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(inDatabase, $"REASSIGN OWNED BY {SqlIdentifier.Quote(role)} TO {SqlIdentifier.Quote(owner)}; DROP OWNED BY {SqlIdentifier.Quote(role)};", cancellationToken).ConfigureAwait(false);
        }
        await ExecuteAsync(connection, $"DROP ROLE IF EXISTS {SqlIdentifier.Quote(role)}", cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
