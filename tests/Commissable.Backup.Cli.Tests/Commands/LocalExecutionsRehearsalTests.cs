using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// The production path rehearsed offline: after a drill, <c>local up</c> serves the Workflow
/// Executions API, <c>dr start --endpoint ... --watch</c> starts workflows/disaster-recovery.yaml
/// through it and follows it, and an operator approves by POSTing to the callback URL the
/// workflow logged; the secrets then point at the new instance and the watch ends SUCCEEDED.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed partial class LocalExecutionsRehearsalTests : IDisposable
{
    private readonly LocalUpRun _up = new();

    [Fact]
    public async Task Dr_start_through_the_local_executions_api_is_approved_by_a_post_to_its_callback_and_swaps_the_secrets()
    {
        var prefix = Commissable.Testing.LocalCloudFixture.NextAddressPrefix();
        Assert.Equal(0, await DrillCommand.RunAsync(["--state", _up.State, "--port", "0", "--address-prefix", prefix]));
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var context = new CommandContext(output, errors, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
        const string Url = "postgresql://crm_app:pw@localhost/crm?host=/cloudsql/drill-project:us-central1:prod";
        foreach (var secret in new[] { "crm-database-url", "crm-direct-url" })
        {
            Assert.Equal(0, await SecretsPutCommand.RunAsync([secret, "--state", _up.State], context, new MemoryStream(Encoding.UTF8.GetBytes(Url)), null));
        }
        // The point in time is printed to the second: let the clock pass the drill's last write.
        await Task.Delay(1100);
        var pointInTime = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        await _up.StartAsync(prefix);
        var endpoint = _up.Executions;
        var tokenFile = _up.TokenFile;
        // Without the CRM's keys in its environment, local up says data-management cannot check tokens.
        Assert.Contains("data-management: answers 503 until DATA_MANAGEMENT_ISSUER", _up.Out.ToString(), StringComparison.Ordinal);

        var start = DrStartCommand.RunAsync(["--project", "drill-project", "--location", "us-central1", "--point-in-time", pointInTime,
            "--source", "prod", "--new-instance", "prod-restored-2", "--database-url-secret", "crm-database-url", "--direct-url-secret", "crm-direct-url",
            "--watch", "--endpoint", endpoint, "--access-token-file", tokenFile], context);

        // The workflow logs where to approve; local up prints each execution's sys.log lines.
        var approvalNeeded = _up.Out.WhenMatches(CallbackPattern());
        if (await Task.WhenAny(approvalNeeded, start).WaitAsync(TimeSpan.FromMinutes(10)) != approvalNeeded)
        {
            Assert.Fail($"dr start ended before the approval: exit {await start}\n{output}\n{errors}\n{_up.Out}");
        }
        var callback = (await approvalNeeded).Groups["url"].Value;
        Assert.StartsWith(endpoint + "v1/projects/drill-project/locations/us-central1/workflows/disaster-recovery/executions/", callback, StringComparison.Ordinal);
        using (var http = new HttpClient())
        {
            using var approve = new HttpRequestMessage(HttpMethod.Post, callback)
            {
                Content = new StringContent("{\"approved\": true, \"approvedBy\": \"sre-on-call\"}", Encoding.UTF8, "application/json"),
            };
            approve.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(tokenFile)).Trim());
            using var answer = await http.SendAsync(approve);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        var exit = await start.WaitAsync(TimeSpan.FromMinutes(10));
        Assert.True(exit == 0, $"{output}\n{errors}\n{_up.Out}");
        var secrets = Path.Combine(_up.State, "secrets", "drill-project");
        foreach (var secret in new[] { "crm-database-url", "crm-direct-url" })
        {
            Assert.Contains("drill-project:us-central1:prod-restored-2", await File.ReadAllTextAsync(Path.Combine(secrets, secret, "2")), StringComparison.Ordinal);
        }
        // The watch reports the states on stderr and ends with the workflow's result on stdout.
        Assert.Contains("SUCCEEDED", errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("prod-restored-2", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("crm_app:pw", output.ToString() + _up.Out, StringComparison.Ordinal);

        Assert.Equal(0, await _up.StopAsync());
    }

    [Fact]
    public async Task Clone_staging_start_through_the_local_executions_api_loads_staging_and_ends_succeeded()
    {
        var prefix = Commissable.Testing.LocalCloudFixture.NextAddressPrefix();
        Assert.Equal(0, await DrillCommand.RunAsync(["--state", _up.State, "--port", "0", "--address-prefix", prefix]));
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var context = new CommandContext(output, errors, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
        const string Password = "staging-app-pw-51c9";
        Assert.Equal(0, await SecretsPutCommand.RunAsync(["staging-app-password", "--state", _up.State], context, new MemoryStream(Encoding.UTF8.GetBytes(Password)), null));
        await _up.StartAsync(prefix);
        var endpoint = _up.Executions;

        // A staging instance (not production-labelled) on the local cloud local up serves.
        await using (var stack = new Commissable.Backup.Cli.Local.LocalStack(_up.State, _up.CloudPort, prefix))
        {
            await stack.StartCloudAsync();
            using var sql = stack.CloudSql();
            var created = await sql.InsertInstanceAsync(new Commissable.Backup.Core.CloudSql.DatabaseInstance
            {
                Name = "staging",
                DatabaseVersion = "POSTGRES_15",
                RootPassword = stack.RootPassword(),
                Settings = new Commissable.Backup.Core.CloudSql.Settings { Tier = "db-custom-1-3840", UserLabels = new Dictionary<string, string> { ["env"] = "staging" } },
            });
            var done = await sql.WaitForOperationAsync(created, TimeSpan.FromMinutes(3));
            Assert.Null(done.Error);
        }

        var exit = await CloneStagingStartCommand.RunAsync(["--project", "drill-project", "--location", "us-central1", "--source", "prod",
            "--staging-instance", "staging", "--staging-database", "crm_staging", "--app-user", "crm_app", "--app-password-secret", "staging-app-password",
            "--critical-table", "Tenant", "--watch", "--endpoint", endpoint, "--access-token-file", _up.TokenFile], context);

        Assert.True(exit == 0, $"{output}\n{errors}\n{_up.Out}");
        Assert.Contains("SUCCEEDED", errors.ToString(), StringComparison.Ordinal);
        var result = JsonNode.Parse(output.ToString()[output.ToString().IndexOf('{', StringComparison.Ordinal)..])!;
        Assert.True((bool)result["exported"]!, result.ToJsonString());
        Assert.NotEmpty(result["checks"]!.AsArray());
        Assert.All(result["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.DoesNotContain(Password, output.ToString() + errors + _up.Out, StringComparison.Ordinal);

        Assert.Equal(0, await _up.StopAsync());
    }

    [GeneratedRegex(@"APPROVAL NEEDED: .*? to (?<url>http://127\.0\.0\.1:\d+/\S+/callbacks/[0-9a-f]{32})")]
    private static partial Regex CallbackPattern();

    public void Dispose() => _up.Dispose();
}
