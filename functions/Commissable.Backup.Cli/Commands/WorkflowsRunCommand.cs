using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.FileStore;
using Commissable.Workflows.Local;
using Commissable.Workflows.Local.Approvals;
using Commissable.Workflows.Local.CloudRun;
using Commissable.Workflows.Local.CloudSql;
using Commissable.Workflows.Local.Secrets;
using Commissable.Workflows.Local.Storage;
using Commissable.Workflows;
using Commissable.Workflows.Runtime;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>workflows run</c>: runs a workflow file on the local cloud and the locally hosted functions.
/// The file is parsed and every call checked before anything starts; then the local cloud is
/// started (or reused), the functions are hosted, and the run prints each step, each
/// <c>sys.log</c> and finally the result.
/// </summary>
internal static class WorkflowsRunCommand
{
    public const string Usage = """
          workflows run <file.yaml> [--args JSON|@FILE] [--approve] [--approver NAME]
                        [--state DIR] [--port P] [--address-prefix A.B.C] [--project P]
              Runs a workflow on the local cloud and the locally hosted functions: Cloud SQL,
              Secret Manager, Cloud Run and Storage connectors are served locally, http.* reaches
              the functions, an approval callback is asked for on the terminal (--approve approves
              it in advance as --approver, default $USER; without a terminal or --approve nobody
              approves and the callback times out at once). Prints each step, sys.log lines and the
              result. Exit 0 done, 1 the workflow raised an error, 64 bad usage or a workflow the
              runner cannot run. A local cloud already listening on --port is reused; else one
              is started with its instances on --address-prefix.x. Defaults: --args {},
              --state .localcloud, --port 8123, --address-prefix 127.0.1, --project drill-project.
        """;

    // For a terminal, not a web page: quotes and apostrophes in messages stay readable.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="input">Where the approval prompt reads.</param>
    /// <param name="inputIsTerminal">Whether to prompt at all (an operator is there).</param>
    public static Task<int> RunAsync(string[] args, CommandContext context, TextReader input, bool inputIsTerminal)
    {
        ArgumentNullException.ThrowIfNull(context);
        return CommandTree.InvokeAsync(["workflows", "run", .. args], context with { Input = new StandardInput(Stream.Null, input, inputIsTerminal) });
    }

    public static Command Create(CommandContext context)
    {
        var options = new RunOptions();
        var command = Declare(options);
        CommandTree.SetAction(command, context, result => RunAsync(options.Read(result), context));
        return command;
    }

    private static CliCommand Declare(RunOptions options)
    {
        var command = new CliCommand("run", "Runs a workflow on the local cloud and the locally hosted functions.", Usage);
        options.AddTo(command);
        return command;
    }

    private static async Task<int> RunAsync(RunRequest request, CommandContext context)
    {
        var input = context.Input.Text;
        var inputIsTerminal = context.Input.IsTerminal;
        WorkflowProgram program;
        try
        {
            program = WorkflowProgram.Parse(await File.ReadAllTextAsync(request.File, context.Interrupted), request.File);
        }
        catch (WorkflowSyntaxException syntax)
        {
            foreach (var problem in syntax.Problems.DefaultIfEmpty(new WorkflowProblem(syntax.Message, 0)))
            {
                await context.Error.WriteLineAsync($"{request.File}:{problem.Line}: {problem.Message}");
            }
            await context.Error.WriteLineAsync($"workflows run: {request.File} is outside what the local runner runs; nothing was started");
            return ExitCodes.Usage;
        }

        await using var run = new LocalRun(request, context, input, inputIsTerminal);
        var unserved = new WorkflowInterpreter(run.Options(new Dictionary<string, string>())).Check(program);
        if (unserved.Count > 0)
        {
            foreach (var problem in unserved)
            {
                await context.Error.WriteLineAsync($"{request.File}:{problem.Line}: {problem.Message}");
            }
            await context.Error.WriteLineAsync($"workflows run: {unserved.Count} call(s) in {request.File} are served neither by the local runner nor by the workflow; nothing was started");
            return ExitCodes.Usage;
        }

        IReadOnlyDictionary<string, string> environment;
        try
        {
            environment = await run.StartAsync();
        }
        catch (Exception error) when (error is HttpRequestException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            await context.Error.WriteLineAsync($"workflows run: the local cloud or the functions did not start: {error.Message.Split('\n')[0]}");
            return ExitCodes.Unavailable;
        }

        try
        {
            var result = await new WorkflowInterpreter(run.Options(environment)).RunAsync(program, request.Arguments, context.Interrupted);
            await context.Out.WriteLineAsync("result:");
            await context.Out.WriteLineAsync(result?.ToJsonString(Indented) ?? "null");
            return ExitCodes.Success;
        }
        catch (WorkflowFailedException failed)
        {
            await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"workflow failed{(failed.Step is null ? "" : $" in step {failed.Step}")}{(failed.Line > 0 ? $" (line {failed.Line})" : "")}:"));
            await context.Out.WriteLineAsync(failed.Error?.ToJsonString(Indented) ?? failed.Message);
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync("workflows run: interrupted; what the workflow started on the local cloud keeps running there");
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>The options of <c>workflows run</c>.</summary>
    internal sealed class RunOptions
    {
        public Argument<string> File { get; } = new("file") { Description = "the workflow file", HelpName = "file.yaml" };
        public Option<string> Args { get; } = CliOptions.Valued("--args", "JSON|@FILE", "the workflow's argument, JSON or @ a file holding it", "{}");
        public Option<bool> Approve { get; } = CliOptions.Flag("--approve", "approve the approval callback in advance, as --approver");
        public Option<string> Approver { get; } = CliOptions.Valued("--approver", "NAME", "who approves (default $USER)");
        public LocalCloudOptionSet Local { get; } = new();
        public Option<string> Project { get; } = CliOptions.LocalProject();

