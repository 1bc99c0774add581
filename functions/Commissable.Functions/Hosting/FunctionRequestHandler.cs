using System.Text.Json;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Hosting;

/// <summary>
/// Serves one registered function: opens the log scope (function label, trace), invokes it, and
/// turns its outcome into the response: finishing is 200 (for HTTP functions, whatever they
/// wrote), a <see cref="FunctionException"/> is its status and JSON error, anything else is a
/// generic 500 and one ERROR line.
/// </summary>
internal sealed class FunctionRequestHandler(FunctionRegistration registration, ILogger logger)
{
    private static readonly object LogFieldsKey = new();

    // Says nothing about the cause: exception messages can hold connection strings.
    internal const string InternalErrorMessage = "The function failed. The cause is logged under this request's trace.";

    public async Task HandleAsync(HttpContext context)
    {
        var trace = TraceContext.FromHeaders(context.Request.Headers);
        using var scope = logger.BeginScope(new FunctionLogScope(registration.Name, trace));
        try
        {
            await registration.Invoke(context, logger).ConfigureAwait(false);
        }
        catch (FunctionException e)
        {
            using var fields = BeginLogFields(context);
            var level = e.StatusCode >= 500 ? LogLevel.Error : LogLevel.Warning;
            logger.Log(level, HostingLogEvents.Rejected, e.StatusCode >= 500 ? e.InnerException : null,
                "{Function} answered {Status} {Code}: {Reason}", registration.Name, e.StatusCode, e.Code, e.Message);
            await WriteErrorAsync(context, e.StatusCode, e.Code, e.Message, e.RetryAfter).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            using var fields = BeginLogFields(context);
            logger.LogInformation(HostingLogEvents.Aborted, "The caller of {Function} went away before it finished", registration.Name);
        }
#pragma warning disable CA1031 // The host's one catch-all: any failure is a 500, so Eventarc retries.
        catch (Exception e)
#pragma warning restore CA1031
        {
            using var fields = BeginLogFields(context);
            logger.LogError(HostingLogEvents.Failed, e, "{Function} failed with an unhandled {ExceptionType}; answered 500", registration.Name, e.GetType().Name);
            if (context.Response.HasStarted)
            {
                // Too late for a status: break the response so the caller cannot mistake it for a success.
                context.Abort();
                return;
            }

            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, "INTERNAL", InternalErrorMessage, null).ConfigureAwait(false);
        }
    }

    /// <summary>Fields the invoker learned (the CloudEvent's id, type...) for the host's outcome line.</summary>
    internal static void SetLogFields(HttpContext context, IReadOnlyDictionary<string, object?> fields) =>
        context.Items[LogFieldsKey] = fields;

    private IDisposable? BeginLogFields(HttpContext context) =>
        context.Items.TryGetValue(LogFieldsKey, out var value) && value is IReadOnlyDictionary<string, object?> fields
            ? logger.BeginScope(fields)
            : null;

    internal static async Task WriteErrorAsync(HttpContext context, int status, string code, string message, TimeSpan? retryAfter)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        if (retryAfter is { } delay)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var body = new ErrorBody(new ErrorDetail(status, code, SecretRedactor.Redact(message)));
        await JsonSerializer.SerializeAsync(context.Response.Body, body, FunctionJson.Options, CancellationToken.None).ConfigureAwait(false);
    }

    private sealed record ErrorBody(ErrorDetail Error);

    private sealed record ErrorDetail(int Code, string Status, string Message);
}
