namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A temporary directory only this account can enter (0700), for the few files a dump needs on
/// disk (a directory export's table of contents, a password file); removed with everything in it.
/// </summary>
internal sealed class PrivateDirectory : IDisposable
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private PrivateDirectory(string path) => Path = path;

    public string Path { get; }

    public static PrivateDirectory Create(string prefix)
    {
        // mkdtemp(3) creates it 0700 already; said again so no umask or platform can widen it.
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        File.SetUnixFileMode(path, DirectoryMode);
        return new PrivateDirectory(path);
    }

    /// <summary>A new private subdirectory.</summary>
    public string CreateSubdirectory(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path, DirectoryMode);
        return path;
    }

    /// <summary>Creates a file only this account can read, failing if it exists.</summary>
    public static FileStream CreatePrivateFile(string path) => new(path, new FileStreamOptions
    {
        Mode = System.IO.FileMode.CreateNew,
        Access = FileAccess.Write,
        Share = FileShare.None,
        UnixCreateMode = FileMode,
    });

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
