using System.CommandLine;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Executions;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>executions watch NAME</c>: follows a workflow execution to its end. Ctrl-C stops watching
/// and leaves the execution running.
/// </summary>
internal static class ExecutionsWatchCommand
{
    public const string Usage = """
          executions watch projects/P/locations/L/workflows/W/executions/ID [--access-token-file F] [--endpoint URL]
              Follows an execution: prints each change of state and step with the time, then the
              result (JSON, on stdout) or the error. Exit 0 SUCCEEDED, 1 FAILED or CANCELLED,
              2 interrupted (Ctrl-C stops watching; the execution keeps running), 69 API unreachable.
        """;

    public static Task<int> RunAsync(string[] args, CommandContext context) => CommandTree.InvokeAsync(["executions", "watch", .. args], context);

    public static Command Create(CommandContext context)
    {
        var execution = new Argument<string>("execution") { Description = "the execution to watch", HelpName = ExecutionName.Shape };
        var api = new ApiOptionSet();
        var command = new CliCommand("watch", "Follows a workflow execution to its end.", Usage) { execution };
        api.AddTo(command);
        CommandTree.SetAction(command, context, async result =>
        {
            var text = result.GetValue(execution)!;
            if (!ExecutionName.TryParse(text, out var name))
            {
                throw new UsageException($"'{text}' is not an execution name: use the full {ExecutionName.Shape} that 'start' printed");
            }

            var options = api.Read(result);
            using var client = options.CreateClient();
            return await ExecutionFollower.WatchAsync(context, client, options, name);
        });
        return command;
    }
}
