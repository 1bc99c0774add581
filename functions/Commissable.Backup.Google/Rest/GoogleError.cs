using System.Text;
using System.Text.Json;

namespace Commissable.Backup.Google.Rest;

/// <summary>
/// Google's JSON error shape, <c>{"error":{"code":409,"message":"...","status":"ABORTED",
/// "errors":[{"domain":"global","reason":"operationInProgress","message":"..."}]}}</c>, read
/// defensively: a proxy's HTML page or an empty body still yields a useful, short message.
/// </summary>
internal readonly record struct GoogleError(string? Reason, string Message)
{
    internal const int MaxMessageLength = 500;

    // Enough for any real error document; an HTML page beyond this is of no use in a message.
    private const int MaxBodyChars = 64 * 1024;

    public static async Task<GoogleError> ReadAsync(HttpResponseMessage response, string secret, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[MaxBodyChars];
            var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            body = new string(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or DecoderFallbackException)
        {
            body = "";
        }

        var statusText = $"{(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}".TrimEnd();
        return Parse(body, statusText, secret);
    }

    internal static GoogleError Parse(string body, string statusText, string? secret)
    {
        string? reason = null;
        string? message = null;
        var isJson = false;
        if (body.TrimStart().StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                isJson = true;
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("error", out var error)
                    && error.ValueKind == JsonValueKind.Object)
                {
                    message = StringOf(error, "message");
                    if (error.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var item in errors.EnumerateArray())
                        {
                            reason = item.ValueKind == JsonValueKind.Object ? StringOf(item, "reason") : null;
                            message ??= item.ValueKind == JsonValueKind.Object ? StringOf(item, "message") : null;
                            break;
                        }
                    }

                    message ??= StringOf(error, "status");
                }
            }
            catch (JsonException)
            {
                isJson = false;
            }
        }

        if (string.IsNullOrWhiteSpace(message))
        {
            message = isJson || string.IsNullOrWhiteSpace(body) ? statusText : $"{statusText}: {body}";
        }

        return new GoogleError(reason, Clean(message, secret));
    }

    private static string? StringOf(JsonElement element, string property)
        => element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>One line, bounded, and without the bearer token even if a server echoed it.</summary>
    internal static string Clean(string text, string? secret)
    {
        if (!string.IsNullOrEmpty(secret))
        {
            text = text.Replace(secret, "[redacted]", StringComparison.Ordinal);
        }

        var builder = new StringBuilder(Math.Min(text.Length, MaxMessageLength + 1));
        var lastWasSpace = false;
        foreach (var c in text)
        {
            var isSpace = char.IsWhiteSpace(c) || char.IsControl(c);
            if (isSpace && lastWasSpace)
            {
                continue;
            }

            builder.Append(isSpace ? ' ' : c);
            lastWasSpace = isSpace;
            if (builder.Length > MaxMessageLength)
            {
                builder.Length = MaxMessageLength;
                builder.Append('…');
                break;
            }
        }

        return builder.ToString().Trim();
    }
}
