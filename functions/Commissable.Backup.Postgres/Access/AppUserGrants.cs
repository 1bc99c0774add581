using System.Text.RegularExpressions;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Naming;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Access;

/// <summary>
/// The privileges the CRM application's login needs on its database, granted in one transaction
/// and then proven with PostgreSQL's own <c>has_*_privilege</c> functions (a <c>GRANT ... ON ALL
/// TABLES</c> by a login that owns nothing only warns, so the statements succeeding proves nothing).
/// </summary>
/// <remarks>
/// <para>
/// The grants: <c>CONNECT</c> and <c>TEMPORARY</c> on the database; <c>USAGE</c> and <c>CREATE</c>
/// on schema <c>public</c> (<c>prisma migrate deploy</c> creates tables); <see cref="TablePrivileges"/>
/// on every table; <see cref="SequencePrivileges"/> on every sequence; <c>EXECUTE</c> on every
/// function; and the same table and sequence privileges as default privileges for the objects the
/// <paramref name="defaultPrivilegeOwners"/> of <see cref="ApplyAsync"/> create later (the login that
/// runs imports), so a later import does not lock the application out.
/// </para>
/// <para>
/// Idempotent: granting what is held changes nothing. Identifiers are always quoted, never
/// concatenated raw; callers validate them with <see cref="CloudNames.IsDatabase"/> first.
/// </para>
/// </remarks>
public static partial class AppUserGrants
{
    /// <summary>The schema the CRM lives in.</summary>
    public const string Schema = "public";

