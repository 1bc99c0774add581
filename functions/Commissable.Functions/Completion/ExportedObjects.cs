using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;

namespace Commissable.Functions.Completion;

/// <summary>
/// The exports in the backup bucket as the completion functions see them: which backup an object
/// (or export URI) belongs to, its format, the files of a directory-format export, and the
/// manifest an export's record starts from.
/// </summary>
internal sealed class ExportedObjects(BackupCatalog catalog, IBackupStore store)
{
    /// <summary>The manifest kind of an export the completion functions record.</summary>
    public const string ScheduledExport = "scheduled-export";

    // pg_dump writes a directory-format archive's table of contents last: its arrival completes the directory.
    public const string DirectoryTableOfContents = "toc.dat";

    /// <summary>
    /// The backup an object (or export URI) belongs to, whether the object is a file inside a
    /// directory-format export, or why it is not a backup this function records.
    /// </summary>
    public (BackupObjectName? Name, bool DirectoryFile, string? Reason) Resolve(string objectName)
    {
        var root = catalog.Prefix + "/";
        if (!objectName.StartsWith(root, StringComparison.Ordinal))
        {
            return (null, false, $"outside the backup prefix '{root}'");
        }
        var rest = objectName[root.Length..];
        if (rest.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            return (null, false, "not named as a backup: the name has an empty, '.' or '..' segment");
        }
        if (rest.Split('/').Any(segment => segment.StartsWith('.')))
        {
            return (null, false, "a catalog side object (export requests, leases)");
        }
        if (objectName.EndsWith(BackupObjectName.ManifestSuffix, StringComparison.Ordinal)
            || objectName.Contains(BackupObjectName.VerificationsSuffix, StringComparison.Ordinal)
            || objectName.Contains(BackupObjectName.HoldsSuffix, StringComparison.Ordinal))
        {
            return (null, false, "a catalog side object (manifest, verification record or hold)");
        }

        var directoryFile = false;
        if (!BackupObjectName.TryParse(objectName, catalog.Prefix, out var name))
        {
            var slash = objectName.LastIndexOf('/');
            if (slash <= 0 || !BackupObjectName.TryParse(objectName[..slash], catalog.Prefix, out name) || name!.Extension.Length != 0)
            {
                return (null, false, "not named as a backup (<prefix>/<env>/<instance>/backup_YYYYMMDD_HHmm_<env>_<label>[.sql.gz|.sql|.dump])");
            }
            directoryFile = true;
        }
        if (name!.Change is not null)
        {
            return (null, false, "a pre-deploy export (before_ label), which records itself with a richer manifest");
        }
        return (name, directoryFile, null);
    }

    /// <summary>The files of a directory-format export.</summary>
    public async Task<List<StoredObject>> ListDirectoryAsync(BackupObjectName name, CancellationToken cancellationToken)
    {
        var files = new List<StoredObject>();
        await foreach (var item in store.ListAsync(name.Name + "/", cancellationToken).ConfigureAwait(false))
        {
            files.Add(item);
        }
        return files;
    }

    /// <summary>The manifest of an export as its name tells it; the caller adds what the store says.</summary>
    public BackupManifest Manifest(BackupObjectName name, string format) => new()
    {
        Uri = $"gs://{catalog.Bucket}/{name.Name}",
        Kind = ScheduledExport,
        Environment = name.Environment,
        SourceInstance = name.Instance,
        Format = format,
        StartTime = name.Time,
        EndTime = name.Time,
    };

    /// <summary>The export format an object's extension stands for (none: a directory).</summary>
    public static string FormatOf(string extension) => extension switch
    {
        ".sql.gz" => "SQL_GZIP",
        ".sql" => "SQL",
        ".dump" => "CUSTOM",
        _ => "DIRECTORY",
    };
}
