using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Naming;
using Npgsql;

namespace Commissable.Backup.Postgres.Access;

/// <summary>
/// Makes the application's login the owner of every object of a database's own schemas: the
/// schemas, tables (partitions each one), views, materialized views, sequences that no column owns
/// (owned ones follow their table), foreign tables, functions and procedures, and types (domains,
/// enums, ranges and multiranges, composite types). Only an owner may <c>ALTER TABLE</c>, <c>CREATE INDEX</c> or
/// <c>REFRESH MATERIALIZED VIEW</c>, so without this a restored copy cannot run the migrations
/// (<c>prisma migrate deploy</c>) it is there to rehearse.
/// </summary>
/// <remarks>
/// <para>
/// On Cloud SQL the admin login (<c>postgres</c>, a member of <c>cloudsqlsuperuser</c>) is not a
/// superuser: PostgreSQL lets it give an object away only when it may act as the new owner. When
/// it is not yet a member of the app user's role, it grants itself that membership
/// (<c>GRANT app TO admin</c>: its <c>CREATEROLE</c> allows that on PostgreSQL 15; 16 and later
/// also need <c>ADMIN OPTION</c> on the role, which the role's creator has) and keeps it, so it can
/// still read and manage what the app user now owns (the verification that follows reads every
/// table as the admin). The app user also needs <c>CREATE</c> on the database to own a schema,
/// and owning the schema gives it <c>CREATE</c> there, which owning a table needs.
/// </para>
/// <para>
/// Not <c>REASSIGN OWNED BY admin TO app</c>: it would also give away everything else the admin
/// owns in the database and the cluster's shared objects it owns (other databases on the same
/// instance), it cannot name objects owned by other roles (a Cloud SQL import runs as another
/// user), and it needs privileges on the old role that a Cloud SQL admin does not have for
/// <c>cloudsqlsuperuser</c>. Here each object is named, its statement built by PostgreSQL's own
/// <c>format('%I')</c> quoting, extension members are left to their extension, and the objects
/// still not owned afterwards are looked for again: any left, and nothing is committed.
/// </para>
/// </remarks>
public static class ObjectOwnership
{
    /// <summary>
    /// One row per object of the database's own schemas not yet owned by <c>$1</c>: the order to
    /// run it in (schemas first: a new table owner needs <c>CREATE</c> on its schema), its kind,
    /// and the statement, every identifier quoted by <c>format('%I')</c> (functions by
    /// <c>regprocedure</c> under <c>search_path = pg_catalog</c>, so always schema-qualified).
    /// </summary>
    private const string NotYetOwned = """
        WITH own AS (
            SELECT n.oid, n.nspname, n.nspowner FROM pg_namespace n
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
        ), target AS (SELECT oid FROM pg_roles WHERE rolname = $1::name),
        extension_members AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
        SELECT 0 AS phase, 'schema' AS kind, format('ALTER SCHEMA %I OWNER TO %I', own.nspname, $1) AS statement
        FROM own WHERE own.nspowner <> (SELECT oid FROM target)
        UNION ALL
        SELECT 1,
               CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
                              ELSE CASE WHEN c.relispartition THEN 'partition' ELSE 'table' END END,
               format(CASE c.relkind WHEN 'v' THEN 'ALTER VIEW %I.%I OWNER TO %I' WHEN 'm' THEN 'ALTER MATERIALIZED VIEW %I.%I OWNER TO %I'
                                     WHEN 'S' THEN 'ALTER SEQUENCE %I.%I OWNER TO %I' WHEN 'f' THEN 'ALTER FOREIGN TABLE %I.%I OWNER TO %I'
                                     ELSE 'ALTER TABLE %I.%I OWNER TO %I' END, own.nspname, c.relname, $1)
        FROM pg_class c JOIN own ON own.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relowner <> (SELECT oid FROM target)
          AND (c.tableoid, c.oid) NOT IN (SELECT classid, objid FROM extension_members)
          -- A sequence a column owns (serial, identity) changes owner with its table, and refuses to alone.
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
        UNION ALL
        SELECT 2, 'routine', format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1)
        FROM pg_proc p JOIN own ON own.oid = p.pronamespace
        WHERE p.proowner <> (SELECT oid FROM target) AND (p.tableoid, p.oid) NOT IN (SELECT classid, objid FROM extension_members)
          -- A range type's constructors are part of the type (PostgreSQL 15 makes the bootstrap superuser their owner; no one may change it).
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i')
        UNION ALL
        -- Domains, enums, ranges and their multiranges (which do not follow the range), and standalone
        -- composite types; a table's row type and array types follow their table or element.
        SELECT 3, 'type', format('ALTER TYPE %I.%I OWNER TO %I', own.nspname, t.typname, $1)
        FROM pg_type t JOIN own ON own.oid = t.typnamespace
        WHERE t.typowner <> (SELECT oid FROM target) AND (t.tableoid, t.oid) NOT IN (SELECT classid, objid FROM extension_members)
          AND (t.typtype IN ('d', 'e', 'r', 'm') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')))
        ORDER BY 1, 3
        """;

