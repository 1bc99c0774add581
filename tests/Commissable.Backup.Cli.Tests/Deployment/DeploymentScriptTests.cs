using System.Diagnostics;
using Commissable.Testing;
using Xunit.Abstractions;

namespace Commissable.Backup.Cli.Tests.Deployment;

/// <summary>
/// The deployment scripts against the installed gcloud: workflows/deploy/setup-project.sh's dry
/// run prints what it would create, and every gcloud command it or cloudbuild.yaml would run
/// exists with every flag used. Without gcloud on PATH the gcloud checks pass vacuously, unless
/// CI=true, where a missing gcloud fails.
/// </summary>
public sealed class DeploymentScriptTests(ITestOutputHelper output)
{
    private static readonly string Root = FindRoot();
    private static readonly string Script = Path.Combine(Root, "workflows", "deploy", "setup-project.sh");

    private static readonly Dictionary<string, string> Configuration = new(StringComparer.Ordinal)
    {
        ["PROJECT_ID"] = "commissable-prod",
        ["REGION"] = "us-central1",
        ["BACKUP_BUCKET"] = "commissable-prod-backups",
        ["ENVIRONMENT_NAME"] = "prod",
        ["PROD_INSTANCE"] = "crm-prod",
        ["VERIFY_INSTANCE"] = "crm-verify",
        ["STAGING_INSTANCE"] = "crm-staging",
        ["APP_SERVICE"] = "crm-app",
        ["APP_RUNTIME_SERVICE_ACCOUNT"] = "crm-app@commissable-prod.iam.gserviceaccount.com",
        ["DATABASE_URL_SECRET"] = "crm-database-url",
        ["DIRECT_URL_SECRET"] = "crm-direct-url",
        ["STAGING_APP_PASSWORD_SECRET"] = "crm-staging-app-password",
        ["INSPECTOR_PASSWORD_SECRET"] = "backup-inspector-password",
        ["BUILD_SERVICE_ACCOUNT"] = "deployer@commissable-prod.iam.gserviceaccount.com",
        ["CRITICAL_TABLES"] = "[\"Account\",\"Deposit\"]",
    };

    // One help call per distinct command, shared by the three gcloud checks.
    private static readonly Lazy<GcloudReference?> GcloudInstallation = new(GcloudReference.Find);

    [Fact]
    public async Task The_setup_script_parses_with_bash_n()
    {
        var (code, _, error) = await BashAsync(["-n", Script], new Dictionary<string, string>());
        Assert.True(code == 0, error);
    }

