using System.Net;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.CloudSql;

/// <summary>Transient answers are retried with bounded, jittered backoff; everything else is thrown at once.</summary>
public sealed class RetryTests : ReplayTest
{
    private const string R = ClientHarness.Root;
    private const string Export = $"{R}/instances/prod/export";
    private const string Operation = """{"name":"op-1","status":"PENDING"}""";
    private static readonly ExportContext Context = new() { Uri = "gs://b/x.sql.gz", Databases = ["commissable"], FileType = "SQL" };

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public async Task An_operation_in_progress_conflict_is_retried_and_the_call_then_succeeds()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Post, Export).RespondError(HttpStatusCode.Conflict, "operationInProgress",
            "Operation failed because another operation was already in progress.");
        h.Http.Expect(HttpMethod.Post, Export).Respond(HttpStatusCode.OK, Operation);

        var operation = await h.RunAsync(c => c.ExportAsync("prod", Context));

        Assert.Equal("op-1", operation.Name);
        Assert.Equal([S(1)], h.Time.Delays);
        // The retried request carries the same body: both passed the exact-body expectation.
        Assert.Equal(h.Http.Requests[0].Body, h.Http.Requests[1].Body);
    }

    [Fact]
    public async Task A_conflict_for_another_reason_is_not_retried()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Post, $"{R}/instances").RespondError(HttpStatusCode.Conflict, "instanceAlreadyExists",
            "The Cloud SQL instance already exists.");

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.InsertInstanceAsync(new DatabaseInstance { Name = "prod" })));

        Assert.Equal(409, e.HttpStatus);
        Assert.Equal("instanceAlreadyExists", e.Reason);
        Assert.Empty(h.Time.Delays);
    }

    [Fact]
    public async Task Too_many_requests_waits_for_Retry_After_and_then_succeeds()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").RespondError(HttpStatusCode.TooManyRequests, "rateLimitExceeded", "Quota exceeded.")
            .WithHeader("Retry-After", "7");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");

        var instance = await h.RunAsync(c => c.GetInstanceAsync("prod"));

        Assert.Equal("prod", instance.Name);
        Assert.Equal([S(7)], h.Time.Delays);
    }

    [Fact]
    public async Task A_Retry_After_date_is_honoured_relative_to_the_clock()
    {
        var h = NewHarness(jitter: 0);
        var at = h.Time.GetUtcNow().AddSeconds(5).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.ServiceUnavailable, "").WithHeader("Retry-After", at);
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");

        await h.RunAsync(c => c.GetInstanceAsync("prod"));

        Assert.Equal([S(5)], h.Time.Delays);
    }

    [Fact]
    public async Task A_Retry_After_longer_than_the_cap_is_shortened_to_the_cap()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.TooManyRequests, "").WithHeader("Retry-After", "3600");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");

        await h.RunAsync(c => c.GetInstanceAsync("prod"));

        Assert.Equal([S(32)], h.Time.Delays);
    }

    [Fact]
    public async Task Service_unavailable_twice_is_retried_with_doubling_backoff_and_then_succeeds()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Post, Export).RespondError(HttpStatusCode.ServiceUnavailable, "backendError", "The service is currently unavailable.");
        h.Http.Expect(HttpMethod.Post, Export).RespondError(HttpStatusCode.ServiceUnavailable, "backendError", "The service is currently unavailable.");
        h.Http.Expect(HttpMethod.Post, Export).Respond(HttpStatusCode.OK, Operation);

        await h.RunAsync(c => c.ExportAsync("prod", Context));

        Assert.Equal([S(1), S(2)], h.Time.Delays);
    }

    [Fact]
    public async Task Service_unavailable_forever_throws_the_last_answer_after_the_attempt_bound()
    {
        var h = NewHarness();
        for (var i = 1; i <= 6; i++)
        {
            h.Http.Expect(HttpMethod.Post, Export).RespondError(HttpStatusCode.ServiceUnavailable, "backendError", $"Unavailable (answer {i}).");
        }

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.ExportAsync("prod", Context)));

        Assert.Equal(503, e.HttpStatus);
        Assert.Equal("backendError", e.Reason);
        Assert.StartsWith("Unavailable (answer 6).", e.ApiMessage, StringComparison.Ordinal);
        Assert.Contains("6 attempts", e.ApiMessage, StringComparison.Ordinal);
        Assert.Equal([S(1), S(2), S(4), S(8), S(16)], h.Time.Delays);
    }

    [Fact]
    public async Task Backoff_never_exceeds_the_configured_cap()
    {
        var h = NewHarness(retry: new GoogleRetrySettings { MaxAttempts = 8 });
        for (var i = 0; i < 8; i++)
        {
            h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.InternalServerError, "");
        }

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.GetInstanceAsync("prod")));

        Assert.Equal(500, e.HttpStatus);
        Assert.Equal([S(1), S(2), S(4), S(8), S(16), S(32), S(32)], h.Time.Delays);
    }

    [Fact]
    public async Task Full_jitter_scales_each_wait_below_its_exponential_bound()
    {
        var h = NewHarness(jitter: 0.25);
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.BadGateway, "<html>bad gateway</html>", "text/html");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.GatewayTimeout, "");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");

        await h.RunAsync(c => c.GetInstanceAsync("prod"));

        Assert.Equal([S(0.25), S(0.5)], h.Time.Delays);
    }

    [Fact]
    public async Task Each_discarded_answer_is_disposed_before_the_next_attempt()
    {
        var h = NewHarness();
        var answers = new List<TrackedContent>();
        HttpResponseMessage Unavailable(RecordedRequest request)
        {
            Assert.All(answers, a => Assert.True(a.Disposed, "an earlier answer was still open when the request was sent again"));
            var content = new TrackedContent();
            answers.Add(content);
            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = content };
        }

        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").RespondWith(Unavailable);
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").RespondWith(Unavailable);
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");

        await h.RunAsync(c => c.GetInstanceAsync("prod"));

        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.True(a.Disposed));
    }

    [Fact]
    public async Task Not_found_is_thrown_at_once_with_status_404_and_reason_notFound()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/gone").RespondError(HttpStatusCode.NotFound, "notFound", "The Cloud SQL instance does not exist.");

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.GetInstanceAsync("gone")));

        Assert.Equal(404, e.HttpStatus);
        Assert.Equal("notFound", e.Reason);
        Assert.Equal("The Cloud SQL instance does not exist.", e.ApiMessage);
        Assert.Empty(h.Time.Delays);
    }

    [Fact]
    public async Task Bad_request_is_not_retried()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Post, Export).RespondError(HttpStatusCode.BadRequest, "invalid", "Invalid request: uri must start with gs://.");

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.ExportAsync("prod", Context)));

        Assert.Equal(400, e.HttpStatus);
        Assert.Equal("invalid", e.Reason);
        Assert.Single(h.Http.Requests);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_for_a_GET()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/operations/op-1").Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:8123)"));
        h.Http.Expect(HttpMethod.Get, $"{R}/operations/op-1").Respond(HttpStatusCode.OK, Operation);

        var operation = await h.RunAsync(c => c.GetOperationAsync("op-1"));

        Assert.Equal("op-1", operation.Name);
        Assert.Equal([S(1)], h.Time.Delays);
    }

    [Fact]
    public async Task A_refused_connection_is_not_retried_for_a_POST_whose_effect_is_unknown()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Post, Export).Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));

        Assert.IsType<HttpRequestException>(await h.FailsAsync(c => c.ExportAsync("prod", Context)));
        Assert.Empty(h.Time.Delays);
    }

    [Fact]
    public async Task A_GET_whose_connection_never_comes_back_rethrows_the_transport_error_after_the_bound()
    {
        var h = NewHarness(retry: new GoogleRetrySettings { MaxAttempts = 3 });
        for (var i = 0; i < 3; i++)
        {
            h.Http.Expect(HttpMethod.Get, $"{R}/instances").Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));
        }

        Assert.IsType<HttpRequestException>(await h.FailsAsync(c => c.ListInstancesAsync()));
        Assert.Equal([S(1), S(2)], h.Time.Delays);
    }

    [Fact]
    public async Task A_non_JSON_error_body_becomes_the_status_text_and_a_short_excerpt()
    {
        var h = NewHarness();
        var page = "<html><body>" + new string('x', 5000) + "</body></html>";
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.Forbidden, page, "text/html");

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.GetInstanceAsync("prod")));

        Assert.Equal(403, e.HttpStatus);
        Assert.Null(e.Reason);
        Assert.StartsWith("403 Forbidden: <html>", e.ApiMessage, StringComparison.Ordinal);
        Assert.InRange(e.ApiMessage.Length, 20, 501);
    }

    [Fact]
    public async Task An_empty_error_body_becomes_the_status_text()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Delete, $"{R}/instances/prod").Respond(HttpStatusCode.Unauthorized, "");

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.DeleteInstanceAsync("prod")));

        Assert.Equal(401, e.HttpStatus);
        Assert.Equal("401 Unauthorized", e.ApiMessage);
    }

    [Fact]
    public async Task Cancellation_during_a_backoff_stops_the_retries()
    {
        var h = NewHarness();
        using var cts = new CancellationTokenSource();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.ServiceUnavailable, "");

        var call = h.Client.GetInstanceAsync("prod", cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal([S(1)], h.Time.Delays);
    }

    /// <summary>An error body that records whether the client let go of it.</summary>
    private sealed class TrackedContent() : ByteArrayContent("""{"error":{"code":503,"message":"busy"}}"""u8.ToArray())
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
