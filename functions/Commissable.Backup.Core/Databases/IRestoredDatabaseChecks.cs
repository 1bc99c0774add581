using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Databases;

/// <summary>
/// What restore verification asks of a database it checks (a scratch restore, or a database checked
/// in place): can it be reached, and is it what the manifest says the source held. Only reads.
/// </summary>
public interface IRestoredDatabaseChecks
{
    /// <summary>Logs in to <paramref name="database"/> of <paramref name="instance"/> and asks for the server's version.</summary>
    /// <returns>The server version, as PostgreSQL reports it (<c>15.8</c>).</returns>
    /// <exception cref="DatabaseUnreachableException">The database could not be reached or logged in to; the message says why.</exception>
    Task<string?> ServerVersionAsync(DatabaseInstance instance, string database, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs the smoke checks on <paramref name="database"/> of <paramref name="instance"/>, read-only,
    /// in their fixed order. A check that fails, or cannot run, is a failed result, never an exception.
    /// </summary>
    /// <param name="recorded">What the manifest recorded of the source; null when nothing was (checks that need it pass saying so).</param>
    Task<IReadOnlyList<CheckResult>> RunAsync(
        DatabaseInstance instance, string database, DatabaseSnapshot? recorded, RestoreCheckOptions options, CancellationToken cancellationToken = default);
}
