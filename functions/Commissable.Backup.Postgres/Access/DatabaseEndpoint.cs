using System.Globalization;
using System.Net;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.Backup.Postgres.Access;

/// <summary>
/// A PostgreSQL server and a login on it: where the functions' login reaches an instance
/// (<c>DatabaseLoginOptions.Endpoint</c>), or an operator's URL (<see cref="FromUrl"/>). It holds
/// the password, so it never prints it: <see cref="ToString"/> shows <c>user@host:port</c> only.
/// </summary>
/// <remarks>
/// The password reaches Npgsql in a connection string built here and PostgreSQL's programs in a
/// password file (0600, <see cref="WritePasswordFile"/>), never an argument list or a log line.
/// </remarks>
public sealed class DatabaseEndpoint
{
    /// <summary>libpq's <c>sslmode</c> values an operator's URL may name.</summary>
    public static readonly IReadOnlyList<string> SslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

    private readonly string _password;

    /// <param name="host">A host name, an IP address, or a Unix socket directory (an absolute path).</param>
    /// <param name="port">The port (1–65535).</param>
    /// <param name="user">The role to log in as.</param>
    /// <param name="password">Its password; empty when the server needs none.</param>
    /// <param name="sslMode">libpq's <c>sslmode</c>; null for libpq's default.</param>
    public DatabaseEndpoint(string host, int port, string user, string password, string? sslMode = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (sslMode is not null && !SslModes.Contains(sslMode))
        {
            throw new ArgumentException($"sslmode must be one of {string.Join(", ", SslModes)}.", nameof(sslMode));
        }
        if (password.Contains('\n', StringComparison.Ordinal) || password.Contains('\r', StringComparison.Ordinal) || password.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("The password holds a line break or a NUL, which a password file cannot carry.", nameof(password));
        }
        Host = host;
        Port = port;
        User = user;
        _password = password;
        SslMode = sslMode;
    }

    public string Host { get; }
    public int Port { get; }
    public string User { get; }
    public string? SslMode { get; }

    /// <summary>True when the login has a password (it is never shown).</summary>
    public bool HasPassword => _password.Length > 0;

    /// <summary>The same server with another login (an app user's), for checking what that login can do.</summary>
    public DatabaseEndpoint WithLogin(string user, string password) => new(Host, Port, user, password, SslMode);

    /// <summary>
    /// Reads <c>postgres://</c> or <c>postgresql://</c><c>user:password@host:port/database?sslmode=…</c>
    /// (user and password percent-encoded; the host may be <c>[IPv6]</c>; <c>?host=/dir</c> names a
    /// Unix socket directory). The database is returned apart, null when the URL names none.
    /// </summary>
    /// <exception cref="FormatException">Not such a URL; the message names the part that is wrong and never repeats the URL (it holds a password).</exception>
    public static DatabaseEndpoint FromUrl(string url, out string? database)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.Trim();
        var scheme = text.StartsWith("postgresql://", StringComparison.Ordinal) ? "postgresql://"
            : text.StartsWith("postgres://", StringComparison.Ordinal) ? "postgres://"
            : throw new FormatException("the URL must start with postgresql:// or postgres://");
        var rest = text[scheme.Length..];
        // The login ends at the last '@' before the path (a host holds neither '@' nor '/'), found
        // before the query is split off: a password's unencoded '@' and '?' stay in the login, and
        // are refused there, instead of being read as a host and a query an error would repeat.
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var at = (slash >= 0 ? rest[..slash] : rest).LastIndexOf('@');
        if (at < 0)
        {
            throw new FormatException("the URL names no user (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)");
        }
        var login = rest[..at];
        if (login.Contains('?', StringComparison.Ordinal))
        {
            throw new FormatException("the URL's user or password holds an unencoded '?' (percent-encode it as %3F, and '@' as %40, '/' as %2F)");
        }
        rest = rest[(at + 1)..];
        var query = "";
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        slash = rest.IndexOf('/', StringComparison.Ordinal);
        var path = slash >= 0 ? rest[(slash + 1)..] : "";
        var hostPort = slash >= 0 ? rest[..slash] : rest;
        var colon = login.IndexOf(':', StringComparison.Ordinal);
        var user = Decode(colon >= 0 ? login[..colon] : login, "user");
        var password = colon >= 0 ? Decode(login[(colon + 1)..], "password") : "";
        if (user.Length == 0)
        {
            throw new FormatException("the URL's user is empty");
        }

