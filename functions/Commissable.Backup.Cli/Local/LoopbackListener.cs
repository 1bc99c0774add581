using System.Globalization;

namespace Commissable.Backup.Cli.Local;

/// <summary>
/// Who listens on a loopback TCP port, read from the kernel's socket table (<c>/proc/net/tcp</c>),
/// so a local cloud already listening is reused only when it is this account's: any local account
/// can bind a free port, and whatever listens there would be sent the local cloud's token and the
/// drill's <c>postgres</c> password.
/// </summary>
internal static class LoopbackListener
{
    private const string ListenState = "0A";

    /// <summary>
    /// Why the listener on 127.0.0.1:<paramref name="port"/> must not be reused, or null when it
    /// belongs to <paramref name="uid"/>. A port the table shows no listener for is refused too:
    /// nothing shows whose it is.
    /// </summary>
    /// <param name="port">The port something answered on.</param>
    /// <param name="socketTable">The text of <c>/proc/net/tcp</c>.</param>
    /// <param name="uid">This process's effective user id.</param>
    public static string? ReuseProblem(int port, string socketTable, long uid)
    {
        ArgumentNullException.ThrowIfNull(socketTable);
        var owners = Owners(port, socketTable).ToList();
        if (owners.Count == 0)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"something answers on 127.0.0.1:{port}, but the kernel's socket table shows no IPv4 listener there, so nothing shows it is this account's local cloud");
        }
        var other = owners.FirstOrDefault(owner => owner != uid, uid);
        return other == uid
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"127.0.0.1:{port} is held by another account (uid {other}): it would be sent the local cloud's token and the drill's postgres password");
    }

    /// <summary>The reason for the port in this process, read from <c>/proc</c>; null when it is this account's.</summary>
    public static string? ReuseProblem(int port) =>
        ReuseProblem(port, File.ReadAllText("/proc/net/tcp"), EffectiveUid(File.ReadAllText("/proc/self/status")));

    /// <summary>The effective user id from the text of <c>/proc/self/status</c> (its <c>Uid:</c> line: real, effective, saved, file system).</summary>
    public static long EffectiveUid(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var line = status.Split('\n').FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            ?? throw new InvalidDataException("the process status has no Uid: line");
        var fields = line["Uid:".Length..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            ? uid
            : throw new InvalidDataException("the process status's Uid: line does not hold an effective user id");
    }

    /// <summary>The user ids of the sockets listening on <paramref name="port"/> at 127.0.0.1 or 0.0.0.0 (both answer on loopback).</summary>
    private static IEnumerable<long> Owners(int port, string socketTable)
    {
        var hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        // Addresses are in the kernel's byte order, as /proc prints them: 127.0.0.1 is 0100007F.
        string[] addresses = [$"0100007F:{hexPort}", $"00000000:{hexPort}"];
        foreach (var line in socketTable.Split('\n').Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 7
                && addresses.Contains(fields[1], StringComparer.OrdinalIgnoreCase)
                && string.Equals(fields[3], ListenState, StringComparison.Ordinal)
                && long.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var owner))
            {
                yield return owner;
            }
        }
    }
}
