using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.Rest;

namespace Commissable.Backup.Google.Workflows;

/// <summary>
/// Builds a <see cref="WorkflowExecutionsClient"/>. Build one per process and reuse it.
/// </summary>
/// <example>
/// <code>
/// var client = new WorkflowExecutionsClientBuilder
/// {
///     BaseUri = new Uri("http://127.0.0.1:8124/"),        // a fake or proxy; omit for Google
///     TokenSource = new FileTokenSource("/tmp/token"),   // omit for ADC
/// }.Build();
/// </code>
/// </example>
public sealed class WorkflowExecutionsClientBuilder : GoogleRestClientBuilder
{
    /// <summary>A builder for Google's endpoint, <c>https://workflowexecutions.googleapis.com/</c>.</summary>
    public WorkflowExecutionsClientBuilder()
        : base(WorkflowExecutionsClient.DefaultBaseUri)
    {
    }

    /// <summary>Validates the settings and creates the client.</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid or two settings conflict.</exception>
    public WorkflowExecutionsClient Build()
        => new(BuildTransport(
            [ApplicationDefaultTokenSource.CloudPlatformScope],
            "Workflow Executions API", static (status, reason, message) => new WorkflowExecutionsApiException(status, reason, message)));
}
