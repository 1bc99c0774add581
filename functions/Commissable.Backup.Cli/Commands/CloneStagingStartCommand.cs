using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Executions;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>clone-staging start</c>: starts the clone-prod-to-staging workflow (export or reuse a backup,
/// recreate the staging database, import, staging app user and grants, verify) on Google Cloud Workflows.
/// </summary>
internal static class CloneStagingStartCommand
{
    public const string Usage = """
          clone-staging start --project P --location L --source I [--backup gs://BUCKET/OBJECT]
                   --staging-instance I --staging-database D --app-user U --app-password-secret S
                   [--source-database D] [--critical-table T]... [--workflow NAME] [--watch]
                   [--access-token-file F] [--endpoint URL]
              Starts the clone-prod-to-staging workflow: recreates database D on the staging
              instance from the given backup (else from a fresh pre-deploy export of the source),
              makes U the app user with the password in secret S, and verifies the copy. Prints
              the execution name; --watch follows it.
              Defaults: --source-database crm, --workflow clone-prod-to-staging.
        """;

    private static readonly string[] Valued =
    [
        "--project", "--location", "--source", "--backup", "--staging-instance", "--staging-database",
        "--app-user", "--app-password-secret", "--source-database", "--workflow", "--critical-table",
        .. ApiOptions.Names,
    ];

    public static Task<int> RunAsync(string[] args) => CommandContext.RunOnConsoleAsync(context => RunAsync(args, context));

    public static Task<int> RunAsync(string[] args, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ExecutionFollower.RunStartCommandAsync("clone-staging start", Usage, args, context, Valued, Build);
    }

    /// <summary>The workflow to run and its argument, exactly as workflows/clone-prod-to-staging.yaml reads it.</summary>
    internal static (WorkflowName Workflow, JsonObject Argument) Build(OptionReader options)
    {
        var project = InputRules.ProjectId("--project", options.Required("--project", "the Google Cloud project of the instances and the workflow"));
        var location = InputRules.Location("--location", options.Required("--location", "the region the workflow is deployed in, such as europe-west1"));
        var source = InputRules.Instance("--source", options.Required("--source", "the production Cloud SQL instance to copy"), project);
        var staging = InputRules.Instance("--staging-instance", options.Required("--staging-instance", "the staging Cloud SQL instance to copy into"), project);
        InputRules.Different("--staging-instance", staging, "--source", source,
            "the staging database is dropped and recreated, which must never happen on production");
        var stagingDatabase = InputRules.Database("--staging-database", options.Required("--staging-database", "the staging database to recreate, such as crm_staging"));
        var appUser = InputRules.AppUser("--app-user", options.Required("--app-user", "the staging app's PostgreSQL user"));
        var secret = InputRules.SecretId("--app-password-secret", options.Required("--app-password-secret", "the Secret Manager secret ID that holds the app user's password"));
        var sourceDatabase = InputRules.Database("--source-database", options.Optional("--source-database") ?? "crm");
        var workflowId = InputRules.WorkflowId("--workflow", options.Optional("--workflow") ?? "clone-prod-to-staging");

        var argument = new JsonObject
        {
            ["sourceInstance"] = source,
            ["sourceDatabase"] = sourceDatabase,
        };
        if (options.Optional("--backup") is { } backup)
        {
            argument["backup"] = InputRules.GcsUri("--backup", backup);
        }

        argument["stagingInstance"] = staging;
        argument["stagingDatabase"] = stagingDatabase;
        argument["appUser"] = appUser;
        argument["appPasswordSecret"] = secret;
        InputRules.CriticalTables(options, argument);

        return (new WorkflowName(project, location, workflowId), argument);
    }
}
