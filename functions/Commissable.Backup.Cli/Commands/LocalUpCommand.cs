using System.CommandLine;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.LocalCloud;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>local up</c>: the local cloud and every function in the foreground until Ctrl-C or SIGTERM,
/// printing where they listen, the token file and the lines that point gcloud at them, as the
/// emulators of Google's SDK do. Stops what it started (the functions, then the local cloud and
/// its clusters) and exits 0.
/// </summary>
internal static class LocalUpCommand
{
    public const string Usage = """
          local up [--state DIR] [--port P] [--address-prefix A.B.C] [--project P]
              Runs the local cloud (Cloud SQL Admin API v1beta4 on 127.0.0.1:P, instances on
              A.B.C.x) and every function in local mode in the foreground until Ctrl-C, and prints
              their URLs, the token file and the gcloud lines to drive them. A local cloud already
              listening on --port with this state is reused; --port 0 takes a free port.
              Exit 0 after Ctrl-C (everything started is stopped), 69 when it could not start.
              Defaults: --state .localcloud --port 8123 --address-prefix 127.0.1 --project drill-project.
        """;

    /// <summary>Runs <c>local up</c> with <paramref name="args"/> in <paramref name="context"/> until its <see cref="CommandContext.Interrupted"/>.</summary>
    public static Task<int> RunAsync(string[] args, CommandContext context) => CommandTree.InvokeAsync(["local", "up", .. args], context);

    public static Command Create(CommandContext context)
    {
        var local = new LocalCloudOptionSet();
        var project = CliOptions.LocalProject();
        var command = new CliCommand("up", "Runs the local cloud and every function in the foreground until Ctrl-C.", Usage);
        local.AddTo(command);
        command.Options.Add(project);
        CommandTree.SetAction(command, context, result =>
        {
            var (state, port, addressPrefix) = local.Read(result);
            return UpAsync(context, state, port, addressPrefix, InputRules.ProjectId("--project", result.GetValue(project)!));
        });
        return command;
    }

    private static async Task<int> UpAsync(CommandContext context, string state, int port, string addressPrefix, string project)
    {
        await using var stack = new LocalStack(state, port, addressPrefix);
        try
        {
            await Progress.StepAsync(context, "local cloud", stack.StartCloudAsync);
            await Progress.StepAsync(context, "functions", () => stack.StartFunctionsAsync(project));
        }
        catch (Exception error) when (error is HttpRequestException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            await context.Error.WriteLineAsync($"local up: the local cloud or the functions did not start: {error.Message.Split('\n')[0]}");
            return ExitCodes.Unavailable;
        }

        await context.Out.WriteLineAsync(Banner(stack, project));
        await context.Out.FlushAsync();
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, context.Interrupted);
        }
        catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
        {
        }

        await context.Out.WriteLineAsync("local up: stopping the functions and the local cloud (its clusters stop with it) ...");
        await stack.DisposeAsync();
        await context.Out.WriteLineAsync("local up: stopped");
        return ExitCodes.Success;
    }

    /// <summary>Where everything is and how to drive it; the token is named by its file, never printed.</summary>
    internal static string Banner(LocalStack stack, string project)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var cloud = stack.CloudUrl.AbsoluteUri;
        var token = LocalCloudHost.TokenFile(stack.State);
        var lines = new List<string>
        {
            "",
            $"local cloud: {cloud}",
            $"functions:   {stack.FunctionsUrl.AbsoluteUri}",
        };
        var width = stack.FunctionNames.Count == 0 ? 0 : stack.FunctionNames.Max(n => n.Length);
        lines.AddRange(stack.FunctionNames.Select(name => $"  {name.PadRight(width)}  {stack.FunctionsUrl.AbsoluteUri}{name}"));
        lines.AddRange(
        [
            $"token file:  {token}",
            $"state:       {stack.State} (function logs in {Path.Combine(stack.DrillDirectory, "functions.log")})",
            "",
            "Drive the local cloud with gcloud (in another shell):",
            $"  export CLOUDSDK_CONFIG={ShellQuote(Path.Combine(stack.State, "gcloud"))}",
            "  export CLOUDSDK_CORE_CHECK_GCE_METADATA=false CLOUDSDK_METRICS_ENVIRONMENT=localcloud",
            $"  gcloud config set api_endpoint_overrides/sql {cloud}",
            $"  gcloud config set project {project}",
            $"  export CLOUDSDK_AUTH_ACCESS_TOKEN_FILE={ShellQuote(token)}",
            "",
            "Ctrl-C stops the functions and the local cloud.",
        ]);
        return string.Join('\n', lines);
    }

    private static string ShellQuote(string value)
        => value.All(c => char.IsAsciiLetterOrDigit(c) || "/._-:+".Contains(c, StringComparison.Ordinal)) ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
