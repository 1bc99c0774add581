using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.Workflows;

namespace Commissable.Backup.Cli.Commands.Executions;

/// <summary>
/// The options every executions command shares: where the API is and where the token comes from.
/// Without <c>--access-token-file</c> the client uses Application Default Credentials, and only
/// for Google's API (<see cref="ApiEndpoints.IsGoogleApi"/>): the operator's identity is never sent to a proxy,
/// a local stack, or whoever listens on a loopback port while it is stopped.
/// </summary>
internal sealed record ApiOptions(Uri? Endpoint, string? TokenFile)
{
    public const string EndpointOption = "--endpoint";
    public const string TokenFileOption = "--access-token-file";

    /// <summary>Null when a client may be built: a token file, or Google's API; else why not (the URL without any user info).</summary>
    public string? CredentialProblem()
        => TokenFile is not null || Endpoint is null || ApiEndpoints.IsGoogleApi(Endpoint) ? null
            : $"{EndpointOption} '{Endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}' is not Google's API (https on googleapis.com), " +
              $"so Application Default Credentials are not sent to it: it requires {TokenFileOption} F (for the local stack, {TokenFileOption} .localcloud/token).";

    public WorkflowExecutionsClient CreateClient() => CredentialProblem() is { } problem ? throw new UsageException(problem) : new WorkflowExecutionsClientBuilder
    {
        BaseUri = Endpoint ?? WorkflowExecutionsClient.DefaultBaseUri,
        TokenSource = TokenFile is null ? null : new FileTokenSource(TokenFile),
    }.Build();

    /// <summary>The command that follows <paramref name="name"/> again, with the same endpoint and token file (a path, never the token).</summary>
    public string WatchCommand(ExecutionName name)
    {
        var command = $"commissable-backup executions watch {name}";
        if (Endpoint is not null)
        {
            command += $" {EndpointOption} {Quote(Endpoint.AbsoluteUri)}";
        }

        if (TokenFile is not null)
        {
            command += $" {TokenFileOption} {Quote(TokenFile)}";
        }

        return command;
    }

    private static string Quote(string value)
        => value.All(c => char.IsAsciiLetterOrDigit(c) || "/._-:".Contains(c, StringComparison.Ordinal)) ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary><c>--endpoint</c> and <c>--access-token-file</c>, as every executions command declares them.</summary>
internal sealed class ApiOptionSet
{
    public Option<string> Endpoint { get; } = CliOptions.Valued(ApiOptions.EndpointOption, "URL",
        "the Workflow Executions API's base URL (default https://workflowexecutions.googleapis.com/); https, or http on loopback; one not on googleapis.com needs --access-token-file");

    public Option<string> TokenFile { get; } = CliOptions.Valued(ApiOptions.TokenFileOption, "F",
        "a file holding an OAuth access token (default: Application Default Credentials, sent only to googleapis.com)");

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Endpoint);
        command.Options.Add(TokenFile);
    }

    /// <summary>The endpoint and the token file, checked.</summary>
    public ApiOptions Read(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var endpoint = result.GetValue(Endpoint) is { } url ? InputRules.Endpoint(ApiOptions.EndpointOption, url) : null;
        var tokenFile = result.GetValue(TokenFile) is { } file ? InputRules.ExistingFile(ApiOptions.TokenFileOption, file) : null;
        var options = new ApiOptions(endpoint, tokenFile);
        return options.CredentialProblem() is { } problem ? throw new UsageException(problem) : options;
    }
}

/// <summary>Starting an execution and following it to its end, as the start and watch commands do.</summary>
internal static class ExecutionFollower
{
    public static readonly TimeSpan FirstPoll = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LongestPoll = TimeSpan.FromSeconds(10);

