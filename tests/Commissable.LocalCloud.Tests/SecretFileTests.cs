using Commissable.LocalCloud.State;

namespace Commissable.LocalCloud.Tests;

/// <summary>The local cloud's secret files (the bearer token, each instance's admin.secret) are never readable by others (created through OwnerOnly, whose own tests show the mode is set at creation).</summary>
public sealed class SecretFileTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _directory = Directory.CreateTempSubdirectory("lct-secret-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_written_secret_replaces_the_file_whole_with_mode_0600_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_directory, "instances", "x", "admin.secret");
        AtomicFile.WriteSecret(path, "first");
        AtomicFile.WriteSecret(path, "second");

        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
