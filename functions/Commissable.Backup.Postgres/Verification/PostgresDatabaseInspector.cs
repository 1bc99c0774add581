using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Postgres.Access;
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
    /// its connection name) when the service has one for it; an instance it has none for (one
    /// created during a run, such as a tenant restore's or a disaster recovery's new instance, which
    /// no deployment can list) by its private IP address, through the service's VPC egress; without
    /// a socket root, its first IP address.
    /// </summary>
    /// <exception cref="ArgumentException">The instance cannot be reached that way; the message says why.</exception>
    public string Host(DatabaseInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (SocketRoot is not { } root)
        {
            return (instance.IpAddresses is [var first, ..] ? first.IpAddress : null) ?? throw new ArgumentException($"Instance '{instance.Name}' has no IP address.", nameof(instance));
        }
        var socket = Path.Combine(root, instance.ConnectionName ?? throw new ArgumentException($"Instance '{instance.Name}' has no connection name.", nameof(instance)));
        if (Directory.Exists(socket))
        {
            return socket;
        }
        return instance.IpAddresses?.FirstOrDefault(a => string.Equals(a.Type, "PRIVATE", StringComparison.Ordinal))?.IpAddress
            ?? throw new ArgumentException(
                $"Instance '{instance.Name}' has no socket under {root} (the service is not deployed with it) and no private IP address to reach it through VPC egress.", nameof(instance));
    }

    /// <summary>The password, read from <see cref="PasswordFile"/> now (a rotated secret takes effect at the next use); never log it.</summary>
    public string ReadPassword() => File.ReadAllText(PasswordFile).Trim();

    /// <summary>Where <paramref name="instance"/> is reached (<see cref="Host"/>) with this login, the password read now.</summary>
    public DatabaseEndpoint Endpoint(DatabaseInstance instance) => new(Host(instance), Port, User, ReadPassword());
}

/// <summary>How the functions reach a database of an instance with their login (<see cref="DatabaseLoginOptions"/>).</summary>
/// <param name="options">The login.</param>
public sealed class PostgresDatabaseInspector(DatabaseLoginOptions options)
{
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
