using System.Net.Mime;
using System.Text.Json;
using Commissable.Backup.Core.Naming;

namespace Commissable.Functions.Hosting;

/// <summary>How an HTTP function reads its JSON request and writes its JSON response.</summary>
public static class HttpContextJsonExtensions
{
    /// <summary>
    /// The largest request body a function reads (1 MiB). The functions' requests and events are
    /// small (an audit-log entry is at most 256 KiB in Cloud Logging); a larger one is refused with
    /// 413 before it is held in memory.
    /// </summary>
    public const int MaxBodyBytes = 1 << 20;

    /// <summary>
    /// Reads the request body as JSON into <typeparamref name="T"/> with <see cref="FunctionJson.RequestOptions"/>.
    /// The <c>Content-Type</c> is not required (Cloud Scheduler sends <c>application/octet-stream</c>
    /// unless told otherwise), but an HTML form's (<c>application/x-www-form-urlencoded</c>,
    /// <c>multipart/*</c>) is refused.
    /// </summary>
    /// <exception cref="FunctionException">400 <c>INVALID_ARGUMENT</c> when the body is empty, <c>null</c>,
    /// not JSON, holds a key twice or a key <typeparamref name="T"/> does not have, or does not fit <typeparamref name="T"/>; the message names the JSON
    /// path and line. 413 when it is larger than <see cref="MaxBodyBytes"/>; 415 for a form.</exception>
    public static async Task<T> ReadJsonAsync<T>(this HttpContext context)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        return await ReadOptionalJsonAsync<T>(context).ConfigureAwait(false)
            ?? throw FunctionException.BadRequest($"The request body is empty; expected a JSON {typeof(T).Name}.");
    }

    /// <summary>
    /// As <see cref="ReadJsonAsync{T}"/>, but an empty body (only white space) is null instead of a 400:
    /// for functions whose body is optional. A JSON <c>null</c> is still a 400.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="describe">How the 400 for a body that does not fit <typeparamref name="T"/> names
    /// what is accepted; the type's name when null.</param>
    public static async Task<T?> ReadOptionalJsonAsync<T>(this HttpContext context, string? describe = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        var expected = describe ?? $"JSON {typeof(T).Name}";
        RefuseForms(context.Request.ContentType, expected);

        var bytes = await ReadBodyAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(bytes.Span, FunctionJson.RequestOptions);
        }
        catch (JsonException e)
        {
            throw new FunctionException(400, "INVALID_ARGUMENT", $"The request body is not a valid {expected}: {FunctionJson.Describe(e)}.", null, e);
        }

        return value ?? throw FunctionException.BadRequest($"The request body is null; expected a {expected}.");
    }

    /// <summary>Writes <paramref name="value"/> as the JSON response with <paramref name="statusCode"/> (200 by default).</summary>
    public static Task WriteJsonAsync<T>(this HttpContext context, T value, int statusCode = StatusCodes.Status200OK)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, FunctionJson.Options, context.RequestAborted);
    }

    /// <summary>
    /// The whole body, at most <see cref="MaxBodyBytes"/>: a declared or actual larger one is a 413
    /// as soon as it is known, without reading the rest.
    /// </summary>
    internal static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
        }

        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (body.Length + read > MaxBodyBytes)
            {
                throw TooLarge();
            }

            body.Write(buffer, 0, read);
        }

        return body.GetBuffer().AsMemory(0, (int)body.Length);
    }

    private static FunctionException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "PAYLOAD_TOO_LARGE", $"The request body is larger than {MaxBodyBytes / 1024} KiB, the most a function reads.");

    // A browser posts forms across origins without asking first: a JSON API has no reason to read one.
    private static void RefuseForms(string? contentType, string expected)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return;
        }

        string mediaType;
        try
        {
            mediaType = new ContentType(contentType).MediaType;
        }
        catch (FormatException)
        {
            throw new FunctionException(StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
                $"The Content-Type '{Logging.SecretRedactor.Redact(CloudNames.Printable(contentType))}' cannot be parsed; send application/json holding a {expected}.");
        }

        if (mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || mediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            throw new FunctionException(StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
                $"The Content-Type '{mediaType}' is a form; send application/json holding a {expected}.");
        }
    }
}
