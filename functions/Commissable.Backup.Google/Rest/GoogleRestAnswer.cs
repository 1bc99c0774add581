namespace Commissable.Backup.Google.Rest;

/// <summary>
/// One attempt's answer: the response, and for a non-success its error, read at once so that the
/// retry policy can decide on Google's reason (a 409 is transient only for <c>operationInProgress</c>).
/// Disposing it disposes the response; the retry policy disposes the answers it discards.
/// </summary>
internal sealed class GoogleRestAnswer(HttpResponseMessage response, GoogleError? error) : IDisposable
{
    public HttpResponseMessage Response { get; } = response;

    /// <summary>Null when the status is a success.</summary>
    public GoogleError? Error { get; } = error;

    public void Dispose() => Response.Dispose();
}