    [Fact]
    public async Task A_dry_run_of_a_new_project_prints_every_resource_it_creates()
    {
        var (code, text, error) = await DryRunAsync(assumeExists: false);
        Assert.True(code == 0, $"exit {code}: {error}");

        string[] expected =
        [
            "gcloud services enable --project=commissable-prod run.googleapis.com",
            "gcloud artifacts repositories create commissable",
            "gcloud iam service-accounts create bk-pre-deploy-export",
            "gcloud iam service-accounts create bk-on-backup-completed",
            "gcloud iam service-accounts create bk-on-backup-audited",
            "gcloud iam service-accounts create bk-restore-verify",
            "gcloud iam service-accounts create bk-retention-sweeper",
            "gcloud iam service-accounts create bk-grant-app-user",
            "gcloud iam service-accounts create bk-catalog",
            "gcloud iam service-accounts create wf-disaster-recovery",
            "gcloud iam service-accounts create wf-clone-to-staging",
            "gcloud iam service-accounts create bk-tenant-restore",
            "gcloud iam service-accounts create wf-tenant-restore",
            "gcloud iam service-accounts create bk-data-management",
            "gcloud iam service-accounts create wf-on-demand-backup",
            "gcloud secrets create data-management-jwks --project=commissable-prod",
            "gcloud run services add-iam-policy-binding pre-deploy-export --project=commissable-prod --region=us-central1 --member=serviceAccount:wf-on-demand-backup@commissable-prod.iam.gserviceaccount.com --role=roles/run.invoker",
            "gcloud secrets create tenant-restore-db-password --project=commissable-prod",
            "gcloud run services add-iam-policy-binding tenant-restore --project=commissable-prod --region=us-central1 --member=serviceAccount:wf-tenant-restore@commissable-prod.iam.gserviceaccount.com --role=roles/run.invoker",
            "gcloud run services add-iam-policy-binding pre-deploy-export --project=commissable-prod --region=us-central1 --member=serviceAccount:wf-tenant-restore@commissable-prod.iam.gserviceaccount.com --role=roles/run.invoker",
            "gcloud secrets add-iam-policy-binding tenant-restore-db-password --project=commissable-prod --member=serviceAccount:bk-tenant-restore@commissable-prod.iam.gserviceaccount.com --role=roles/secretmanager.secretAccessor",
            "gcloud iam service-accounts create bk-scheduler",
            "gcloud iam service-accounts create bk-eventarc",
            "gcloud iam roles create commissableSqlExporter --project=commissable-prod --title=",
            "--permissions=cloudsql.instances.export ",
            "gcloud storage buckets create gs://commissable-prod-backups --project=commissable-prod --location=us-central1 --uniform-bucket-level-access --public-access-prevention",
            "gcloud storage buckets update gs://commissable-prod-backups --project=commissable-prod --versioning",
            "--lifecycle-file=",
            "--role=roles/cloudsql.admin",
            "--role=roles/secretmanager.secretVersionAdder",
            "--role=roles/eventarc.eventReceiver",
            "--role=projects/commissable-prod/roles/commissableSqlExportWriter",
            "gcloud logging metrics create backup_failed",
            "jsonPayload.event=\\\"backup.failed\\\"",
            "gcloud logging metrics create backup_completed",
            "gcloud logging metrics create backup_verify_failed",
            "jsonPayload.event=\\\"backup.verify.failed\\\"",
            "gcloud logging metrics create backup_overdue",
            "jsonPayload.event=\\\"backup.overdue\\\"",
            "gcloud alpha monitoring policies create --project=commissable-prod --policy-from-file=",
            "alert-backup-overdue.json",
            "alert-backup-instance-overdue.json",
            "gcloud run services add-iam-policy-binding restore-verify --project=commissable-prod --region=us-central1 --member=serviceAccount:bk-scheduler@commissable-prod.iam.gserviceaccount.com --role=roles/run.invoker",
            "gcloud eventarc triggers create backup-object-finalized --project=commissable-prod --location=us-central1 --destination-run-service=on-backup-completed",
            "--event-filters=type=google.cloud.storage.object.v1.finalized --event-filters=bucket=commissable-prod-backups",
            "--event-filters=methodName=cloudsql.instances.export",
            "--event-filters=methodName=cloudsql.backupRuns.create",
            "gcloud scheduler jobs create http restore-verify-weekly",
            "--oidc-service-account-email=bk-scheduler@commissable-prod.iam.gserviceaccount.com",
            "gcloud scheduler jobs create http retention-sweeper-daily",
            "--message-body=\\{\\\"apply\\\":true\\}",
        ];
        var missing = expected.Where(e => !text.Contains(e, StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "missing from the dry run:\n" + string.Join('\n', missing) + "\n---\n" + text);

        // The restore test asks for the newest backup of production, restored into the scratch instance.
        var job = Assert.Single(ShellText.FindGcloud(text, "dry-run"), c => c.Words.Contains("restore-verify-weekly") && c.Words.Contains("create"));
        var body = job.Words.Single(w => w.StartsWith("--message-body=", StringComparison.Ordinal))["--message-body=".Length..];
        Assert.Equal("{\"backup\":\"latest\",\"instance\":\"crm-prod\",\"verificationInstance\":\"crm-verify\",\"criticalTables\":[\"Account\",\"Deposit\"]}", body);
        Assert.Contains("--oidc-token-audience=https://restore-verify-<hash>-us-central1.a.run.app", job.Words);
    }

    [Fact]
    public async Task Data_management_gets_least_privilege_and_only_the_app_may_call_it()
    {
        var (code, text, error) = await DryRunAsync(assumeExists: false);
        Assert.True(code == 0, $"exit {code}: {error}");
        var commands = ShellText.FindGcloud(text, "dry-run");
        const string Account = "serviceAccount:bk-data-management@commissable-prod.iam.gserviceaccount.com";
        var granted = commands.Where(c => c.Words.Contains("--member=" + Account)).ToList();

        // Bucket: read the catalog and create records, never overwrite or delete (no objectUser/objectAdmin).
        Assert.Equal(["roles/storage.objectCreator", "roles/storage.objectViewer"],
            granted.Where(c => c.Words is ["storage", "buckets", "add-iam-policy-binding", "gs://commissable-prod-backups", ..]).Select(Role).Order(StringComparer.Ordinal));
        // Project: start and follow the workflows and send their callbacks, nothing else.
        Assert.Equal(["roles/workflows.invoker"], granted.Where(c => c.Words is ["projects", "add-iam-policy-binding", ..]).Select(Role));
        // Secrets: the JWKS only.
        var secret = Assert.Single(granted, c => c.Words is ["secrets", "add-iam-policy-binding", ..]);
        Assert.Equal("data-management-jwks", secret.Words[2]);
        Assert.Equal("roles/secretmanager.secretAccessor", Role(secret));
        Assert.Equal(4, granted.Count);

        // Cloud Run: the one invoker binding on data-management is the CRM app's service account.
        var invokers = commands.Where(c => c.Words is ["run", "services", "add-iam-policy-binding", "data-management", ..]).ToList();
        Assert.Equal("--member=serviceAccount:crm-app@commissable-prod.iam.gserviceaccount.com", Assert.Single(invokers).Words.Single(w => w.StartsWith("--member=", StringComparison.Ordinal)));
        Assert.Equal("roles/run.invoker", Role(invokers[0]));
    }

    [Fact]
    public async Task The_lifecycle_expires_the_environments_backups_and_used_token_markers_and_never_the_audit_records()
    {
        var (code, text, error) = await DryRunAsync(assumeExists: false);
        Assert.True(code == 0, $"exit {code}: {error}");

        var line = Assert.Single(text.Split('\n'), l => l.StartsWith("    lifecycle rules: ", StringComparison.Ordinal));
        var rules = System.Text.Json.Nodes.JsonNode.Parse(line["    lifecycle rules: ".Length..])!["rule"]!.AsArray();
        var conditions = rules.Select(r => (Assert.IsType<string>((string?)r!["action"]!["type"]), r!["condition"]!.ToJsonString())).ToList();
        Assert.Equal(
            [
                ("Delete", """{"age":90,"matchesPrefix":["backups/prod/"]}"""),
                ("Delete", """{"daysSinceNoncurrentTime":30,"isLive":false,"matchesPrefix":["backups/"]}"""),
                ("Delete", """{"age":1,"matchesPrefix":["backups/.data-management/jti/"]}"""),
            ],
            conditions);
        // No age rule reaches the audit trail, the jobs or the tenant restores' records.
        foreach (var kept in new[] { "backups/.audit/data-management/2026/12/07/x.json", "backups/.data-management/jobs/job-1.json", "backups/tenant-restores/r/record.json" })
        {
            Assert.DoesNotContain(rules, r => r!["condition"]!["age"] is not null && (string?)r["condition"]!["age"]!.ToJsonString() != "1"
                && r["condition"]!["matchesPrefix"]!.AsArray().Any(p => kept.StartsWith((string)p!, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_re_run_removes_every_other_invoker_of_data_management()
    {
        var bin = Directory.CreateTempSubdirectory("fake-gcloud-");
        try
        {
            var log = Path.Combine(bin.FullName, "calls.log");
            var gcloud = Path.Combine(bin.FullName, "gcloud");
            // Every resource exists; the data-management service has three invokers, one of them the app.
            await File.WriteAllTextAsync(gcloud, """
                #!/usr/bin/env bash
                printf '%s\n' "$*" >>"$FAKE_GCLOUD_LOG"
                case "$*" in
                  "run services get-iam-policy data-management "*) printf 'serviceAccount:crm-app@commissable-prod.iam.gserviceaccount.com\nallUsers\nuser:bob@example.com\n' ;;
                  "run services describe "*"--format=value(status.url)"*) printf 'https://%s-abc-uc.a.run.app\n' "$4" ;;
                  "projects describe "*) echo 123456789 ;;
                  "storage service-agent"*) echo service-123456789@gs-project-accounts.iam.gserviceaccount.com ;;
                  "sql instances describe "*) echo p123456789-abc@gcp-sa-cloud-sql.iam.gserviceaccount.com ;;
                esac
                exit 0
                """.Replace("\r", "", StringComparison.Ordinal));
            File.SetUnixFileMode(gcloud, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var environment = new Dictionary<string, string>(Configuration)
            {
                ["PATH"] = bin.FullName + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
                ["FAKE_GCLOUD_LOG"] = log,
            };

            var (code, text, error) = await BashAsync([Script], environment);

            Assert.True(code == 0, $"exit {code}: {error}\n{text}");
            var calls = await File.ReadAllLinesAsync(log);
            var removed = calls.Where(c => c.StartsWith("run services remove-iam-policy-binding data-management ", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, removed.Count);
            Assert.Contains(removed, c => c.Contains("--member=allUsers --role=roles/run.invoker", StringComparison.Ordinal));
            Assert.Contains(removed, c => c.Contains("--member=user:bob@example.com --role=roles/run.invoker", StringComparison.Ordinal));
            Assert.Single(calls, c => c.StartsWith("run services add-iam-policy-binding data-management ", StringComparison.Ordinal)
                && c.Contains("--member=serviceAccount:crm-app@commissable-prod.iam.gserviceaccount.com --role=roles/run.invoker", StringComparison.Ordinal));
            Assert.Contains("removing run.invoker of allUsers", text, StringComparison.Ordinal);
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(null, "APP_RUNTIME_SERVICE_ACCOUNT")]
    [InlineData("allUsers", "APP_RUNTIME_SERVICE_ACCOUNT must be the CRM app's service account email")]
    [InlineData("alice@example.com", "APP_RUNTIME_SERVICE_ACCOUNT must be the CRM app's service account email")]
    public async Task Without_the_app_service_account_the_script_refuses_to_run(string? account, string message)
    {
        var configuration = Configuration.Where(p => p.Key != "APP_RUNTIME_SERVICE_ACCOUNT").ToDictionary();
        if (account is not null) configuration["APP_RUNTIME_SERVICE_ACCOUNT"] = account;

        var (code, text, error) = await BashAsync([Script, "--dry-run"], configuration);

        Assert.Equal(78, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("gcloud", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cloudbuild_deploys_data_management_with_its_keys_its_job_settings_and_the_on_demand_backup_workflow()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(Root, "cloudbuild.yaml"));

        Assert.Contains("deploy data-management ", text, StringComparison.Ordinal);
        Assert.Contains("--set-secrets=\"/secrets/data-management/jwks.json=${_DATA_MANAGEMENT_JWKS_SECRET}:latest\"", text, StringComparison.Ordinal);
        foreach (var setting in new[]
                 {
                     "@DATA_MANAGEMENT_ISSUER=${_DATA_MANAGEMENT_ISSUER}", "@DATA_MANAGEMENT_AUDIENCE=$$audience", "@DATA_MANAGEMENT_JWKS_FILE=/secrets/data-management/jwks.json",
                     "@DATA_MANAGEMENT_LOCATION=${_REGION}", "@DATA_MANAGEMENT_SOURCE_INSTANCE=${_INSTANCE}", "@DATA_MANAGEMENT_DATABASE=${_DATABASE}",
                     "@DATA_MANAGEMENT_STAGING_INSTANCE=${_STAGING_INSTANCE}", "@DATA_MANAGEMENT_STAGING_DATABASE=${_STAGING_DATABASE}",
                     "@DATA_MANAGEMENT_STAGING_APP_USER=${_STAGING_APP_USER}", "@DATA_MANAGEMENT_STAGING_APP_PASSWORD_SECRET=${_STAGING_APP_PASSWORD_SECRET}",
                     "@DATA_MANAGEMENT_CRITICAL_TABLES=${_DATA_MANAGEMENT_CRITICAL_TABLES}",
                     // The audience is the service's own URL: the deterministic one unless another is given.
                     "audience=\"https://data-management-$PROJECT_NUMBER.${_REGION}.run.app\"",
                     // The issuer and the staging clone's target are required: the deploy stops without them.
                     "_DATA_MANAGEMENT_ISSUER=${_DATA_MANAGEMENT_ISSUER} _STAGING_DATABASE=${_STAGING_DATABASE} _STAGING_APP_USER=${_STAGING_APP_USER}",
                 })
        {
            Assert.Contains(setting, text, StringComparison.Ordinal);
        }
        // Its settings go to it alone: emptied before tenant-restore, whose login it never gets.
        var deployed = text.IndexOf("deploy data-management ", StringComparison.Ordinal);
        Assert.True(text.IndexOf("extra=\"\"", deployed, StringComparison.Ordinal) < text.IndexOf("@TENANT_RESTORE_DB_USER=", StringComparison.Ordinal));

        var workflow = Assert.Single(ShellText.FindGcloud(text, "cloudbuild.yaml"), i => i.Words.Contains("--source=workflows/on-demand-backup.yaml"));
        Assert.Equal(["workflows", "deploy", "on-demand-backup"], workflow.Words.Take(3));
        Assert.Contains("--service-account=wf-on-demand-backup@$PROJECT_ID.iam.gserviceaccount.com", workflow.Words);
        Assert.Contains("--set-env-vars=PRE_DEPLOY_EXPORT_URL=$$(url pre-deploy-export)", workflow.Words);
    }

    [Fact]
    public async Task Cloudbuild_gives_the_workflows_the_production_instances_escaped_for_their_commas()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(Root, "cloudbuild.yaml"));

        // clone-prod-to-staging refuses a listed staging instance before it drops anything, and refuses to run without the list.
        Assert.Contains("@PRODUCTION_INSTANCES=${_PRODUCTION_INSTANCES}\"", text, StringComparison.Ordinal);
        Assert.Contains("env=\"^@^$$env@", text, StringComparison.Ordinal);
        var clone = Assert.Single(ShellText.FindGcloud(text, "cloudbuild.yaml"), i => i.Words.Contains("--source=workflows/clone-prod-to-staging.yaml"));
        Assert.Contains("--set-env-vars=$$env", clone.Words);
    }

    private static string Role(GcloudInvocation invocation) =>
        invocation.Words.Single(w => w.StartsWith("--role=", StringComparison.Ordinal))["--role=".Length..];

    [Fact]
    public async Task A_dry_run_of_an_existing_project_updates_instead_of_creating()
    {
        var (code, text, error) = await DryRunAsync(assumeExists: true);
        Assert.True(code == 0, $"exit {code}: {error}");
        foreach (var expected in new[]
                 {
                     "gcloud iam roles update commissableSqlExporter", "gcloud logging metrics update backup_failed",
                     "gcloud alpha monitoring policies update projects/commissable-prod/alertPolicies/", "gcloud eventarc triggers update backup-object-finalized",
                     "gcloud scheduler jobs update http restore-verify-weekly", "--update-headers=Content-Type=application/json",
                     "gcloud run services add-iam-policy-binding crm-app",
                 })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("gcloud iam service-accounts create", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gcloud storage buckets create", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_configuration_is_named_and_nothing_runs()
    {
        var partial = Configuration.Where(p => p.Key is not ("PROJECT_ID" or "VERIFY_INSTANCE")).ToDictionary();
        var (code, text, error) = await BashAsync([Script, "--dry-run"], partial);
        Assert.Equal(78, code);
        Assert.Contains("PROJECT_ID", error, StringComparison.Ordinal);
        Assert.Contains("VERIFY_INSTANCE", error, StringComparison.Ordinal);
        Assert.DoesNotContain("gcloud", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lifecycle_shorter_than_the_retention_window_is_refused()
    {
        var tooShort = new Dictionary<string, string>(Configuration) { ["RETENTION_DAYS"] = "30", ["BACKUP_LIFECYCLE_DAYS"] = "20" };
        var (code, _, error) = await BashAsync([Script, "--dry-run"], tooShort);
        Assert.Equal(78, code);
        Assert.Contains("BACKUP_LIFECYCLE_DAYS", error, StringComparison.Ordinal);
    }

    [GcloudFact]
    public async Task Every_gcloud_command_of_the_setup_script_exists_with_every_flag_it_uses()
    {
        var gcloud = Gcloud();

        var created = await DryRunAsync(assumeExists: false);
        var updated = await DryRunAsync(assumeExists: true);
        Assert.Equal(0, created.ExitCode);
        Assert.Equal(0, updated.ExitCode);
        var invocations = ShellText.FindGcloud(created.Output, "dry run (new project)")
            .Concat(ShellText.FindGcloud(updated.Output, "dry run (existing project)")).ToList();
        Assert.True(invocations.Count > 100, $"only {invocations.Count} gcloud commands found in the dry runs");

        var stopwatch = Stopwatch.StartNew();
        var problems = await gcloud.CheckAsync(invocations);
        output.WriteLine($"{invocations.Count} invocations of {gcloud.Commands(invocations).Count} commands checked in {stopwatch.Elapsed.TotalSeconds:F1} s");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [GcloudFact]
    public async Task Every_gcloud_command_of_cloudbuild_yaml_exists_with_every_flag_it_uses()
    {
        var gcloud = Gcloud();

        var invocations = ShellText.FindGcloud(await File.ReadAllTextAsync(Path.Combine(Root, "cloudbuild.yaml")), "cloudbuild.yaml");
        var commands = gcloud.Commands(invocations);
        foreach (var expected in new[] { "run deploy", "run services describe", "workflows deploy", "auth print-identity-token" })
        {
            Assert.Contains(expected, commands);
        }

        var deploys = invocations.Where(i => gcloud.CommandPath(i) is ["run", "deploy"]).ToList();
        Assert.Contains("--no-allow-unauthenticated", deploys.Single().Words);
        Assert.Equal(4, invocations.Count(i => gcloud.CommandPath(i) is ["workflows", "deploy"] && i.Words.Any(w => w.StartsWith("--service-account=", StringComparison.Ordinal))));

        var problems = await gcloud.CheckAsync(invocations);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task Cloudbuild_deploys_the_tenant_restore_function_with_its_own_login_and_the_workflow_with_its_url()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(Root, "cloudbuild.yaml"));

        Assert.Contains("deploy tenant-restore ", text, StringComparison.Ordinal);
        Assert.Contains("@TENANT_RESTORE_DB_USER=${_TENANT_RESTORE_DB_USER}@TENANT_RESTORE_DB_PASSWORD_FILE=/secrets/tenant-restore/password", text, StringComparison.Ordinal);
        Assert.Contains("--set-secrets=\"/secrets/tenant-restore/password=${_TENANT_RESTORE_PASSWORD_SECRET}:latest\"", text, StringComparison.Ordinal);
        Assert.Contains("TENANT_RESTORE_URL=$$(url tenant-restore)@VERIFY_INSTANCE=${_VERIFY_INSTANCE}", text, StringComparison.Ordinal);
        var workflow = Assert.Single(ShellText.FindGcloud(text, "cloudbuild.yaml"), i => i.Words.Contains("--source=workflows/tenant-restore.yaml"));
        Assert.Contains("--service-account=wf-tenant-restore@$PROJECT_ID.iam.gserviceaccount.com", workflow.Words);
        // The setting is added after every other function is deployed: only tenant-restore gets the login.
        Assert.True(text.IndexOf("deploy catalog ", StringComparison.Ordinal) < text.IndexOf("@TENANT_RESTORE_DB_USER=", StringComparison.Ordinal));
    }

    [Fact]
    public void The_flag_check_accepts_negatable_forms_and_rejects_prefixes()
    {
        const string help = "[--[no-]allow-unauthenticated] [--region=REGION] --set-env-vars=[KEY=VALUE,...]";
        Assert.True(GcloudReference.HelpListsFlag(help, "--no-allow-unauthenticated"));
        Assert.True(GcloudReference.HelpListsFlag(help, "--allow-unauthenticated"));
        Assert.True(GcloudReference.HelpListsFlag(help, "--region"));
        Assert.False(GcloudReference.HelpListsFlag(help, "--set-env"));
        Assert.False(GcloudReference.HelpListsFlag(help, "--regions"));
    }

    [Fact]
    public void Shell_words_are_split_as_bash_does()
    {
        var found = ShellText.FindGcloud(
            "token=$$(gcloud auth print-identity-token --audiences=\"${_URL}\") || exit 1\n" +
            "  # gcloud in a comment\n" +
            "+ gcloud run deploy x --message-body=\\{\\\"a\\\":1\\} --title=A\\ b \\\n  --format='value(status.url)'; echo\n",
            "t");
        Assert.Equal(2, found.Count);
        Assert.Equal(["auth", "print-identity-token", "--audiences=${_URL}"], found[0].Words);
        Assert.Equal(["run", "deploy", "x", "--message-body={\"a\":1}", "--title=A b", "--format=value(status.url)"], found[1].Words);
    }

    // [GcloudFact] skips these tests visibly where gcloud is missing, except under CI=true, where this fails.
    private static GcloudReference Gcloud() =>
        GcloudInstallation.Value ?? throw new InvalidOperationException("gcloud is not on PATH: CI must have the Google Cloud SDK to check the deployment scripts.");

    private static Task<(int ExitCode, string Output, string Error)> DryRunAsync(bool assumeExists) =>
        BashAsync([Script, "--dry-run"], new Dictionary<string, string>(Configuration) { ["DRY_RUN_ASSUME_EXISTS"] = assumeExists ? "true" : "false" });

    private static async Task<(int ExitCode, string Output, string Error)> BashAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Only the given configuration: nothing from the machine's environment leaks into the run.
        foreach (var name in Configuration.Keys.Concat(["PRODUCTION_INSTANCES", "RETENTION_DAYS", "BACKUP_LIFECYCLE_DAYS", "DRY_RUN_ASSUME_EXISTS", "DATA_MANAGEMENT_JWKS_SECRET"]))
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return await ProcessRunner.RunAsync(start, TimeSpan.FromSeconds(60));
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "cloudbuild.yaml")) && Directory.Exists(Path.Combine(dir.FullName, "workflows", "deploy")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds cloudbuild.yaml and workflows/deploy.");
    }
}
