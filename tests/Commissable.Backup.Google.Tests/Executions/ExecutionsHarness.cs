using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.Tests.Contracts;
using Commissable.Backup.Google.Tests.Replay;
using Commissable.Backup.Google.Workflows;

namespace Commissable.Backup.Google.Tests.Executions;

/// <summary>A Workflow Executions client wired to a replaying handler, fake time and deterministic jitter.</summary>
internal sealed class ExecutionsHarness : IReplayHarness
{
    public const string Token = "ya29.executions-replay-token-7c3e";

    public ExecutionsHarness(GoogleRetrySettings? retry, double jitter)
    {
        Http = new ReplayingHandler(WorkflowExecutionsClient.DefaultBaseUri, Token, DiscoveryContract.WorkflowExecutionsV1);
        Client = new WorkflowExecutionsClientBuilder
        {
            TokenSource = new StaticTokenSource(Token),
            HttpMessageHandler = Http,
            TimeProvider = Time,
            RetrySettings = retry ?? GoogleRetrySettings.Default,
            Jitter = () => jitter,
        }.Build();
    }

    public RecordingTimeProvider Time { get; } = new();
    public ReplayingHandler Http { get; }
    public WorkflowExecutionsClient Client { get; }

    /// <summary>Calls the client, advancing fake time through every backoff.</summary>
    public Task<T> RunAsync<T>(Func<WorkflowExecutionsClient, Task<T>> call) => Time.DriveAsync(call(Client));

    public void Dispose()
    {
        Client.Dispose();
        Http.Dispose();
    }
}
