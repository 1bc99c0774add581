using System.Text.Json.Nodes;

namespace Commissable.Workflows.Runtime;

/// <summary>
/// Serves the calls a workflow makes outside the language itself: connectors
/// (<c>googleapis.sqladmin.v1beta4.instances.clone</c>), <c>http.*</c>, <c>events.*</c>. The
/// interpreter owns the standard library and subworkflows; everything else goes to a handler.
/// </summary>
public interface IWorkflowCallHandler
{
    /// <summary>Whether this handler serves <paramref name="functionName"/>; asked before the run starts,
    /// so a workflow that names a function nobody serves is refused without side effects.</summary>
    bool Serves(string functionName);

    /// <summary>Runs the call. A failure the workflow may catch (<c>try/except</c>, <c>retry</c>) is
    /// thrown as <see cref="WorkflowErrorException"/>; anything else ends the run.</summary>
    Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken);
}

/// <summary>One evaluated <c>call</c> step.</summary>
/// <param name="Function">The name after <c>call:</c>.</param>
/// <param name="Arguments">The evaluated <c>args</c> map (empty when the step has none).</param>
/// <param name="Step">The step's name, for progress lines and errors.</param>
/// <param name="Line">The 1-based line of the step in the workflow file.</param>
public sealed record WorkflowCall(string Function, JsonObject Arguments, string Step, int Line);

/// <summary>
/// An error a workflow can catch: its <see cref="Error"/> is the map <c>except: as: e</c> binds,
/// in Google's shape (<c>message</c>, <c>tags</c>, and for HTTP errors <c>code</c>, <c>body</c>,
/// <c>headers</c>).
/// </summary>
public sealed class WorkflowErrorException : Exception
{
    public WorkflowErrorException(JsonNode? error)
        : base(MessageOf(error)) => Error = error;

    public WorkflowErrorException() : this((JsonNode?)null) { }

    public WorkflowErrorException(string message) : this(new JsonObject { ["message"] = message, ["tags"] = new JsonArray() }) { }

    public WorkflowErrorException(string message, Exception innerException)
        : base(message, innerException) => Error = new JsonObject { ["message"] = message, ["tags"] = new JsonArray() };

    /// <summary>The raised value: usually a map, but <c>raise</c> accepts a string too.</summary>
    public JsonNode? Error { get; }

    /// <summary>An HTTP error as the <c>http.*</c> functions and connectors raise it.</summary>
    public static WorkflowErrorException Http(int code, string message, JsonNode? body = null, JsonObject? headers = null) =>
        new(new JsonObject
        {
            ["message"] = message,
            ["code"] = code,
            ["tags"] = new JsonArray("HttpError"),
            ["body"] = body,
            ["headers"] = headers ?? new JsonObject(),
        });

    private static string MessageOf(JsonNode? error) => error switch
    {
        JsonObject map when map["message"] is JsonValue message => message.ToString(),
        JsonValue value => value.ToString(),
        null => "null",
        _ => error.ToJsonString(),
    };
}

/// <summary>What a run reports as it goes; the CLI prints it, tests record it.</summary>
public interface IWorkflowObserver
{
    /// <summary>A step starts; <paramref name="path"/> is <c>main/validate/check_target</c>-like.</summary>
    void StepStarted(string path, int line);

    /// <summary>A <c>sys.log</c> call, with its severity (<c>INFO</c> by default).</summary>
    void Logged(string severity, JsonNode? data);
}
