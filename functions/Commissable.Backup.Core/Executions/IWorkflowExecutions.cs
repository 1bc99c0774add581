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

    /// <summary>
    /// The execution's active callbacks (<c>executions.callbacks.list</c>, every page): those made
    /// by <c>events.create_callback_endpoint</c> and not yet ended with the execution.
    /// </summary>
    Task<IReadOnlyList<ExecutionCallback>> ListCallbacksAsync(ExecutionName execution, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends <paramref name="body"/> as JSON with <paramref name="method"/> to the callback
    /// <paramref name="callbackId"/> of <paramref name="execution"/>
    /// (<c>executions.callbacks.sendHttpCallback</c>: the callback URL
    /// <c>v1/{workflow}/executions/{id}/callbacks/{callbackId}</c>), which resumes the step awaiting it.
    /// </summary>
    /// <param name="method">One of <see cref="CallbackMethods.All"/> (any case; sent upper case): the method the callback was made for.</param>
    /// <exception cref="ArgumentException"><paramref name="method"/> is not a callback method.</exception>
    /// <exception cref="WorkflowExecutionsApiException">404 when the callback is gone (the execution ended) or takes another method.</exception>
    Task SendCallbackAsync(ExecutionName execution, string callbackId, string method, JsonObject body, CancellationToken cancellationToken = default);
}

/// <summary>Schema <c>Callback</c>: one active callback of an execution.</summary>
public sealed record ExecutionCallback
{
    /// <summary><c>projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}/callbacks/{callback}</c>.</summary>
    public string? Name { get; init; }

    /// <summary>The HTTP method it accepts (<c>POST</c>).</summary>
    public string? Method { get; init; }

    /// <summary>Steps waiting on it now (int64 as a string on the wire); 0 when none waits.</summary>
    public string? Waiters { get; init; }

    /// <summary>Payloads received and not yet taken by a waiting step.</summary>
    public IReadOnlyList<string>? AvailablePayloads { get; init; }

    /// <summary>The last segment of <see cref="Name"/>: the id the callback URL ends with.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Id => Name is { } name && name.LastIndexOf('/') is var slash and >= 0 ? name[(slash + 1)..] : null;

    /// <summary>True when a step is waiting on it now.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool HasWaiters => long.TryParse(Waiters, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0;
}

/// <summary>An error answer of the Workflow Executions API: HTTP status, Google's reason and message.</summary>
public sealed class WorkflowExecutionsApiException(int httpStatus, string? reason, string message)
    : GoogleApiException("Workflow Executions API", httpStatus, reason, message);
