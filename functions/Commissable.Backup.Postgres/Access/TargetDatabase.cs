using Commissable.Backup.Core.Naming;
using Npgsql;

namespace Commissable.Backup.Postgres.Access;

/// <summary>What dropping a database removed: its name, its size (null when it could not be read) and the sessions ended.</summary>
public sealed record DroppedDatabase(string Name, long? Bytes, int Sessions);

/// <summary>
/// The database an operator restores into, made or remade on a server through a connection to
/// another database of it (the maintenance database: a database cannot drop itself). Created empty
/// from <c>template0</c> in UTF8, so nothing an operator added to <c>template1</c> collides with
/// what the dump creates; the admin that creates it owns it.
/// </summary>
public static class TargetDatabase
{
    /// <summary>Databases a restore never writes to: the server's own.</summary>
    public static IReadOnlyList<string> Reserved { get; } = ["postgres", "template0", "template1", "cloudsqladmin"];

    /// <summary>Whether <paramref name="name"/> is a database name a restore may write to (<see cref="CloudNames.IsDatabase"/>, not <see cref="Reserved"/>).</summary>
    public static bool IsAllowed(string name) => CloudNames.IsDatabase(name) && !Reserved.Contains(name, StringComparer.Ordinal);

    public static async Task<bool> ExistsAsync(NpgsqlConnection maintenance, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(maintenance);
        await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1::name)", maintenance);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Creates <paramref name="name"/> (it must not exist).</summary>
    public static async Task CreateAsync(NpgsqlConnection maintenance, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(maintenance);
        Check(name);
        await ExecuteAsync(maintenance, "SELECT format('CREATE DATABASE %I TEMPLATE template0 ENCODING %L', $1, 'UTF8')", name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops <paramref name="name"/>, ending its sessions (<c>WITH (FORCE)</c>); says what it removed.</summary>
    public static async Task<DroppedDatabase> DropAsync(NpgsqlConnection maintenance, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(maintenance);
        Check(name);
        long? bytes = null;
        try
        {
            bytes = await ScalarAsync<long>(maintenance, "SELECT pg_database_size($1::name)", name, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // Its size is only information; a login that may drop it need not be allowed to connect to it.
        }
        var sessions = (int)await ScalarAsync<long>(maintenance, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1::name", name, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(maintenance, "SELECT format('DROP DATABASE %I WITH (FORCE)', $1)", name, cancellationToken).ConfigureAwait(false);
        return new DroppedDatabase(name, bytes, sessions);
    }

    private static void Check(string name)
    {
        if (!IsAllowed(name))
        {
            throw new ArgumentException($"'{CloudNames.Printable(name ?? "")}' is not a database a restore may write to (a database name, not one of {string.Join(", ", Reserved)}).", nameof(name));
        }
    }

    /// <summary>Builds the statement on the server (<c>format('%I')</c> quotes the name) and runs it.</summary>
    private static async Task ExecuteAsync(NpgsqlConnection maintenance, string builder, string name, CancellationToken cancellationToken)
    {
        var statement = await ScalarAsync<string>(maintenance, builder, name, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(statement, maintenance);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection maintenance, string sql, string value, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, maintenance);
        command.Parameters.Add(new NpgsqlParameter { Value = value });
        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
