using System.Net;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.CloudSql;

/// <summary>WaitForOperationAsync polls like Google's Workflows connectors, on the injected clock.</summary>
public sealed class OperationPollingTests : ReplayTest
{
    private const string Poll = $"{ClientHarness.Root}/operations/op-7";
    private const string Running = """{"name":"op-7","status":"RUNNING","operationType":"EXPORT","targetId":"prod"}""";
    private static readonly Operation Started = new() { Name = "op-7", Status = "PENDING", OperationType = "EXPORT", TargetId = "prod" };

    // Task.Delay rounds to whole milliseconds, and the wait cut to the deadline inherits the
    // rounding of the waits before it.
    private static void AssertSeconds(IEnumerable<double> expected, IEnumerable<TimeSpan> actual)
    {
        var e = expected.ToList();
        var a = actual.ToList();
        Assert.Equal(e.Count, a.Count);
        for (var i = 0; i < e.Count; i++)
        {
            Assert.True(Math.Abs(e[i] - a[i].TotalSeconds) < 0.002, $"wait {i + 1}: expected {e[i]} s, got {a[i].TotalSeconds} s");
        }
    }

    /// <summary><paramref name="polls"/> answers: RUNNING, then DONE at the last.</summary>
    private static void ExpectPolls(ClientHarness h, int polls)
    {
        for (var i = 1; i < polls; i++)
        {
            h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, Running);
        }

