using System.Runtime.Versioning;
using System.Text;

namespace Commissable.Backup.Core.Files;

/// <summary>
/// Files and directories that hold customer data, passwords or tokens: readable by their owner only
/// (files 0600, directories 0700), from the moment they exist. A file written with the umask's mode
/// and narrowed afterwards is readable by anyone for that moment; a directory that already existed
/// keeps whatever mode it had unless it is narrowed again; these do neither.
/// </summary>
[SupportedOSPlatform("linux")]
public static class OwnerOnly
{
    /// <summary>0600.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0700.</summary>
    public const UnixFileMode DirectoryMode = FileMode | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates <paramref name="path"/>, which must not exist (an existing file, or a link planted
    /// there, is an <see cref="IOException"/>), mode 0600 from the start, open for writing and
    /// shared with no one.
    /// </summary>
    /// <param name="path">The new file.</param>
    /// <param name="bufferSize">The stream's buffer (0 or 1: none, for callers that write whole buffers).</param>
    /// <param name="options"><see cref="FileOptions.Asynchronous"/> for asynchronous writers.</param>
    public static FileStream CreateFile(string path, int bufferSize = 4096, FileOptions options = FileOptions.None)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new FileStream(path, new FileStreamOptions
        {
            Mode = System.IO.FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = FileMode,
            BufferSize = bufferSize,
            Options = options,
        });
    }

    /// <summary>Creates <paramref name="path"/> (it must not exist), mode 0600, holding <paramref name="content"/>, flushed to disk.</summary>
    public static void WriteNewFile(string path, ReadOnlySpan<byte> content)
    {
        using var file = CreateFile(path);
        file.Write(content);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Creates <paramref name="path"/> (it must not exist), mode 0600, holding <paramref name="text"/> in UTF-8, flushed to disk.</summary>
    public static void WriteNewFile(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteNewFile(path, Encoding.UTF8.GetBytes(text));
    }

    /// <summary>
    /// Creates <paramref name="path"/> and its missing parents, and sets the last one to 0700 whether
    /// it was created now or existed (.NET applies a create mode to a new last level only). Parents it
    /// creates get the umask's mode: callers put owner-only directories inside one that is already so,
    /// or in a place (such as /tmp) others must keep reaching.
    /// </summary>
    /// <returns><paramref name="path"/>.</returns>
    public static string CreateDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(path, DirectoryMode);
        if (File.GetUnixFileMode(path) != DirectoryMode)
        {
            File.SetUnixFileMode(path, DirectoryMode);
        }
        return path;
    }

    /// <summary>
    /// A new, empty, uniquely named directory under the system's temporary directory, 0700
    /// (<c>mkdtemp(3)</c> creates it so; set again so no platform can widen it).
    /// </summary>
    /// <returns>Its full path.</returns>
    public static string CreateTempDirectory(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        File.SetUnixFileMode(path, DirectoryMode);
        return path;
    }
}
