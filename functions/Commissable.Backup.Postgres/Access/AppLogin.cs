using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Naming;
using Npgsql;

namespace Commissable.Backup.Postgres.Access;

/// <summary>
/// The application's login on a server: created when missing, otherwise made able to log in, with
/// its password set either way. The password never reaches the server: its SCRAM-SHA-256 verifier
/// is computed here (<see cref="Scram"/>) and sent instead, so neither a statement that fails (which
/// the server logs) nor anything this process prints can show it.
/// </summary>
public static class AppLogin
{
    /// <summary>Creates or updates <paramref name="user"/> with <paramref name="password"/>; true when it was created.</summary>
    /// <param name="admin">An open connection as a login that may create and alter roles (<c>CREATEROLE</c>, as Cloud SQL's <c>postgres</c>).</param>
    /// <param name="user">The application's login: a user name, never a reserved role or the admin itself.</param>
    /// <param name="password">Its password: not empty, no line break or NUL.</param>
    /// <param name="cancellationToken">Stops the change (one statement: it happens or not).</param>
    /// <exception cref="ArgumentException">A name or the password is not acceptable.</exception>
    /// <exception cref="AppUserGrantException">The role exists and is a superuser or the admin itself, or the admin may not create or alter it; nothing changed.</exception>
    public static async Task<bool> EnsureAsync(NpgsqlConnection admin, string user, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(password);
        if (!CloudNames.IsUser(user) || ReservedRoles.IsReserved(user))
        {
            throw new ArgumentException($"'{CloudNames.Printable(user ?? "")}' is not an application's login: a PostgreSQL user name that is not a reserved role.", nameof(user));
        }
        if (password.Length == 0 || password.Any(c => c is '\n' or '\r' or '\0'))
        {
            throw new ArgumentException("The password is empty or holds a line break or a NUL.", nameof(password));
        }

        await using var look = new NpgsqlCommand("SELECT rolsuper, rolname = current_user FROM pg_roles WHERE rolname = $1::name", admin);
        look.Parameters.Add(new NpgsqlParameter { Value = user });
        bool exists;
        await using (var reader = await look.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            exists = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (exists && reader.GetBoolean(0))
            {
                throw new AppUserGrantException(AppUserGrantFailure.NotPermitted, $"The role '{user}' is a superuser; the application's login must be an ordinary role.");
            }
            if (exists && reader.GetBoolean(1))
            {
                throw new AppUserGrantException(AppUserGrantFailure.NotPermitted, $"The role '{user}' is the admin login itself; the application needs its own login.");
            }
        }

        // format('%I', '%L') quotes on the server; the verifier (never the password) is the only secret-shaped text sent.
        await using var build = new NpgsqlCommand(exists
            ? "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1, $2)"
            : "SELECT format('CREATE ROLE %I WITH LOGIN PASSWORD %L', $1, $2)", admin);
        build.Parameters.Add(new NpgsqlParameter { Value = user });
        build.Parameters.Add(new NpgsqlParameter { Value = Scram.Verifier(password) });
        var statement = (string)(await build.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        await using var change = new NpgsqlCommand(statement, admin);
        try
        {
            await change.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new AppUserGrantException(AppUserGrantFailure.NotPermitted,
                $"The admin login may not {(exists ? "alter" : "create")} the role '{user}' (it needs CREATEROLE; on PostgreSQL 16 and later ADMIN OPTION on an existing role): {e.MessageText}");
        }
        return !exists;
    }
}
