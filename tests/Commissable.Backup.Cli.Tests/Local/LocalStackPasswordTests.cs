using Commissable.Backup.Cli.Local;

namespace Commissable.Backup.Cli.Tests.Local;

/// <summary>The local root password file: owner-only from its creation, and tightened when an earlier run left it wider.</summary>
public sealed class LocalStackPasswordTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = OwnerOnly | UnixFileMode.UserExecute;

    private readonly string _state = Directory.CreateTempSubdirectory("local-stack-pw-").FullName;

    private string Drill => Path.Combine(_state, "drill");

    private string PasswordFile => Path.Combine(Drill, "root-password");

    [Fact]
    public async Task A_new_password_file_is_0600_in_a_0700_directory_and_the_same_password_is_read_back()
    {
        await using var stack = new LocalStack(_state, 0);

        var password = stack.RootPassword();

        Assert.Matches("^[0-9a-f]{36}$", password);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(PasswordFile));
        Assert.Equal(OwnerDirectory, File.GetUnixFileMode(Drill));
        Assert.Equal(["root-password"], Directory.GetFileSystemEntries(Drill).Select(Path.GetFileName));
        Assert.Equal(password, stack.RootPassword());
    }

    [Fact]
    public async Task A_password_file_and_directory_left_readable_by_others_are_tightened_and_the_password_kept()
    {
        // As an earlier run left them when it died between writing the file and its chmod.
        Directory.CreateDirectory(Drill);
        File.SetUnixFileMode(Drill, OwnerDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        await File.WriteAllTextAsync(PasswordFile, "0123456789abcdef0123456789abcdef0123");
        File.SetUnixFileMode(PasswordFile, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await using var stack = new LocalStack(_state, 0);

        var password = stack.RootPassword();

        Assert.Equal("0123456789abcdef0123456789abcdef0123", password);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(PasswordFile));
        Assert.Equal(OwnerDirectory, File.GetUnixFileMode(Drill));
    }

    public void Dispose() => Directory.Delete(_state, recursive: true);
}
