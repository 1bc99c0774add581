using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Executions;
using Commissable.Workflows;
using Commissable.Workflows.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Commissable.Backup.Cli.Local;

/// <summary>What the server needs to run an execution: its name and the environment Google would give it.</summary>
/// <param name="Name">The execution's full name.</param>
/// <param name="Environment">GOOGLE_CLOUD_PROJECT_ID, GOOGLE_CLOUD_LOCATION, GOOGLE_CLOUD_WORKFLOW_ID, ..._REVISION_ID, ..._EXECUTION_ID.</param>
internal sealed record LocalExecutionStart(ExecutionName Name, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// The Workflow Executions API v1 on 127.0.0.1: <c>executions.create</c>, <c>get</c>, <c>list</c>,
/// <c>cancel</c>, <c>callbacks.list</c> and the callback URLs of <c>events.create_callback_endpoint</c>. Workflow
/// <c>W</c> is the file <c>W.yaml</c> of the workflows directory (the repository's
/// <c>workflows/</c>), run in the background by the local runner with the handlers
/// <c>runOptions</c> gives it. Every request needs the bearer token in the token file (the local
/// cloud's), else 401. State is kept in memory for the life of the server.
/// </summary>
internal sealed partial class LocalWorkflowExecutions : IAsyncDisposable
{
    /// <summary>The revision id every local execution reports.</summary>
    public const string RevisionId = "000001-loc";

    private const int MaxBodyBytes = 64 * 1024;
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    // callbacks.list: "The default value is 100 and is also the maximum value"; a larger size is
    // accepted (up to MaxPageSize, as for executions) and served 100 at a time.
    private const int MaxCallbacksPerPage = 100;

    private static readonly JsonSerializerOptions Wire = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly string _workflowsDirectory;
    private readonly byte[] _token;
    private readonly TimeProvider _time;
    private readonly Func<LocalExecutionStart, WorkflowRunOptions> _runOptions;
    private readonly ConcurrentDictionary<string, Run> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly WebApplication _app;
    private long _sequence;

    private LocalWorkflowExecutions(string workflowsDirectory, string tokenFile, int port, TimeProvider time, Func<LocalExecutionStart, WorkflowRunOptions> runOptions)
    {
        _workflowsDirectory = Path.GetFullPath(workflowsDirectory);
        _token = Encoding.UTF8.GetBytes(File.ReadAllText(tokenFile).Trim());
        if (_token.Length == 0)
        {
            throw new InvalidOperationException($"the token file {tokenFile} is empty");
        }
        _time = time;
        _runOptions = runOptions;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, port);
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
        });
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>The API root, e.g. <c>http://127.0.0.1:PORT/</c>: the <c>--endpoint</c> and the gcloud override.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Starts listening on 127.0.0.1:<paramref name="port"/> (0 picks one).</summary>
    /// <param name="workflowsDirectory">Where <c>W.yaml</c> is for each workflow id <c>W</c>.</param>
    /// <param name="tokenFile">The bearer token every request must carry (the local cloud's <c>&lt;state&gt;/token</c>).</param>
    /// <param name="runOptions">The handlers, clock and delay an execution runs with; the server adds the callbacks and the environment.</param>
    public static async Task<LocalWorkflowExecutions> StartAsync(
        string workflowsDirectory, string tokenFile, int port, TimeProvider time,
        Func<LocalExecutionStart, WorkflowRunOptions> runOptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(runOptions);
        if (!Directory.Exists(workflowsDirectory))
        {
            throw new DirectoryNotFoundException($"the workflows directory {workflowsDirectory} does not exist");
        }
        var server = new LocalWorkflowExecutions(workflowsDirectory, tokenFile, port, time, runOptions);
        await server._app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>Completes when the execution named <paramref name="name"/> has stopped running (for tests and shutdown).</summary>
    public Task WhenStoppedAsync(string name) =>
        _runs.TryGetValue(name, out var run) ? run.Task : throw new KeyNotFoundException($"no execution {name}");

    /// <summary>Completes when a step of the execution named <paramref name="name"/> first waits on a callback (for tests).</summary>
    public Task WhenAwaitingCallbackAsync(string name) =>
        _runs.TryGetValue(name, out var run) ? run.Callbacks.FirstWait : throw new KeyNotFoundException($"no execution {name}");

    /// <summary>Cancels running executions and stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_runs.Values.Select(r => r.Task)).ConfigureAwait(false);
        foreach (var run in _runs.Values)
        {
            run.Cancel.Dispose();
        }
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>One execution: what get answers, and how to stop it.</summary>
    private sealed class Run
    {
        public required string Name { get; init; }
        public required long Sequence { get; init; }
        public required string? Argument { get; init; }
        public required string? CallLogLevel { get; init; }
        public required DateTimeOffset Created { get; init; }
        public required HttpCallbackEvents Callbacks { get; init; }
        public required CancellationTokenSource Cancel { get; init; }
        public Task Task { get; set; } = Task.CompletedTask;
        public string State { get; set; } = ExecutionStates.Active;
        public string? Result { get; set; }
        public ExecutionError? Error { get; set; }
        public DateTimeOffset? Ended { get; set; }
        public IReadOnlyList<ExecutionStep> CurrentSteps { get; set; } = [];

        public Execution Snapshot()
        {
            lock (this)
            {
                return new Execution
                {
                    Name = Name,
                    State = State,
                    Argument = Argument,
                    Result = Result,
                    Error = Error,
                    CreateTime = Created,
                    StartTime = Created,
                    EndTime = Ended,
                    Duration = Ended is { } end ? ((end - Created).TotalSeconds).ToString("0.######", CultureInfo.InvariantCulture) + "s" : null,
                    WorkflowRevisionId = RevisionId,
                    CallLogLevel = CallLogLevel ?? CallLogLevels.Unspecified,
                    Status = new ExecutionStatus { CurrentSteps = CurrentSteps },
                };
            }
        }

        /// <summary>Ends the run with <paramref name="state"/> unless it already ended (a cancel wins over what the run finishes with).</summary>
        public bool Finish(string state, DateTimeOffset at, string? result = null, ExecutionError? error = null)
        {
            lock (this)
            {
                if (ExecutionStates.IsFinished(State))
                {
                    return false;
                }
                State = state;
                Result = result;
                Error = error;
                Ended = at;
                return true;
            }
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        try
        {
            if (!Authorized(context.Request))
            {
                var missing = context.Request.Headers.Authorization.Count == 0;
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\"";
                await WriteErrorAsync(context, 401, "UNAUTHENTICATED", missing
                    ? "Request is missing required authentication credential. (local: send 'Authorization: Bearer <contents of the local cloud's token file>')"
                    : "Request had invalid authentication credentials.").ConfigureAwait(false);
                return;
            }
            await RouteAsync(context).ConfigureAwait(false);
        }
        catch (ApiError error)
        {
            await WriteErrorAsync(context, error.Code, error.Status, error.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException error)
        {
            await WriteErrorAsync(context, 400, "INVALID_ARGUMENT", error.Message).ConfigureAwait(false);
        }
    }

    private bool Authorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _token);
    }

    private async Task RouteAsync(HttpContext context)
    {
        // The raw target: a %2F or a dot segment must not become a path separator here.
        var path = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var queryStart = path.IndexOf('?', StringComparison.Ordinal);
        if (queryStart >= 0)
        {
            path = path[..queryStart];
        }
        var match = PathPattern().Match(path);
        if (!match.Success)
        {
            throw new ApiError(404, "NOT_FOUND", $"{context.Request.Method} {path} is not a method of the Workflow Executions API v1 served here.");
        }
        var project = match.Groups["project"].Value;
        var location = match.Groups["location"].Value;
        var workflowId = match.Groups["workflow"].Value;
        if (!ProjectPattern().IsMatch(project) || !LocationPattern().IsMatch(location) || !WorkflowName.IsValidWorkflowId(workflowId))
        {
            throw new ApiError(400, "INVALID_ARGUMENT", $"'projects/{project}/locations/{location}/workflows/{workflowId}' is not a valid workflow name.");
        }
        var workflow = new WorkflowName(project, location, workflowId);
        var method = context.Request.Method;
        if (!match.Groups["id"].Success)
        {
            if (method == HttpMethods.Post) await CreateAsync(context, workflow).ConfigureAwait(false);
            else if (method == HttpMethods.Get) await ListAsync(context, workflow).ConfigureAwait(false);
            else throw new ApiError(405, "INVALID_ARGUMENT", $"{method} is not allowed on {path}.");
            return;
        }
        var id = match.Groups["id"].Value;
        if (!IdPattern().IsMatch(id))
        {
            throw new ApiError(400, "INVALID_ARGUMENT", $"'{id}' is not a valid execution id.");
        }
        var name = new ExecutionName(workflow, id).ToString();
        if (!_runs.TryGetValue(name, out var run))
        {
            throw new ApiError(404, "NOT_FOUND", $"Resource '{name}' was not found");
        }
        if (match.Groups["callback"].Success)
        {
            await CallbackAsync(context, run, match.Groups["callback"].Value).ConfigureAwait(false);
        }
        else if (match.Groups["callbacks"].Success)
        {
            if (method != HttpMethods.Get) throw new ApiError(405, "INVALID_ARGUMENT", $"{method} is not allowed on {path}.");
            await ListCallbacksAsync(context, run).ConfigureAwait(false);
        }
        else if (match.Groups["cancel"].Success)
        {
            if (method != HttpMethods.Post) throw new ApiError(405, "INVALID_ARGUMENT", $"{method} is not allowed on {path}.");
            await CancelAsync(context, run).ConfigureAwait(false);
        }
        else
        {
            if (method != HttpMethods.Get) throw new ApiError(405, "INVALID_ARGUMENT", $"{method} is not allowed on {path}.");
            await WriteAsync(context, 200, run.Snapshot()).ConfigureAwait(false);
        }
    }

    private async Task CreateAsync(HttpContext context, WorkflowName workflow)
    {
        var file = Path.Combine(_workflowsDirectory, workflow.Workflow + ".yaml");
        if (!File.Exists(file))
        {
            throw new ApiError(404, "NOT_FOUND", $"Resource '{workflow}' was not found");
        }
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var argumentText = Text(body, "argument");
        var callLogLevel = Text(body, "callLogLevel");
        if (callLogLevel is not null && !CallLogLevels.IsValid(callLogLevel))
        {
            throw new ApiError(400, "INVALID_ARGUMENT", $"Invalid value at 'execution.call_log_level': '{callLogLevel}'.");
        }
        JsonNode? argument = null;
        if (argumentText is not null)
        {
            if (Encoding.UTF8.GetByteCount(argumentText) > 32 * 1024)
            {
                throw new ApiError(400, "INVALID_ARGUMENT", "The argument exceeds 32 KiB.");
            }
            try
            {
                argument = JsonNode.Parse(argumentText);
            }
            catch (JsonException error)
            {
                throw new ApiError(400, "INVALID_ARGUMENT", $"The argument is not valid JSON: {error.Message.Split('\n')[0]}");
            }
        }

        WorkflowProgram program;
        try
        {
            program = WorkflowProgram.Parse(await File.ReadAllTextAsync(file, context.RequestAborted).ConfigureAwait(false), file);
        }
        catch (WorkflowSyntaxException syntax)
        {
            throw new ApiError(400, "FAILED_PRECONDITION", $"The workflow '{workflow.Workflow}' is outside what the local runner runs: {syntax.Message}");
        }

        var id = Guid.NewGuid().ToString();
        var name = new ExecutionName(workflow, id).ToString();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["GOOGLE_CLOUD_PROJECT_ID"] = workflow.Project,
            ["GOOGLE_CLOUD_LOCATION"] = workflow.Location,
            ["GOOGLE_CLOUD_WORKFLOW_ID"] = workflow.Workflow,
            ["GOOGLE_CLOUD_WORKFLOW_REVISION_ID"] = RevisionId,
            ["GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID"] = id,
        };
        var given = _runOptions(new LocalExecutionStart(new ExecutionName(workflow, id), environment));
        foreach (var (key, value) in given.Environment)
        {
            environment.TryAdd(key, value);
        }
        var callbacks = new HttpCallbackEvents(BaseUri, name, _time);
        var run = new Run
        {
            Name = name,
            Sequence = Interlocked.Increment(ref _sequence),
            Argument = argumentText,
            CallLogLevel = callLogLevel,
            Created = _time.GetUtcNow(),
            Callbacks = callbacks,
            Cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token),
        };
        var options = new WorkflowRunOptions
        {
            Handlers = [callbacks, .. given.Handlers],
            Environment = environment,
            Time = given.Time,
            Observer = new StepObserver(run, given.Observer),
            Delay = given.Delay,
            MaxSteps = given.MaxSteps,
            MaxCallDepth = given.MaxCallDepth,
        };
        var interpreter = new WorkflowInterpreter(options);
        var unserved = interpreter.Check(program);
        if (unserved.Count > 0)
        {
            run.Cancel.Dispose();
            throw new ApiError(400, "FAILED_PRECONDITION",
                $"The workflow '{workflow.Workflow}' calls what the local runner does not serve: " + string.Join("; ", unserved.Select(p => $"line {p.Line}: {p.Message}")));
        }
        _runs[name] = run;
        run.Task = Task.Run(() => ExecuteAsync(run, interpreter, program, argument));
        await WriteAsync(context, 200, run.Snapshot()).ConfigureAwait(false);
    }

    private async Task ExecuteAsync(Run run, WorkflowInterpreter interpreter, WorkflowProgram program, JsonNode? argument)
    {
        try
        {
            var result = await interpreter.RunAsync(program, argument, run.Cancel.Token).ConfigureAwait(false);
            run.Finish(ExecutionStates.Succeeded, _time.GetUtcNow(), result: result?.ToJsonString() ?? "null");
        }
        catch (WorkflowFailedException failed)
        {
            var payload = failed.Error?.ToJsonString() ?? JsonValue.Create(failed.Message).ToJsonString();
            var where = failed.Step is null ? "" : string.Create(CultureInfo.InvariantCulture, $" in step \"{failed.Step}\"{(failed.Line > 0 ? $", line {failed.Line}" : "")}");
            run.Finish(ExecutionStates.Failed, _time.GetUtcNow(), error: new ExecutionError { Payload = payload, Context = $"The workflow raised an error{where}: {failed.Message}" });
        }
        catch (OperationCanceledException) when (run.Cancel.IsCancellationRequested)
        {
            run.Finish(ExecutionStates.Cancelled, _time.GetUtcNow(), error: Cancelled());
        }
#pragma warning disable CA1031 // whatever ends a run is the run's error, never the server's
        catch (Exception error)
#pragma warning restore CA1031
        {
            var message = error.Message.Split('\n')[0];
            run.Finish(ExecutionStates.Failed, _time.GetUtcNow(),
                error: new ExecutionError { Payload = new JsonObject { ["message"] = message, ["tags"] = new JsonArray("InternalError") }.ToJsonString(), Context = message });
        }
        finally
        {
            lock (run)
            {
                run.CurrentSteps = [];
            }
        }
    }

    private static ExecutionError Cancelled() =>
        new() { Payload = new JsonObject { ["message"] = "Execution cancelled", ["tags"] = new JsonArray("CancelledError") }.ToJsonString(), Context = "Cancelled by executions.cancel." };

    private async Task CancelAsync(HttpContext context, Run run)
    {
        if (!run.Finish(ExecutionStates.Cancelled, _time.GetUtcNow(), error: Cancelled()))
        {
            throw new ApiError(400, "FAILED_PRECONDITION", $"Execution '{run.Name}' is not active (state {run.Snapshot().State}); only an active execution can be cancelled.");
        }
        await run.Cancel.CancelAsync().ConfigureAwait(false);
        await WriteAsync(context, 200, run.Snapshot()).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpContext context, WorkflowName workflow)
    {
        var query = context.Request.Query;
        var pageSize = DefaultPageSize;
        if (query.TryGetValue("pageSize", out var sizeText) && sizeText.Count > 0)
        {
            if (!int.TryParse(sizeText[0], NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 0)
            {
                throw new ApiError(400, "INVALID_ARGUMENT", $"pageSize '{sizeText[0]}' is not a non-negative integer.");
            }
            pageSize = pageSize == 0 ? DefaultPageSize : Math.Min(pageSize, MaxPageSize);
        }
        var offset = 0;
        if (query.TryGetValue("pageToken", out var tokenText) && !string.IsNullOrEmpty(tokenText[0]))
        {
            if (!int.TryParse(tokenText[0], NumberStyles.None, CultureInfo.InvariantCulture, out offset))
            {
                throw new ApiError(400, "INVALID_ARGUMENT", "The page token is not one this server gave.");
            }
        }
        var prefix = workflow + "/executions/";
        // Newest first, as Google lists them.
        var all = _runs.Values.Where(r => r.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderByDescending(r => r.Sequence).ToList();
        var page = all.Skip(offset).Take(pageSize).Select(r => JsonSerializer.SerializeToNode(r.Snapshot(), Wire)).ToArray();
        var answer = new JsonObject { ["executions"] = new JsonArray(page) };
        if (offset + pageSize < all.Count)
        {
            answer["nextPageToken"] = (offset + pageSize).ToString(CultureInfo.InvariantCulture);
        }
        await WriteAsync(context, 200, answer).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>executions.callbacks.list</c>: the callbacks of a running execution, ordered by id; a
    /// finished execution has none. The page token is the last id of the page before, so callbacks
    /// made between pages neither repeat nor push others off (Google pages this dynamic data too).
    /// </summary>
    private static async Task ListCallbacksAsync(HttpContext context, Run run)
    {
        var query = context.Request.Query;
        var pageSize = DefaultPageSize;
        if (query.TryGetValue("pageSize", out var sizeText) && sizeText.Count > 0)
        {
            // 0 is proto3's "not given" (a gRPC client cannot send anything else for it): the default.
            if (sizeText.Count > 1 || !int.TryParse(sizeText[0], NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize > MaxPageSize)
            {
                throw new ApiError(400, "INVALID_ARGUMENT", $"Invalid value at 'page_size': '{sizeText}' is not an integer from 1 to {MaxPageSize}.");
            }
            pageSize = pageSize == 0 ? DefaultPageSize : pageSize;
        }
        pageSize = Math.Min(pageSize, MaxCallbacksPerPage);
        string? after = null;
        if (query.TryGetValue("pageToken", out var tokenText) && !string.IsNullOrEmpty(tokenText.ToString()))
        {
            if (tokenText.Count > 1 || !CallbackIdPattern().IsMatch(tokenText[0]!))
            {
                throw new ApiError(400, "INVALID_ARGUMENT", "The page token is not one this server gave.");
            }
            after = tokenText[0];
        }

        // The callbacks end with the execution (Google: "active callbacks"); sending to one is then 404.
        var callbacks = ExecutionStates.IsFinished(run.Snapshot().State) ? [] : run.Callbacks.List();
        var rest = after is null ? callbacks : [.. callbacks.Where(c => string.CompareOrdinal(c.Id, after) > 0)];
        var page = rest.Take(pageSize).Select(c => (JsonNode)new JsonObject
        {
            ["name"] = $"{run.Name}/callbacks/{c.Id}",
            ["method"] = c.Method,
            // int64 travels as a string.
            ["waiters"] = c.Waiters.ToString(CultureInfo.InvariantCulture),
            ["availablePayloads"] = new JsonArray([.. c.AvailablePayloads.Select(p => (JsonNode)JsonValue.Create(p))]),
        }).ToArray();
        var answer = new JsonObject { ["callbacks"] = new JsonArray(page) };
        if (rest.Count > pageSize)
        {
            answer["nextPageToken"] = rest[pageSize - 1].Id;
        }
        await WriteAsync(context, 200, answer).ConfigureAwait(false);
    }

    private static async Task CallbackAsync(HttpContext context, Run run, string callbackId)
    {
        if (ExecutionStates.IsFinished(run.Snapshot().State))
        {
            throw new ApiError(404, "NOT_FOUND", $"Execution '{run.Name}' has ended; its callbacks are gone.");
        }
        JsonNode? body = null;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            var text = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
            if (text.Length > 0)
            {
                var isJson = context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;
                try
                {
                    body = isJson ? JsonNode.Parse(text) : JsonValue.Create(text);
                }
                catch (JsonException error)
                {
                    throw new ApiError(400, "INVALID_ARGUMENT", $"The callback body is not valid JSON: {error.Message.Split('\n')[0]}");
                }
            }
        }
        // The bearer token is never handed to the workflow.
        var headers = context.Request.Headers
            .Where(h => !h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.Ordinal);
        var query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (!run.Callbacks.Deliver(callbackId, context.Request.Method, body, headers, query))
        {
            throw new ApiError(404, "NOT_FOUND", $"Callback '{callbackId}' of execution '{run.Name}' was not found for method {context.Request.Method}.");
        }
        await WriteAsync(context, 200, new JsonObject()).ConfigureAwait(false);
    }

    private static async Task<JsonObject> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        if (text.Length == 0)
        {
            return new JsonObject();
        }
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new ApiError(400, "INVALID_ARGUMENT", "The request body must be a JSON object (an Execution).");
        }
        catch (JsonException error)
        {
            throw new ApiError(400, "INVALID_ARGUMENT", $"Invalid JSON payload received. {error.Message.Split('\n')[0]}");
        }
    }

    private static string? Text(JsonObject body, string field) => body[field] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new ApiError(400, "INVALID_ARGUMENT", $"Invalid value at 'execution.{field}': a string is expected."),
    };

    private static Task WriteAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, body.GetType(), Wire), context.RequestAborted);
    }

    private static Task WriteErrorAsync(HttpContext context, int code, string status, string message)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = message,
                ["status"] = status,
            },
        };
        return WriteAsync(context, code, body);
    }

    /// <summary>Keeps <c>status.currentSteps</c> up to date and passes everything on.</summary>
    private sealed class StepObserver(Run run, IWorkflowObserver? next) : IWorkflowObserver
    {
        public void StepStarted(string path, int line)
        {
            var slash = path.LastIndexOf('/');
            var routine = slash < 0 ? "main" : path[..path.IndexOf('/', StringComparison.Ordinal)];
            var step = slash < 0 ? path : path[(slash + 1)..];
            lock (run)
            {
                run.CurrentSteps = [new ExecutionStep { Routine = routine, Step = step }];
            }
            next?.StepStarted(path, line);
        }

        public void Logged(string severity, JsonNode? payload) => next?.Logged(severity, payload);
    }

    private sealed class ApiError(int code, string status, string message) : Exception(message)
    {
        public int Code { get; } = code;
        public string Status { get; } = status;
    }

    [GeneratedRegex(@"^/v1/projects/(?<project>[^/]+)/locations/(?<location>[^/]+)/workflows/(?<workflow>[^/]+)/executions(?:/(?<id>[^/:]+)(?:(?<cancel>:cancel)|(?<callbacks>/callbacks)(?:/(?<callback>[0-9a-f]{32}))?)?)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PathPattern();

    [GeneratedRegex(@"^[0-9a-f]{32}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CallbackIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectPattern();

    [GeneratedRegex(@"^[a-z0-9-]{1,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex LocationPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
