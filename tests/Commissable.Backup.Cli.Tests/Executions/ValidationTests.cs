using Commissable.Backup.Cli.Commands;

namespace Commissable.Backup.Cli.Tests.Executions;

/// <summary>Every bad input is refused with exit 64 and a message naming the option, before any request.</summary>
public sealed class ValidationTests : CliHarness
{
    private static readonly string[] Dr =
    [
        "--project", "commissable-prod", "--location", "europe-west1", "--point-in-time", "2025-03-01T09:30:00Z",
        "--source", "prod", "--new-instance", "prod-r1", "--database-url-secret", "db-url", "--direct-url-secret", "direct-url",
    ];

    private static readonly string[] Clone =
    [
        "--project", "commissable-prod", "--location", "europe-west1", "--source", "prod",
        "--staging-instance", "staging", "--staging-database", "crm_staging", "--app-user", "crm_app", "--app-password-secret", "pw",
    ];

    public static TheoryData<string, string[], string> DrCases() => new()
    {
        { "missing project", Without(Dr, "--project"), "--project is required" },
        { "bad project", With(Dr, "--project", "Commissable_Prod"), "--project 'Commissable_Prod' is not a Google Cloud project ID" },
        { "bad location", With(Dr, "--location", "europe"), "--location 'europe' is not a Google Cloud region" },
        { "both recovery points", [.. Dr, "--backup-run", "42"], "exactly one of --point-in-time" },
        { "no recovery point", Without(Dr, "--point-in-time"), "exactly one of --point-in-time" },
        { "time without T", With(Dr, "--point-in-time", "2025-03-01 09:30:00Z"), "--point-in-time '2025-03-01 09:30:00Z' is not an RFC 3339 time" },
        { "time without offset", With(Dr, "--point-in-time", "2025-03-01T09:30:00"), "--point-in-time '2025-03-01T09:30:00' is not an RFC 3339 time with an offset" },
        { "impossible date", With(Dr, "--point-in-time", "2025-02-30T09:30:00Z"), "--point-in-time '2025-02-30T09:30:00Z' is not a valid date" },
        { "future time", With(Dr, "--point-in-time", "2025-03-01T13:00:00+00:00"), "--point-in-time 2025-03-01T13:00:00Z is in the future" },
        { "too old", With(Dr, "--point-in-time", "2025-01-01T00:00:00Z"), "--point-in-time 2025-01-01T00:00:00Z is more than 35 days ago" },
        { "bad backup run", [.. Without(Dr, "--point-in-time"), "--backup-run", "latest"], "--backup-run 'latest' is not a backup run ID" },
        { "negative backup run", [.. Without(Dr, "--point-in-time"), "--backup-run=-5"], "--backup-run '-5' is not a backup run ID" },
        { "bad source", With(Dr, "--source", "Prod"), "--source 'Prod' is not a Cloud SQL instance name" },
        { "source with a trailing newline", With(Dr, "--source", "prod\n"), "--source 'prod?' is not a Cloud SQL instance name" },
        { "database with a trailing newline", [.. Dr, "--database", "crm\n"], "--database 'crm?' is not a database name" },
        { "bad new instance", With(Dr, "--new-instance", "prod-r1-"), "--new-instance 'prod-r1-' is not a Cloud SQL instance name" },
        { "instance name too long", With(Dr, "--new-instance", "p" + new string('r', 90)), "--new-instance 'p" },
        { "new instance is the source", With(Dr, "--new-instance", "prod"), "--new-instance must differ from --source" },
        { "secret as a path", With(Dr, "--database-url-secret", "projects/p/secrets/db-url"), "--database-url-secret 'projects/p/secrets/db-url' is not a Secret Manager secret ID" },
        { "missing direct url secret", Without(Dr, "--direct-url-secret"), "--direct-url-secret is required" },
        { "bad database", [.. Dr, "--database", "crm;drop"], "--database 'crm;drop' is not a database name" },
        { "bad workflow", [.. Dr, "--workflow", "1-dr"], "--workflow '1-dr' is not a workflow ID" },
        { "bad critical table", [.. Dr, "--critical-table", "a.b.c"], "--critical-table 'a.b.c' is not a table name" },
        { "bad approval timeout", [.. Dr, "--approval-timeout", "5"], "--approval-timeout '5' must be a whole number of seconds" },
        { "bad endpoint", [.. Dr, "--endpoint", "localhost:8080"], "--endpoint 'localhost:8080' is not an http or https URL" },
        { "missing token file", [.. Dr, "--access-token-file", "/nonexistent/token"], "--access-token-file '/nonexistent/token' does not exist" },
        { "unknown option", [.. Dr, "--force"], "unknown option --force" },
        { "option twice", [.. Dr, "--source", "prod2"], "--source is given twice" },
        { "option without value", [.. Dr, "--workflow"], "--workflow needs a value" },
        { "stray argument", [.. Dr, "now"], "unexpected argument 'now'" },
        { "flag with a value", [.. Dr, "--watch=yes"], "--watch takes no value" },
    };

