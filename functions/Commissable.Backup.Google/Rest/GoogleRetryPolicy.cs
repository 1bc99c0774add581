using System.Net;
using System.Net.Http.Headers;
using Polly;
using Polly.Retry;

namespace Commissable.Backup.Google.Rest;

/// <summary>
/// The retry policy of every Google REST client, on Polly's retry strategy: which answers are
/// transient, which requests may be repeated, and how long to wait before the next attempt (full
/// jitter below an exponential bound, the server's <c>Retry-After</c> as a floor, both capped).
/// Polly waits on the injected <see cref="TimeProvider"/>, so tests drive the waits with fake time.
/// </summary>
internal sealed class GoogleRetryPolicy
{
    private readonly GoogleRetrySettings _settings;
    private readonly TimeProvider _time;
    private readonly Func<double> _jitter;

    // A request the server answered with a transient error was not carried out, whatever its
    // method; a request whose connection failed may have been, so only a GET is sent again then.
    private readonly ResiliencePipeline<GoogleRestAnswer> _answersOnly;
    private readonly ResiliencePipeline<GoogleRestAnswer> _answersAndConnections;

    public GoogleRetryPolicy(GoogleRetrySettings settings, TimeProvider time, Func<double> jitter)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(jitter);
        settings.Validate();
        _settings = settings;
        _time = time;
        _jitter = jitter;
        _answersOnly = Build(retryConnectionFailures: false);
        _answersAndConnections = Build(retryConnectionFailures: true);
    }

    /// <summary>Total attempts including the first.</summary>
    public int MaxAttempts => _settings.MaxAttempts;

    /// <summary>
    /// Runs <paramref name="attempt"/> until it returns an answer that is not a transient error,
    /// or the attempts run out (the last answer is returned), or it throws what is not retried.
    /// </summary>
    /// <param name="idempotent">Whether the request may be repeated after a connection failure.</param>
    public ValueTask<GoogleRestAnswer> ExecuteAsync(
        bool idempotent, Func<CancellationToken, ValueTask<GoogleRestAnswer>> attempt, CancellationToken cancellationToken)
        => (idempotent ? _answersAndConnections : _answersOnly).ExecuteAsync(attempt, cancellationToken);

    /// <summary>Transient answers: 409 <c>operationInProgress</c> (the instance is busy), 429 and 5xx.</summary>
    internal static bool IsTransient(HttpStatusCode status, string? reason) => (int)status switch
    {
        409 => string.Equals(reason, "operationInProgress", StringComparison.Ordinal),
        429 => true,
        >= 500 and <= 599 => true,
        _ => false,
    };

    /// <summary>
    /// The wait before retry <paramref name="retry"/> (1 for the first): full jitter, a uniform
    /// wait below the exponential bound; Retry-After is a floor; neither beyond MaxDelay.
    /// </summary>
    internal TimeSpan Backoff(int retry, TimeSpan? retryAfter)
    {
        var exponent = Math.Min(retry - 1, 30);
        var boundTicks = Math.Min(_settings.MaxDelay.Ticks, _settings.BaseDelay.Ticks * Math.Pow(2, exponent));
        var fraction = Math.Clamp(_jitter(), 0, 1);
        var delay = TimeSpan.FromTicks((long)(boundTicks * fraction));
        if (retryAfter is { } floor)
        {
            var honoured = floor < _settings.MaxDelay ? floor : _settings.MaxDelay;
            if (honoured > delay)
            {
                delay = honoured;
            }
        }

        return delay;
    }

    private ResiliencePipeline<GoogleRestAnswer> Build(bool retryConnectionFailures)
    {
        if (_settings.MaxAttempts == 1)
        {
            return ResiliencePipeline<GoogleRestAnswer>.Empty;
        }

        return new ResiliencePipelineBuilder<GoogleRestAnswer> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<GoogleRestAnswer>
            {
                MaxRetryAttempts = _settings.MaxAttempts - 1,
                ShouldHandle = args => ValueTask.FromResult(
                    ShouldRetry(args.Outcome, retryConnectionFailures, args.Context.CancellationToken)),
                // Polly's own backoff is replaced whole: ours honours Retry-After and takes the jitter source.
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.Zero,
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    Backoff(args.AttemptNumber + 1, RetryAfter(args.Outcome.Result?.Response.Headers.RetryAfter))),
            })
            .Build();
    }

    private static bool ShouldRetry(Outcome<GoogleRestAnswer> outcome, bool retryConnectionFailures, CancellationToken cancellationToken)
    {
        if (outcome.Result is { Error: { } error } answer)
        {
            return IsTransient(answer.Response.StatusCode, error.Reason);
        }

        return retryConnectionFailures && outcome.Exception switch
        {
            HttpRequestException => true,
            // HttpClient.Timeout elapsed, not the caller's cancellation.
            TaskCanceledException => !cancellationToken.IsCancellationRequested,
            _ => false,
        };
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