        public void AddTo(Command command)
        {
            ArgumentNullException.ThrowIfNull(command);
            command.Arguments.Add(File);
            command.Options.Add(Args);
            command.Options.Add(Approve);
            command.Options.Add(Approver);
            Local.AddTo(command);
            command.Options.Add(Project);
        }

        /// <summary>The command line, checked.</summary>
        public RunRequest Read(ParseResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var file = result.GetValue(File)!;
            if (!System.IO.File.Exists(file)) throw new UsageException($"the workflow file '{file}' does not exist");
            var text = result.GetValue(Args)!;
            if (text.StartsWith('@'))
            {
                var path = text[1..];
                text = System.IO.File.Exists(path) ? System.IO.File.ReadAllText(path) : throw new UsageException($"--args file '{path}' does not exist");
            }
            JsonNode arguments;
            try
            {
                arguments = JsonNode.Parse(text) ?? throw new UsageException("--args must be a JSON value, usually a map");
            }
            catch (JsonException error)
            {
                throw new UsageException($"--args is not valid JSON: {error.Message}");
            }
            var (state, port, addressPrefix) = Local.Read(result);
            var project = InputRules.ProjectId("--project", result.GetValue(Project)!);
            var approver = result.GetValue(Approver) ?? Environment.GetEnvironmentVariable("USER") ?? Environment.UserName;
            if (string.IsNullOrWhiteSpace(approver)) throw new UsageException("--approver must name someone");
            return new RunRequest(file, arguments, result.GetValue(Approve), approver.Trim(), state, port, addressPrefix, project);
        }
    }

    /// <summary>The command line, checked.</summary>
    internal sealed record RunRequest(string File, JsonNode Arguments, bool Approve, string Approver, string State, int Port, string AddressPrefix, string Project)
    {
        /// <summary>Reads <paramref name="args"/> (after <c>workflows run</c>) as the command does; a problem is a <see cref="UsageException"/>.</summary>
        public static RunRequest Read(string[] args)
        {
            var options = new RunOptions();
            var root = new RootCommand { new CliCommand("workflows", "") { Declare(options) } };
            var result = CommandTree.Parse(root, ["workflows", "run", .. args]);
            return UsageProblems.Find(result) is { } problem ? throw new UsageException(problem) : options.Read(result);
        }
    }

    /// <summary>One run: the local stack, the handlers, the environment the workflow sees.</summary>
    internal sealed class LocalRun(RunRequest request, CommandContext context, TextReader input, bool inputIsTerminal) : IAsyncDisposable
    {
        private readonly LocalStack _stack = new(request.State, request.Port, request.AddressPrefix);
        private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
        private readonly string _execution = Guid.NewGuid().ToString();

        public WorkflowRunOptions Options(IReadOnlyDictionary<string, string> environment)
        {
            var approver = request.Approve ? new PreApproved(request.Approver)
                : inputIsTerminal ? new TerminalApprover(input, context.Out, request.Approver)
                : (IApprover)new NoApprover();
            // What the operator types to approve: the name of what the approval is about.
            var confirmation = request.Arguments is JsonObject map
                ? Text(map, "newInstance") ?? Text(map, "stagingInstance") ?? Text(map, "tenantId") ?? "approve"
                : "approve";
            return new WorkflowRunOptions
            {
                Handlers =
                [
                    .. LocalWorkflowServices.Handlers(_stack, request.Project, context.Time, _http),
                    new CallbackEvents(new CallbackContext(request.Project, request.File, Path.Combine(request.State, "approvals"), confirmation, _execution), approver, context.Time),
                ],
                Environment = environment,
                Time = context.Time,
                Observer = new ProgressPrinter(context.Out, context.Time),
                Delay = context.Delay,
            };
        }

        private static string? Text(JsonObject map, string key) =>
            map[key] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 && !text.Any(char.IsControl) ? text : null;

        /// <summary>Starts (or reuses) the local cloud, hosts the functions, makes sure the app service exists; returns the workflow's environment.</summary>
        public async Task<IReadOnlyDictionary<string, string>> StartAsync()
        {
            await Progress.StepAsync(context, "local cloud", _stack.StartCloudAsync);
            await Progress.StepAsync(context, "functions", async () =>
                $"{await _stack.StartFunctionsAsync(request.Project)} (logs in {Path.Combine(_stack.DrillDirectory, "functions.log")})");
            LocalWorkflowServices.EnsureAppService(_stack, request.Project, context.Time);
            return LocalWorkflowServices.Environment(_stack, request.Project, Path.GetFileNameWithoutExtension(request.File), _execution);
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await _stack.DisposeAsync();
        }
    }
}
