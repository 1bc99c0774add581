using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Storage;

namespace Commissable.Backup.Core.Export;

/// <summary>
/// The claims on backup names: one create-only object per name under <c>&lt;prefix&gt;/.names/</c>,
/// so of concurrent requests for one change in one minute exactly one exports to the name.
/// </summary>
internal sealed class BackupNameReservations(IBackupStore store, string prefix)
{
    /// <summary>A backup name's claim: the ticket that exports to it, the name itself, and when.</summary>
    public sealed record NameReservation(string Ticket, string ObjectName, DateTimeOffset ReservedAt);

    /// <summary>The claim on a backup name: one object per name, named by its hash (names are long and hold slashes).</summary>
    public string ObjectName(string backupObjectName) =>
        $"{prefix}/.names/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(backupObjectName)))[..32]}.json";

    /// <summary>
    /// Claims the backup's name for ticket <paramref name="id"/> with a create-only object. Returns
    /// the claim's generation when this call created it, null when the ticket already held it (a
    /// retry of the same request in the same minute); throws <see cref="BackupNameTakenException"/>
    /// when another request holds it.
    /// </summary>
    public async Task<long?> ReserveAsync(BackupObjectName name, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var claim = new NameReservation(id, name.Name, now);
        try
        {
            return await store.WriteJsonAsync(ObjectName(name.Name), claim, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (StorePreconditionFailedException)
        {
            var holder = await ReadAsync(name.Name, cancellationToken).ConfigureAwait(false);
            if (holder is not null && holder.Ticket == id && holder.ObjectName == name.Name)
            {
                return null;
            }
            throw Taken(name, now);
        }
    }

    /// <summary>The claim on a backup name, or null when there is none (or it is not readable).</summary>
    public Task<NameReservation?> ReadAsync(string backupObjectName, CancellationToken cancellationToken) =>
        store.ReadJsonOrNullAsync<NameReservation>(ObjectName(backupObjectName), cancellationToken);

    /// <summary>Gives up the claim this call made, unless it was already released or replaced.</summary>
    public Task ReleaseAsync(string backupObjectName, long generation) => store.TryDeleteAsync(ObjectName(backupObjectName), generation);

    /// <summary>The name is taken: when the next minute gives a new one.</summary>
    public BackupNameTakenException Taken(BackupObjectName name, DateTimeOffset now)
    {
        var nextMinute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        return new BackupNameTakenException($"gs://{store.Bucket}/{name.Name}", nextMinute - now + TimeSpan.FromSeconds(1));
    }
}
