using System.Text.RegularExpressions;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Secrets;

/// <summary>How an instance is named in it.</summary>
public enum InstanceMention
{
    /// <summary>Neither by connection name nor by address.</summary>
    None,

    /// <summary>By its connection name (<c>project:region:instance</c>), e.g. a Cloud SQL socket path.</summary>
    ConnectionName,

    /// <summary>By its first IP address as a URL host: <c>@address:</c> or <c>@address/</c>.</summary>
    Address,
}

/// <summary>
/// The rule the disaster recovery applies to the app's connection secrets (DATABASE_URL,
/// DIRECT_URL): a secret names an instance by its connection name, or by its first address as the
/// host of a URL (<c>@address:</c> or <c>@address/</c>); pointing it at another instance replaces
/// both. A connection name counts only as a whole name: <c>p:r:prod</c> is not named by
/// <c>p:r:prod-restored-1</c>, so a retried swap neither sees the old instance in the new name nor
/// rewrites the new name again. Pure text rules: no value ever leaves through here.
/// </summary>
public static class ConnectionSecret
{
    /// <summary>How <paramref name="value"/> names <paramref name="instance"/>, if it does.</summary>
    public static InstanceMention Mentions(string value, DatabaseInstance instance)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.ConnectionName is { Length: > 0 } connection && ConnectionNamePattern(connection).IsMatch(value))
        {
            return InstanceMention.ConnectionName;
        }

        return FirstAddress(instance) is { } address
            && (value.Contains("@" + address + ":", StringComparison.Ordinal) || value.Contains("@" + address + "/", StringComparison.Ordinal))
            ? InstanceMention.Address
            : InstanceMention.None;
    }

    /// <summary>
    /// <paramref name="value"/> with <paramref name="from"/>'s connection name replaced by
    /// <paramref name="to"/>'s and, when both have an address, <c>@from-address:</c>/<c>@from-address/</c>
    /// by <paramref name="to"/>'s.
    /// </summary>
    public static string Repoint(string value, DatabaseInstance from, DatabaseInstance to)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var updated = value;
        if (from.ConnectionName is { Length: > 0 } oldName && to.ConnectionName is { Length: > 0 } newName)
        {
            updated = ConnectionNamePattern(oldName).Replace(updated, newName.Replace("$", "$$", StringComparison.Ordinal));
        }

        if (FirstAddress(from) is { } oldAddress && FirstAddress(to) is { } newAddress)
        {
            updated = updated
                .Replace("@" + oldAddress + ":", "@" + newAddress + ":", StringComparison.Ordinal)
                .Replace("@" + oldAddress + "/", "@" + newAddress + "/", StringComparison.Ordinal);
        }

        return updated;
    }

    private static string? FirstAddress(DatabaseInstance instance) =>
        instance.IpAddresses is { Count: > 0 } addresses && addresses[0].IpAddress is { Length: > 0 } address ? address : null;

    // Whole names only: no name character (project ids may hold '.' and ':') right before or after.
    private static Regex ConnectionNamePattern(string connectionName) =>
        new($"(?<![A-Za-z0-9.:_-]){Regex.Escape(connectionName)}(?![A-Za-z0-9_-])", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}
