using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Backups.Content;

public interface IBackupContentReader
{
    Task<BackupContent> ReadBackupAsync(string objectName, string? format, DumpReadOptions options, CancellationToken cancellationToken = default);
    Task<BackupContent> ReadDatabaseAsync(DatabaseInstance instance, string database, DumpReadOptions options, CancellationToken cancellationToken = default);
}
