using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.LocalCloud;

/// <summary>How the local cloud is started (command line: <c>--port</c>, <c>--state</c>, <c>--address-prefix</c>).</summary>
public sealed record LocalCloudOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; } = 8123;

    /// <summary>Everything the local cloud keeps: token, instances, backups, buckets, operations.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>
    /// First three octets of the loopback addresses given to instances (<c>127.0.1</c> gives
    /// 127.0.1.2, 127.0.1.3, ...); each instance listens on port 5432 of its own address.
    /// </summary>
    public string AddressPrefix { get; init; } = DefaultAddressPrefix;

    public const string DefaultAddressPrefix = "127.0.1";

    /// <summary>
    /// Null when <paramref name="prefix"/> is three octets inside 127.0.0.0/8 (<c>127.B.C</c>, each
    /// 0-255, no leading zeros), else a message that says what is accepted. Instances listen only there.
    /// </summary>
    public static string? AddressPrefixProblem(string? prefix, string option = "--address-prefix")
    {
        var parts = prefix?.Split('.');
        var valid = parts is ["127", var b, var c] && IsOctet(b) && IsOctet(c);
        return valid ? null : $"{option} '{prefix}' must be three octets inside 127.0.0.0/8, for example {DefaultAddressPrefix}.";

        static bool IsOctet(string text) =>
            text.Length is >= 1 and <= 3 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0')
            && int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) <= 255;
    }

    public required PostgresBinaries Binaries { get; init; }

    /// <summary>Unix account the clusters run as (set when the process is root).</summary>
    public string? RunAs { get; init; } = PostgresCluster.DefaultRunAs();

    /// <summary>Stop the clusters when the local cloud shuts down gracefully (the default).</summary>
    public bool StopClustersOnShutdown { get; init; } = true;

    /// <summary>How often the scheduler looks for due automated backups and expired logs.</summary>
    public TimeSpan SchedulerInterval { get; init; } = TimeSpan.FromSeconds(30);
}
