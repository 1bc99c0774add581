using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Commands.Operator;
using Commissable.Backup.Postgres.Access;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// The production guard compares servers by what their hosts resolve to, not by how they are
/// written: <c>localhost</c> is <c>127.0.0.1</c>, a socket directory is itself, and a host that
/// does not resolve cannot be shown not to be production. Every refusal here comes before any
/// connection, so no server is needed: the ports named are never contacted.
/// </summary>
public sealed class ProductionGuardTests
{
    private const string AppPassword = "guard-app-pw-0c4e2b";
    private const string AdminPassword = "guard-admin-pw-7d19a3";

    private static ProductionTargets Listed(params (string Host, int? Port)[] hosts) => new(new HashSet<string>(StringComparer.Ordinal), hosts);

    private static ProductionTargets Production(string[] instances, params (string Host, int? Port)[] hosts) => new(new HashSet<string>(instances, StringComparer.Ordinal), hosts);

    private static DatabaseEndpoint Target(string url) => DatabaseEndpoint.FromUrl(url, out _);

    public static TheoryData<string, string> ProductionTargetsWrittenAnotherWay() => new()
    {
        // The Cloud SQL Auth Proxy listed by address, the target by name, and the other way round.
        { "127.0.0.1:6543", $"postgresql://postgres:{AdminPassword}@localhost:6543/postgres" },
        { "localhost:6543", $"postgresql://postgres:{AdminPassword}@127.0.0.1:6543/postgres" },
        { "LOCALHOST", $"postgresql://postgres:{AdminPassword}@127.0.0.1:6543/postgres" },
        { "127.0.0.1:6543", $"postgresql://postgres:{AdminPassword}@[::ffff:127.0.0.1]:6543/postgres" },
        // Cloud SQL's socket directory, with a trailing slash, or a local socket on the proxy's port.
        { "/cloudsql/commissable-prod:europe-west1:prod", $"postgresql://postgres:{AdminPassword}@localhost/postgres?host=%2Fcloudsql%2Fcommissable-prod%3Aeurope-west1%3Aprod%2F" },
        { "/cloudsql/commissable-prod:europe-west1:prod:5432", $"postgresql://postgres:{AdminPassword}@localhost/postgres?host=%2Fcloudsql%2Fcommissable-prod%3Aeurope-west1%3Aprod" },
        { "127.0.0.1:6543", $"postgresql://postgres:{AdminPassword}@localhost:6543/postgres?host=%2Ftmp%2Fproxy" },
    };

    [Theory]
    [MemberData(nameof(ProductionTargetsWrittenAnotherWay))]
    public async Task Restore_refuses_a_production_server_however_its_host_is_written_before_anything_is_asked_or_started(string productionHosts, string targetUrl)
    {
        var asked = false;
        var typed = new StandardInput(Stream.Null, TextReader.Null, IsTerminal: true, _ => { asked = true; return AppPassword; });
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PROD_URL"] = targetUrl,
            ["PRODUCTION_HOSTS"] = productionHosts,
        };

        var run = await ChildProcessRecorder.RunAsync(["backup.dump", "--to-env", "PROD_URL", "--database", "crm_copy", "--app-user", "crm_app"], environment, typed);

        Assert.Equal(64, run.Exit);
        Assert.Contains("is listed in PRODUCTION_HOSTS; this command never writes to production", run.Error, StringComparison.Ordinal);
        Assert.False(asked);
        Assert.Empty(run.Children);
        Assert.DoesNotContain(AdminPassword, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_refuses_a_target_whose_host_does_not_resolve_because_it_cannot_be_shown_not_to_be_production()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PROD_URL"] = $"postgresql://postgres:{AdminPassword}@crm-db.does-not-resolve.invalid:6543/postgres",
            ["PRODUCTION_HOSTS"] = "127.0.0.1:6543",
            ["APP_PASSWORD"] = AppPassword,
        };

        var run = await ChildProcessRecorder.RunAsync(
            ["backup.dump", "--to-env", "PROD_URL", "--database", "crm_copy", "--app-user", "crm_app", "--app-password-env", "APP_PASSWORD"], environment);

