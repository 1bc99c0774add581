using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;

namespace Commissable.Backup.Cli.Tests.Executions;

/// <summary>
/// tenant-restore start sends exactly the argument workflows/tenant-restore.yaml reads, to the right
/// workflow, and refuses every bad value with exit 64 and a message naming the option, before any request.
/// </summary>
public sealed class TenantRestoreStartTests : CliHarness
{
    private const string Prefix = "v1/projects/commissable-prod/locations/europe-west1/workflows/";

    private static readonly string[] Minimal =
    [
        "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod", "--tenant", "acme-42",
        "--point-in-time", "2025-03-01T09:30:00Z",
    ];

    [Fact]
    public async Task With_a_point_in_time_it_sends_exactly_the_tenant_restore_argument_with_the_defaults()
    {
        var code = await TenantRestoreStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod", "--tenant", "Acme Corp",
            "--point-in-time", "2025-03-01T10:30:00+01:00", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        var expected = new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["database"] = "crm",
            ["tenantId"] = "Acme Corp",
            ["pointInTime"] = "2025-03-01T09:30:00Z",
            ["mode"] = "missing-only",
        };
        Assert.Equal(expected.ToJsonString(), SentArgument().ToJsonString());
        Assert.Equal(Prefix + "tenant-restore/executions", Assert.Single(Api.Requests).PathAndQuery);
        Assert.Empty(Api.Violations);
        var name = Out.ToString().Trim();
        Assert.Matches("^projects/commissable-prod/locations/europe-west1/workflows/tenant-restore/executions/[^/]+$", name);
        Assert.Contains($"follow it with: commissable-backup executions watch {name} ", Error.ToString(), StringComparison.Ordinal);
        AssertNoSecretsPrinted();
    }

    [Fact]
    public async Task From_a_backup_in_report_mode_it_sends_the_backup_and_every_optional_field()
    {
        const string Backup = "gs://commissable-backups/backups/prod/prod/backup_20250301_0930_prod_before_add-index.sql.gz";
        var code = await TenantRestoreStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod", "--tenant", "acme-42",
            "--backup", Backup, "--database", "crm_main", "--mode", "report", "--approval-timeout", "3600",
            "--requested-by", "alice (ticket 4711)", "--workflow", "tenant-restore-v2", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        var expected = new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["database"] = "crm_main",
            ["tenantId"] = "acme-42",
            ["backup"] = Backup,
            ["mode"] = "report",
            ["approvalTimeoutSeconds"] = 3600,
            ["requestedBy"] = "alice (ticket 4711)",
        };
        Assert.Equal(expected.ToJsonString(), SentArgument().ToJsonString());
        Assert.Equal(Prefix + "tenant-restore-v2/executions", Api.Requests[0].PathAndQuery);
    }

    [Fact]
    public async Task From_a_backup_run_in_exact_mode_it_sends_the_runs_id_as_a_string()
    {
        var code = await TenantRestoreStartCommand.RunAsync(
        [
            "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod", "--tenant", "7",
            "--backup-run", "1709251200000", "--mode", "exact", .. Connection,
        ], Context());

        Assert.Equal(0, code);
        Assert.Equal("""{"sourceInstance":"prod","database":"crm","tenantId":"7","backupRunId":"1709251200000","mode":"exact"}""", SentArgument().ToJsonString());
    }

    [Fact]
    public async Task With_watch_it_follows_the_execution_to_its_result()
    {
        Api.Script.Add(new JsonObject { ["state"] = "SUCCEEDED", ["result"] = """{"tenantId":"acme-42","outcome":"applied"}""", ["duration"] = "312.5s" });

        var code = await TenantRestoreStartCommand.RunAsync([.. Minimal, "--watch", .. Connection], Context());

        Assert.Equal(0, code);
        Assert.Equal("applied", (string?)JsonNode.Parse(string.Join('\n', Out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..]))!["outcome"]);
        Assert.Contains("execution SUCCEEDED after 312.5s", Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_prints_the_usage_with_the_three_restore_points_and_succeeds()
    {
        Assert.Equal(0, await TenantRestoreStartCommand.RunAsync(["--help"], Context()));

        var help = Out.ToString();
        Assert.Contains("tenant-restore start --project P --location L --source I --tenant ID", help, StringComparison.Ordinal);
        Assert.Contains("(--point-in-time T | --backup gs://BUCKET/OBJECT | --backup-run ID)", help, StringComparison.Ordinal);
        Assert.Contains("--mode MODE", help, StringComparison.Ordinal);
        Assert.Contains("(default missing-only)", help, StringComparison.Ordinal);
        Assert.Contains("(default tenant-restore)", help, StringComparison.Ordinal);
        Assert.Contains("--tenant ID", help, StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    public static TheoryData<string, string[], string> Cases() => new()
    {
        { "missing project", Without(Minimal, "--project"), "--project is required" },
        { "bad location", With(Minimal, "--location", "europe"), "--location 'europe' is not a Google Cloud region" },
        { "missing source", Without(Minimal, "--source"), "--source is required" },
        { "bad source", With(Minimal, "--source", "Prod"), "--source 'Prod' is not a Cloud SQL instance name" },
        { "missing tenant", Without(Minimal, "--tenant"), "--tenant is required" },
        { "empty tenant", With(Minimal, "--tenant", ""), "--tenant must be the tenant's id as it is stored in the tenant column: 1 to 200 characters (got 0)" },
        { "tenant too long", With(Minimal, "--tenant", new string('t', 201)), "--tenant must be the tenant's id as it is stored in the tenant column: 1 to 200 characters (got 201)" },
        { "tenant with a newline", With(Minimal, "--tenant", "acme\n"), "--tenant 'acme?' must not contain control characters" },
        { "tenant of spaces", With(Minimal, "--tenant", "   "), "--tenant must be the tenant's id as it is stored in the tenant column, not only spaces" },
        { "no restore point", Without(Minimal, "--point-in-time"), "give exactly one of --point-in-time (RFC 3339 with an offset), --backup-run (a backup run ID) and --backup (the gs:// URI of a backup)" },
        { "two restore points", [.. Minimal, "--backup-run", "42"], "give exactly one of --point-in-time" },
        { "three restore points", [.. Minimal, "--backup-run", "42", "--backup", "gs://b-1/x.sql.gz"], "give exactly one of --point-in-time" },
        { "time without offset", With(Minimal, "--point-in-time", "2025-03-01T09:30:00"), "--point-in-time '2025-03-01T09:30:00' is not an RFC 3339 time with an offset" },
        { "future time", With(Minimal, "--point-in-time", "2025-03-01T13:00:00Z"), "--point-in-time 2025-03-01T13:00:00Z is in the future" },
        { "too old", With(Minimal, "--point-in-time", "2025-01-01T00:00:00Z"), "--point-in-time 2025-01-01T00:00:00Z is more than 35 days ago" },
        { "bad backup run", [.. Without(Minimal, "--point-in-time"), "--backup-run", "latest"], "--backup-run 'latest' is not a backup run ID" },
        { "not a gs uri", [.. Without(Minimal, "--point-in-time"), "--backup", "s3://bucket/backup.sql.gz"], "--backup is not a Cloud Storage object URI such as gs://BUCKET/backups/...: 's3://bucket/backup.sql.gz' does not start with gs://" },
        { "backup with dot segments", [.. Without(Minimal, "--point-in-time"), "--backup", "gs://b-1/../x.sql.gz"], "has an empty, '.' or '..' segment" },
        { "bad database", [.. Minimal, "--database", "crm;drop"], "--database 'crm;drop' is not a database name" },
        { "bad mode", [.. Minimal, "--mode", "all"], "--mode 'all' is not one of missing-only (put back the tenant's rows that are gone), exact (also revert changed rows and remove rows created since), report (plan only, write nothing)" },
        { "mode in capitals", [.. Minimal, "--mode", "REPORT"], "--mode 'REPORT' is not one of missing-only" },
        { "short approval timeout", [.. Minimal, "--approval-timeout", "59"], "--approval-timeout '59' must be a whole number of seconds from 60 to 2592000" },
        { "long approval timeout", [.. Minimal, "--approval-timeout", "2592001"], "--approval-timeout '2592001' must be a whole number of seconds from 60 to 2592000" },
        { "empty requester", [.. Minimal, "--requested-by", ""], "--requested-by must be who asked for the restore: 1 to 200 characters (got 0)" },
        { "requester with a tab", [.. Minimal, "--requested-by", "a\tb"], "--requested-by 'a?b' must not contain control characters" },
        { "bad workflow", [.. Minimal, "--workflow", "1-tr"], "--workflow '1-tr' is not a workflow ID" },
        { "dr option", [.. Minimal, "--new-instance", "prod-2"], "unknown option --new-instance" },
        { "option twice", [.. Minimal, "--tenant", "other"], "--tenant is given twice" },
        { "stray argument", [.. Minimal, "now"], "unexpected argument 'now'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_refused_before_any_request(string why, string[] args, string expected)
    {
        var code = await TenantRestoreStartCommand.RunAsync([.. args, .. Connection], Context());

        Assert.True(code == 64, $"{why}: exit {code}");
        Assert.StartsWith("tenant-restore start: ", Error.ToString(), StringComparison.Ordinal);
        Assert.Contains(expected, Error.ToString().Split('\n')[0], StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
        Assert.Equal("", Out.ToString());
    }

    [Fact]
    public async Task The_valid_baseline_passes_so_each_case_fails_for_its_own_reason()
    {
        Assert.Equal(0, await TenantRestoreStartCommand.RunAsync([.. Minimal, .. Connection], Context()));
        Assert.Single(Api.Requests);
    }
}
