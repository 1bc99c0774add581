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

    private static readonly string[] Valued =
    [
        "--project", "--location", "--point-in-time", "--backup-run", "--source", "--new-instance",
        "--database-url-secret", "--direct-url-secret", "--database", "--workflow", "--critical-table", "--approval-timeout",
        .. ApiOptions.Names,
    ];

    public static Task<int> RunAsync(string[] args) => CommandContext.RunOnConsoleAsync(context => RunAsync(args, context));

    public static Task<int> RunAsync(string[] args, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ExecutionFollower.RunStartCommandAsync("dr start", Usage, args, context, Valued, options => Build(options, context.Time.GetUtcNow()));
    }

    /// <summary>The workflow to run and its argument, exactly as workflows/disaster-recovery.yaml reads it.</summary>
    internal static (WorkflowName Workflow, JsonObject Argument) Build(OptionReader options, DateTimeOffset now)
    {
        var project = InputRules.ProjectId("--project", options.Required("--project", "the Google Cloud project of the instance and the workflow"));
        var location = InputRules.Location("--location", options.Required("--location", "the region the workflow is deployed in, such as europe-west1"));
        var pointInTime = options.Optional("--point-in-time");
        var backupRun = options.Optional("--backup-run");
        if ((pointInTime is null) == (backupRun is null))
        {
            throw new UsageException("give exactly one of --point-in-time (RFC 3339 with an offset) and --backup-run (a backup run ID)");
        }

        var source = InputRules.Instance("--source", options.Required("--source", "the Cloud SQL instance to recover"), project);
        var newInstance = InputRules.Instance("--new-instance", options.Required("--new-instance", "the name of the NEW instance to restore into"), project);
        InputRules.Different("--new-instance", newInstance, "--source", source,
            "disaster recovery restores into a new instance and keeps the old one for forensics");
        var databaseUrlSecret = InputRules.SecretId("--database-url-secret", options.Required("--database-url-secret", "the Secret Manager secret ID that holds the app's DATABASE_URL"));
        var directUrlSecret = InputRules.SecretId("--direct-url-secret", options.Required("--direct-url-secret", "the Secret Manager secret ID that holds the app's DIRECT_URL"));
        var database = InputRules.Database("--database", options.Optional("--database") ?? "crm");
        var workflowId = InputRules.WorkflowId("--workflow", options.Optional("--workflow") ?? "disaster-recovery");

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
        if (options.Optional("--approval-timeout") is { } timeout)
        {
            argument["approvalTimeoutSeconds"] = InputRules.Seconds("--approval-timeout", timeout, 60, 30 * 24 * 3600);
        }

        InputRules.CriticalTables(options, argument);

        return (new WorkflowName(project, location, workflowId), argument);
    }
}