        h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, """{"name":"op-7","status":"DONE","operationType":"EXPORT"}""");
    }

    [Fact]
    public async Task Polling_waits_one_second_then_a_quarter_longer_each_time_capped_at_sixty_seconds()
    {
        var h = NewHarness();
        const int polls = 24;
        ExpectPolls(h, polls);

        var done = await h.RunAsync(c => c.WaitForOperationAsync(Started));

        Assert.True(done.IsDone);
        var expected = Enumerable.Range(0, polls).Select(n => Math.Min(Math.Pow(1.25, n), 60)).ToList();
        Assert.Equal([1, 1.25, 1.5625, 1.953125], expected.Take(4));
        Assert.Equal(60, expected[^1]);
        AssertSeconds(expected, h.Time.Delays);
    }

    [Fact]
    public async Task An_operation_that_finished_with_errors_throws_with_their_messages()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, Running);
        h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK,
            """{"name":"op-7","status":"DONE","operationType":"EXPORT","error":{"kind":"sql#operationErrors","errors":[{"kind":"sql#operationError","code":"ERROR_RDBMS","message":"pg_dump: error: connection to database failed"}]}}""");

        var e = Assert.IsType<CloudSqlOperationFailedException>(await h.FailsAsync(c => c.WaitForOperationAsync(Started)));

        Assert.Contains("pg_dump: error: connection to database failed", e.Message, StringComparison.Ordinal);
        Assert.Contains("op-7", e.Message, StringComparison.Ordinal);
        Assert.Equal("ERROR_RDBMS", Assert.Single(e.Operation.Error!.Errors!).Code);
    }

    [Fact]
    public async Task A_timeout_throws_TimeoutException_naming_the_operation_after_a_last_poll_at_the_deadline()
    {
        var h = NewHarness();
        for (var i = 0; i < 6; i++)
        {
            h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, Running);
        }

        var e = Assert.IsType<TimeoutException>(await h.FailsAsync(c => c.WaitForOperationAsync(Started, TimeSpan.FromSeconds(10))));

        Assert.Contains("op-7", e.Message, StringComparison.Ordinal);
        Assert.Contains("10 s", e.Message, StringComparison.Ordinal);
        // 1 + 1.25 + 1.5625 + 1.953125 + 2.44140625 = 8.20703125; the sixth wait is cut to the deadline.
        AssertSeconds([1, 1.25, 1.5625, 1.953125, 2.44140625, 1.79296875], h.Time.Delays);
        Assert.Equal(TimeSpan.FromSeconds(10), h.Time.Delays.Aggregate(TimeSpan.Zero, (a, b) => a + b));
    }

    [Fact]
    public async Task Without_a_timeout_the_wait_gives_up_after_1800_seconds_like_the_Workflows_connectors()
    {
        var h = NewHarness();
        var (interval, elapsed, polls) = (TimeSpan.FromSeconds(1), TimeSpan.Zero, 0);
        var limit = TimeSpan.FromSeconds(1800);
        while (elapsed < limit)
        {
            var wait = interval < limit - elapsed ? interval : limit - elapsed;
            elapsed += wait;
            polls++;
            var next = interval * 1.25;
            interval = next < TimeSpan.FromSeconds(60) ? next : TimeSpan.FromSeconds(60);
        }

        for (var i = 0; i < polls; i++)
        {
            h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, Running);
        }

        Assert.IsType<TimeoutException>(await h.FailsAsync(c => c.WaitForOperationAsync(Started)));
        Assert.Equal(limit, h.Time.Delays.Aggregate(TimeSpan.Zero, (a, b) => a + b));
    }

    [Fact]
    public async Task An_operation_already_done_is_returned_without_polling()
    {
        var h = NewHarness();
        var done = Started with { Status = "DONE" };

        Assert.Same(done, await h.RunAsync(c => c.WaitForOperationAsync(done)));
        Assert.Empty(h.Http.Requests);
    }

    [Fact]
    public async Task A_transient_error_while_polling_is_retried_within_the_wait()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, Poll).RespondError(HttpStatusCode.ServiceUnavailable, "backendError", "Try again.");
        h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, """{"name":"op-7","status":"DONE"}""");

        await h.RunAsync(c => c.WaitForOperationAsync(Started));

        AssertSeconds([1, 1], h.Time.Delays);
    }

    [Fact]
    public async Task Poll_settings_change_the_schedule()
    {
        var h = NewHarness(poll: new CloudSqlPollSettings { InitialDelay = TimeSpan.FromSeconds(2), Multiplier = 2, MaxDelay = TimeSpan.FromSeconds(5) });
        for (var i = 0; i < 3; i++)
        {
            h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, Running);
        }

        h.Http.Expect(HttpMethod.Get, Poll).Respond(HttpStatusCode.OK, """{"name":"op-7","status":"DONE"}""");

        await h.RunAsync(c => c.WaitForOperationAsync(Started));

        AssertSeconds([2, 4, 5, 5], h.Time.Delays);
    }

    [Fact]
    public async Task Responsive_polling_waits_at_most_five_percent_of_the_time_already_waited_and_ten_seconds_past_two_hundred()
    {
        var h = NewHarness(poll: CloudSqlPollSettings.Responsive);
        const int polls = 200;
        ExpectPolls(h, polls);

        await h.RunAsync(c => c.WaitForOperationAsync(Started));

        var delays = h.Time.Delays.Select(d => d.TotalSeconds).ToList();
        Assert.Equal(polls, delays.Count);
        // 200 ms while 5% of the elapsed time is less, so the first 20 polls cover the first 4 s.
        Assert.All(delays.Take(20), d => Assert.Equal(0.2, d, 3));
        var elapsed = 0.0;
        foreach (var delay in delays)
        {
            Assert.InRange(delay, 0.2 - 0.002, 10 + 0.002);
            Assert.True(delay <= Math.Max(0.2, 0.05 * elapsed) + 0.002, $"waited {delay} s after {elapsed} s");
            // Past 200 s waited, every wait is the 10 s cap.
            if (elapsed >= 200) Assert.Equal(10, delay, 2);
            elapsed += delay;
        }
        Assert.True(elapsed > 300, $"only {elapsed} s waited in {polls} polls: the waits did not grow");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_fraction_outside_zero_to_one_is_refused_when_the_client_is_built(double fraction)
    {
        using var http = new HttpClient();
        var builder = new CloudSqlAdminClientBuilder
        {
            ProjectId = "p",
            PollSettings = new CloudSqlPollSettings { MaxElapsedFraction = fraction },
            HttpClient = http,
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => builder.Build());
        Assert.Equal(nameof(CloudSqlPollSettings.MaxElapsedFraction), error.ParamName);
    }

    [Fact]
    public async Task An_operation_without_a_name_cannot_be_waited_for()
    {
        var h = NewHarness();

        await Assert.ThrowsAsync<ArgumentException>(() => h.Client.WaitForOperationAsync(new Operation { Status = "RUNNING" }));
    }
}
