namespace Commissable.Backup.Core;

/// <summary>
/// An error answer of a Google REST API: HTTP status, Google's reason and message. Each API's
/// client throws its own subclass, so a caller catches only the API it called.
/// </summary>
public abstract class GoogleApiException : Exception
{
    protected GoogleApiException(string apiName, int httpStatus, string? reason, string message)
        : base($"{apiName} answered {httpStatus}{(reason is null ? "" : $" ({reason})")}: {message}")
    {
        HttpStatus = httpStatus;
        Reason = reason;
        ApiMessage = message;
    }

    public int HttpStatus { get; }

    /// <summary>Google's <c>error.errors[0].reason</c>, for example <c>operationInProgress</c>; null when absent.</summary>
    public string? Reason { get; }

    /// <summary>Google's <c>error.message</c>, one line, bounded, without the bearer token (never a secret value).</summary>
    public string ApiMessage { get; }
}