    /// <summary>Granted on every table of <see cref="Schema"/>.</summary>
    public static IReadOnlyList<string> TablePrivileges { get; } = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];

    /// <summary>Granted on every sequence of <see cref="Schema"/>.</summary>
    public static IReadOnlyList<string> SequencePrivileges { get; } = ["USAGE", "SELECT", "UPDATE"];

    /// <summary>Grants the privileges to <paramref name="user"/> and proves them; returns the statements applied.</summary>
    /// <param name="dataSource">The database, as a login that owns its objects (or is a member of their owner).</param>
    /// <param name="database">The database's name, for the database-level grant.</param>
    /// <param name="user">The application's login; must exist.</param>
    /// <param name="defaultPrivilegeOwners">Roles whose future tables and sequences in <see cref="Schema"/> the user gets privileges on.</param>
    /// <param name="cancellationToken">Stops the grants (the transaction rolls back).</param>
    /// <exception cref="ArgumentException">A name breaks the database-name rule (<see cref="CloudNames.IsDatabase"/>; every name is still quoted in every statement).</exception>
    /// <exception cref="AppUserGrantException">The user does not exist, or the login may not grant; nothing changed.</exception>
    /// <exception cref="NpgsqlException">The database could not be reached.</exception>
    public static async Task<IReadOnlyList<string>> ApplyAsync(
        NpgsqlDataSource dataSource,
        string database,
        string user,
        IReadOnlyList<string> defaultPrivilegeOwners,
        CancellationToken cancellationToken = default)
        => (await ApplyAsync(dataSource, database, user, defaultPrivilegeOwners, transferOwnership: false, cancellationToken).ConfigureAwait(false)).Privileges;

    /// <summary>
    /// As <see cref="ApplyAsync(NpgsqlDataSource, string, string, IReadOnlyList{string}, CancellationToken)"/>, and with
    /// <paramref name="transferOwnership"/> also makes <paramref name="user"/> the owner of every
    /// object of the database's own schemas (<see cref="ObjectOwnership"/>) in the same
    /// transaction: the privileges and the ownership, or nothing.
    /// </summary>
    /// <exception cref="AppUserGrantException">The user does not exist, or the login may not grant or give the objects away; nothing changed.</exception>
    public static async Task<AppUserAccess> ApplyAsync(
        NpgsqlDataSource dataSource,
        string database,
        string user,
        IReadOnlyList<string> defaultPrivilegeOwners,
        bool transferOwnership,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(defaultPrivilegeOwners);
        foreach (var name in defaultPrivilegeOwners.Prepend(user).Prepend(database))
        {
            if (!CloudNames.IsDatabase(name))
            {
                throw new ArgumentException($"'{name}' is not a valid name.", nameof(defaultPrivilegeOwners));
            }
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await ExistsAsync(connection, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", user, cancellationToken).ConfigureAwait(false))
        {
            throw new AppUserGrantException(AppUserGrantFailure.UserNotFound, $"The role '{user}' does not exist in the database cluster.");
        }
        foreach (var owner in defaultPrivilegeOwners.Distinct(StringComparer.Ordinal))
        {
            // ALTER DEFAULT PRIVILEGES FOR ROLE needs membership; say so plainly rather than with PostgreSQL's 42501.
            if (!await ExistsAsync(connection, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1 AND pg_has_role(current_user, oid, 'MEMBER'))", owner, cancellationToken).ConfigureAwait(false))
            {
                throw new AppUserGrantException(AppUserGrantFailure.NotPermitted,
                    $"The granting login is not a member of role '{owner}', so it cannot set the default privileges of the tables '{owner}' creates; log in as '{owner}' or a member of it.");
            }
        }

        var statements = Statements(database, user, defaultPrivilegeOwners.Distinct(StringComparer.Ordinal));
        foreach (var statement in statements)
        {
            await using var command = new NpgsqlCommand(statement, connection, transaction);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new AppUserGrantException(AppUserGrantFailure.NotPermitted, $"The granting login may not run '{statement}': {e.MessageText}");
            }
        }

        var missing = await MissingAsync(connection, database, user, cancellationToken).ConfigureAwait(false);
        if (missing.Count > 0)
        {
            throw new AppUserGrantException(AppUserGrantFailure.NotPermitted, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"After granting, '{user}' still lacks {missing.Count} privilege(s) (the granting login does not own those objects): {string.Join("; ", missing.Take(10))}{(missing.Count > 10 ? "; ..." : "")}"));
        }
        var ownership = transferOwnership
            ? await ObjectOwnership.TransferWithinAsync(connection, transaction, user, cancellationToken).ConfigureAwait(false)
            : null;
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new AppUserAccess(statements, ownership);
    }

    /// <summary>The statements <see cref="ApplyAsync"/> runs, every identifier quoted.</summary>
    public static IReadOnlyList<string> Statements(string database, string user, IEnumerable<string> defaultPrivilegeOwners)
    {
        ArgumentNullException.ThrowIfNull(defaultPrivilegeOwners);
        var (db, to, schema) = (Quote(database), Quote(user), Quote(Schema));
        var tables = string.Join(", ", TablePrivileges);
        var sequences = string.Join(", ", SequencePrivileges);
        List<string> statements =
        [
            $"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {to}",
            $"GRANT USAGE, CREATE ON SCHEMA {schema} TO {to}",
            $"GRANT {tables} ON ALL TABLES IN SCHEMA {schema} TO {to}",
            $"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {to}",
            $"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {to}",
        ];
        foreach (var owner in defaultPrivilegeOwners)
        {
            statements.Add($"ALTER DEFAULT PRIVILEGES FOR ROLE {Quote(owner)} IN SCHEMA {schema} GRANT {tables} ON TABLES TO {to}");
            statements.Add($"ALTER DEFAULT PRIVILEGES FOR ROLE {Quote(owner)} IN SCHEMA {schema} GRANT {sequences} ON SEQUENCES TO {to}");
        }
        return statements;
    }

    /// <summary>Every privilege the user should now hold and does not, as "PRIVILEGE on object".</summary>
    private static async Task<List<string>> MissingAsync(NpgsqlConnection connection, string database, string user, CancellationToken cancellationToken)
    {
        // has_*_privilege with a list is true when ANY is held, so each privilege is asked alone; the
        // CASE keeps the planner from asking has_sequence_privilege about a table (an error, not false).
        var checks = new List<string>
        {
            "SELECT 'CONNECT on database ' || quote_ident($2) WHERE NOT has_database_privilege($1, $2, 'CONNECT')",
            "SELECT 'TEMPORARY on database ' || quote_ident($2) WHERE NOT has_database_privilege($1, $2, 'TEMPORARY')",
            $"SELECT 'USAGE on schema {Schema}' WHERE NOT has_schema_privilege($1, '{Schema}', 'USAGE')",
            $"SELECT 'CREATE on schema {Schema}' WHERE NOT has_schema_privilege($1, '{Schema}', 'CREATE')",
        };
        checks.AddRange(TablePrivileges.Select(p => $"""
            SELECT '{p} on ' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '{Schema}' AND CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') THEN NOT has_table_privilege($1, c.oid, '{p}') ELSE false END
            """));
        checks.AddRange(SequencePrivileges.Select(p => $"""
            SELECT '{p} on sequence ' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '{Schema}' AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege($1, c.oid, '{p}') ELSE false END
            """));
        var missing = new List<string>();
        foreach (var sql in checks)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = user });
            if (sql.Contains("$2", StringComparison.Ordinal))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = database });
            }
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                missing.Add(reader.GetString(0));
            }
        }
        return missing;
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string sql, string value, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = value });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
