using System.Text.Json;
using System.Text.Json.Nodes;

namespace Commissable.LocalCloud.Api;

/// <summary>Writes errors as Google does: <c>{"error":{"code","message","errors":[{"domain","reason","message"}],"status"}}</c>.</summary>
internal static class ErrorResponses
{
    public static Task WriteAsync(HttpContext context, ApiException error)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = error.HttpStatus,
                ["message"] = error.Message,
                ["errors"] = new JsonArray(new JsonObject
                {
                    ["message"] = error.Message,
                    ["domain"] = "global",
                    ["reason"] = error.Reason,
                }),
                ["status"] = error.Status,
            },
        };
        context.Response.StatusCode = error.HttpStatus;
        context.Response.ContentType = "application/json; charset=UTF-8";
        if (error.HttpStatus == 401)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\"";
        }
        return context.Response.WriteAsync(body.ToJsonString(ApiResults.Wire), context.RequestAborted);
    }

    /// <summary>Turns thrown <see cref="ApiException"/>s and unreadable JSON into answers; anything else is a 500 without details (they go to the log).</summary>
    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (ApiException error)
        {
            await WriteAsync(context, error).ConfigureAwait(false);
        }
        catch (JsonException error)
        {
            await WriteAsync(context, ApiException.BadRequest($"Invalid JSON payload received. {FirstLine(error.Message)}", "parseError")).ConfigureAwait(false);
        }
        catch (BadHttpRequestException error)
        {
            await WriteAsync(context, ApiException.BadRequest(error.Message)).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException && !context.Response.HasStarted)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Commissable.LocalCloud.Api")
                .LogError("{Method} {Path} failed: {Error}", context.Request.Method, context.Request.Path, Operations.OperationErrors.ForLog(error));
            await WriteAsync(context, new ApiException(500, "backendError", "Internal error encountered.")).ConfigureAwait(false);
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
