using System.Text.Json.Nodes;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Auth;

namespace Commissable.Backup.Google.Rest;

/// <summary>
/// Sends one call of a Google REST API, the same way for every API the project speaks (Cloud SQL
/// Admin, Workflow Executions): JSON in and out, a fresh bearer token on every attempt, transient
/// answers retried by <see cref="GoogleRetryPolicy"/>, and every other non-success turned into the
/// API's typed exception with Google's reason and a cleaned message (<see cref="GoogleError"/>).
/// </summary>
internal sealed class GoogleRestTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };
    private static readonly ProductInfoHeaderValue UserAgent = new("commissable-backup", "1.0");

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly IAccessTokenSource _tokens;
    private readonly GoogleRetryPolicy _retry;
    private readonly string _apiName;
    private readonly Func<int, string?, string, Exception> _apiError;

    /// <param name="http">Sends the requests.</param>
    /// <param name="ownsHttp">Whether <see cref="Dispose"/> disposes <paramref name="http"/>.</param>
    /// <param name="baseUri">The API root, ending with a slash.</param>
    /// <param name="tokens">Bearer tokens, asked for on every attempt.</param>
    /// <param name="retry">Which answers are retried, and when.</param>
    /// <param name="apiName">The API's name in messages, for example "Cloud SQL Admin API".</param>
    /// <param name="apiError">The API's typed exception from the status, Google's reason and the cleaned message.</param>
    internal GoogleRestTransport(
        HttpClient http, bool ownsHttp, Uri baseUri, IAccessTokenSource tokens, GoogleRetryPolicy retry,
        string apiName, Func<int, string?, string, Exception> apiError)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUri);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(retry);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiName);
        ArgumentNullException.ThrowIfNull(apiError);
        _http = http;
        _ownsHttp = ownsHttp;
        BaseUri = baseUri;
        _tokens = tokens;
        _retry = retry;
        _apiName = apiName;
        _apiError = apiError;
    }

    public Uri BaseUri { get; }

    /// <summary>
    /// Sends <paramref name="method"/> to <paramref name="relativeUri"/> below <see cref="BaseUri"/>
    /// with <paramref name="jsonBody"/> (when not null) as JSON, and reads the answer as
    /// <typeparamref name="TResponse"/>.
    /// </summary>
    public Task<TResponse> SendAsync<TResponse>(
        HttpMethod method, string relativeUri, object? jsonBody, CancellationToken cancellationToken)
        => SendAsync<TResponse>(method, relativeUri, jsonBody, idempotent: method == HttpMethod.Get, cancellationToken);

    /// <summary>
    /// As <see cref="SendAsync{TResponse}(HttpMethod, string, object?, CancellationToken)"/>, with the
    /// caller saying whether the call may be sent again when its connection failed: a GET is not
    /// always a read (a callback made for GET delivers one payload per request).
    /// </summary>
    public async Task<TResponse> SendAsync<TResponse>(
        HttpMethod method, string relativeUri, object? jsonBody, bool idempotent, CancellationToken cancellationToken)
    {
        var uri = new Uri(BaseUri, relativeUri);
        // Serialised once: every attempt sends the same bytes.
        var body = jsonBody is null ? null : JsonSerializer.SerializeToUtf8Bytes(jsonBody, jsonBody.GetType(), CloudSqlJson.Options);
        var attempts = 0;

        // Only reads are safe to repeat when we cannot know whether the server saw the request.
        using var answer = await _retry.ExecuteAsync(
            idempotent,
            async token =>
            {
                attempts++;
                return await AttemptAsync(method, uri, body, token).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

        var status = (int)answer.Response.StatusCode;
        if (answer.Error is not { } error)
        {
            // An empty answer (sendHttpCallback's: "the response body is empty") reads as an empty
            // object when the caller expects one. The content is buffered (ResponseContentRead), so
            // its length is known even when the answer came chunked; blank text counts as empty too.
            if (typeof(TResponse) == typeof(JsonObject)
                && (answer.Response.Content.Headers.ContentLength == 0
                    || string.IsNullOrWhiteSpace(await answer.Response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false))))
            {
                return (TResponse)(object)new JsonObject();
            }
            var result = await answer.Response.Content
                .ReadFromJsonAsync<TResponse>(CloudSqlJson.Options, cancellationToken)
                .ConfigureAwait(false);
            return result ?? throw new InvalidOperationException(
                $"{_apiName} answered {status} to {method} {uri.AbsolutePath} with an empty body.");
        }

        if (!GoogleRetryPolicy.IsTransient(answer.Response.StatusCode, error.Reason))
        {
            throw _apiError(status, error.Reason, error.Message);
        }

        // The policy hands back a transient answer when the caller cancelled during its attempt.
        cancellationToken.ThrowIfCancellationRequested();
        throw _apiError(status, error.Reason, attempts == 1 ? error.Message : $"{error.Message} (gave up after {attempts} attempts)");
    }

    /// <summary>
    /// One escaped path segment of a resource name; "." and ".." are refused, since URI resolution
    /// would normalise them away and address another resource.
    /// </summary>
    internal static string Segment(string value, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameterName);
        if (value is "." or "..")
        {
            throw new ArgumentException($"'{value}' is not a valid name.", parameterName);
        }

        return Uri.EscapeDataString(value);
    }

    /// <summary>One attempt: a fresh token, the request, and for a non-success the error read and cleaned.</summary>
    private async ValueTask<GoogleRestAnswer> AttemptAsync(HttpMethod method, Uri uri, byte[]? body, CancellationToken cancellationToken)
    {
        var token = await _tokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);

        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.UserAgent.Add(UserAgent);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = JsonMediaType;
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken)
            .ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return new GoogleRestAnswer(response, null);
        }

        try
        {
            // The token is known only here: the error message is cleaned of it before it goes further.
            return new GoogleRestAnswer(response, await GoogleError.ReadAsync(response, token, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
