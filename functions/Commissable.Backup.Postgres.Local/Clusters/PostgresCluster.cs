using System.Globalization;
using System.Text;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Clusters;

/// <summary>Where and how one PostgreSQL cluster lives and listens.</summary>
public sealed record ClusterLayout
{
    /// <summary>The data directory (PGDATA).</summary>
    public required string DataDirectory { get; init; }
    public required string LogFile { get; init; }
    public required string ListenAddress { get; init; }
    public int Port { get; init; } = 5432;
    /// <summary>Directory of the Unix socket; null for TCP only.</summary>
    public string? SocketDirectory { get; init; }
    /// <summary>Account the server runs as; null for the current one (which must not be root).</summary>
    public string? RunAs { get; init; }
}

/// <summary>
/// One real PostgreSQL cluster driven through initdb and pg_ctl. Instance-specific settings live
/// in <c>cloudsql.conf</c>, included from <c>postgresql.conf</c> by a relative path, so a data
/// directory copied from a base backup into another cluster picks up that cluster's settings.
/// </summary>
public sealed class PostgresCluster
{
    public const string RuntimeConfigFile = "cloudsql.conf";

    private readonly PostgresBinaries _binaries;

    public PostgresCluster(PostgresBinaries binaries, ClusterLayout layout)
    {
        ArgumentNullException.ThrowIfNull(binaries);
        ArgumentNullException.ThrowIfNull(layout);
        _binaries = binaries;
        Layout = layout;
    }

    public ClusterLayout Layout { get; }

    /// <summary>
    /// The unprivileged account to run servers as: null when not root, else <c>LOCALCLOUD_PG_USER</c>
    /// or <c>postgres</c>, the account Debian's package creates.
    /// </summary>
    public static string? DefaultRunAs()
    {
        if (System.Environment.UserName != "root") return null;
        var configured = System.Environment.GetEnvironmentVariable("LOCALCLOUD_PG_USER");
        return string.IsNullOrEmpty(configured) ? "postgres" : configured;
    }

