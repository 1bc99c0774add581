using System.Text.Json.Nodes;

namespace Commissable.Backup.Core.Executions;

/// <summary>
/// The Workflow Executions API v1, as the project uses it: start a workflow with a JSON argument,
/// read an execution, cancel one. Error answers are thrown as <see cref="WorkflowExecutionsApiException"/>
/// after bounded retries of the transient ones (429, 5xx).
/// </summary>
public interface IWorkflowExecutions
{
    /// <summary>Starts <paramref name="workflow"/> (its latest revision) with <paramref name="argument"/>.</summary>
    /// <param name="workflow">The workflow to run.</param>
    /// <param name="argument">The workflow's argument, serialised to the string field <c>argument</c>; null sends none.</param>
    /// <param name="callLogLevel">One of <see cref="CallLogLevels"/>; null keeps the workflow's setting.</param>
    /// <param name="cancellationToken">Cancels the request (not the execution, once the API has accepted it).</param>
    /// <returns>The new execution, normally ACTIVE or QUEUED, with its <see cref="Execution.Name"/>.</returns>
    Task<Execution> CreateExecutionAsync(WorkflowName workflow, JsonObject? argument, string? callLogLevel = null, CancellationToken cancellationToken = default);

    /// <summary>Reads an execution: its state and, once finished, its result or error.</summary>
    Task<Execution> GetExecutionAsync(ExecutionName execution, CancellationToken cancellationToken = default);

    /// <summary>Asks the API to cancel a running execution; returns it as the API answered (CANCELLED).</summary>
    Task<Execution> CancelExecutionAsync(ExecutionName execution, CancellationToken cancellationToken = default);
}

/// <summary>An error answer of the Workflow Executions API: HTTP status, Google's reason and message.</summary>
public sealed class WorkflowExecutionsApiException : Exception
{
    public WorkflowExecutionsApiException(int httpStatus, string? reason, string message)
        : base($"Workflow Executions API answered {httpStatus}{(reason is null ? "" : $" ({reason})")}: {message}")
    {
        HttpStatus = httpStatus;
        Reason = reason;
        ApiMessage = message;
    }

    public int HttpStatus { get; }

    /// <summary>Google's <c>error.errors[0].reason</c>; null when absent.</summary>
    public string? Reason { get; }

    /// <summary>Google's <c>error.message</c>, one line, bounded, without the bearer token.</summary>
    public string ApiMessage { get; }
}
