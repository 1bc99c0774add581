using System.CommandLine;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Functions.DataManagement;
using Commissable.Backup.Cli.Local;
using System.Text.Json.Nodes;
using Commissable.LocalCloud;
using Commissable.Workflows;
using Commissable.Workflows.Runtime;

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
                   [--workflows DIR] [--executions-port P]
              Runs the local cloud (Cloud SQL Admin API v1beta4 on 127.0.0.1:P, instances on
              A.B.C.x), every function in local mode and the Workflow Executions API v1 (workflow
              W runs --workflows/W.yaml with the local runner; callback URLs are served too) in the
              foreground until Ctrl-C, and prints their URLs, the token file and the gcloud lines
              to drive them. A local cloud already listening on --port with this state is reused;
              a port of 0 takes a free one. Exit 0 after Ctrl-C (everything started is stopped),
              69 when it could not start. Defaults: --state .localcloud --port 8123
              --address-prefix 127.0.1 --project drill-project --workflows workflows
              --executions-port 8124.
        """;

    /// <summary>Runs <c>local up</c> with <paramref name="args"/> in <paramref name="context"/> until its <see cref="CommandContext.Interrupted"/>.</summary>
    public static Task<int> RunAsync(string[] args, CommandContext context) => CommandTree.InvokeAsync(["local", "up", .. args], context);

    public static Command Create(CommandContext context)
    {
        var local = new LocalCloudOptionSet();
        var project = CliOptions.LocalProject();
        var workflows = CliOptions.Valued("--workflows", "DIR", "the deployed workflows: W.yaml for workflow W", "workflows");
        var executionsPort = CliOptions.Valued("--executions-port", "P", "the Workflow Executions API's port on 127.0.0.1 (0: a free one)", DefaultExecutionsPort);
        var command = new CliCommand("up", "Runs the local cloud and every function in the foreground until Ctrl-C.", Usage);
        local.AddTo(command);
        command.Options.Add(project);
        command.Options.Add(workflows);
        command.Options.Add(executionsPort);
        CommandTree.SetAction(command, context, result =>
        {
            var (state, port, addressPrefix) = local.Read(result);
            var projectId = InputRules.ProjectId("--project", result.GetValue(project)!);
            var directory = Path.GetFullPath(result.GetValue(workflows)!);
            if (!Directory.Exists(directory)) throw new UsageException($"--workflows: the directory '{directory}' does not exist");
            var executions = InputRules.Port("--executions-port", result.GetValue(executionsPort)!);
            return UpAsync(context, state, port, addressPrefix, projectId, directory, executions);
        });
        return command;
    }

    private static async Task<int> UpAsync(CommandContext context, string state, int port, string addressPrefix, string project, string workflows, int executionsPort)
    {
        await using var stack = new LocalStack(state, port, addressPrefix);
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        LocalWorkflowExecutions? executions = null;
        Dictionary<string, string?> dataManagement = [];
        var log = new ExecutionLog(context.Out);
        try
        {
            await Progress.StepAsync(context, "local cloud", stack.StartCloudAsync);
            // The executions API first: data-management starts its jobs through it. An execution
            // reads the functions' URL when it runs, after both have started.
            await Progress.StepAsync(context, "workflow executions", async () =>
            {
                executions = await LocalWorkflowExecutions.StartAsync(workflows, LocalCloudHost.TokenFile(stack.State), executionsPort, context.Time,
                    start => new WorkflowRunOptions
                    {
                        Handlers = LocalWorkflowServices.Handlers(stack, start.Name.Workflow.Project, context.Time, http),
                        Environment = LocalWorkflowServices.Environment(stack, start.Name.Workflow.Project, start.Name.Workflow.Workflow, start.Name.Id),
                        Time = context.Time,
                        Delay = context.Delay,
                        Observer = log.For(start.Name.Id),
                    }, context.Interrupted);
                return $"serving on {executions.BaseUri.Authority}, workflows from {workflows}";
            });
            dataManagement = DataManagementSettings(context, executions!.BaseUri);
            await Progress.StepAsync(context, "functions", () => stack.StartFunctionsAsync(project, dataManagement));
            LocalWorkflowServices.EnsureAppService(stack, project, context.Time);
        }
        catch (Exception error) when (error is HttpRequestException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            await context.Error.WriteLineAsync($"local up: the local cloud or the functions did not start: {error.Message.Split('\n')[0]}");
            return ExitCodes.Unavailable;
        }

        await context.Out.WriteLineAsync(Banner(stack, project, executions!.BaseUri, dataManagement));
        await context.Out.FlushAsync();
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, context.Interrupted);
        }
        catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
        {
        }

        await context.Out.WriteLineAsync("local up: stopping the workflow executions, the functions and the local cloud (its clusters stop with it) ...");
        await executions.DisposeAsync();
        await stack.DisposeAsync();
        await context.Out.WriteLineAsync("local up: stopped");
        return ExitCodes.Success;
    }

    /// <summary>
    /// data-management's settings in local mode: its jobs start workflows through this local
    /// Workflow Executions API, on the drill's production instance and database, into the
    /// instance <c>staging</c>; every <c>DATA_MANAGEMENT_*</c> variable set where local up runs
    /// replaces its default, and the token settings (issuer, audience, JWKS file: the CRM's) come
    /// only from there (unset: data-management answers 503, as on Google).
    /// </summary>
    internal static Dictionary<string, string?> DataManagementSettings(CommandContext context, Uri executions)
    {
        var variables = new Dictionary<string, string?>
        {
            [DataManagementVariables.Location] = "us-central1",
            [DataManagementVariables.SourceInstance] = LocalStack.ProdInstance,
            [DataManagementVariables.Database] = "crm",
            [DataManagementVariables.StagingInstance] = "staging",
            [DataManagementVariables.StagingDatabase] = "crm_staging",
            [DataManagementVariables.StagingAppUser] = "crm_app",
            [DataManagementVariables.StagingAppPasswordSecret] = "staging-app-password",
            [DataManagementVariables.ExecutionsEndpoint] = executions.AbsoluteUri,
        };
        // Its own executions API stays: the workflows run here.
        foreach (var name in DataManagementVariables.All.Where(n => n != DataManagementVariables.ExecutionsEndpoint))
        {
            if (context.Environment(name) is { Length: > 0 } value) variables[name] = value;
        }
        return variables;
    }

    /// <summary>What data-management will do: its jobs' target, or why it answers 503 (its token settings unset).</summary>
    private static string DataManagementLine(IReadOnlyDictionary<string, string?>? variables)
    {
        string? Get(string name) => variables is not null && variables.TryGetValue(name, out var value) ? value : null;
        return Get(DataManagementVariables.JwksFile) is { Length: > 0 } jwks
            ? $"data-management: acting-user tokens of {Get(DataManagementVariables.Issuer)} checked with {jwks}; jobs on {Get(DataManagementVariables.SourceInstance)}/{Get(DataManagementVariables.Database)}, staging {Get(DataManagementVariables.StagingInstance)}/{Get(DataManagementVariables.StagingDatabase)}"
            : "data-management: answers 503 until DATA_MANAGEMENT_ISSUER, DATA_MANAGEMENT_AUDIENCE and DATA_MANAGEMENT_JWKS_FILE (the CRM's public keys) are set where local up runs";
    }

    /// <summary>Where everything is and how to drive it; the token is named by its file, never printed.</summary>
    internal static string Banner(LocalStack stack, string project, Uri executions, IReadOnlyDictionary<string, string?>? dataManagement = null)
    {
        ArgumentNullException.ThrowIfNull(executions);
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
            $"workflow executions: {executions.AbsoluteUri} (commissable-backup dr start|clone-staging start|executions watch --endpoint {executions.AbsoluteUri} --access-token-file {token})",
            DataManagementLine(dataManagement),
            $"token file:  {token}",
            $"state:       {stack.State} (function logs in {Path.Combine(stack.DrillDirectory, "functions.log")})",
            "",
            "Drive the local cloud with gcloud (in another shell):",
            $"  export CLOUDSDK_CONFIG={ShellQuote(Path.Combine(stack.State, "gcloud"))}",
            "  export CLOUDSDK_CORE_CHECK_GCE_METADATA=false CLOUDSDK_METRICS_ENVIRONMENT=localcloud",
            $"  gcloud config set api_endpoint_overrides/sql {cloud}",
            $"  gcloud config set api_endpoint_overrides/workflowexecutions {executions.AbsoluteUri}",
            $"  gcloud config set project {project}",
            $"  export CLOUDSDK_AUTH_ACCESS_TOKEN_FILE={ShellQuote(token)}",
            "",
            "Ctrl-C stops the functions and the local cloud.",
        ]);
        return string.Join('\n', lines);
    }

    /// <summary>The default port of the Workflow Executions API, beside the local cloud's 8123.</summary>
    public const string DefaultExecutionsPort = "8124";

    /// <summary>Prints each execution's <c>sys.log</c> lines (an approval's callback URL among them), one line each, tagged with the execution.</summary>
    private sealed class ExecutionLog(TextWriter output)
    {
        private readonly Lock _lock = new();

        public IWorkflowObserver For(string execution) => new Observer(this, execution);

        private sealed class Observer(ExecutionLog log, string execution) : IWorkflowObserver
        {
            public void StepStarted(string path, int line)
            {
            }

            public void Logged(string severity, JsonNode? data)
            {
                var text = data is JsonValue value && value.TryGetValue<string>(out var s) ? s : data?.ToJsonString() ?? "null";
                lock (log._lock)
                {
                    log.WriteLine($"execution {execution}: {severity}: {text}");
                }
            }
        }

        private void WriteLine(string line)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private static string ShellQuote(string value)
        => value.All(c => char.IsAsciiLetterOrDigit(c) || "/._-:+".Contains(c, StringComparison.Ordinal)) ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
