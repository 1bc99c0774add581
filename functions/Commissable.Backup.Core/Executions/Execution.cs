using System.Text.Json;
using System.Text.Json.Serialization;

namespace Commissable.Backup.Core.Executions;

// Typed subset of the Workflow Executions API v1 resources (contracts/workflowexecutions.v1.json).
// Property names follow the discovery document; fields the project does not read are kept in
// ExtensionData. The argument, the result and the error payload are JSON documents carried as strings.

/// <summary>A run of a workflow (schema <c>Execution</c>).</summary>
public sealed record Execution
{
    /// <summary><c>projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}</c>; output only.</summary>
    public string? Name { get; init; }

    /// <summary>One of <see cref="ExecutionStates"/>; output only.</summary>
    public string? State { get; init; }

    /// <summary>The input of the run: a JSON document as a string (at most 32 KiB).</summary>
    public string? Argument { get; init; }

    /// <summary>What <c>main</c> returned, a JSON document as a string; set when the state is SUCCEEDED.</summary>
    public string? Result { get; init; }

    /// <summary>Why the run ended early; set when the state is FAILED or CANCELLED.</summary>
    public ExecutionError? Error { get; init; }

    public DateTimeOffset? CreateTime { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>A google-duration such as <c>12.5s</c>; output only.</summary>
    public string? Duration { get; init; }

    /// <summary>The revision of the workflow the run uses; output only.</summary>
    public string? WorkflowRevisionId { get; init; }

    /// <summary>One of <see cref="CallLogLevels"/>.</summary>
    public string? CallLogLevel { get; init; }

    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>The steps running now (or last run); output only.</summary>
    public ExecutionStatus? Status { get; init; }

    public ExecutionStateError? StateError { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; init; }

    /// <summary>True once the run can no longer change: SUCCEEDED, FAILED, CANCELLED or UNAVAILABLE.</summary>
    [JsonIgnore]
    public bool IsFinished => ExecutionStates.IsFinished(State);
}

/// <summary>Schema <c>Error</c>: why an execution ended early.</summary>
public sealed record ExecutionError
{
    /// <summary>The error map the workflow raised, as a JSON string (<c>{"message": ..., "tags": [...], ...}</c>).</summary>
    public string? Payload { get; init; }

    /// <summary>A human-readable stack trace.</summary>
    public string? Context { get; init; }

    public ExecutionStackTrace? StackTrace { get; init; }
}

public sealed record ExecutionStackTrace
{
    public IReadOnlyList<ExecutionStackTraceElement>? Elements { get; init; }
}

public sealed record ExecutionStackTraceElement
{
    public string? Step { get; init; }
    public string? Routine { get; init; }
    public ExecutionPosition? Position { get; init; }
}

/// <summary>Schema <c>Position</c>; its int64 fields are strings on the wire.</summary>
public sealed record ExecutionPosition
{
    public string? Line { get; init; }
    public string? Column { get; init; }
    public string? Length { get; init; }
}

/// <summary>Schema <c>Status</c>.</summary>
public sealed record ExecutionStatus
{
    public IReadOnlyList<ExecutionStep>? CurrentSteps { get; init; }
}

/// <summary>Schema <c>Step</c>: a step and the subworkflow (routine) it belongs to.</summary>
public sealed record ExecutionStep
{
    public string? Routine { get; init; }
    public string? Step { get; init; }
}

/// <summary>Schema <c>StateError</c>.</summary>
public sealed record ExecutionStateError
{
    public string? Details { get; init; }
    public string? Type { get; init; }
}

/// <summary>The values of <c>Execution.state</c>.</summary>
public static class ExecutionStates
{
    public const string Unspecified = "STATE_UNSPECIFIED";
    public const string Queued = "QUEUED";
    public const string Active = "ACTIVE";
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";
    public const string Cancelled = "CANCELLED";
    /// <summary>The execution data is no longer available (for example past the retention period).</summary>
    public const string Unavailable = "UNAVAILABLE";

    public static bool IsFinished(string? state) => state is Succeeded or Failed or Cancelled or Unavailable;
}

/// <summary>The values of <c>Execution.callLogLevel</c>.</summary>
public static class CallLogLevels
{
    public const string Unspecified = "CALL_LOG_LEVEL_UNSPECIFIED";
    public const string LogAllCalls = "LOG_ALL_CALLS";
    public const string LogErrorsOnly = "LOG_ERRORS_ONLY";
    public const string LogNone = "LOG_NONE";

    public static bool IsValid(string? value) => value is Unspecified or LogAllCalls or LogErrorsOnly or LogNone;
}

/// <summary>
/// The HTTP methods a callback of <c>events.create_callback_endpoint</c> can be made for (Google's
/// list; POST when none is given). One rule for the runner that makes callbacks and the client that
/// sends them.
/// </summary>
public static class CallbackMethods
{
    /// <summary>The method a callback takes when the workflow names none.</summary>
    public const string Default = "POST";

    /// <summary>Every method Google accepts, upper case.</summary>
    public static IReadOnlyList<string> All { get; } = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

    /// <summary><paramref name="method"/> in upper case when it is one of <see cref="All"/> (any case); otherwise null.</summary>
    public static string? Normalize(string? method)
    {
        var upper = method?.ToUpperInvariant();
        return upper is not null && All.Contains(upper, StringComparer.Ordinal) ? upper : null;
    }
}
