using Commissable.Backup.Core.Files;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A temporary directory only this account can enter (0700), for the few files a dump needs on
/// disk (a directory export's table of contents, a password file); removed with everything in it.
/// </summary>
internal sealed class PrivateDirectory : IDisposable
{
    private PrivateDirectory(string path) => Path = path;

    public string Path { get; }

    public static PrivateDirectory Create(string prefix) => new(OwnerOnly.CreateTempDirectory(prefix));

    /// <summary>A new private subdirectory.</summary>
    public string CreateSubdirectory(string name) => OwnerOnly.CreateDirectory(System.IO.Path.Combine(Path, name));

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