    public static TheoryData<string, string[], string> CloneCases() => new()
    {
        { "missing staging instance", Without(Clone, "--staging-instance"), "--staging-instance is required" },
        { "staging is the source", With(Clone, "--staging-instance", "prod"), "--staging-instance must differ from --source" },
        { "missing staging database", Without(Clone, "--staging-database"), "--staging-database is required" },
        { "bad staging database", With(Clone, "--staging-database", "crm staging"), "--staging-database 'crm staging' is not a database name" },
        { "superuser as app user", With(Clone, "--app-user", "postgres"), "--app-user 'postgres' is a reserved or administrative role" },
        { "cloudsql role as app user", With(Clone, "--app-user", "cloudsqlsuperuser"), "--app-user 'cloudsqlsuperuser' is a reserved" },
        { "superuser in capitals as app user", With(Clone, "--app-user", "Postgres"), "--app-user 'Postgres' is a reserved" },
        { "missing password secret", Without(Clone, "--app-password-secret"), "--app-password-secret is required" },
        { "not a gs uri", [.. Clone, "--backup", "s3://bucket/backup.sql.gz"], "--backup is not a Cloud Storage object URI such as gs://BUCKET/backups/...: 's3://bucket/backup.sql.gz' does not start with gs://" },
        { "bucket only", [.. Clone, "--backup", "gs://commissable-backups"], "--backup is not a Cloud Storage object URI such as gs://BUCKET/backups/...: 'gs://commissable-backups' names no object" },
        { "bucket with slash only", [.. Clone, "--backup", "gs://commissable-backups/"], "names no object" },
        { "bad bucket", [.. Clone, "--backup", "gs://Bad_Bucket!/x.sql.gz"], "--backup is not a Cloud Storage object URI such as gs://BUCKET/backups/...: 'Bad_Bucket!' is not a bucket name" },
        { "dot segments", [.. Clone, "--backup", "gs://b-1/../x.sql.gz"], "has an empty, '.' or '..' segment" },
        { "bad source database", [.. Clone, "--source-database", "9crm"], "--source-database '9crm' is not a database name" },
        { "dr option on clone", [.. Clone, "--point-in-time", "2025-03-01T09:30:00Z"], "unknown option --point-in-time" },
        { "unknown owner", [.. Clone, "--owner", "postgres"], "--owner 'postgres' is not an owner this command knows: app-user" },
        // Names PostgreSQL takes but workflows/clone-prod-to-staging.yaml refuses ([A-Za-z_][A-Za-z0-9_]*): refused here, before an execution starts only to fail.
        { "staging database with a hyphen", With(Clone, "--staging-database", "crm-staging"), "--staging-database 'crm-staging' is not a database name the clone-prod-to-staging workflow accepts: 1 to 63 letters, digits and '_'" },
        { "staging database with a dollar", With(Clone, "--staging-database", "crm$1"), "--staging-database 'crm$1' is not a database name the clone-prod-to-staging workflow accepts" },
        { "app user with a hyphen", With(Clone, "--app-user", "crm-app"), "--app-user 'crm-app' is not a PostgreSQL user name the clone-prod-to-staging workflow accepts" },
        { "app user with a dot", With(Clone, "--app-user", "crm.app"), "--app-user 'crm.app' is not a PostgreSQL user name the clone-prod-to-staging workflow accepts" },
        { "app user as an IAM user", With(Clone, "--app-user", "crm@example.com"), "--app-user 'crm@example.com' is not a PostgreSQL user name the clone-prod-to-staging workflow accepts" },
        { "source database with a hyphen", [.. Clone, "--source-database", "crm-prod"], "--source-database 'crm-prod' is not a database name the clone-prod-to-staging workflow accepts" },
    };

    [Theory]
    [MemberData(nameof(DrCases))]
    public async Task Dr_start_refuses_bad_input_before_any_request(string why, string[] args, string expected)
    {
        var code = await DrStartCommand.RunAsync([.. args, .. Connection.Where(_ => !args.Contains("--endpoint") && !args.Contains("--access-token-file"))], Context());

        Assert.True(code == 64, $"{why}: exit {code}");
        Assert.StartsWith("dr start: ", Error.ToString(), StringComparison.Ordinal);
        Assert.Contains(expected, Error.ToString().Split('\n')[0], StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
        Assert.Equal("", Out.ToString());
    }

    [Theory]
    [MemberData(nameof(CloneCases))]
    public async Task Clone_staging_start_refuses_bad_input_before_any_request(string why, string[] args, string expected)
    {
        var code = await CloneStagingStartCommand.RunAsync([.. args, .. Connection], Context());

        Assert.True(code == 64, $"{why}: exit {code}");
        Assert.StartsWith("clone-staging start: ", Error.ToString(), StringComparison.Ordinal);
        Assert.Contains(expected, Error.ToString().Split('\n')[0], StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    [Fact]
    public async Task The_valid_baselines_pass_so_each_case_fails_for_its_own_reason()
    {
        Assert.Equal(0, await DrStartCommand.RunAsync([.. Dr, .. Connection], Context()));
        Assert.Equal(0, await CloneStagingStartCommand.RunAsync([.. Clone, .. Connection], Context()));
        Assert.Equal(2, Api.Requests.Count);
    }
}
