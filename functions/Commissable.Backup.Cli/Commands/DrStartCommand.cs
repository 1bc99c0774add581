using System.CommandLine;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;

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
        return WorkflowStart.Create(context, "dr start", "Starts the disaster-recovery workflow on Google Cloud.", Usage,
            options.Common, options.Own, (result, project) => Argument(result, options, project, context.Time.GetUtcNow()));
    }

    /// <summary>The argument, exactly as workflows/disaster-recovery.yaml reads it.</summary>
    internal static JsonObject Argument(ParseResult result, DrStartOptions options, string project, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        string Value(Option<string> option) => result.GetValue(option)!;
        options.RestorePoint.RequireOne(result);
        var source = InputRules.Instance("--source", Value(options.Source), project);
        var newInstance = InputRules.Instance("--new-instance", Value(options.NewInstance), project);
        InputRules.Different("--new-instance", newInstance, "--source", source,
            "disaster recovery restores into a new instance and keeps the old one for forensics");
        var databaseUrlSecret = InputRules.SecretId("--database-url-secret", Value(options.DatabaseUrlSecret));
        var directUrlSecret = InputRules.SecretId("--direct-url-secret", Value(options.DirectUrlSecret));
        var database = InputRules.Database("--database", Value(options.Database));

        var argument = new JsonObject { ["sourceInstance"] = source };
        options.RestorePoint.WriteTo(argument, result, now);
        argument["newInstance"] = newInstance;
        argument["database"] = database;
        argument["databaseUrlSecret"] = databaseUrlSecret;
        argument["directUrlSecret"] = directUrlSecret;
        if (result.GetValue(options.ApprovalTimeout) is { } timeout)
        {
            argument["approvalTimeoutSeconds"] = InputRules.Seconds("--approval-timeout", timeout, 60, 30 * 24 * 3600);
        }

        InputRules.CriticalTables("--critical-table", result.GetValue(options.CriticalTables), argument);
        return argument;
    }
}

/// <summary>The options of <c>dr start</c>.</summary>
internal sealed class DrStartOptions
{
    public WorkflowStartOptionSet Common { get; } = new("disaster-recovery", "the instance");
    public RestorePointOptionSet RestorePoint { get; } = new(withBackup: false);
    public Option<string> Source { get; } = CliOptions.Valued("--source", "I", "the Cloud SQL instance to recover", required: true);
    public Option<string> NewInstance { get; } = CliOptions.Valued("--new-instance", "N", "the name of the NEW instance to restore into", required: true);
    public Option<string> DatabaseUrlSecret { get; } = CliOptions.Valued("--database-url-secret", "S", "the Secret Manager secret ID that holds the app's DATABASE_URL", required: true);
    public Option<string> DirectUrlSecret { get; } = CliOptions.Valued("--direct-url-secret", "S", "the Secret Manager secret ID that holds the app's DIRECT_URL", required: true);
    public Option<string> Database { get; } = CliOptions.Valued("--database", "D", "the app's database", "crm");
    public Option<string[]> CriticalTables { get; } = CliOptions.Repeatable("--critical-table", "T", "a table whose rows the smoke test compares");
    public Option<string> ApprovalTimeout { get; } = CliOptions.Valued("--approval-timeout", "SECONDS", "how long the workflow waits for the approval (60 to 2592000)");

    /// <summary>This command's own options, in help order.</summary>
    public IEnumerable<Option> Own => [.. RestorePoint.Options, Source, NewInstance, DatabaseUrlSecret, DirectUrlSecret, Database, CriticalTables, ApprovalTimeout];
}
