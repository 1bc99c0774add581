using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Retention;
using Commissable.Functions.Tests.Retention;

namespace Commissable.Functions.Tests.Catalog;

/// <summary>catalog through the real host: complete backups only, newest first, metadata only.</summary>
public sealed class CatalogFunctionTests(SweeperEnvironment env) : IClassFixture<SweeperEnvironment>
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private static async Task<(HttpStatusCode Status, JsonObject Body, string Text)> GetAsync(SweeperHost host, string query = "")
    {
        using var response = await host.Client.GetAsync("/catalog" + query);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject(), text);
    }

    [Fact]
    public async Task The_catalog_lists_complete_backups_newest_first_with_their_metadata_and_no_content()
    {
        await using var host = await env.CreateHostAsync();
        var newest = SweeperHost.PreDeploy("add-index", 2 * Day);
        var verified = SweeperHost.PreDeploy("change-v", 40 * Day);
        var held = SweeperHost.PreDeploy("change-h", 90 * Day);
        var scheduled = SweeperHost.Scheduled(10 * Day);
        await host.WritePreDeployAsync(held);
        await host.WritePreDeployAsync(newest);
        await host.WritePreDeployAsync(verified);
        await host.WriteBackupAsync(scheduled, BackupKinds.ScheduledExport);
        await host.VerifyAsync(verified, passed: true, verified.Time.AddHours(1));
        await host.VerifyAsync(verified, passed: false, verified.Time.AddHours(5), "row-counts", "sequences");
        var hold = await host.HoldAsync(held, held.Time.AddDays(2));
        await host.WritePreDeployAsync(SweeperHost.PreDeploy("crashed", 5 * Day), withManifest: false);

        var (status, body, text) = await GetAsync(host);

        Assert.True(status == HttpStatusCode.OK, text);
        var backups = body["backups"]!.AsArray();
        string Uri(Commissable.Backup.Core.Backups.BackupObjectName n) => $"gs://{host.Bucket}/{n.Name}";
        Assert.Equal([Uri(newest), Uri(scheduled), Uri(verified), Uri(held)], backups.Select(b => (string)b!["uri"]!));
        Assert.Equal(4, (int)body["count"]!);
        Assert.False((bool)body["truncated"]!);

        var first = backups[0]!;
        Assert.Equal("pre-deploy-export", (string?)first["kind"]);
        Assert.Equal("prod", (string?)first["environment"]);
        Assert.Equal("prod", (string?)first["instance"]);
        Assert.Equal(["crm"], first["databases"]!.AsArray().Select(d => (string)d!));
        Assert.Equal(newest.Time, (DateTimeOffset)first["startTime"]!);
        Assert.Equal(newest.Time.AddMinutes(3), (DateTimeOffset)first["endTime"]!);
        Assert.True((long)first["sizeBytes"]! > 0);
        Assert.Equal("add-index", (string?)first["trigger"]!["change"]);
        Assert.Equal("abc123", (string?)first["trigger"]!["commitSha"]);
        Assert.Equal("run-7", (string?)first["trigger"]!["pipelineRunId"]);
        Assert.Equal("ci@example.com", (string?)first["trigger"]!["requestedBy"]);
        Assert.Equal("20250101000000_init", (string?)first["migrationHead"]);
        Assert.Equal(2, (int)first["tenantCount"]!);
        Assert.Empty(first["holds"]!.AsArray());
        Assert.Null(first["lastVerification"]);

        var last = backups[2]!["lastVerification"]!;
        Assert.False((bool)last["passed"]!);
        Assert.Equal(verified.Time.AddHours(5), (DateTimeOffset)last["startTime"]!);
        Assert.Equal(["row-counts", "sequences"], last["failedChecks"]!.AsArray().Select(c => (string)c!));
        Assert.Equal(2, (int)backups[2]!["verificationCount"]!);

        var holds = backups[3]!["holds"]!.AsArray();
        Assert.Equal(hold.Id, (string?)Assert.Single(holds)!["id"]);
        Assert.Equal("incident INC-42", (string?)holds[0]!["reason"]);

        // Metadata only: no content, no tenant ids or row counts, no idempotency key, no link to the data.
        Assert.DoesNotContain("-- pg_dump of", text, StringComparison.Ordinal);
        foreach (var forbidden in new[] { "tenant-a", "rowCounts", "tenantIds", "idempotencyKey", "secret-ish-key", "signedUrl", "download", "https://", "md5Hash" })
        {
            Assert.DoesNotContain(forbidden, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Filters_select_by_environment_and_instance_and_limit_truncates()
    {
        await using var host = await env.CreateHostAsync();
        await host.WritePreDeployAsync(SweeperHost.PreDeploy("a", 1 * Day));
        await host.WritePreDeployAsync(SweeperHost.PreDeploy("b", 2 * Day));
        await host.WritePreDeployAsync(SweeperHost.PreDeploy("c", 3 * Day, instance: "prod-replica"));
        await host.WritePreDeployAsync(SweeperHost.PreDeploy("d", 4 * Day, environment: "staging", instance: "stg"));

        var (_, staging, _) = await GetAsync(host, "?environment=staging");
        Assert.Equal(["stg"], staging["backups"]!.AsArray().Select(b => (string)b!["instance"]!));

        var (_, replica, _) = await GetAsync(host, "?instance=prod-replica");
        Assert.Equal(["c"], replica["backups"]!.AsArray().Select(b => (string)b!["trigger"]!["change"]!));

        var (_, prod, _) = await GetAsync(host, "?environment=prod&instance=prod");
        Assert.Equal(["a", "b"], prod["backups"]!.AsArray().Select(b => (string)b!["trigger"]!["change"]!));

        var (_, limited, _) = await GetAsync(host, "?limit=2");
        Assert.Equal(["a", "b"], limited["backups"]!.AsArray().Select(b => (string)b!["trigger"]!["change"]!));
        Assert.True((bool)limited["truncated"]!);

        var (_, none, _) = await GetAsync(host, "?environment=dev");
        Assert.Empty(none["backups"]!.AsArray());
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=1001", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?limit=5&limit=6", "limit")]
    [InlineData("?instance=../prod", "instance")]
    [InlineData("?instance=Prod", "instance")]
    [InlineData("?environment=prod/x", "environment")]
    [InlineData("?bucket=other", "bucket")]
    public async Task A_bad_query_is_a_400_that_names_the_parameter(string query, string parameter)
    {
        await using var host = await env.CreateHostAsync();
        var (status, body, _) = await GetAsync(host, query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(parameter, (string)body["error"]!["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_get_is_accepted()
    {
        await using var host = await env.CreateHostAsync();
        using var response = await host.Client.PostAsync("/catalog", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
