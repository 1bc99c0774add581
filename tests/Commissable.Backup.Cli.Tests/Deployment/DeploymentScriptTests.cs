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
        Assert.Equal(3, invocations.Count(i => gcloud.CommandPath(i) is ["workflows", "deploy"] && i.Words.Any(w => w.StartsWith("--service-account=", StringComparison.Ordinal))));

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
        Assert.Contains("TENANT_RESTORE_URL=$$(url tenant-restore),VERIFY_INSTANCE=${_VERIFY_INSTANCE}", text, StringComparison.Ordinal);
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
        foreach (var name in Configuration.Keys.Concat(["PRODUCTION_INSTANCES", "RETENTION_DAYS", "BACKUP_LIFECYCLE_DAYS", "DRY_RUN_ASSUME_EXISTS"]))
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