        Assert.Equal(64, run.Exit);
        Assert.Contains("cannot be resolved, so it cannot be shown not to be one listed in PRODUCTION_HOSTS", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Children);
        Assert.DoesNotContain(AdminPassword, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_reads_PG_BIN_DIR_and_client_programs_missing_from_it_are_exit_69_before_any_server_is_contacted()
    {
        var empty = Directory.CreateTempSubdirectory("no-pg-bin-").FullName;
        var dump = Path.Combine(empty, "backup.dump");
        await File.WriteAllTextAsync(dump, "not read");
        try
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                // Port 1 answers nobody: had the command got as far as connecting, it would say so.
                ["STAGING_URL"] = $"postgresql://postgres:{AdminPassword}@127.0.0.1:1/postgres",
                ["PRODUCTION_HOSTS"] = "10.9.9.9",
                ["APP_PASSWORD"] = AppPassword,
                ["PG_BIN_DIR"] = empty,
            };

            var run = await ChildProcessRecorder.RunAsync(
                [dump, "--to-env", "STAGING_URL", "--database", "crm_copy", "--app-user", "crm_app", "--app-password-env", "APP_PASSWORD"], environment);

            Assert.Equal(69, run.Exit);
            Assert.Contains($"The directory '{empty}' does not hold pg_dump and pg_restore", run.Error, StringComparison.Ordinal);
            Assert.Contains("(PG_BIN_DIR names their directory)", run.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("->", run.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("could not reach", run.Error, StringComparison.Ordinal);
            Assert.Empty(run.Children);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task Restore_refuses_the_production_instance_reached_through_its_Cloud_SQL_socket_directory_without_an_instance_given()
    {
        // The README's own setup: production listed by its private IP and its instance ID, the
        // target the Cloud SQL Auth Proxy's socket directory of that very instance, no --instance.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["STAGING_ADMIN_URL"] = $"postgresql://postgres:{AdminPassword}@/postgres?host=/cloudsql/proj:us-central1:crm-prod",
            ["PRODUCTION_HOSTS"] = "10.1.0.5",
            ["PRODUCTION_INSTANCES"] = "crm-prod",
            ["APP_PASSWORD"] = AppPassword,
        };

        var run = await ChildProcessRecorder.RunAsync(
            ["backup.dump", "--to-env", "STAGING_ADMIN_URL", "--database", "crm", "--app-user", "crm_app", "--app-password-env", "APP_PASSWORD", "--recreate"], environment);

        Assert.Equal(64, run.Exit);
        Assert.Contains("is the instance 'crm-prod' (by its socket directory), which is listed in PRODUCTION_INSTANCES; this command never writes to production", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Children);
        Assert.DoesNotContain(AdminPassword, run.Output, StringComparison.Ordinal);
    }

    [Theory]
    // Cloud Run's and the Auth Proxy's /cloudsql, with a trailing slash, the proxy's --unix-socket
    // elsewhere, and a domain-scoped project (DOMAIN:PROJECT:REGION:INSTANCE).
    [InlineData("postgresql://postgres:pw-1@/postgres?host=/cloudsql/proj:us-central1:crm-prod")]
    [InlineData("postgresql://postgres:pw-1@localhost/postgres?host=%2Fcloudsql%2Fproj%3Aus-central1%3Acrm-prod%2F")]
    [InlineData("postgresql://postgres:pw-1@/postgres?host=/var/run/proxy/proj:us-central1:crm-prod")]
    [InlineData("postgresql://postgres:pw-1@/postgres?host=/cloudsql/example.com:proj:us-central1:crm-prod")]
    public async Task The_guard_refuses_a_socket_directory_that_names_an_instance_listed_in_PRODUCTION_INSTANCES(string url)
    {
        var refused = await Assert.ThrowsAsync<UsageException>(() => Production(["crm-prod"], ("10.1.0.5", null)).RefuseAsync(Target(url), null, "--to-env STAGING_ADMIN_URL"));

        Assert.Contains("is the instance 'crm-prod' (by its socket directory), which is listed in PRODUCTION_INSTANCES", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_guard_refuses_an_instance_that_a_socket_directory_listed_in_PRODUCTION_HOSTS_names_however_it_is_reached()
    {
        var production = Production([], ("/cloudsql/proj:us-central1:crm-prod", null));

        var bySocket = await Assert.ThrowsAsync<UsageException>(() => production.RefuseAsync(
            Target("postgresql://postgres:pw-1@/postgres?host=/var/run/proxy/proj:us-central1:crm-prod"), null, "--to-env STAGING_ADMIN_URL"));
        var byInstance = await Assert.ThrowsAsync<UsageException>(() => production.RefuseAsync(
            Target("postgresql://postgres:pw-1@10.2.3.4:5432/postgres"), "crm-prod", "--to-env STAGING_ADMIN_URL"));

        Assert.Contains("is the instance 'crm-prod' (by its socket directory), which is listed in PRODUCTION_HOSTS", bySocket.Message, StringComparison.Ordinal);
        Assert.Contains("the instance 'crm-prod' is listed in PRODUCTION_HOSTS", byInstance.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_guard_refuses_an_instance_given_that_is_not_the_one_the_socket_directory_names_naming_both()
    {
        var refused = await Assert.ThrowsAsync<UsageException>(() => Production(["crm-prod"], ("10.1.0.5", null)).RefuseAsync(
            Target("postgresql://postgres:pw-1@/postgres?host=/cloudsql/proj:us-central1:crm-prod"), "crm-staging", "--to-env STAGING_ADMIN_URL"));
        var neither = await Assert.ThrowsAsync<UsageException>(() => Production(["crm-prod"], ("10.1.0.5", null)).RefuseAsync(
            Target("postgresql://postgres:pw-1@/postgres?host=/cloudsql/proj:us-central1:crm-staging"), "crm-staging-2", "--to-env STAGING_ADMIN_URL"));

        Assert.Contains("the instance 'crm-prod' (by its socket directory), which is listed in PRODUCTION_INSTANCES", refused.Message, StringComparison.Ordinal);
        Assert.StartsWith("--to-env STAGING_ADMIN_URL: the server postgres@/cloudsql/proj:us-central1:crm-staging:5432 is the instance 'crm-staging' (by its socket directory), but --instance is 'crm-staging-2'", neither.Message, StringComparison.Ordinal);
    }

    [Theory]
    // The instance the socket names, given or not, and a socket directory that names no instance.
    [InlineData("postgresql://postgres:pw-1@/postgres?host=/cloudsql/proj:us-central1:crm-staging", null)]
    [InlineData("postgresql://postgres:pw-1@/postgres?host=/cloudsql/proj:us-central1:crm-staging", "crm-staging")]
    [InlineData("postgresql://postgres:pw-1@/postgres?host=/tmp/crm-prod", null)]
    public async Task The_guard_lets_a_socket_directory_of_another_instance_through(string url, string? instance)
    {
        await Production(["crm-prod"], ("10.1.0.5", null), ("/cloudsql/proj:us-central1:crm-prod", null)).RefuseAsync(Target(url), instance, "--to-env STAGING_ADMIN_URL");
    }

    [Theory]
    [InlineData("127.0.0.1", 6543, "postgresql://postgres:pw-1@localhost:6543/postgres")]
    [InlineData("localhost", null, "postgresql://postgres:pw-1@127.0.0.1:5432/postgres")]
    [InlineData("/cloudsql/p:r:prod", null, "postgresql://postgres:pw-1@localhost/postgres?host=%2Fcloudsql%2Fp%3Ar%3Aprod")]
    public async Task The_guard_refuses_the_same_server_by_address_or_socket_directory(string host, int? port, string url)
    {
        var refused = await Assert.ThrowsAsync<UsageException>(() => Listed((host, port)).RefuseAsync(Target(url), null, "--to-env PROD_URL"));

        Assert.Contains("is listed in PRODUCTION_HOSTS", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Another loopback address, another port, another socket directory, a socket on another port: other servers.
    [InlineData("127.0.0.1", 6543, "postgresql://postgres:pw-1@127.0.0.2:6543/postgres")]
    [InlineData("127.0.0.1", 6543, "postgresql://postgres:pw-1@localhost:5432/postgres")]
    [InlineData("/cloudsql/p:r:prod", null, "postgresql://postgres:pw-1@localhost/postgres?host=%2Fcloudsql%2Fp%3Ar%3Astaging")]
    [InlineData("127.0.0.1", 6543, "postgresql://postgres:pw-1@localhost:5433/postgres?host=%2Ftmp")]
    // A listed name that does not resolve here can still be compared by name, and is not the target.
    [InlineData("prod.invalid", null, "postgresql://postgres:pw-1@127.0.0.1:5432/postgres")]
    public async Task The_guard_lets_another_server_through(string host, int? port, string url)
    {
        await Listed((host, port)).RefuseAsync(Target(url), null, "--to-env STAGING_URL");
    }
}
