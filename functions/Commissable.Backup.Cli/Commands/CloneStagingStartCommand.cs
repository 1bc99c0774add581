using System.CommandLine;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;

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
                   [--source-database D] [--critical-table T]... [--owner app-user]
                   [--workflow NAME] [--watch] [--access-token-file F] [--endpoint URL]
              Starts the clone-prod-to-staging workflow: recreates database D on the staging
              instance from the given backup (else from a fresh pre-deploy export of the source),
              makes U the app user with the password in secret S (with --owner app-user, also
              the owner of the imported objects, so migrations run on staging as in production),
              and verifies the copy. Prints the execution name; --watch follows it.
              Defaults: --source-database crm, --workflow clone-prod-to-staging.
        """;

    public static Task<int> RunAsync(string[] args, CommandContext context) => CommandTree.InvokeAsync(["clone-staging", "start", .. args], context);

    public static Command Create(CommandContext context)
    {
        var options = new CloneStagingStartOptions();
        return WorkflowStart.Create(context, "clone-staging start", "Starts the clone-prod-to-staging workflow on Google Cloud.", Usage,
            options.Common, options.Own, (result, project) => Argument(result, options, project));
    }

    /// <summary>The argument, exactly as workflows/clone-prod-to-staging.yaml reads it.</summary>
    internal static JsonObject Argument(ParseResult result, CloneStagingStartOptions options, string project)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        string Value(Option<string> option) => result.GetValue(option)!;
        var source = InputRules.Instance("--source", Value(options.Source), project);
        var staging = InputRules.Instance("--staging-instance", Value(options.StagingInstance), project);
        InputRules.Different("--staging-instance", staging, "--source", source,
            "the staging database is dropped and recreated, which must never happen on production");
        // The workflow refuses more names than PostgreSQL and Cloud SQL do (no '-', '$', '.', '@'):
        // its rule is checked here, so such a name never starts an execution that then fails.
        var stagingDatabase = InputRules.CloneWorkflowName("--staging-database",
            InputRules.Database("--staging-database", Value(options.StagingDatabase)), "a database name");
        var appUser = InputRules.CloneWorkflowName("--app-user", InputRules.AppUser("--app-user", Value(options.AppUser)), "a PostgreSQL user name");
        var secret = InputRules.SecretId("--app-password-secret", Value(options.AppPasswordSecret));
        var sourceDatabase = InputRules.CloneWorkflowName("--source-database",
            InputRules.Database("--source-database", Value(options.SourceDatabase)), "a database name");

        var argument = new JsonObject
        {
            ["sourceInstance"] = source,
            ["sourceDatabase"] = sourceDatabase,
        };
        if (result.GetValue(options.Backup) is { } backup)
        {
            argument["backup"] = InputRules.GcsUri("--backup", backup);
        }

        argument["stagingInstance"] = staging;
        argument["stagingDatabase"] = stagingDatabase;
        argument["appUser"] = appUser;
        argument["appPasswordSecret"] = secret;
        InputRules.CriticalTables("--critical-table", result.GetValue(options.CriticalTables), argument);
        switch (result.GetValue(options.Owner))
        {
            case null:
                break;
            case Operator.RestoreCommand.OwnerAppUser:
                argument["appUserOwns"] = true;
                break;
            case var other:
                throw new UsageException($"--owner '{Operator.OperatorRules.Printable(other)}' is not an owner this command knows: {Operator.RestoreCommand.OwnerAppUser} (without --owner the import's login keeps owning the objects)");
        }
        return argument;
    }
}

/// <summary>The options of <c>clone-staging start</c>.</summary>
internal sealed class CloneStagingStartOptions
{
    public WorkflowStartOptionSet Common { get; } = new("clone-prod-to-staging", "the instances");
    public Option<string> Source { get; } = CliOptions.Valued("--source", "I", "the production Cloud SQL instance to copy", required: true);
    public Option<string> Backup { get; } = CliOptions.Valued("--backup", "gs://BUCKET/OBJECT", "the backup to copy; without it, a fresh pre-deploy export of the source");
    public Option<string> StagingInstance { get; } = CliOptions.Valued("--staging-instance", "I", "the staging Cloud SQL instance to copy into", required: true);
    public Option<string> StagingDatabase { get; } = CliOptions.Valued("--staging-database", "D", "the staging database to recreate, such as crm_staging", required: true);
    public Option<string> AppUser { get; } = CliOptions.Valued("--app-user", "U", "the staging app's PostgreSQL user", required: true);
    public Option<string> AppPasswordSecret { get; } = CliOptions.Valued("--app-password-secret", "S", "the Secret Manager secret ID that holds the app user's password", required: true);
    public Option<string> SourceDatabase { get; } = CliOptions.Valued("--source-database", "D", "the production database to copy", "crm");
    public Option<string[]> CriticalTables { get; } = CliOptions.Repeatable("--critical-table", "T", "a table whose rows the verification compares");
    public Option<string> Owner { get; } = CliOptions.Valued("--owner", "app-user", "app-user: the app user owns the imported objects, so migrations run on staging as in production (argument appUserOwns: true)");

    /// <summary>This command's own options, in help order.</summary>
    public IEnumerable<Option> Own => [Source, Backup, StagingInstance, StagingDatabase, AppUser, AppPasswordSecret, SourceDatabase, CriticalTables, Owner];
}
