using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Naming;
namespace Commissable.Backup.FileStore;

/// <summary>
/// Maps <c>gs://bucket/object</c> to <c>&lt;state&gt;/buckets/bucket/object</c>. A URI that is not
/// gs://, names an invalid bucket, or whose object path escapes its bucket is refused. Buckets hold
/// every tenant's backups: their directories and objects are the owner's alone (<see cref="OwnerOnly"/>).
/// </summary>
public sealed class BucketPaths(string stateDirectory)
{
    public string Root { get; } = Path.Combine(stateDirectory, "buckets");

    /// <summary>
    /// Creates the buckets directory (0700) and takes away what group and others could reach in it:
    /// directories 0700, files 0600, including those an earlier version left readable.
    /// </summary>
    public void Prepare()
    {
        Directory.CreateDirectory(Root, OwnerOnly.DirectoryMode);
        Restrict(Root);
    }

    /// <summary>
    /// Creates <paramref name="directory"/> (inside the buckets directory) and any missing parent
    /// below the buckets directory, each 0700 (.NET applies a create mode to the last one only).
    /// </summary>
    public void CreatePrivateDirectory(string directory)
    {
        Directory.CreateDirectory(directory, OwnerOnly.DirectoryMode);
        var root = Path.GetFullPath(Root);
        for (var current = Path.GetFullPath(directory);
             current.Length > root.Length && current.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
             current = Path.GetDirectoryName(current)!)
        {
            try
            {
                if (File.GetUnixFileMode(current) != OwnerOnly.DirectoryMode)
                {
                    File.SetUnixFileMode(current, OwnerOnly.DirectoryMode);
                }
            }
            catch (FileNotFoundException error)
            {
                // A concurrent delete pruned it, now empty: the caller creates it again.
                throw new DirectoryNotFoundException(error.Message, error);
            }
        }
    }

    /// <summary>Sets <paramref name="path"/> and everything below it to 0700 (directories) and 0600 (files); links are left alone.</summary>
    public static void Restrict(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null) return;
        if (Directory.Exists(path))
        {
            File.SetUnixFileMode(path, OwnerOnly.DirectoryMode);
            foreach (var entry in new DirectoryInfo(path).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
            {
                entry.UnixFileMode = entry is DirectoryInfo ? OwnerOnly.DirectoryMode : OwnerOnly.FileMode;
            }
        }
        else if (info.Exists)
        {
            File.SetUnixFileMode(path, OwnerOnly.FileMode);
        }
    }

    public string BucketDirectory(string bucket) => Path.Combine(Root, bucket);

    /// <summary>The local file (or directory) for a gs:// URI; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public string Resolve(string? uri)
    {
        // A directory export names its directory with a trailing '/'.
        if (!GcsUri.TryParse(uri, out var parsed, out var problem, allowDirectory: true))
        {
            throw new ArgumentException($"The URI is not a Cloud Storage object URI gs://<bucket>/<object>: {problem}.");
        }
        // GcsUri refuses '.' and '..' segments; the check below keeps the path inside the bucket whatever the file system does.
        var bucketDirectory = Path.GetFullPath(BucketDirectory(parsed.Bucket));
        var full = Path.GetFullPath(Path.Combine(bucketDirectory, parsed.ObjectName));
        if (!full.StartsWith(bucketDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The object name in '{parsed}' escapes bucket '{parsed.Bucket}'.");
        }
        return full;
    }
}
