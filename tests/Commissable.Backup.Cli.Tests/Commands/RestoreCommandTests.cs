using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Testing;
using Npgsql;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// <c>restore</c> of a <c>pg_dump -Fc</c> of the demo from the production instance into a new
/// database on another instance: the same contents, the app user's login, grants and (with
/// <c>--owner app-user</c>) ownership proven by doing what migrations do as that user, the
/// refusals before anything is written, and no password anywhere it could be seen.
/// </summary>
public sealed class RestoreCommandTests(RestoreEnvironment env) : IClassFixture<RestoreEnvironment>
{
    private const string AppPassword = "crm-app-pw-4d9a71";
    private const string StagingUrl = "STAGING_ADMIN_URL";

    private Dictionary<string, string> Environment(string? productionHosts = null, string? productionInstances = "src") => new(StringComparer.Ordinal)
    {
        [StagingUrl] = env.StagingAdminUrl("postgres"),
        ["APP_PASSWORD"] = AppPassword,
        ["PRODUCTION_HOSTS"] = productionHosts ?? $"{env.SourceAddress}:5432",
        ["PRODUCTION_INSTANCES"] = productionInstances ?? "",
    };

    private string[] Args(string database, string user, params string[] more) =>
        [env.Dump, "--to-env", StagingUrl, "--database", database, "--app-user", user, "--app-password-env", "APP_PASSWORD", .. more];

    private async Task<string> AsAppAsync(string user, string database) => new NpgsqlConnectionStringBuilder(await env.StagingAsync(database))
    {
        Username = user,
        Password = AppPassword,
    }.ConnectionString;

    private async Task<bool> StagingHasAsync(string what, string name) =>
        await Sql.ScalarAsync<bool>(await env.StagingAsync("postgres"), what switch
        {
            "database" => $"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')",
            _ => $"SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}')",
        });

    /// <summary>The secrets any output, child command line or child environment could leak, and what a credential looks like.</summary>
    private static void AssertNoSecrets(RestoreRun run)
    {
        string[] secrets = [RestoreEnvironment.StagingPassword, RestoreEnvironment.SourcePassword, AppPassword];
        // A URL is allowed only as the .env.local template, with the <PASSWORD> placeholder.
        var lines = run.Output.Split('\n').Where(l => !l.Contains(":<PASSWORD>@", StringComparison.Ordinal)).Select(l => ("output", l));
        var commandLines = run.Children.Select(c => ("child command line", c.CommandLine));
        SecretScan.AssertClean(lines.Concat(commandLines), secrets, ["Password=", "PGPASSWORD=", "postgres://", "postgresql://"]);
        // The environment a child gets is this test process's own plus what the launcher adds: only the known secrets are looked for.
        if (run.Children.Count > 0)
        {
            SecretScan.AssertClean(run.Children.Select(c => ("child environment", c.Environment)), secrets, []);
        }
    }