    private static readonly JsonSerializerOptions Pretty = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Creates the execution, prints its name (stdout) and how to follow it (stderr); follows it with <paramref name="watch"/>.</summary>
    public static async Task<int> StartAsync(
        CommandContext context, string command, ApiOptions api, WorkflowName workflow, JsonObject argument, bool watch)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(argument);
        using var client = api.CreateClient();
        await context.Error.WriteLineAsync($"{command}: starting {workflow} with argument {argument.ToJsonString(Compact)}");
        Execution execution;
        try
        {
            execution = await client.CreateExecutionAsync(workflow, argument, callLogLevel: null, context.Interrupted);
        }
        catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync(
                $"{command}: interrupted before the API answered; the execution may have started. " +
                $"Check with: gcloud workflows executions list {workflow.Workflow} --project {workflow.Project} --location {workflow.Location}");
            return ExitCodes.Interrupted;
        }
        catch (Exception error) when (IsApiFailure(error))
        {
            await context.Error.WriteLineAsync($"{command}: could not start {workflow}: {error.Message}");
            return ExitCodes.Unavailable;
        }

        if (!ExecutionName.TryParse(execution.Name, out var name))
        {
            await context.Error.WriteLineAsync($"{command}: the API answered an execution without a valid name ('{execution.Name}').");
            return ExitCodes.Unavailable;
        }

        await context.Out.WriteLineAsync(name.ToString());
        await context.Error.WriteLineAsync($"{command}: started {name} (state {execution.State ?? "unknown"}, workflow revision {execution.WorkflowRevisionId ?? "unknown"})");
        if (api.Endpoint is null)
        {
            await context.Error.WriteLineAsync(
                $"console: https://console.cloud.google.com/workflows/workflow/{name.Workflow.Location}/{name.Workflow.Workflow}/execution/{name.Id}?project={name.Workflow.Project}");
        }

        if (!watch)
        {
            await context.Error.WriteLineAsync($"follow it with: {api.WatchCommand(name)}");
            return ExitCodes.Success;
        }

        return await WatchAsync(context, client, api, name, execution);
    }

    /// <summary>
    /// Polls the execution (1 s, doubling to 10 s; back to 1 s after each change), prints every
    /// change of state or step with the time, and at the end the result or the error.
    /// 0 SUCCEEDED, 1 FAILED/CANCELLED/UNAVAILABLE, 2 interrupted (the execution keeps running), 69 API unreachable.
    /// </summary>
    public static async Task<int> WatchAsync(
        CommandContext context, IWorkflowExecutions client, ApiOptions api, ExecutionName name, Execution? known = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(name);
        string? lastState = null;
        string? lastSteps = null;
        var wait = FirstPoll;
        var execution = known;
        try
        {
            while (true)
            {
                if (execution is null)
                {
                    execution = await client.GetExecutionAsync(name, context.Interrupted);
                }

                var steps = Steps(execution);
                if (execution.State != lastState || steps != lastSteps)
                {
                    lastState = execution.State;
                    lastSteps = steps;
                    wait = FirstPoll;
                    await context.Error.WriteLineAsync($"{Now(context)}  {execution.State ?? "STATE_UNSPECIFIED"}{(steps is null ? "" : $"  at {steps}")}");
                }

                if (execution.IsFinished)
                {
                    return await FinishAsync(context, execution);
                }

                await context.Delay(wait, context.Interrupted);
                var next = wait * 2;
                wait = next < LongestPoll ? next : LongestPoll;
                execution = null;
            }
        }
        catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync(
                $"{Now(context)}  interrupted: stopped watching; the execution keeps running on Google Cloud (nothing was cancelled).");
            await context.Error.WriteLineAsync($"follow it again with: {api.WatchCommand(name)}");
            await context.Error.WriteLineAsync($"cancel it with: gcloud workflows executions cancel {name}");
            return ExitCodes.Interrupted;
        }
        catch (Exception error) when (IsApiFailure(error))
        {
            await context.Error.WriteLineAsync($"executions watch: cannot read {name}: {error.Message}");
            await context.Error.WriteLineAsync($"the execution's state is unknown; try again with: {api.WatchCommand(name)}");
            return ExitCodes.Unavailable;
        }
    }

    private static async Task<int> FinishAsync(CommandContext context, Execution execution)
    {
        var took = execution.Duration ?? (execution is { StartTime: { } start, EndTime: { } end }
            ? (end - start).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
            : null);
        var summary = $"{execution.State}{(took is null ? "" : $" after {took}")}{(execution.EndTime is { } ended ? $" (ended {Utc(ended)})" : "")}";
        switch (execution.State)
        {
            case ExecutionStates.Succeeded:
                await context.Error.WriteLineAsync($"execution {summary}; result:");
                await context.Out.WriteLineAsync(PrettyJson(execution.Result ?? "null"));
                return ExitCodes.Success;
            case ExecutionStates.Unavailable:
                await context.Error.WriteLineAsync(
                    $"execution {summary}: its data is no longer available{(execution.StateError?.Details is { } details ? $" ({details})" : "")}.");
                return ExitCodes.Failed;
            default:
                await context.Error.WriteLineAsync($"execution {summary}; error:");
                await context.Error.WriteLineAsync(PrettyJson(execution.Error?.Payload ?? "null"));
                if (!string.IsNullOrWhiteSpace(execution.Error?.Context))
                {
                    await context.Error.WriteLineAsync($"context: {execution.Error.Context}");
                }

                return ExitCodes.Failed;
        }
    }

    /// <summary>The result and the error payload are JSON strings; shown indented, or as sent when they are not JSON.</summary>
    internal static string PrettyJson(string text)
    {
        try
        {
            return JsonNode.Parse(text) is { } node ? node.ToJsonString(Pretty) : "null";
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string? Steps(Execution execution)
        => execution.Status?.CurrentSteps is { Count: > 0 } current
            ? string.Join(" > ", current.Select(s => s.Routine is null ? s.Step : $"{s.Routine}.{s.Step}"))
            : null;

    private static string Now(CommandContext context) => Utc(context.Time.GetUtcNow());

    private static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Failures that mean "the API said no or could not be reached", as opposed to bugs.</summary>
    private static bool IsApiFailure(Exception error)
        => error is WorkflowExecutionsApiException or HttpRequestException or InvalidOperationException or JsonException
            or TaskCanceledException { InnerException: TimeoutException };
}