        string host;
        var port = 5432;
        string portText = "";
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException("the URL's IPv6 host has no closing ]");
            }
            host = hostPort[1..close];
            var after = hostPort[(close + 1)..];
            if (after.Length > 0)
            {
                portText = after.StartsWith(':') ? after[1..] : throw new FormatException("the URL's host is followed by something other than :PORT");
            }
        }
        else
        {
            var c = hostPort.LastIndexOf(':');
            host = c >= 0 ? hostPort[..c] : hostPort;
            portText = c >= 0 ? hostPort[(c + 1)..] : "";
        }
        host = Decode(host, "host");
        if (portText.Length > 0 && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new FormatException("the URL's port is not a number from 1 to 65535");
        }

        string? sslMode = null;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq >= 0 ? pair[..eq] : pair;
            var value = Decode(eq >= 0 ? pair[(eq + 1)..] : "", key is "sslmode" or "host" ? key : "query");
            switch (key)
            {
                case "sslmode":
                    sslMode = SslModes.Contains(value) ? value : throw new FormatException($"the URL's sslmode must be one of {string.Join(", ", SslModes)}");
                    break;
                case "host":
                    host = value.StartsWith('/') ? value : throw new FormatException("the URL's host parameter must be a socket directory (an absolute path)");
                    break;
                case "schema" or "connection_limit" or "pool_timeout" or "pgbouncer" or "connect_timeout" or "application_name":
                    // Prisma's and libpq's options about the client, not the server: nothing to do here.
                    break;
                default:
                    // Only a parameter libpq or Prisma knows is named: anything else may be part of a
                    // password with an unencoded '/' and '?' read as a path and a query.
                    throw new FormatException(KnownParameters.Contains(key)
                        ? $"the URL's parameter '{key}' is not one this tool reads (sslmode, host)"
                        : "the URL has a parameter this tool does not read (sslmode, host); it is not shown, as it may be part of a password with an unencoded '/' or '?' (percent-encode them as %2F, %3F)");
            }
        }
        if (host.Length == 0)
        {
            throw new FormatException("the URL names no host");
        }
        if (host.Any(ch => char.IsControl(ch) || ch == ' '))
        {
            throw new FormatException("the URL's host holds a space or a control character");
        }

        var name = Decode(path, "database");
        if (name.Contains('/', StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            throw new FormatException("the URL's database name holds a / or a control character");
        }
        database = name.Length == 0 ? null : name;
        try
        {
            return new DatabaseEndpoint(host, port, user, password, sslMode);
        }
        catch (ArgumentException)
        {
            throw new FormatException("the URL's password holds a line break or a NUL");
        }
    }

    /// <summary>An Npgsql connection string to <paramref name="database"/>; it holds the password, so it is never logged.</summary>
    public string ConnectionString(string database, string applicationName = "commissable-backup")
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = User,
            Database = database,
            Pooling = false,
            Timeout = 30,
            CommandTimeout = 0,
            ApplicationName = applicationName,
        };
        if (_password.Length > 0)
        {
            builder.Password = _password;
        }
        if (SslMode is { } mode)
        {
            builder.SslMode = mode switch
            {
                "disable" => Npgsql.SslMode.Disable,
                "allow" => Npgsql.SslMode.Allow,
                "prefer" => Npgsql.SslMode.Prefer,
                "require" => Npgsql.SslMode.Require,
                "verify-ca" => Npgsql.SslMode.VerifyCA,
                _ => Npgsql.SslMode.VerifyFull,
            };
        }
        return builder.ConnectionString;
    }

    /// <summary>What PostgreSQL's programs are told to connect to (<see cref="LibpqConnection"/>): no password in it.</summary>
    public string Conninfo(string database)
    {
        var conninfo = LibpqConnection.Build(Host, Port, User, database);
        return SslMode is { } mode ? conninfo + " sslmode=" + LibpqConnection.Quote(mode) : conninfo;
    }

    /// <summary>
    /// Writes a password file for this login (a new file, 0600; <c>*:*:*:*:password</c>, escaped)
    /// at <paramref name="path"/>, which should be in a private directory.
    /// </summary>
    public void WritePasswordFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        OwnerOnly.WriteNewFile(path, "*:*:*:*:" + _password.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal) + "\n");
    }

    /// <summary>
    /// The environment a PostgreSQL program needs besides its <c>--dbname</c>: the password file
    /// <paramref name="passwordFile"/> (written by <see cref="WritePasswordFile"/>) and a connect timeout.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ToolEnvironment(string passwordFile, string applicationName = "commissable-backup") => new Dictionary<string, string>
    {
        ["PGPASSFILE"] = passwordFile,
        ["PGCONNECT_TIMEOUT"] = "30",
        ["PGAPPNAME"] = applicationName,
    };

    /// <summary><c>user@host:port</c>: what the endpoint is, without its password.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{User}@{(IPAddress.TryParse(Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Host}]" : Host)}:{Port}");

    private static string Decode(string value, string part)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            throw new FormatException($"the URL's {part} is not valid percent-encoding");
        }
    }

    /// <summary>The parameters libpq's and Prisma's URLs may hold: the only ones an error names.</summary>
    private static readonly HashSet<string> KnownParameters = new(StringComparer.Ordinal)
    {
        "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth", "channel_binding", "client_encoding",
        "options", "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
        "tcp_user_timeout", "replication", "gssencmode", "requiressl", "sslnegotiation", "sslcompression", "sslcert", "sslkey",
        "sslpassword", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
        "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts",
        "socket_timeout", "statement_cache_size", "sslaccept", "sslidentity", "max_idle_connection_lifetime",
    };
}
