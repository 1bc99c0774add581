using Commissable.Backup.Core.Files;

namespace Commissable.Backup.Core.Tests.Files;

/// <summary>Owner-only files and directories are never reachable by others, not even for a moment.</summary>
public sealed class OwnerOnlyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("core-owner-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_new_file_has_mode_0600_from_its_creation_before_anything_is_written()
    {
        var path = Path.Combine(_directory, "probe");
        using (var stream = OwnerOnly.CreateFile(path))
        {
            // Open and still empty: the mode it has now is the one it was created with, not one set afterwards.
            Assert.Equal(0, stream.Length);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void A_file_that_exists_is_never_opened_nor_overwritten()
    {
        var path = Path.Combine(_directory, "existing");
        File.WriteAllText(path, "kept");

        Assert.Throws<IOException>(() => OwnerOnly.WriteNewFile(path, "secret"));

        Assert.Equal("kept", File.ReadAllText(path));
    }

    [Fact]
    public void A_link_planted_at_the_name_is_not_followed()
    {
        var target = Path.Combine(_directory, "elsewhere");
        var link = Path.Combine(_directory, "planted");
        File.CreateSymbolicLink(link, target);

        Assert.Throws<IOException>(() => OwnerOnly.WriteNewFile(link, "secret"));

        Assert.False(File.Exists(target));
    }

    [Fact]
    public void Written_text_is_read_back_whole()
    {
        var path = Path.Combine(_directory, "password");

        OwnerOnly.WriteNewFile(path, "pässword\n");

        Assert.Equal("pässword\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_directory_that_existed_wider_is_narrowed_to_0700()
    {
        var path = Path.Combine(_directory, "wide");
        Directory.CreateDirectory(path);
        // Set after creating it: a umask such as 077 would have narrowed a create mode already.
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);

        Assert.Equal(path, OwnerOnly.CreateDirectory(path));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_new_directory_is_0700()
    {
        var path = OwnerOnly.CreateDirectory(Path.Combine(_directory, "a", "b"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_temporary_directory_is_new_empty_and_0700()
    {
        var first = OwnerOnly.CreateTempDirectory("core-owner-temp-");
        var second = OwnerOnly.CreateTempDirectory("core-owner-temp-");
        try
        {
            Assert.NotEqual(first, second);
            Assert.Empty(Directory.EnumerateFileSystemEntries(first));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(first));
        }
        finally
        {
            Directory.Delete(first);
            Directory.Delete(second);
        }
    }
}
