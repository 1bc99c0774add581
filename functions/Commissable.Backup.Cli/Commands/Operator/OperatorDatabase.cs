using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Postgres.Access;
using Npgsql;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>A database server named by a URL in an environment variable, and the database the URL names (null when none).</summary>
internal sealed record OperatorDatabase(string Variable, DatabaseEndpoint Endpoint, string? Database)
{
    /// <summary>
    /// Reads the URL in the environment variable <paramref name="variable"/> (named by
    /// <paramref name="option"/>). The URL holds a password, so no message ever shows it or any part
    /// of it but the problem.
    /// </summary>
    public static OperatorDatabase FromEnvironment(CommandContext context, string option, string variable)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = OperatorRules.VariableName(option, variable);
        var url = context.Environment(name);
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new UsageException($"{option} {name}: the environment variable {name} is not set; set it to postgresql://USER:PASSWORD@HOST:PORT/DATABASE (it is never printed)");
        }
        try
        {
            var endpoint = DatabaseEndpoint.FromUrl(url, out var database);
            if (database is not null && !CloudNames.IsDatabase(database))
            {
                throw new FormatException("the URL's database is not a database name: 1 to 63 letters, digits, '_', '-' and '$', starting with a letter or '_'");
            }
            return new OperatorDatabase(name, endpoint, database);
        }
        catch (FormatException problem)
        {
            throw new UsageException($"{option} {name}: the URL in {name} is not one this tool reads: {problem.Message}");
        }
    }

    /// <summary>What the server is, for messages: <c>user@host:port</c>, never the password.</summary>
    public override string ToString() => Endpoint.ToString();
}

/// <summary>
/// The production servers an operator's command must never write to, configured in the environment
/// as the functions configure theirs: <c>PRODUCTION_INSTANCES</c> (Cloud SQL instance IDs) and
/// <c>PRODUCTION_HOSTS</c> (hosts or IP addresses, each optionally with <c>:PORT</c>, such as the
/// Cloud SQL Auth Proxy's <c>127.0.0.1:6543</c>), comma-separated.
/// </summary>
internal sealed record ProductionTargets(IReadOnlySet<string> Instances, IReadOnlyList<(string Host, int? Port)> Hosts)
{
    public const string InstancesVariable = "PRODUCTION_INSTANCES";
    public const string HostsVariable = "PRODUCTION_HOSTS";

