using System.Text.Json;

namespace Commissable.Functions.Hosting;

/// <summary>How an HTTP function reads its JSON request and writes its JSON response.</summary>
public static class HttpContextJsonExtensions
{
    /// <summary>
    /// Reads the request body as JSON into <typeparamref name="T"/> with <see cref="FunctionJson.Options"/>.
    /// The <c>Content-Type</c> is not checked (Cloud Scheduler sends <c>application/octet-stream</c>
    /// unless told otherwise).
    /// </summary>
    /// <exception cref="FunctionException">400 <c>INVALID_ARGUMENT</c> when the body is empty, <c>null</c>,
    /// not JSON, or does not fit <typeparamref name="T"/>; the message names the JSON path and line.</exception>
    public static async Task<T> ReadJsonAsync<T>(this HttpContext context)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        var expected = typeof(T).Name;

        // Buffered: request bodies here are small, and an empty body deserves its own message.
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        var bytes = body.GetBuffer().AsMemory(0, (int)body.Length);
        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw FunctionException.BadRequest($"The request body is empty; expected a JSON {expected}.");
        }

        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(bytes.Span, FunctionJson.Options);
        }
        catch (JsonException e)
        {
            throw new FunctionException(400, "INVALID_ARGUMENT", $"The request body is not a valid JSON {expected}: {FunctionJson.Describe(e)}.", null, e);
        }

        return value ?? throw FunctionException.BadRequest($"The request body is null; expected a JSON {expected}.");
    }

    /// <summary>Writes <paramref name="value"/> as the JSON response with <paramref name="statusCode"/> (200 by default).</summary>
    public static Task WriteJsonAsync<T>(this HttpContext context, T value, int statusCode = StatusCodes.Status200OK)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, FunctionJson.Options, context.RequestAborted);
    }
}
