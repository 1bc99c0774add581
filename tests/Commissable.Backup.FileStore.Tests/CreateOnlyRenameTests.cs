using Commissable.Backup.FileStore;

namespace Commissable.Backup.FileStore.Tests;

public sealed class CreateOnlyRenameTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cor-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_free_name_receives_the_file()
    {
        var temp = Write(".tmp-1", "new");
        var target = Path.Combine(_directory, "object");

        Assert.True(CreateOnlyRename.TryPlace(temp, target));
        Assert.Equal("new", File.ReadAllText(target));
    }

    [Fact]
    public void An_existing_file_is_never_replaced()
    {
        // What File.Move(overwrite: false) cannot promise when the target appears after its check.
        var target = Write("object", "first");
        var temp = Write(".tmp-2", "second");

        Assert.False(CreateOnlyRename.TryPlace(temp, target));
        Assert.Equal("first", File.ReadAllText(target));
    }

    [Fact]
    public void An_existing_directory_is_never_replaced()
    {
        var target = Directory.CreateDirectory(Path.Combine(_directory, "export.dir")).FullName;
        var temp = Write(".tmp-3", "file");

        Assert.False(CreateOnlyRename.TryPlace(temp, target));
        Assert.True(Directory.Exists(target));
    }
}
