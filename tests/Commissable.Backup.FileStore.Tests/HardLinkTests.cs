using Commissable.Backup.FileStore;

namespace Commissable.Backup.FileStore.Tests;

public sealed class HardLinkTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("link-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_free_name_becomes_a_second_name_of_the_same_file()
    {
        var existing = Path.Combine(_directory, "a");
        File.WriteAllText(existing, "content");
        var second = Path.Combine(_directory, "b");

        Assert.Equal(0, HardLink.TryCreate(existing, second));
        File.AppendAllText(existing, " and more");
        Assert.Equal("content and more", File.ReadAllText(second));
    }

    [Fact]
    public void A_taken_name_is_left_alone_and_reported_as_EEXIST()
    {
        var existing = Path.Combine(_directory, "a");
        File.WriteAllText(existing, "new");
        var taken = Path.Combine(_directory, "b");
        File.WriteAllText(taken, "old");

        Assert.Equal(HardLink.TargetExists, HardLink.TryCreate(existing, taken));
        Assert.Equal("old", File.ReadAllText(taken));
    }

    [Fact]
    public void A_missing_file_is_another_errno()
    {
        var errno = HardLink.TryCreate(Path.Combine(_directory, "absent"), Path.Combine(_directory, "b"));

        Assert.NotEqual(0, errno);
        Assert.NotEqual(HardLink.TargetExists, errno);
        Assert.False(File.Exists(Path.Combine(_directory, "b")));
    }
}
