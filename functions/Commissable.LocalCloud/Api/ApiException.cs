namespace Commissable.LocalCloud.Api;

/// <summary>
/// An error the local cloud answers in Google's JSON error shape. Reasons and statuses are the
/// ones the real Cloud SQL Admin API uses, so clients (gcloud, our REST client) react the same way.
/// </summary>
public sealed class ApiException(int httpStatus, string reason, string message) : Exception(message)
{
    public int HttpStatus { get; } = httpStatus;
    public string Reason { get; } = reason;

    public string Status => HttpStatus switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => Reason == "operationInProgress" ? "ABORTED" : "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };

    public static ApiException BadRequest(string message, string reason = "invalid") => new(400, reason, message);
    public static ApiException NotFound(string message) => new(404, "notFound", message);
    public static ApiException Conflict(string message, string reason = "alreadyExists") => new(409, reason, message);
    public static ApiException Busy(string instance) => new(409, "operationInProgress",
        $"Operation failed because another operation was already in progress on instance '{instance}'. Try your request after the current operation is complete.");
}
