using System.CommandLine;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>tenant-restore start</c>: starts the tenant-restore workflow (one tenant's rows back as they
/// were at a point in time, in a backup run or in a backup: scratch restore, plan, approval, safety
/// export, one transaction, proof, record) on Google Cloud Workflows. Every value is checked before
/// the one request that starts it.
/// </summary>
internal static class TenantRestoreStartCommand
{
    public const string Usage = """
          tenant-restore start --project P --location L --source I --tenant ID
                   (--point-in-time T | --backup gs://BUCKET/OBJECT | --backup-run ID) [--database D]
                   [--mode missing-only|exact|report] [--approval-timeout SECONDS] [--requested-by NAME]
                   [--workflow NAME] [--watch] [--access-token-file F] [--endpoint URL]
              Starts the tenant-restore workflow: restores instance I (at time T, RFC 3339 with an
              offset; from backup run ID; or the backup at gs://...) into a scratch place, plans
              which of tenant ID's rows to put back, waits for an approval of that plan, takes a
              safety export of I, writes the rows in one transaction and proves them by digests,
              records the run and drops the scratch place. --mode report stops after the plan.
              Prints the execution name; --watch follows it.
              Defaults: --database crm, --mode missing-only, --workflow tenant-restore.
        """;

    /// <summary>The modes the workflow and the function know, with what each does.</summary>
    public static readonly IReadOnlyList<(string Value, string Meaning)> Modes =
    [
        ("missing-only", "put back the tenant's rows that are gone"),
        ("exact", "also revert changed rows and remove rows created since"),
        ("report", "plan only, write nothing"),
    ];

    public static Task<int> RunAsync(string[] args, CommandContext context) => CommandTree.InvokeAsync(["tenant-restore", "start", .. args], context);

    public static Command Create(CommandContext context)
    {
        var options = new TenantRestoreStartOptions();
        return WorkflowStart.Create(context, "tenant-restore start", "Starts the tenant-restore workflow on Google Cloud.", Usage,
            options.Common, options.Own, (result, project) => Argument(result, options, project, context.Time.GetUtcNow()));
    }

    /// <summary>The argument, exactly as workflows/tenant-restore.yaml reads it.</summary>
    internal static JsonObject Argument(ParseResult result, TenantRestoreStartOptions options, string project, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        string Value(Option<string> option) => result.GetValue(option)!;
        options.RestorePoint.RequireOne(result);
        var source = InputRules.Instance("--source", Value(options.Source), project);
        var database = InputRules.Database("--database", Value(options.Database));
        var tenant = InputRules.Text("--tenant", Value(options.Tenant), "the tenant's id as it is stored in the tenant column");
        var mode = InputRules.OneOf("--mode", Value(options.Mode), Modes);

        var argument = new JsonObject
        {
            ["sourceInstance"] = source,
            ["database"] = database,
            ["tenantId"] = tenant,
        };
        options.RestorePoint.WriteTo(argument, result, now);
        argument["mode"] = mode;
        if (result.GetValue(options.ApprovalTimeout) is { } timeout)
        {
            argument["approvalTimeoutSeconds"] = InputRules.Seconds("--approval-timeout", timeout, 60, 30 * 24 * 3600);
        }

        if (result.GetValue(options.RequestedBy) is { } requestedBy)
        {
            argument["requestedBy"] = InputRules.Text("--requested-by", requestedBy, "who asked for the restore");
        }

        return argument;
    }
}

/// <summary>The options of <c>tenant-restore start</c>.</summary>
internal sealed class TenantRestoreStartOptions
{
    public WorkflowStartOptionSet Common { get; } = new("tenant-restore", "the instance");
    public Option<string> Source { get; } = CliOptions.Valued("--source", "I", "the production Cloud SQL instance the tenant's rows are written back to", required: true);
    public Option<string> Tenant { get; } = CliOptions.Valued("--tenant", "ID", "the tenant's id, as stored in the tenant column", required: true);
    public RestorePointOptionSet RestorePoint { get; } = new(withBackup: true);
    public Option<string> Database { get; } = CliOptions.Valued("--database", "D", "the app's database", "crm");
    public Option<string> Mode { get; } = CliOptions.Valued("--mode", "MODE", "missing-only (put back rows that are gone), exact (also revert changed rows and remove newer ones) or report (plan only)", "missing-only");
    public Option<string> ApprovalTimeout { get; } = CliOptions.Valued("--approval-timeout", "SECONDS", "how long the workflow waits for each approval (60 to 2592000; default 86400)");
    public Option<string> RequestedBy { get; } = CliOptions.Valued("--requested-by", "NAME", "who asked for the restore, for the audit record (the workflow records 'workflow' without it)");

    /// <summary>This command's own options, in help order.</summary>
    public IEnumerable<Option> Own => [Source, Tenant, .. RestorePoint.Options, Database, Mode, ApprovalTimeout, RequestedBy];
}