    /// <summary>
    /// Reads both lists. A command that writes refuses to start when neither is set: a guard with
    /// nothing to compare with would let everything through.
    /// </summary>
    public static ProductionTargets FromEnvironment(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var instances = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instance in List(context.Environment(InstancesVariable)))
        {
            instances.Add(CloudNames.IsInstance(instance) ? instance
                : throw new UsageException($"{InstancesVariable} must list Cloud SQL instance IDs; '{OperatorRules.Printable(instance)}' is not one"));
        }
        var hosts = new List<(string, int?)>();
        foreach (var entry in List(context.Environment(HostsVariable)))
        {
            hosts.Add(HostEntry(entry));
        }
        if (instances.Count == 0 && hosts.Count == 0)
        {
            throw new UsageException($"neither {HostsVariable} nor {InstancesVariable} is set: set {HostsVariable} to the production servers' hosts (and {InstancesVariable} to their instance IDs), which this command refuses to write to");
        }
        return new ProductionTargets(instances, hosts);
    }

    /// <summary>
    /// Refuses (a <see cref="UsageException"/> naming the list) a target that is production or
    /// cannot be shown not to be: <paramref name="instance"/>, or the instance a Cloud SQL socket
    /// directory names (<c>/cloudsql/PROJECT:REGION:INSTANCE</c>, wherever the Auth Proxy puts it),
    /// in <see cref="Instances"/> or named by a listed socket directory; an
    /// <paramref name="instance"/> that is not the one the socket directory names; a host (and
    /// port) in <see cref="Hosts"/>, compared by every address each side resolves to (so
    /// <c>localhost</c> is <c>127.0.0.1</c>, and a DNS name is the address it names); a socket
    /// directory equal to a listed one, or on the port of a listed loopback address (a local server
    /// answers on its socket and on loopback alike); a target host that does not resolve.
    /// </summary>
    public async Task RefuseAsync(DatabaseEndpoint target, string? instance, string option, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var socketInstance = IsSocket(target.Host) ? SocketInstance(target.Host) : null;
        if (instance is not null && ListedIn(instance) is { } list)
        {
            throw new UsageException($"{option}: the instance '{instance}' is listed in {list}; this command never writes to production");
        }
        if (socketInstance is not null && ListedIn(socketInstance) is { } socketList)
        {
            throw new UsageException($"{option}: the server {target} is the instance '{socketInstance}' (by its socket directory), which is listed in {socketList}; this command never writes to production");
        }
        if (instance is not null && socketInstance is not null && instance != socketInstance)
        {
            throw new UsageException($"{option}: the server {target} is the instance '{socketInstance}' (by its socket directory), but --instance is '{instance}'; give the instance the server is (or leave --instance out), as it is checked against {InstancesVariable}");
        }
        var listed = Hosts.Where(h => h.Port is null || h.Port == target.Port).ToList();
        if (listed.Count == 0)
        {
            return;
        }
        var refused = new UsageException($"{option}: the server {target} is listed in {HostsVariable}; this command never writes to production");
        if (IsSocket(target.Host))
        {
            var directory = SocketDirectory(target.Host);
            foreach (var (host, _) in listed)
            {
                if (IsSocket(host) ? SocketDirectory(host) == directory
                    : (await AddressesAsync(host, cancellationToken) ?? []).Any(IPAddress.IsLoopback))
                {
                    throw refused;
                }
            }
            return;
        }
        var targetAddresses = await AddressesAsync(target.Host, cancellationToken)
            ?? throw new UsageException($"{option}: the host of the server {target} cannot be resolved, so it cannot be shown not to be one listed in {HostsVariable}; nothing was done (use its IP address, or a name that resolves here)");
        foreach (var (host, _) in listed)
        {
            if (IsSocket(host))
            {
                continue;
            }
            if (SameName(host, target.Host)
                || (await AddressesAsync(host, cancellationToken) is { } addresses && addresses.Any(targetAddresses.Contains)))
            {
                throw refused;
            }
        }
    }

    private static bool IsSocket(string host) => host.StartsWith('/');

    /// <summary>The list that names <paramref name="instance"/>: <see cref="Instances"/>, or a socket directory in <see cref="Hosts"/>; null when neither does.</summary>
    private string? ListedIn(string instance) =>
        Instances.Contains(instance) ? InstancesVariable
        : Hosts.Any(h => IsSocket(h.Host) && SocketInstance(h.Host) == instance) ? HostsVariable
        : null;

    /// <summary>
    /// The instance ID a Cloud SQL socket directory names: its last part is the instance's
    /// connection name, <c>PROJECT:REGION:INSTANCE</c> (<c>DOMAIN:PROJECT:REGION:INSTANCE</c> for a
    /// domain-scoped project), under <c>/cloudsql</c> or wherever the Auth Proxy's
    /// <c>--unix-socket</c> puts it; null for any other directory.
    /// </summary>
    private static string? SocketInstance(string path) =>
        Path.GetFileName(SocketDirectory(path)).Split(':') is { Length: 3 or 4 } parts && parts.All(p => p.Length > 0) && CloudNames.IsInstance(parts[^1]) ? parts[^1] : null;

    private static string SocketDirectory(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static bool SameName(string listed, string target) =>
        string.Equals(listed.TrimEnd('.'), target.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    /// <summary>Every address <paramref name="host"/> resolves to (an IP address is its own), IPv4-mapped ones as IPv4; null when it does not resolve.</summary>
    private static async Task<HashSet<IPAddress>?> AddressesAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [Normal(literal)];
        }
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            return addresses.Length == 0 ? null : addresses.Select(Normal).ToHashSet();
        }
        catch (SocketException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static (string Host, int? Port) HostEntry(string entry)
    {
        var host = entry;
        int? port = null;
        var colon = entry.LastIndexOf(':');
        // A socket directory (Cloud SQL's /cloudsql/PROJECT:REGION:INSTANCE) has colons of its own: only a number after the last is a port.
        if (IsSocket(entry) ? colon > 0 && entry[(colon + 1)..] is { Length: > 0 } digits && digits.All(char.IsAsciiDigit)
            : colon > 0 && !entry.EndsWith(']') && entry.Count(c => c == ':') == 1)
        {
            host = entry[..colon];
            port = int.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535 ? p
                : throw new UsageException($"{HostsVariable}: '{OperatorRules.Printable(entry)}' has a port that is not a number from 1 to 65535");
        }
        host = host.Trim('[', ']');
        return host.Length > 0 && !host.Any(c => char.IsControl(c) || c == ' ') ? (host, port)
            : throw new UsageException($"{HostsVariable}: '{OperatorRules.Printable(entry)}' is not a host, an IP address or HOST:PORT");
    }

    private static string[] List(string? value) =>
        (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Whether a server could be reached and logged in to: the operator's commands exit 69 when it could not.</summary>
internal static class OperatorServer
{
    /// <summary>The server could not be reached or logged in to (connection, authentication, shutdown); an SQL error after that is not.</summary>
    public static bool IsUnreachable(Exception error) => error switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("28", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException or SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// Opens and closes one connection to <paramref name="database"/>: null when it worked or failed
    /// for another reason, else the first line of why the server could not be reached or logged in to.
    /// A client program's failure is told apart this way, not by its (translated) messages.
    /// </summary>
    public static async Task<string?> UnreachableAsync(DatabaseEndpoint server, string database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        try
        {
            await using var connection = new NpgsqlConnection(server.ConnectionString(database));
            await connection.OpenAsync(cancellationToken);
            return null;
        }
        catch (Exception error) when (IsUnreachable(error))
        {
            return error is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : error.Message.Split('\n')[0].TrimEnd('\r');
        }
        catch (NpgsqlException)
        {
            // Reached and logged in to, then refused (no such database, no privilege): the failure is the command's own.
            return null;
        }
    }
}

/// <summary>The checks the operator's commands add to <see cref="InputRules"/>.</summary>
internal static partial class OperatorRules
{
    /// <summary>
    /// An environment variable's name: letters, digits and '_', not starting with a digit. A value
    /// that is not one is never repeated: an operator who got it wrong may have typed the URL or
    /// the password itself.
    /// </summary>
    public static string VariableName(string option, string value)
        => VariablePattern().IsMatch(value) ? value
            : throw new UsageException($"{option}: the value given is not an environment variable's name (letters, digits and '_', not starting with a digit; it is not shown, in case it is a secret); give the variable's name, never a URL or a password");

    public static string Printable(string value)
        => new(value.Take(120).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex VariablePattern();
}
