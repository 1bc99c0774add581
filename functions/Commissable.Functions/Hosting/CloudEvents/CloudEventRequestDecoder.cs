using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Core;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;

namespace Commissable.Functions.Hosting.CloudEvents;

/// <summary>
/// Turns an HTTP request into a <see cref="CloudEvent"/> and its typed data, as
/// <c>CloudNative.CloudEvents.AspNetCore</c> would (that package is not available here): binary
/// mode (<c>ce-*</c> headers, data in the body) and structured mode
/// (<c>Content-Type: application/cloudevents+json</c>), decoded with <see cref="JsonEventFormatter"/>.
/// </summary>
/// <remarks>Every failure is a <see cref="FunctionException"/> 400 whose message names the problem.</remarks>
internal static class CloudEventRequestDecoder
{
    private const string StructuredJsonMediaType = "application/cloudevents+json";
    private const string Code = "INVALID_CLOUDEVENT";

    private static readonly JsonEventFormatter Formatter = new(FunctionJson.Options, FunctionJson.DocumentOptions);

    public static async Task<CloudEvent> DecodeEventAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var contentType = request.ContentType;
        if (MimeUtilities.IsCloudEventsBatchContentType(contentType))
        {
            throw Invalid("batched CloudEvents (application/cloudevents-batch+json) are not accepted; send one event per request");
        }

        var body = await HttpContextJsonExtensions.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        return MimeUtilities.IsCloudEventsContentType(contentType)
            ? DecodeStructured(body, contentType!)
            : DecodeBinary(request, body);
    }

    /// <summary>Converts the event's data to <typeparamref name="TData"/>.</summary>
    public static TData DecodeData<TData>(CloudEvent cloudEvent)
        where TData : class
    {
        var expected = typeof(TData).Name;
        try
        {
            var data = cloudEvent.Data switch
            {
                JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
                JsonElement element => element.Deserialize<TData>(FunctionJson.Options),
                byte[] bytes when IsJson(cloudEvent.DataContentType) && bytes.Length > 0 => JsonSerializer.Deserialize<TData>(bytes, FunctionJson.Options),
                null or byte[] { Length: 0 } => null,
                _ => throw Invalid($"the data content type '{cloudEvent.DataContentType}' is not JSON; expected application/json data holding a {expected}"),
            };
            return data ?? throw Invalid($"the event has no data; expected a JSON {expected}");
        }
        catch (JsonException e)
        {
            throw new FunctionException(400, Code, $"Invalid CloudEvent: the data is not a valid {expected}: {FunctionJson.Describe(e)}.", null, e);
        }
    }

    private static CloudEvent DecodeStructured(ReadOnlyMemory<byte> body, string contentType)
    {
        ContentType parsed;
        try
        {
            parsed = new ContentType(contentType);
        }
        catch (FormatException)
        {
            throw Invalid($"the Content-Type '{contentType}' cannot be parsed");
        }

        if (!string.Equals(parsed.MediaType, StructuredJsonMediaType, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"structured mode content type '{parsed.MediaType}' is not supported; accepted: {StructuredJsonMediaType}");
        }

        if (body.Length == 0)
        {
            throw Invalid("the structured mode body is empty; expected a JSON CloudEvent");
        }

        try
        {
            return Formatter.DecodeStructuredModeMessage(body, parsed, null);
        }
        catch (JsonException e)
        {
            throw new FunctionException(400, Code, $"Invalid CloudEvent: the body is not valid JSON: {FunctionJson.Describe(e)}.", null, e);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or OverflowException)
        {
            throw new FunctionException(400, Code, $"Invalid CloudEvent: {Sentence(e.Message)}", null, e);
        }
    }

    private static CloudEvent DecodeBinary(HttpRequest request, ReadOnlyMemory<byte> body)
    {
        var headers = request.Headers;
        var versionId = headers[HttpUtilities.SpecVersionHttpHeader].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(versionId))
        {
            throw Invalid(
                "the request is not a CloudEvent: send binary mode (ce-specversion, ce-id, ce-source and ce-type headers, data in the body) " +
                $"or structured mode (Content-Type: {StructuredJsonMediaType})");
        }

        var version = CloudEventsSpecVersion.FromVersionId(versionId)
            ?? throw Invalid($"ce-specversion '{versionId}' is not supported; accepted: {CloudEventsSpecVersion.V1_0.VersionId}");
        var cloudEvent = new CloudEvent(version);
        foreach (var header in headers)
        {
            // HTTP/1.1 header names keep the sender's case (Ce-Id); attribute names are lower case.
            var name = HttpUtilities.GetAttributeNameFromHeaderName(header.Key)?.ToLowerInvariant();
            if (name is null || name == CloudEventsSpecVersion.SpecVersionAttribute.Name)
            {
                continue;
            }

            try
            {
                cloudEvent.SetAttributeFromString(name, HttpUtilities.DecodeHeaderValue(header.Value.ToString()));
            }
            catch (ArgumentException e)
            {
                throw new FunctionException(400, Code, $"Invalid CloudEvent: header {header.Key}: {Sentence(e.Message)}", null, e);
            }
        }

        if (!string.IsNullOrEmpty(request.ContentType))
        {
            try
            {
                cloudEvent.DataContentType = request.ContentType;
            }
            catch (ArgumentException e)
            {
                throw new FunctionException(400, Code, $"Invalid CloudEvent: Content-Type '{request.ContentType}' is not a valid media type.", null, e);
            }
        }

        var missing = version.RequiredAttributes.Where(a => cloudEvent[a] is null).Select(a => "ce-" + a.Name).ToList();
        if (missing.Count > 0)
        {
            throw Invalid($"missing required header{(missing.Count == 1 ? string.Empty : "s")} {string.Join(", ", missing)}");
        }

        try
        {
            Formatter.DecodeBinaryModeEventData(body, cloudEvent);
        }
        catch (JsonException e)
        {
            throw new FunctionException(400, Code, $"Invalid CloudEvent: the data is not valid JSON: {FunctionJson.Describe(e)}.", null, e);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new FunctionException(400, Code, $"Invalid CloudEvent: {Sentence(e.Message)}", null, e);
        }

        return cloudEvent;
    }

    private static bool IsJson(string? contentType)
    {
        if (contentType is null)
        {
            return true;
        }

        try
        {
            var mediaType = new ContentType(contentType).MediaType;
            return mediaType.EndsWith("/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static FunctionException Invalid(string problem) => new(400, Code, $"Invalid CloudEvent: {problem}.");

    // The SDK's messages end with " (Parameter 'x')", which means nothing to a caller.
    private static string Sentence(string message)
    {
        var at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        var text = (at >= 0 ? message[..at] : message).TrimEnd('.', ' ');
        return Logging.SecretRedactor.Redact(text) + ".";
    }
}