    /// <summary>Creates the data directory with a superuser that logs in with a SCRAM password only.</summary>
    public async Task InitAsync(string superUser, string superPassword, CancellationToken cancellationToken = default)
    {
        var parent = Path.GetDirectoryName(Layout.DataDirectory)!;
        Directory.CreateDirectory(parent);
        await GiveAsync(parent, cancellationToken).ConfigureAwait(false);
        var passwordFile = Path.Combine(parent, $".pwfile-{Guid.NewGuid():N}");
        // 0600 from its creation: written first and narrowed after, the password was readable by anyone for a moment.
        OwnerOnly.WriteNewFile(passwordFile, superPassword + "\n");
        try
        {
            await GiveAsync(passwordFile, cancellationToken).ConfigureAwait(false);
            await Tool("initdb",
                "-D", Layout.DataDirectory, "-U", superUser, "--pwfile", passwordFile,
                "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions")
                .RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }
        await PrepareDataDirectoryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes a data directory (fresh from initdb, or copied from a base backup) belong to this
    /// cluster: password-only access rules and the include of the instance's settings.
    /// </summary>
    public async Task PrepareDataDirectoryAsync(CancellationToken cancellationToken = default)
    {
        var hba = new StringBuilder()
            .AppendLine("# Written by the local cloud: passwords (SCRAM) only, loopback only, never trust.")
            .AppendLine("local   all          all                 scram-sha-256")
            .AppendLine("local   replication  all                 scram-sha-256")
            .AppendLine("host    all          all  127.0.0.0/8    scram-sha-256")
            .AppendLine("host    replication  all  127.0.0.0/8    scram-sha-256")
            .ToString();
        await File.WriteAllTextAsync(Path.Combine(Layout.DataDirectory, "pg_hba.conf"), hba, cancellationToken).ConfigureAwait(false);
        var conf = Path.Combine(Layout.DataDirectory, "postgresql.conf");
        var include = $"include_if_exists = '{RuntimeConfigFile}'";
        var text = await File.ReadAllTextAsync(conf, cancellationToken).ConfigureAwait(false);
        if (!text.Contains(include, StringComparison.Ordinal))
        {
            await File.AppendAllTextAsync(conf, $"\n{include}\n", cancellationToken).ConfigureAwait(false);
        }
        await GiveAsync(Layout.DataDirectory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the instance's settings; they take effect at the next start (or reload).</summary>
    public async Task WriteRuntimeConfigAsync(IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken = default)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["listen_addresses"] = Layout.ListenAddress,
            ["port"] = Layout.Port.ToString(CultureInfo.InvariantCulture),
            ["unix_socket_directories"] = Layout.SocketDirectory ?? "",
            ["password_encryption"] = "scram-sha-256",
            // Cloud SQL's default, whatever this machine's zone: it decides how pg_dump prints a
            // timestamptz, which the content manifests of exports depend on (a timezone flag overrides it).
            ["timezone"] = "UTC",
        };
        foreach (var (key, value) in settings) all[key] = value;
        var text = new StringBuilder("# Written by the local cloud before every start; edits are overwritten.\n");
        foreach (var (key, value) in all)
        {
            text.Append(key).Append(" = '").Append(value.Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
        }
        var path = Path.Combine(Layout.DataDirectory, RuntimeConfigFile);
        await File.WriteAllTextAsync(path, text.ToString(), cancellationToken).ConfigureAwait(false);
        await GiveAsync(path, cancellationToken).ConfigureAwait(false);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Layout.SocketDirectory is not null)
        {
            Directory.CreateDirectory(Layout.SocketDirectory);
            await GiveAsync(Layout.SocketDirectory, cancellationToken).ConfigureAwait(false);
            var socket = Path.Combine(Layout.SocketDirectory, $".s.PGSQL.{Layout.Port}");
            if (Encoding.UTF8.GetByteCount(socket) > 107)
            {
                throw new InvalidOperationException(
                    $"The Unix socket path {socket} is longer than the 107 bytes Linux allows; use a shorter state directory.");
            }
        }
        if (!File.Exists(Layout.LogFile))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Layout.LogFile)!);
            // The server's log can hold statements and the values in them: its owner's alone.
            OwnerOnly.WriteNewFile(Layout.LogFile, "");
            await GiveAsync(Layout.LogFile, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            await Tool("pg_ctl", "start", "-D", Layout.DataDirectory, "-l", Layout.LogFile, "-w", "-t", "300", "-s")
                .RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ExternalProcessException e)
        {
            throw new InvalidOperationException(
                $"PostgreSQL did not start on {Layout.ListenAddress}:{Layout.Port}: {LastLogLines(5)} ({e.Message})", e);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (await IsRunningAsync(cancellationToken).ConfigureAwait(false))
        {
            await Tool("pg_ctl", "stop", "-D", Layout.DataDirectory, "-m", "fast", "-w", "-t", "120", "-s")
                .RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(Layout.DataDirectory)) return false;
        try
        {
            await Tool("pg_ctl", "status", "-D", Layout.DataDirectory).RunAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ExternalProcessException)
        {
            return false;
        }
    }

    /// <summary>An Npgsql connection string over TCP; the password is in it, so never log it.</summary>
    public string ConnectionString(string user, string password, string database = "postgres") =>
        new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = Layout.ListenAddress,
            Port = Layout.Port,
            Username = user,
            Password = password,
            Database = database,
            Pooling = false,
            Timeout = 15,
        }.ConnectionString;

    /// <summary>A libpq connection string for PostgreSQL's programs, pinned to this cluster's address and port.</summary>
    public string ToolConnection(string user, string database = "postgres") =>
        LibpqConnection.Build(Layout.ListenAddress, Layout.Port, user, database);

    /// <summary>A server-side program of this cluster, run as the cluster's account.</summary>
    public ExternalProcess Tool(string program, params string[] arguments) => new()
    {
        FileName = _binaries.Path(program),
        Arguments = arguments,
        RunAs = Layout.RunAs,
    };

    /// <summary>Hands a file or directory (recursively) to the cluster's account.</summary>
    public Task GiveAsync(string path, CancellationToken cancellationToken = default) =>
        Layout.RunAs is null
            ? Task.CompletedTask
            : new ExternalProcess { FileName = "chown", Arguments = ["-R", $"{Layout.RunAs}:", path] }.RunAsync(cancellationToken);

    private string LastLogLines(int count)
    {
        try
        {
            var lines = File.ReadAllLines(Layout.LogFile);
            return string.Join(" | ", lines.TakeLast(count));
        }
        catch (IOException)
        {
            return "(no server log)";
        }
    }
}
