using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Backups.Content;

/// <summary>
/// Reads content manifests (<see cref="BackupContent"/>): of a backup object, from its own bytes
/// in one streaming pass, whatever its format; and of a database as it is now, read the same way
/// (a plain pg_dump of it), so a restore can be compared with its backup.
/// </summary>
public interface IBackupContentReader
{
    /// <summary>The content manifest of a backup object.</summary>
    /// <param name="objectName">The object as named in the bucket; for a directory-format export, its prefix.</param>
    /// <param name="format">The manifest's format (<c>SQL</c>, <c>SQL_GZIP</c>, <c>CUSTOM</c>, <c>DIRECTORY</c>); null tells it from the object's bytes.</param>
    /// <param name="options">The tenant column and the time zone the dump was written in.</param>
    /// <param name="cancellationToken">Stops the read; nothing is left running or on disk.</param>
    /// <exception cref="Storage.StoredObjectNotFoundException">No such object (nor a directory export under that prefix).</exception>
    /// <exception cref="IOException">The object could not be read whole (damaged, cut off, a data file missing).</exception>
    /// <exception cref="InvalidDataException">The object's text is not a complete pg_dump.</exception>
    Task<BackupContent> ReadBackupAsync(string objectName, string? format, DumpReadOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// The same manifest of a database as it is now (a pg_dump of it, in
    /// <see cref="DumpReadOptions.TimeZone"/>), for comparing a restore with its backup.
    /// </summary>
    /// <exception cref="IOException">pg_dump could not read the database (the message says why, never a password).</exception>
    Task<BackupContent> ReadDatabaseAsync(DatabaseInstance instance, string database, DumpReadOptions options, CancellationToken cancellationToken = default);
}
