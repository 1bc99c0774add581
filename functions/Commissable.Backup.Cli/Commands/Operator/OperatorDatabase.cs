using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Postgres.Access;

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
    /// Refuses (a <see cref="UsageException"/> naming the list) a target that is production: its
    /// host (and port) in <see cref="Hosts"/>, compared as IP addresses where both are, or
    /// <paramref name="instance"/> in <see cref="Instances"/>.
    /// </summary>
    public void Refuse(DatabaseEndpoint target, string? instance, string option)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (instance is not null && Instances.Contains(instance))
        {
            throw new UsageException($"{option}: the instance '{instance}' is listed in {InstancesVariable}; this command never writes to production");
        }
        foreach (var (host, port) in Hosts)
        {
            if ((port is null || port == target.Port) && SameHost(host, target.Host))
            {
                throw new UsageException($"{option}: the server {target} is listed in {HostsVariable}; this command never writes to production");
            }
        }
    }

    private static bool SameHost(string listed, string target)
    {
        if (string.Equals(listed, target, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(listed, out var a) && IPAddress.TryParse(target, out var b) && a.Equals(b);
    }

    private static (string Host, int? Port) HostEntry(string entry)
    {
        var host = entry;
        int? port = null;
        var colon = entry.LastIndexOf(':');
        if (colon > 0 && !entry.EndsWith(']') && entry.Count(c => c == ':') == 1)
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

/// <summary>The checks the operator's commands add to <see cref="InputRules"/>.</summary>
internal static partial class OperatorRules
{
    /// <summary>An environment variable's name: letters, digits and '_', not starting with a digit.</summary>
    public static string VariableName(string option, string value)
        => VariablePattern().IsMatch(value) ? value
            : throw new UsageException($"{option} {Shown(value)} is not an environment variable's name (letters, digits and '_', not starting with a digit); give the variable's name, never a URL or a password");

    /// <summary>A value given where a variable's name belongs; not repeated when it may be the URL or password itself.</summary>
    private static string Shown(string value) =>
        value.Contains("://", StringComparison.Ordinal) || value.Contains('@', StringComparison.Ordinal) || value.Contains(':', StringComparison.Ordinal)
            ? "(a URL, not shown)"
            : $"'{Printable(value)}'";

    public static string Printable(string value)
        => new(value.Take(120).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex VariablePattern();
}
