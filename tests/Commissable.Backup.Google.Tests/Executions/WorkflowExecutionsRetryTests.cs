using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.Executions;

/// <summary>
/// The Workflow Executions client retries by the same policy as the Cloud SQL client: transient
/// answers for every method, connection failures only for reads, on the injected clock.
/// </summary>
public sealed class WorkflowExecutionsRetryTests : ReplayTest
{
    private const string Executions = "v1/projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions";
    private const string Created = """{"name":"projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions/e-1","state":"ACTIVE"}""";
    private static readonly WorkflowName Workflow = new("commissable-prod", "europe-west1", "disaster-recovery");
    private static readonly ExecutionName Execution = ExecutionName.Parse($"{Executions[3..]}/e-1");

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public async Task A_create_answered_unavailable_twice_is_sent_again_with_doubling_backoff()
    {
        var h = NewExecutionsHarness();
        const string Body = """{"argument":"{\"a\":1}"}""";
        h.Http.Expect(HttpMethod.Post, Executions, Body).RespondError(HttpStatusCode.ServiceUnavailable, "backendError", "Unavailable.");
        h.Http.Expect(HttpMethod.Post, Executions, Body).RespondError(HttpStatusCode.ServiceUnavailable, "backendError", "Unavailable.");
        h.Http.Expect(HttpMethod.Post, Executions, Body).RespondJson(Created);

        var execution = await h.RunAsync(c => c.CreateExecutionAsync(Workflow, new JsonObject { ["a"] = 1 }));

        Assert.Equal(ExecutionStates.Active, execution.State);
        Assert.Equal([S(1), S(2)], h.Time.Delays);
    }

    [Fact]
    public async Task Too_many_requests_waits_for_Retry_After()
    {
        var h = NewExecutionsHarness(jitter: 0);
        h.Http.Expect(HttpMethod.Get, $"{Executions}/e-1").RespondError(HttpStatusCode.TooManyRequests, "rateLimitExceeded", "Quota exceeded.")
            .WithHeader("Retry-After", "7");
        h.Http.Expect(HttpMethod.Get, $"{Executions}/e-1").RespondJson(Created);

        await h.RunAsync(c => c.GetExecutionAsync(Execution));

        Assert.Equal([S(7)], h.Time.Delays);
    }

    [Fact]
    public async Task A_create_whose_connection_failed_is_not_sent_again_but_a_read_is()
    {
        var h = NewExecutionsHarness();
        h.Http.Expect(HttpMethod.Post, Executions).Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));
        h.Http.Expect(HttpMethod.Get, $"{Executions}/e-1").Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));
        h.Http.Expect(HttpMethod.Get, $"{Executions}/e-1").RespondJson(Created);

        await Assert.ThrowsAsync<HttpRequestException>(() => h.RunAsync(c => c.CreateExecutionAsync(Workflow, new JsonObject())));
        Assert.Empty(h.Time.Delays);

        var read = await h.RunAsync(c => c.GetExecutionAsync(Execution));

        Assert.Equal(Execution.ToString(), read.Name);
        Assert.Equal([S(1)], h.Time.Delays);
    }
}
