using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Databases;

/// <summary>
/// What restore verification asks of a database it checks (a scratch restore, or a database checked
/// in place): can it be reached, and is it usable on its own terms. Only reads.
/// </summary>
public interface IRestoredDatabaseChecks
{
    /// <summary>Logs in to <paramref name="database"/> of <paramref name="instance"/> and asks for the server's version.</summary>
    /// <returns>The server version, as PostgreSQL reports it (<c>15.8</c>).</returns>
    /// <exception cref="DatabaseUnreachableException">The database could not be reached or logged in to; the message says why.</exception>
    Task<string?> ServerVersionAsync(DatabaseInstance instance, string database, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs the checks of <paramref name="database"/> of <paramref name="instance"/> on its own terms,
    /// read-only, in their fixed order: migrations finished, every sequence past the columns that
    /// draw from it, critical tables non-empty. A check that fails, or cannot run, is a failed
    /// result, never an exception. (What the database holds is compared with the backup by the
    /// content comparison, not here.)
    /// </summary>
    Task<IReadOnlyList<CheckResult>> RunAsync(
        DatabaseInstance instance, string database, RestoreCheckOptions options, CancellationToken cancellationToken = default);
}
