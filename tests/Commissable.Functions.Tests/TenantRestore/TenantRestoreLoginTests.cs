using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;

namespace Commissable.Functions.Tests.TenantRestore;

/// <summary>How tenant-restore's login is read from the environment: both variables, neither, or a start-up error naming the missing one.</summary>
public sealed class TenantRestoreLoginTests
{
    [Fact]
    public void Neither_variable_set_means_no_login_and_the_function_answers_503()
    {
        Assert.Null(BackupFunctions.TenantRestoreLogin(new DictionaryEnvironment(new Dictionary<string, string?>())));
        Assert.Null(BackupFunctions.TenantRestoreLogin(new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["TENANT_RESTORE_DB_USER"] = " ", ["TENANT_RESTORE_DB_PASSWORD_FILE"] = "",
        })));
    }

    [Fact]
    public void Both_set_make_the_login_with_the_socket_root_of_the_other_logins()
    {
        var login = BackupFunctions.TenantRestoreLogin(new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["TENANT_RESTORE_DB_USER"] = "crm_owner", ["TENANT_RESTORE_DB_PASSWORD_FILE"] = "/secrets/tenant-restore", ["CLOUDSQL_SOCKET_ROOT"] = "/cloudsql",
        }));

        Assert.NotNull(login);
        Assert.Equal(("crm_owner", "/secrets/tenant-restore", "/cloudsql"), (login.User, login.PasswordFile, login.SocketRoot));
    }

    [Theory]
    [InlineData("TENANT_RESTORE_DB_USER", "TENANT_RESTORE_DB_PASSWORD_FILE")]
    [InlineData("TENANT_RESTORE_DB_PASSWORD_FILE", "TENANT_RESTORE_DB_USER")]
    public void Only_one_set_stops_the_start_naming_the_other(string set, string missing)
    {
        var error = Assert.Throws<FunctionStartupException>(() => BackupFunctions.TenantRestoreLogin(new DictionaryEnvironment(new Dictionary<string, string?> { [set] = "x" })));

        Assert.Equal([missing], error.Variables);
        Assert.StartsWith($"{missing} must be set too", error.Message, StringComparison.Ordinal);
    }
}