    [Fact]
    public async Task A_dump_restores_into_a_new_database_on_another_instance_with_the_same_content_and_an_app_user_and_no_password_is_shown()
    {
        var run = await ChildProcessRecorder.RunAsync(Args("crm_copy", "crm_app"), Environment());

        Assert.True(run.Exit == 0, run.Output);
        // Every step said what it did, and every check passed.
        foreach (var step in new[] { "-> connect to postgres@", "-> create the database 'crm_copy'", "-> restore ", "pg_restore --jobs 2", "-> app user 'crm_app'",
                     "created (LOGIN, password set)", "-> grant 'crm_app' what the CRM needs", "-> verify 'crm_copy'", "comparing with the content manifest beside" })
        {
            Assert.Contains(step, run.Out, StringComparison.Ordinal);
        }
        var checks = run.Out.Split('\n').Where(l => l.StartsWith("   passed  ", StringComparison.Ordinal) || l.StartsWith("   FAILED  ", StringComparison.Ordinal)).ToList();
        Assert.True(checks.Count >= 10, run.Out);
        Assert.All(checks, c => Assert.StartsWith("   passed  ", c, StringComparison.Ordinal));
        Assert.Contains(checks, c => c.Contains("content.tables", StringComparison.Ordinal));
        Assert.Contains($"DATABASE_URL=\"postgresql://crm_app:<PASSWORD>@{env.StagingAddress}:5432/crm_copy?schema=public\"", run.Out, StringComparison.Ordinal);
        Assert.Contains($"DIRECT_URL=\"postgresql://crm_app:<PASSWORD>@{env.StagingAddress}:5432/crm_copy?schema=public\"", run.Out, StringComparison.Ordinal);

        // The copy holds what production holds, compared on their own (not through the command):
        // the source database and the copy read back the same way, and the dump's manifest.
        var source = await PostgresBackupContentReader.ReadDatabaseAsync(env.SourceEndpoint, "crm", "src/crm", new DumpReadOptions(), env.Cloud.Binaries);
        var copy = await PostgresBackupContentReader.ReadDatabaseAsync(env.StagingEndpoint, "crm_copy", "staging/crm_copy", new DumpReadOptions(), env.Cloud.Binaries);
        Assert.All(ContentComparison.Compare(source, copy), c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
        Assert.All(ContentComparison.Compare(env.Content, copy), c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
        Assert.True(copy.Tables.Count > 10);
        Assert.True(copy.Sequences.Count > 0);

        // The app user logs in with its password, reads and writes; it owns nothing, so a migration's ALTER TABLE is refused.
        var app = await AsAppAsync("crm_app", "crm_copy");
        Assert.True(await Sql.ScalarAsync<long>(app, "SELECT count(*) FROM \"Account\"") > 0);
        await Sql.ExecuteAsync(app, "INSERT INTO \"Permission\" (code, name, category) VALUES ('restore.test', 'Restore test', 'test')");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync(app, "ALTER TABLE \"Account\" ADD COLUMN \"nickname\" text"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);

        // The programs it started (pg_restore) had no password in their arguments or environment, and nothing printed one.
        Assert.Contains(run.Children, c => c.CommandLine.Contains("pg_restore", StringComparison.Ordinal) && c.CommandLine.Contains("--jobs=2", StringComparison.Ordinal));
        Assert.All(run.Children, c => Assert.Contains("PGPASSFILE=", c.Environment, StringComparison.Ordinal));
        AssertNoSecrets(run);
    }

    [Fact]
    public async Task With_owner_app_user_the_app_user_alters_indexes_refreshes_and_applies_a_prisma_migration_as_in_production()
    {
        // No --app-password-env: the password is typed at the terminal, without echo.
        var typed = new StandardInput(Stream.Null, TextReader.Null, IsTerminal: true, _ => AppPassword);
        string[] args = [env.Dump, "--to-env", StagingUrl, "--database", "crm_owned", "--app-user", "crm_owner", "--owner", "app-user", "--jobs", "3",
            "--critical-table", "Tenant", "--critical-table", "Account"];

        var run = await ChildProcessRecorder.RunAsync(args, Environment(), typed);

        Assert.True(run.Exit == 0, run.Output);
        Assert.Contains("password for the app user crm_owner (not echoed)", run.Error, StringComparison.Ordinal);
        Assert.Contains("-> make 'crm_owner' the owner of the restored objects", run.Out, StringComparison.Ordinal);
        Assert.Contains("'postgres' made itself a member of 'crm_owner'", run.Out, StringComparison.Ordinal);
        Assert.Contains("   passed  tables.critical", run.Out, StringComparison.Ordinal);
        Assert.Contains(run.Children, c => c.CommandLine.Contains("--jobs=3", StringComparison.Ordinal));

        var app = await AsAppAsync("crm_owner", "crm_owned");
        Assert.Equal(0L, await Sql.ScalarAsync<long>(app, """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND pg_get_userbyid(c.relowner) <> 'crm_owner'
            """));
        await Sql.ExecuteAsync(app, "ALTER TABLE \"Account\" ADD COLUMN \"nickname\" text");
        await Sql.ExecuteAsync(app, "CREATE INDEX \"Account_nickname_idx\" ON \"Account\" (\"nickname\")");
        await Sql.ExecuteAsync(app, "REFRESH MATERIALIZED VIEW \"AccountsPerTenant\"");
        // prisma migrate deploy: the migration's SQL and its row in _prisma_migrations, in one transaction.
        await Sql.ExecuteAsync(app, """
            BEGIN;
            ALTER TABLE "Deposit" ADD COLUMN "externalRef" text;
            INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
            VALUES (gen_random_uuid()::text, 'f00dfeed', '20260301093000_deposit_external_ref', now(), now(), 1);
            COMMIT;
            """);
        Assert.Equal("20260301093000_deposit_external_ref", await Sql.ScalarAsync<string>(app,
            "SELECT migration_name FROM \"_prisma_migrations\" ORDER BY started_at DESC, migration_name DESC LIMIT 1"));
        AssertNoSecrets(run);
    }

    [Fact]
    public async Task An_existing_database_is_refused_without_recreate_and_dropped_then_restored_with_it_from_a_file_without_manifest()
    {
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/staging/databases"), """{"name":"crm_existing"}""");
        var existing = await env.StagingAsync("crm_existing");
        await Sql.ExecuteAsync(existing, "CREATE TABLE \"Marker\" (note text); INSERT INTO \"Marker\" VALUES ('was here')");

        var refused = await ChildProcessRecorder.RunAsync(Args("crm_existing", "crm_app3"), Environment());

        Assert.Equal(64, refused.Exit);
        Assert.Contains("the database already exists", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--recreate", refused.Error, StringComparison.Ordinal);
        Assert.Equal(1L, await Sql.ScalarAsync<long>(existing, "SELECT count(*) FROM \"Marker\""));
        Assert.False(await StagingHasAsync("role", "crm_app3"));

        // A session is still open on it: --recreate ends it, drops the database and restores again.
        await using var open = new NpgsqlConnection(existing);
        await open.OpenAsync();
        var bare = env.CopyWithoutManifest();
        string[] args = [bare, .. Args("crm_existing", "crm_app3", "--recreate")[1..]];
        var run = await ChildProcessRecorder.RunAsync(args, Environment());

        Assert.True(run.Exit == 0, run.Output);
        Assert.Contains("-> recreate the database 'crm_existing'", run.Out, StringComparison.Ordinal);
        Assert.Contains("dropped 'crm_existing' (", run.Out, StringComparison.Ordinal);
        Assert.Contains("1 session(s) ended", run.Out, StringComparison.Ordinal);
        Assert.Contains("from the dump itself (there is no manifest beside it", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("FAILED", run.Out, StringComparison.Ordinal);
        Assert.False(await Sql.ScalarAsync<bool>(existing, "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'Marker')"));
        Assert.True(await Sql.ScalarAsync<long>(existing, "SELECT count(*) FROM \"Tenant\"") > 0);
        AssertNoSecrets(run);
    }

    [Fact]
    public async Task An_existing_database_is_refused_before_the_password_is_asked_for()
    {
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/staging/databases"), """{"name":"crm_existing_typed"}""");
        var asked = false;
        var typed = new StandardInput(Stream.Null, TextReader.Null, IsTerminal: true, _ => { asked = true; return AppPassword; });
        string[] args = [env.Dump, "--to-env", StagingUrl, "--database", "crm_existing_typed", "--app-user", "crm_app_typed"];

        var run = await ChildProcessRecorder.RunAsync(args, Environment(), typed);

        Assert.Equal(64, run.Exit);
        Assert.Contains("the database already exists", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("password for the app user", run.Error, StringComparison.Ordinal);
        Assert.False(asked);
        Assert.Empty(run.Children);
        Assert.False(await StagingHasAsync("role", "crm_app_typed"));
    }

    [Fact]
    public async Task A_copy_that_differs_from_its_manifest_fails_the_checks_exit_1_and_the_database_stays()
    {
        // The manifest says one table held a row more than the dump did: the comparison must catch it.
        var bare = env.CopyWithoutManifest();
        var table = env.Content.Tables.Keys.First(k => k.Contains("Account", StringComparison.Ordinal));
        var tables = env.Content.Tables.ToDictionary(t => t.Key, t => t.Key == table ? t.Value with { Rows = t.Value.Rows + 1 } : t.Value);
        await RestoreEnvironment.WriteManifestAsync(bare, env.Content with { Tables = tables });
        string[] args = [bare, .. Args("crm_differs", "crm_app4")[1..]];

        var run = await ChildProcessRecorder.RunAsync(args, Environment());

        Assert.Equal(1, run.Exit);
        Assert.Contains("   FAILED  content.tables", run.Out, StringComparison.Ordinal);
        Assert.Contains("did not pass its checks; it stays as restored", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("DATABASE_URL", run.Out, StringComparison.Ordinal);
        Assert.True(await StagingHasAsync("database", "crm_differs"));
    }

    public static TheoryData<string, string?, string?, string[], string> Refusals() => new()
    {
        // The target's own address is listed as production (with and without its port).
        { "host", "{staging}", null, [], "is listed in PRODUCTION_HOSTS; this command never writes to production" },
        { "host and port", "10.9.9.9, {staging}:5432", null, [], "is listed in PRODUCTION_HOSTS" },
        // The operator says which instance it is, and it is a production one.
        { "instance", null, "src,crm-prod", ["--instance", "crm-prod"], "the instance 'crm-prod' is listed in PRODUCTION_INSTANCES" },
        // Nothing configured: a guard with nothing to compare with refuses.
        { "no list", "", "", [], "neither PRODUCTION_HOSTS nor PRODUCTION_INSTANCES is set" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_production_target_or_no_production_list_is_refused_before_anything_is_written(string why, string? hosts, string? instances, string[] more, string message)
    {
        var database = "crm_refused_" + why.Replace(' ', '_');
        var environment = Environment(hosts?.Replace("{staging}", env.StagingAddress, StringComparison.Ordinal), instances);
        // Even the password prompt is not reached: the terminal would answer, but is never asked.
        var asked = false;
        var typed = new StandardInput(Stream.Null, TextReader.Null, IsTerminal: true, _ => { asked = true; return AppPassword; });
        string[] args = [env.Dump, "--to-env", StagingUrl, "--database", database, "--app-user", "crm_refused", .. more];

        var run = await ChildProcessRecorder.RunAsync(args, environment, typed);

        Assert.Equal(64, run.Exit);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.False(asked);
        Assert.Empty(run.Children);
        Assert.DoesNotContain("->", run.Out, StringComparison.Ordinal);
        Assert.False(await StagingHasAsync("database", database));
        Assert.False(await StagingHasAsync("role", "crm_refused"));
        AssertNoSecrets(run with { Out = run.Out + "\n(refused)" });
    }

    [Theory]
    [InlineData(new[] { "--database", "postgres" }, "is one of the server's own databases")]
    [InlineData(new[] { "--app-user", "postgres" }, "reserved or administrative role")]
    [InlineData(new[] { "--app-user", "crm.app@example.com" }, "not an IAM user")]
    [InlineData(new[] { "--owner", "admin" }, "--owner 'admin' is not an owner this command knows: app-user")]
    [InlineData(new[] { "--jobs", "0" }, "--jobs '0' is not a number of jobs from 1 to 32")]
    [InlineData(new[] { "--app-password-env", "crm-app-pw-4d9a71" }, "--app-password-env: the value given is not an environment variable's name")]
    [InlineData(new[] { "--to-env", "postgresql://postgres:staging-root-pw-5b7c0d@127.0.0.1:5432/postgres" }, "--to-env: the value given is not an environment variable's name")]
    [InlineData(new[] { "--app-password-env", "NOT_SET_ANYWHERE" }, "NOT_SET_ANYWHERE is not set or is empty")]
    [InlineData(new[] { "--instance", "Prod_1" }, "is not a Cloud SQL instance name")]
    public async Task Bad_input_is_refused_naming_the_option_and_nothing_is_written(string[] change, string message)
    {
        var args = Args("crm_bad_input", "crm_app5");
        var at = Array.IndexOf(args, change[0]);
        args = at >= 0 ? [.. args[..(at + 1)], change[1], .. args[(at + 2)..]] : [.. args, .. change];

        var run = await ChildProcessRecorder.RunAsync(args, Environment());

        Assert.Equal(64, run.Exit);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(AppPassword, run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(RestoreEnvironment.StagingPassword, run.Output, StringComparison.Ordinal);
        Assert.False(await StagingHasAsync("database", "crm_bad_input"));
    }

    [Fact]
    public async Task Without_a_password_variable_or_a_terminal_it_refuses_and_the_password_is_never_an_argument()
    {
        string[] args = [env.Dump, "--to-env", StagingUrl, "--database", "crm_no_password", "--app-user", "crm_app6"];

        var run = await ChildProcessRecorder.RunAsync(args, Environment());

        Assert.Equal(64, run.Exit);
        Assert.Contains("--app-password-env is required when standard input is not a terminal", run.Error, StringComparison.Ordinal);
        Assert.False(await StagingHasAsync("database", "crm_no_password"));

        // There is no option that takes the password itself.
        var help = await ChildProcessRecorder.RunAsync(["--help"], Environment());
        Assert.Equal(0, help.Exit);
        Assert.Contains("--app-password-env VAR", help.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("--app-password ", help.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("--password", help.Out, StringComparison.Ordinal);
    }
}

/// <summary>The .env.local template for the server an admin URL names: the app's login, the password left out.</summary>
public sealed class RestoreTemplateTests
{
    [Theory]
    [InlineData("postgresql://postgres:pw-123456@10.1.2.3:5432/postgres", "crm_app", "crm_staging", "postgresql://crm_app:<PASSWORD>@10.1.2.3:5432/crm_staging?schema=public")]
    [InlineData("postgresql://postgres:pw-123456@[::1]:6543/?sslmode=require", "crm_app", "crm_staging", "postgresql://crm_app:<PASSWORD>@[::1]:6543/crm_staging?schema=public&sslmode=require")]
    [InlineData("postgresql://postgres:pw-123456@localhost/postgres?host=%2Fcloudsql%2Fp%3Ar%3Astaging", "crm-app$1", "crm_staging", "postgresql://crm-app%241:<PASSWORD>@localhost:5432/crm_staging?host=%2Fcloudsql%2Fp%3Ar%3Astaging&schema=public")]
    public void The_template_names_the_server_the_user_and_the_database_and_never_the_password(string adminUrl, string user, string database, string expected)
    {
        var server = Commissable.Backup.Postgres.Access.DatabaseEndpoint.FromUrl(adminUrl, out _);

        var url = Commissable.Backup.Cli.Commands.Operator.RestoreCommand.TemplateUrl(server, user, database);

        Assert.Equal(expected, url);
        Assert.DoesNotContain("pw-123456", url, StringComparison.Ordinal);
    }
}
