using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;

namespace Commissable.Backup.Cli.Tests.Executions;

/// <summary>dr start and clone-staging start send exactly the workflow argument, to the right workflow.</summary>
public sealed class StartCommandTests : CliHarness
{
    private const string Prefix = "v1/projects/commissable-prod/locations/europe-west1/workflows/";

    [Fact]
    public async Task Dr_start_with_a_point_in_time_sends_exactly_the_disaster_recovery_argument()
    {
        var code = await DrStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--point-in-time", "2025-03-01T10:30:00+01:00",
            "--source", "prod", "--new-instance", "prod-restored-0301",
            "--database-url-secret", "crm-database-url", "--direct-url-secret", "crm-direct-url", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        var expected = new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["pointInTime"] = "2025-03-01T09:30:00Z",
            ["newInstance"] = "prod-restored-0301",
            ["database"] = "crm",
            ["databaseUrlSecret"] = "crm-database-url",
            ["directUrlSecret"] = "crm-direct-url",
        };
        Assert.Equal(expected.ToJsonString(), SentArgument().ToJsonString());
        Assert.Equal(Prefix + "disaster-recovery/executions", Api.Requests[0].PathAndQuery);
        Assert.Single(Api.Requests);
        Assert.Empty(Api.Violations);

        var name = Out.ToString().Trim();
        Assert.Matches("^projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions/[^/]+$", name);
        Assert.Contains($"follow it with: commissable-backup executions watch {name} --endpoint {Api.BaseUri.AbsoluteUri} --access-token-file ", Error.ToString(), StringComparison.Ordinal);
        AssertNoSecretsPrinted();
    }

    [Fact]
    public async Task Dr_start_from_a_backup_run_sends_its_id_as_a_string_with_the_optional_fields()
    {
        var code = await DrStartCommand.RunAsync(
        [
            "--project=commissable-prod", "--location", "europe-west1", "--backup-run", "1709251200000",
            "--source", "prod", "--new-instance", "prod-r1", "--database", "crm_main", "--workflow", "dr-v2",
            "--database-url-secret", "db-url", "--direct-url-secret", "direct-url",
            "--critical-table", "Invoice", "--critical-table", "public.Tenant", "--approval-timeout", "3600", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        var expected = new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["backupRunId"] = "1709251200000",
            ["newInstance"] = "prod-r1",
            ["database"] = "crm_main",
            ["databaseUrlSecret"] = "db-url",
            ["directUrlSecret"] = "direct-url",
            ["approvalTimeoutSeconds"] = 3600,
            ["criticalTables"] = new JsonArray("Invoice", "public.Tenant"),
        };
        Assert.Equal(expected.ToJsonString(), SentArgument().ToJsonString());
        Assert.Equal(Prefix + "dr-v2/executions", Api.Requests[0].PathAndQuery);
    }

    [Fact]
    public async Task Clone_staging_start_with_a_backup_sends_exactly_the_clone_argument()
    {
        var code = await CloneStagingStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod",
            "--backup", "gs://commissable-backups/backups/prod/prod/backup_20250301_0930_prod_before_add-index.sql.gz",
            "--staging-instance", "staging", "--staging-database", "crm_staging", "--app-user", "crm_app",
            "--app-password-secret", "staging-app-password", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        var expected = new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["sourceDatabase"] = "crm",
            ["backup"] = "gs://commissable-backups/backups/prod/prod/backup_20250301_0930_prod_before_add-index.sql.gz",
            ["stagingInstance"] = "staging",
            ["stagingDatabase"] = "crm_staging",
            ["appUser"] = "crm_app",
            ["appPasswordSecret"] = "staging-app-password",
        };
        Assert.Equal(expected.ToJsonString(), SentArgument().ToJsonString());
        Assert.Equal(Prefix + "clone-prod-to-staging/executions", Api.Requests[0].PathAndQuery);
        Assert.Empty(Api.Violations);
        AssertNoSecretsPrinted();
    }

    [Fact]
    public async Task Clone_staging_start_without_a_backup_leaves_the_fresh_export_to_the_workflow()
    {
        var code = await CloneStagingStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod", "--source-database", "crm2",
            "--staging-instance", "staging", "--staging-database", "crm", "--app-user", "crm_app",
            "--app-password-secret", "pw", "--critical-table", "Invoice", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        var sent = SentArgument();
        Assert.False(sent.ContainsKey("backup"));
        Assert.Equal(
            ["sourceInstance", "sourceDatabase", "stagingInstance", "stagingDatabase", "appUser", "appPasswordSecret", "criticalTables"],
            sent.Select(p => p.Key));
        Assert.Equal("crm2", (string?)sent["sourceDatabase"]);
    }

    [Fact]
    public async Task Clone_staging_start_with_owner_app_user_asks_the_workflow_to_make_the_app_user_the_owner()
    {
        var code = await CloneStagingStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod",
            "--staging-instance", "staging", "--staging-database", "crm_staging", "--app-user", "crm_app",
            "--app-password-secret", "pw", "--owner", "app-user", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        var sent = SentArgument();
        Assert.Equal(
            ["sourceInstance", "sourceDatabase", "stagingInstance", "stagingDatabase", "appUser", "appPasswordSecret", "appUserOwns"],
            sent.Select(p => p.Key));
        Assert.True((bool)sent["appUserOwns"]!);
        Assert.Empty(Api.Violations);
    }

    [Fact]
    public async Task Start_with_watch_follows_the_execution_to_its_result()
    {
        Api.Script.Add(new JsonObject { ["state"] = "SUCCEEDED", ["result"] = """{"newInstance":"prod-r1","swapped":true}""", ["duration"] = "754.2s" });

        var code = await DrStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--backup-run", "42", "--source", "prod",
            "--new-instance", "prod-r1", "--database-url-secret", "a", "--direct-url-secret", "b", "--watch", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        Assert.Equal([TimeSpan.FromSeconds(1)], Waits);
        var lines = Out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("projects/commissable-prod/", lines[0], StringComparison.Ordinal);
        Assert.True((bool)JsonNode.Parse(string.Join('\n', lines[1..]))!["swapped"]!);
        Assert.Contains("2025-03-01T12:00:00Z  ACTIVE", Error.ToString(), StringComparison.Ordinal);
        Assert.Contains("2025-03-01T12:00:00Z  SUCCEEDED", Error.ToString(), StringComparison.Ordinal);
        Assert.Contains("execution SUCCEEDED after 754.2s", Error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("follow it with", Error.ToString(), StringComparison.Ordinal);
        AssertNoSecretsPrinted();
    }

    [Fact]
    public async Task An_API_refusal_exits_69_with_Googles_message()
    {
        Api.FailNext(404, "notFound", "Resource 'projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery' was not found");

        var code = await DrStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--backup-run", "42", "--source", "prod",
            "--new-instance", "prod-r1", "--database-url-secret", "a", "--direct-url-secret", "b", .. Connection,
        ], Context());

        Assert.Equal(69, code);
        Assert.Contains("Workflow Executions API answered 404 (notFound): Resource 'projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery' was not found", Error.ToString(), StringComparison.Ordinal);
        Assert.Equal("", Out.ToString());
        AssertNoSecretsPrinted();
    }

    [Fact]
    public async Task Help_prints_the_usage_and_succeeds()
    {
        Assert.Equal(0, await DrStartCommand.RunAsync(["--help"], Context()));
        Assert.Equal(0, await CloneStagingStartCommand.RunAsync(["-h"], Context()));
        Assert.Contains("--point-in-time T | --backup-run ID", Out.ToString(), StringComparison.Ordinal);
        Assert.Contains("--staging-instance I", Out.ToString(), StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }
}