    /// <summary>
    /// Makes <paramref name="appUser"/> the owner of every object of the database
    /// <paramref name="admin"/> is connected to (its own schemas; see <see cref="ObjectOwnership"/>),
    /// in one transaction, proven before it commits: all of them or nothing. Calling it again
    /// changes nothing.
    /// </summary>
    /// <param name="admin">An open connection to the restored database as a login that owns its objects (or is a member of their owner), with no transaction in progress.</param>
    /// <param name="appUser">The application's login; an ordinary role (never a reserved one) that exists.</param>
    /// <param name="cancellationToken">Stops the transfer (the transaction rolls back).</param>
    /// <exception cref="ArgumentException"><paramref name="appUser"/> is not a user name or is a reserved role.</exception>
    /// <exception cref="AppUserGrantException">The role does not exist, or the login may not give the objects away; nothing changed.</exception>
    public static async Task<OwnershipTransfer> TransferAsync(NpgsqlConnection admin, string appUser, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(admin);
        Validate(appUser);
        await using var transaction = await admin.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var transfer = await TransferWithinAsync(admin, transaction, appUser, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return transfer;
    }

    /// <summary>The transfer inside the caller's <paramref name="transaction"/> (the caller commits), as <see cref="AppUserGrants"/> runs it with the grants.</summary>
    internal static async Task<OwnershipTransfer> TransferWithinAsync(NpgsqlConnection admin, NpgsqlTransaction transaction, string appUser, CancellationToken cancellationToken)
    {
        Validate(appUser);
        await ExecuteAsync(admin, transaction, "SET LOCAL search_path TO pg_catalog", cancellationToken).ConfigureAwait(false);
        if (!await ScalarAsync<bool>(admin, transaction, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1::name)", appUser, cancellationToken).ConfigureAwait(false))
        {
            throw new AppUserGrantException(AppUserGrantFailure.UserNotFound, $"The role '{appUser}' does not exist in the database cluster.");
        }

        var statements = new List<string>();
        var membershipGranted = false;
        var login = await ScalarAsync<string>(admin, transaction, "SELECT current_user::text", null, cancellationToken).ConfigureAwait(false);
        if (!await ScalarAsync<bool>(admin, transaction, "SELECT pg_has_role(current_user, $1::name, 'MEMBER')", appUser, cancellationToken).ConfigureAwait(false))
        {
            var grant = await ScalarAsync<string>(admin, transaction, "SELECT format('GRANT %I TO %I', $1, current_user)", appUser, cancellationToken).ConfigureAwait(false);
            await RunAsync(admin, transaction, grant,
                $"The login '{login}' is not a member of the role '{appUser}' and may not make itself one, so it cannot give objects to it (PostgreSQL 15 needs CREATEROLE; 16 and later ADMIN OPTION on the role, which its creator has): run GRANT \"{appUser}\" TO \"{login}\" as a login that may, then try again", cancellationToken).ConfigureAwait(false);
            statements.Add(grant);
            membershipGranted = true;
        }

        var pending = await PendingAsync(admin, transaction, appUser, cancellationToken).ConfigureAwait(false);
        if (pending.Any(p => p.Kind == "schema")
            && !await ScalarAsync<bool>(admin, transaction, "SELECT has_database_privilege($1::name, current_database(), 'CREATE')", appUser, cancellationToken).ConfigureAwait(false))
        {
            // PostgreSQL lets only a role with CREATE on the database own a schema.
            var create = await ScalarAsync<string>(admin, transaction, "SELECT format('GRANT CREATE ON DATABASE %I TO %I', current_database(), $1)", appUser, cancellationToken).ConfigureAwait(false);
            await RunAsync(admin, transaction, create, $"The login '{login}' may not grant CREATE on the database to '{appUser}', which owning a schema needs", cancellationToken).ConfigureAwait(false);
            statements.Add(create);
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (kind, statement) in pending)
        {
            await RunAsync(admin, transaction, statement, $"The login '{login}' may not run '{statement}'", cancellationToken).ConfigureAwait(false);
            statements.Add(statement);
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }

        var left = await PendingAsync(admin, transaction, appUser, cancellationToken).ConfigureAwait(false);
        if (left.Count > 0)
        {
            throw new AppUserGrantException(AppUserGrantFailure.NotPermitted, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"After the transfer, {left.Count} object(s) are still not owned by '{appUser}', so nothing was changed: {string.Join("; ", left.Take(10).Select(l => l.Statement))}{(left.Count > 10 ? "; ..." : "")}"));
        }
        return new OwnershipTransfer(appUser, counts, membershipGranted, statements);
    }

    private static void Validate(string appUser)
    {
        if (!CloudNames.IsUser(appUser) || ReservedRoles.IsReserved(appUser))
        {
            throw new ArgumentException($"'{CloudNames.Printable(appUser ?? "")}' is not an application's login: a PostgreSQL user name that is not a reserved role.", nameof(appUser));
        }
    }

    private static async Task<List<(string Kind, string Statement)>> PendingAsync(NpgsqlConnection admin, NpgsqlTransaction transaction, string appUser, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(NotYetOwned, admin, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = appUser });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var pending = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            pending.Add((reader.GetString(1), reader.GetString(2)));
        }
        return pending;
    }

    /// <summary>Runs one statement; a refusal for lack of privilege becomes <see cref="AppUserGrantException"/> saying <paramref name="refusal"/> and PostgreSQL's reason.</summary>
    private static async Task RunAsync(NpgsqlConnection admin, NpgsqlTransaction transaction, string statement, string refusal, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(admin, transaction, statement, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.InvalidGrantOperation)
        {
            throw new AppUserGrantException(AppUserGrantFailure.NotPermitted, $"{refusal}: {e.MessageText}");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection admin, NpgsqlTransaction transaction, string statement, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(statement, admin, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection admin, NpgsqlTransaction transaction, string sql, string? value, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, admin, transaction);
        if (value is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
