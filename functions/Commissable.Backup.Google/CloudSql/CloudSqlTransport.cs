using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Auth;

namespace Commissable.Backup.Google.CloudSql;

/// <summary>
/// Sends one API call: authenticates every attempt, retries transient answers with backoff and
/// full jitter, and turns every other non-success into the API's typed exception
/// (<see cref="CloudSqlApiException"/> unless the owner supplies another). Shared by the REST clients
/// of every Google API the project speaks (Cloud SQL Admin, Workflow Executions).
/// </summary>
internal sealed class CloudSqlTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };
    private static readonly ProductInfoHeaderValue UserAgent = new("commissable-backup", "1.0");

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly IAccessTokenSource _tokens;
    private readonly CloudSqlRetrySettings _retry;
    private readonly TimeProvider _time;
    private readonly Func<double> _jitter;
    private readonly string _apiName;
    private readonly Func<int, string?, string, Exception> _apiError;

    internal CloudSqlTransport(
        HttpClient http, bool ownsHttp, Uri baseUri, IAccessTokenSource tokens,
        CloudSqlRetrySettings retry, TimeProvider time, Func<double> jitter,
        string apiName = "Cloud SQL Admin API", Func<int, string?, string, Exception>? apiError = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUri);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(retry);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(jitter);
        _http = http;
        _ownsHttp = ownsHttp;
        BaseUri = baseUri;
        _tokens = tokens;
        _retry = retry;
        _time = time;
        _jitter = jitter;
        _apiName = apiName;
        _apiError = apiError ?? ((status, reason, message) => new CloudSqlApiException(status, reason, message));
    }

    /// <summary>
    /// The HTTP client a builder asked for: the caller's (not owned), one over the caller's handler,
    /// or a new pooled one (both owned).
    /// </summary>
    internal static (HttpClient Http, bool Owns) CreateHttp(HttpClient? client, HttpMessageHandler? handler)
    {
        if (client is not null && handler is not null)
        {
            throw new InvalidOperationException("Set HttpClient or HttpMessageHandler, not both.");
        }

        return client is not null ? (client, false)
            : handler is not null ? (new HttpClient(handler, disposeHandler: false), true)
            : (new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }), true);
    }

    /// <summary>
    /// Checks an API root and makes it end with a slash: relative paths resolve under the base only
    /// then (a path prefix such as http://proxy/sqladmin/ must be kept).
    /// </summary>
    internal static Uri ApiRoot(Uri? baseUri, Uri example, string setting = "BaseUri")
    {
        if (baseUri is null || !baseUri.IsAbsoluteUri || (baseUri.Scheme != Uri.UriSchemeHttps && baseUri.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOperationException(
                $"{setting} must be an absolute http or https URI such as {example}; got '{baseUri}'.");
        }

        return baseUri.AbsolutePath.EndsWith('/') ? baseUri : new Uri(baseUri.GetLeftPart(UriPartial.Path) + "/");
    }

    public Uri BaseUri { get; }

    public async Task<TResponse> SendAsync<TResponse>(
        HttpMethod method, string relativeUri, byte[]? jsonBody, CancellationToken cancellationToken)
    {
        // Only GETs are safe to repeat when we cannot know whether the server saw the request.
        var idempotent = method == HttpMethod.Get;
        var uri = new Uri(BaseUri, relativeUri);

        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var token = await _tokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);

            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.UserAgent.Add(UserAgent);
            if (jsonBody is not null)
            {
                request.Content = new ByteArrayContent(jsonBody);
                request.Content.Headers.ContentType = JsonMediaType;
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (HttpRequestException) when (idempotent && attempt < _retry.MaxAttempts)
            {
                await DelayAsync(Backoff(attempt, retryAfter: null), cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (TaskCanceledException) when (idempotent && attempt < _retry.MaxAttempts && !cancellationToken.IsCancellationRequested)
            {
                // HttpClient.Timeout elapsed, not the caller's cancellation.
                await DelayAsync(Backoff(attempt, retryAfter: null), cancellationToken).ConfigureAwait(false);
                continue;
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    var result = await response.Content
                        .ReadFromJsonAsync<TResponse>(CloudSqlJson.Options, cancellationToken)
                        .ConfigureAwait(false);
                    return result ?? throw new InvalidOperationException(
                        $"{_apiName} answered {(int)response.StatusCode} to {method} {uri.AbsolutePath} with an empty body.");
                }

                var error = await GoogleError.ReadAsync(response, token, cancellationToken).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (!IsTransient(response.StatusCode, error.Reason))
                {
                    throw _apiError(status, error.Reason, error.Message);
                }

                if (attempt >= _retry.MaxAttempts)
                {
                    var message = _retry.MaxAttempts == 1 ? error.Message : $"{error.Message} (gave up after {attempt} attempts)";
                    throw _apiError(status, error.Reason, message);
                }

                var retryAfter = RetryAfter(response.Headers.RetryAfter);
                await DelayAsync(Backoff(attempt, retryAfter), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    internal static bool IsTransient(HttpStatusCode status, string? reason) => (int)status switch
    {
        409 => string.Equals(reason, "operationInProgress", StringComparison.Ordinal),
        429 => true,
        >= 500 and <= 599 => true,
        _ => false,
    };

    /// <summary>Full jitter: a uniform wait below the exponential bound; Retry-After is a floor.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var exponent = Math.Min(attempt - 1, 30);
        var boundTicks = Math.Min(_retry.MaxDelay.Ticks, _retry.BaseDelay.Ticks * Math.Pow(2, exponent));
        var fraction = Math.Clamp(_jitter(), 0, 1);
        var delay = TimeSpan.FromTicks((long)(boundTicks * fraction));
        if (retryAfter is { } floor)
        {
            var honoured = floor < _retry.MaxDelay ? floor : _retry.MaxDelay;
            if (honoured > delay)
            {
                delay = honoured;
            }
        }

        return delay;
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

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
        => delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, _time, cancellationToken);

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
