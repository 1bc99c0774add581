using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Export;

/// <summary>Reads the databases of an instance (the snapshot the manifest records before an export).</summary>
public interface IDatabaseInspector
{
    /// <summary>
    /// Reads the snapshot, every statement waiting at most <paramref name="limits"/> for a lock and
    /// running at most its statement limit; throws <see cref="DatabaseWaitExceededException"/> when
    /// one is exceeded, and stops when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    Task<DatabaseSnapshot> SnapshotAsync(DatabaseInstance instance, string database, DatabaseWaitLimits limits, CancellationToken cancellationToken = default);
}
