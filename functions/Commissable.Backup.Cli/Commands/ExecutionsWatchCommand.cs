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

    public static Task<int> RunAsync(string[] args) => CommandContext.RunOnConsoleAsync(context => RunAsync(args, context));

    public static async Task<int> RunAsync(string[] args, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (args is ["--help" or "-h"])
        {
            await context.Out.WriteLineAsync("usage: commissable-backup\n" + Usage);
            return ExitCodes.Success;
        }

        ExecutionName? name;
        ApiOptions api;
        try
        {
            var options = new OptionReader(args, ApiOptions.Names, [], positional: 1);
            var text = options.Positionals.Count == 1 ? options.Positionals[0]
                : throw new UsageException($"the execution to watch is required: {ExecutionName.Shape}");
            if (!ExecutionName.TryParse(text, out name))
            {
                throw new UsageException($"'{text}' is not an execution name: use the full {ExecutionName.Shape} that 'start' printed");
            }

            api = ApiOptions.Read(options);
        }
        catch (UsageException problem)
        {
            await context.Error.WriteLineAsync($"executions watch: {problem.Message}");
            await context.Error.WriteLineAsync("run 'commissable-backup executions watch --help' for usage");
            return ExitCodes.Usage;
        }

        using var client = api.CreateClient();
        return await ExecutionFollower.WatchAsync(context, client, api, name);
    }
}
