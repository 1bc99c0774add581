using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Verification;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// The ports the functions reach databases through turn the driver's connection failures into
/// <see cref="DatabaseUnreachableException"/>, with the reason, so the functions need no Npgsql.
/// No server is needed: a socket directory with no server in it refuses at once.
/// </summary>
public sealed class DatabasePortTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ports-").FullName;
    private readonly DatabaseLoginOptions _login;

    public DatabasePortTests()
    {
        var passwordFile = Path.Combine(_directory, "password");
        File.WriteAllText(passwordFile, "not-used");
        Directory.CreateDirectory(Path.Combine(_directory, "sockets", "p:r:nobody-home"));
        _login = new DatabaseLoginOptions { User = "inspector", PasswordFile = passwordFile, SocketRoot = Path.Combine(_directory, "sockets") };
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static DatabaseInstance NobodyHome => new() { Name = "nobody-home", ConnectionName = "p:r:nobody-home" };

    [Fact]
    public async Task A_database_no_server_answers_for_is_unreachable_not_a_driver_error()
    {
        var checks = new PostgresRestoredDatabaseChecks(_login);

        var error = await Assert.ThrowsAsync<DatabaseUnreachableException>(() => checks.ServerVersionAsync(NobodyHome, "crm"));

        Assert.NotEmpty(error.Message);
        Assert.IsNotType<DatabaseUnreachableException>(error.InnerException);
    }

    [Fact]
    public async Task An_instance_without_an_address_is_unreachable_and_says_so()
    {
        var checks = new PostgresRestoredDatabaseChecks(_login with { SocketRoot = null });

        var error = await Assert.ThrowsAsync<DatabaseUnreachableException>(() => checks.ServerVersionAsync(new DatabaseInstance { Name = "no-ip" }, "crm"));

        Assert.Contains("Instance 'no-ip' has no IP address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_instance_without_a_socket_of_the_service_is_reached_at_its_private_address_and_one_without_either_is_refused_naming_both()
    {
        var scratch = new DatabaseInstance
        {
            Name = "prod-tr-1a2b3c4d",
            ConnectionName = "p:r:prod-tr-1a2b3c4d",
            IpAddresses = [new IpMapping { IpAddress = "34.1.2.3", Type = "PRIMARY" }, new IpMapping { IpAddress = "10.8.0.7", Type = "PRIVATE" }],
        };

        Assert.Equal(Path.Combine(_directory, "sockets", "p:r:nobody-home"), _login.Host(NobodyHome));
        Assert.Equal("10.8.0.7", _login.Host(scratch));
        var error = Assert.Throws<ArgumentException>(() => _login.Host(scratch with { IpAddresses = [new IpMapping { IpAddress = "34.1.2.3", Type = "PRIMARY" }] }));
        Assert.Contains("has no socket under", error.Message, StringComparison.Ordinal);
        Assert.Contains("no private IP address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grants_on_a_database_no_server_answers_for_are_unreachable()
    {
        var grants = new PostgresAppUserGrants(_login);

        await Assert.ThrowsAsync<DatabaseUnreachableException>(() => grants.GrantAsync(NobodyHome, "crm", "crm_app", ["postgres"], appUserOwns: false));
        Assert.Equal("inspector", grants.GrantingUser);
    }

    [Fact]
    public async Task A_cancelled_call_is_cancelled_not_unreachable()
    {
        var checks = new PostgresRestoredDatabaseChecks(_login);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => checks.ServerVersionAsync(NobodyHome, "crm", cancelled.Token));

        Assert.IsNotType<DatabaseUnreachableException>(error);
    }
}
