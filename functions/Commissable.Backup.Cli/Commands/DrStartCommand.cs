using System.CommandLine;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Executions;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>dr start</c>: starts the disaster-recovery workflow (restore into a NEW instance from a point
/// in time or a backup run, smoke test, human approval, swap DATABASE_URL/DIRECT_URL) on Google
/// Cloud Workflows. Every value is checked before the one request that starts it.
/// </summary>
internal static class DrStartCommand
{
    public const string Usage = """
          dr start --project P --location L (--point-in-time T | --backup-run ID) --source I
                   --new-instance N --database-url-secret S --direct-url-secret S [--database D]
                   [--critical-table T]... [--approval-timeout SECONDS] [--workflow NAME] [--watch]
                   [--access-token-file F] [--endpoint URL]
              Starts the disaster-recovery workflow: restores instance I (at time T, RFC 3339 with an
              offset, or from backup run ID) into the new instance N, smoke-tests it, waits for an
              approval, then points the app's DATABASE_URL/DIRECT_URL secrets at N. Prints the
              execution name; --watch follows it. Defaults: --database crm, --workflow disaster-recovery.
        """;

    public static Task<int> RunAsync(string[] args, CommandContext context) => CommandTree.InvokeAsync(["dr", "start", .. args], context);

    public static Command Create(CommandContext context)
    {
        var options = new DrStartOptions();
        var command = new CliCommand("start", "Starts the disaster-recovery workflow on Google Cloud.", Usage);
        options.AddTo(command);
        CommandTree.SetAction(command, context, result =>
        {
            var (workflow, argument) = Build(result, options, context.Time.GetUtcNow());
            var api = options.Api.Read(result);
            return ExecutionFollower.StartAsync(context, "dr start", api, workflow, argument, result.GetValue(options.Watch));
        });
        return command;
    }

    /// <summary>The workflow to run and its argument, exactly as workflows/disaster-recovery.yaml reads it.</summary>
    internal static (WorkflowName Workflow, JsonObject Argument) Build(ParseResult result, DrStartOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        string Value(Option<string> option) => result.GetValue(option)!;
        var project = InputRules.ProjectId("--project", Value(options.Project));
        var location = InputRules.Location("--location", Value(options.Location));
        var pointInTime = result.GetValue(options.PointInTime);
        var backupRun = result.GetValue(options.BackupRun);
        if ((pointInTime is null) == (backupRun is null))
        {
            throw new UsageException("give exactly one of --point-in-time (RFC 3339 with an offset) and --backup-run (a backup run ID)");
        }

        var source = InputRules.Instance("--source", Value(options.Source), project);
        var newInstance = InputRules.Instance("--new-instance", Value(options.NewInstance), project);
        InputRules.Different("--new-instance", newInstance, "--source", source,
            "disaster recovery restores into a new instance and keeps the old one for forensics");
        var databaseUrlSecret = InputRules.SecretId("--database-url-secret", Value(options.DatabaseUrlSecret));
        var directUrlSecret = InputRules.SecretId("--direct-url-secret", Value(options.DirectUrlSecret));
        var database = InputRules.Database("--database", Value(options.Database));
        var workflowId = InputRules.WorkflowId("--workflow", Value(options.Workflow));

        var argument = new JsonObject { ["sourceInstance"] = source };
        if (pointInTime is not null)
        {
            argument["pointInTime"] = InputRules.PointInTime("--point-in-time", pointInTime, now);
        }
        else
        {
            // An int64 in Google's APIs, so a string, as restoreBackupContext.backupRunId expects it.
            argument["backupRunId"] = InputRules.BackupRunId("--backup-run", backupRun!);
        }

        argument["newInstance"] = newInstance;
        argument["database"] = database;
        argument["databaseUrlSecret"] = databaseUrlSecret;
        argument["directUrlSecret"] = directUrlSecret;
        if (result.GetValue(options.ApprovalTimeout) is { } timeout)
        {
            argument["approvalTimeoutSeconds"] = InputRules.Seconds("--approval-timeout", timeout, 60, 30 * 24 * 3600);
        }

        InputRules.CriticalTables("--critical-table", result.GetValue(options.CriticalTables), argument);

        return (new WorkflowName(project, location, workflowId), argument);
    }
}

/// <summary>The options of <c>dr start</c>.</summary>
internal sealed class DrStartOptions
{
    public Option<string> Project { get; } = CliOptions.Valued("--project", "P", "the Google Cloud project of the instance and the workflow", required: true);
    public Option<string> Location { get; } = CliOptions.Valued("--location", "L", "the region the workflow is deployed in, such as europe-west1", required: true);
    public Option<string> PointInTime { get; } = CliOptions.Valued("--point-in-time", "T", "the time to recover to, RFC 3339 with an offset (or --backup-run)");
    public Option<string> BackupRun { get; } = CliOptions.Valued("--backup-run", "ID", "the backup run to restore, as 'gcloud sql backups list' shows it (or --point-in-time)");
    public Option<string> Source { get; } = CliOptions.Valued("--source", "I", "the Cloud SQL instance to recover", required: true);
    public Option<string> NewInstance { get; } = CliOptions.Valued("--new-instance", "N", "the name of the NEW instance to restore into", required: true);
    public Option<string> DatabaseUrlSecret { get; } = CliOptions.Valued("--database-url-secret", "S", "the Secret Manager secret ID that holds the app's DATABASE_URL", required: true);
    public Option<string> DirectUrlSecret { get; } = CliOptions.Valued("--direct-url-secret", "S", "the Secret Manager secret ID that holds the app's DIRECT_URL", required: true);
    public Option<string> Database { get; } = CliOptions.Valued("--database", "D", "the app's database", "crm");
    public Option<string[]> CriticalTables { get; } = CliOptions.Repeatable("--critical-table", "T", "a table whose rows the smoke test compares");
    public Option<string> ApprovalTimeout { get; } = CliOptions.Valued("--approval-timeout", "SECONDS", "how long the workflow waits for the approval (60 to 2592000)");
    public Option<string> Workflow { get; } = CliOptions.Valued("--workflow", "NAME", "the deployed workflow's ID", "disaster-recovery");
    public Option<bool> Watch { get; } = CliOptions.Flag("--watch", "follow the execution to its end");
    public ApiOptionSet Api { get; } = new();

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new Option[] { Project, Location, PointInTime, BackupRun, Source, NewInstance, DatabaseUrlSecret, DirectUrlSecret, Database, CriticalTables, ApprovalTimeout, Workflow, Watch })
        {
            command.Options.Add(option);
        }

        Api.AddTo(command);
    }
}
