using System.CommandLine;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Executions;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// What every <c>start</c> command shares: the command itself, built around its own options and the
/// argument it sends; the options that say where the workflow is (<c>--project</c>, <c>--location</c>,
/// <c>--workflow</c>), <c>--watch</c> and the API options; and one start through the Workflow
/// Executions API with <see cref="ExecutionFollower"/>. Each command's own file says only what its
/// workflow reads.
/// </summary>
internal static class WorkflowStart
{
    /// <summary>
    /// The <c>start</c> command: <paramref name="own"/> options between <c>--location</c> and
    /// <c>--workflow</c>; its action checks the shared options, asks <paramref name="argument"/> for the
    /// workflow's argument (checked, given the project), and starts the execution.
    /// </summary>
    /// <param name="path">The command's words, such as <c>dr start</c>, for its messages.</param>
    public static CliCommand Create(
        CommandContext context, string path, string description, string usage, WorkflowStartOptionSet common,
        IEnumerable<Option> own, Func<ParseResult, string, JsonObject> argument)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(common);
        ArgumentNullException.ThrowIfNull(argument);
        var command = new CliCommand("start", description, usage);
        common.AddTo(command, own);
        CommandTree.SetAction(command, context, result =>
        {
            var (workflow, built) = Build(result, common, argument);
            return ExecutionFollower.StartAsync(context, path, common.Api.Read(result), workflow, built, result.GetValue(common.Watch));
        });
        return command;
    }

    /// <summary>The workflow to run and its argument; a bad value is a <see cref="UsageException"/>.</summary>
    public static (WorkflowName Workflow, JsonObject Argument) Build(ParseResult result, WorkflowStartOptionSet common, Func<ParseResult, string, JsonObject> argument)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(common);
        ArgumentNullException.ThrowIfNull(argument);
        var project = InputRules.ProjectId(common.Project.Name, result.GetValue(common.Project)!);
        var location = InputRules.Location(common.Location.Name, result.GetValue(common.Location)!);
        var built = argument(result, project);
        var workflow = InputRules.WorkflowId(common.Workflow.Name, result.GetValue(common.Workflow)!);
        return (new WorkflowName(project, location, workflow), built);
    }
}

/// <summary><c>--project</c>, <c>--location</c>, <c>--workflow</c>, <c>--watch</c> and the API options of a <c>start</c> command.</summary>
/// <param name="workflow">The deployed workflow's default ID.</param>
/// <param name="project">What <c>--project</c> holds besides the workflow, for its help line.</param>
internal sealed class WorkflowStartOptionSet(string workflow, string project)
{
    public Option<string> Project { get; } = CliOptions.Valued("--project", "P", $"the Google Cloud project of {project} and the workflow", required: true);
    public Option<string> Location { get; } = CliOptions.Valued("--location", "L", "the region the workflow is deployed in, such as europe-west1", required: true);
    public Option<string> Workflow { get; } = CliOptions.Valued("--workflow", "NAME", "the deployed workflow's ID", workflow);
    public Option<bool> Watch { get; } = CliOptions.Flag("--watch", "follow the execution to its end");
    public ApiOptionSet Api { get; } = new();

    /// <summary>Adds, in help order: project, location, <paramref name="own"/>, workflow, watch, the API options.</summary>
    public void AddTo(Command command, IEnumerable<Option> own)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(own);
        foreach (var option in new Option[] { Project, Location }.Concat(own).Concat([Workflow, Watch]))
        {
            command.Options.Add(option);
        }

        Api.AddTo(command);
    }
}

/// <summary>
/// Where a restore starts from: <c>--point-in-time</c> or <c>--backup-run</c>, and where the workflow
/// also takes one, <c>--backup</c>; exactly one of them, written into the argument under the name
/// the workflows read (<c>pointInTime</c>, in UTC; <c>backupRunId</c>, a string as Google's int64;
/// <c>backup</c>).
/// </summary>
internal sealed class RestorePointOptionSet
{
    public RestorePointOptionSet(bool withBackup)
    {
        var alternatives = withBackup ? "--backup-run or --backup" : "--backup-run";
        PointInTime = CliOptions.Valued("--point-in-time", "T", $"the time to recover to, RFC 3339 with an offset (or {alternatives})");
        BackupRun = CliOptions.Valued("--backup-run", "ID", $"the backup run to restore, as 'gcloud sql backups list' shows it (or --point-in-time{(withBackup ? " or --backup" : "")})");
        Backup = withBackup ? CliOptions.Valued("--backup", "gs://BUCKET/OBJECT", "the backup (a logical export) to restore (or --point-in-time or --backup-run)") : null;
    }

    public Option<string> PointInTime { get; }
    public Option<string> BackupRun { get; }
    public Option<string>? Backup { get; }

    public IEnumerable<Option> Options => Backup is null ? [PointInTime, BackupRun] : [PointInTime, BackupRun, Backup];

    /// <summary>Refuses anything but exactly one restore point (before any other check, so the operator learns it first).</summary>
    public void RequireOne(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (Options.Count(o => result.GetValue((Option<string>)o) is not null) != 1)
        {
            throw new UsageException(Backup is null
                ? "give exactly one of --point-in-time (RFC 3339 with an offset) and --backup-run (a backup run ID)"
                : "give exactly one of --point-in-time (RFC 3339 with an offset), --backup-run (a backup run ID) and --backup (the gs:// URI of a backup)");
        }
    }

    /// <summary>The one restore point, checked, into <paramref name="argument"/>.</summary>
    public void WriteTo(JsonObject argument, ParseResult result, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(argument);
        ArgumentNullException.ThrowIfNull(result);
        RequireOne(result);
        if (result.GetValue(PointInTime) is { } pointInTime)
        {
            argument["pointInTime"] = InputRules.PointInTime(PointInTime.Name, pointInTime, now);
        }
        else if (result.GetValue(BackupRun) is { } backupRun)
        {
            // An int64 in Google's APIs, so a string, as restoreBackupContext.backupRunId expects it.
            argument["backupRunId"] = InputRules.BackupRunId(BackupRun.Name, backupRun);
        }
        else
        {
            argument["backup"] = InputRules.GcsUri(Backup!.Name, result.GetValue(Backup)!);
        }
    }
}
