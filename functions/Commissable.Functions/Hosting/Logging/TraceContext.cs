using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Commissable.Functions.Hosting.Logging;

/// <summary>
/// The trace a request belongs to, from W3C <c>traceparent</c> (<c>00-TRACE-SPAN-FLAGS</c>) or,
/// failing that, Google's <c>X-Cloud-Trace-Context</c> (<c>TRACE/SPAN;o=1</c>, span in decimal).
/// Log lines carry it so Cloud Logging groups a request's entries under its trace.
/// </summary>
/// <param name="TraceId">32 lowercase hex digits.</param>
/// <param name="SpanId">16 lowercase hex digits, or null when the header named no span.</param>
/// <param name="Sampled">Whether the caller sampled the trace.</param>
public sealed record TraceContext(string TraceId, string? SpanId, bool Sampled)
{
    /// <summary>The W3C header.</summary>
    public const string TraceparentHeader = "traceparent";

    /// <summary>Google's legacy header, still set by Cloud Run and Google front ends.</summary>
    public const string CloudTraceContextHeader = "X-Cloud-Trace-Context";

    /// <summary>The trace of a request, or null when neither header holds a valid one.</summary>
    public static TraceContext? FromHeaders(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return ParseTraceparent(First(headers, TraceparentHeader))
            ?? ParseCloudTraceContext(First(headers, CloudTraceContextHeader));
    }

    /// <summary>Parses <c>00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01</c>; null when invalid.</summary>
    public static TraceContext? ParseTraceparent(string? header)
    {
        if (header is null)
        {
            return null;
        }

        // version(2)-trace(32)-span(16)-flags(2); later versions may append fields after a dash.
        var text = header.AsSpan().Trim();
        if (text.Length < 55 || (text.Length > 55 && text[55] != '-') || text[2] != '-' || text[35] != '-' || text[52] != '-')
        {
            return null;
        }

        var version = text[..2];
        var traceId = text[3..35];
        var spanId = text[36..52];
        var flags = text[53..55];
        if (!IsLowerHex(version) || version is "ff" || !IsLowerHex(traceId) || !IsLowerHex(spanId) || !IsLowerHex(flags)
            || IsAllZero(traceId) || IsAllZero(spanId))
        {
            return null;
        }

        var sampled = (byte.Parse(flags, NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 1) == 1;
        return new TraceContext(traceId.ToString(), spanId.ToString(), sampled);
    }

    /// <summary>Parses <c>105445aa7843bc8bf206b12000100000/1;o=1</c>; null when invalid.</summary>
    public static TraceContext? ParseCloudTraceContext(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        var text = header.Trim();
        var optionsAt = text.IndexOf(';', StringComparison.Ordinal);
        var options = optionsAt < 0 ? string.Empty : text[(optionsAt + 1)..];
        var ids = optionsAt < 0 ? text : text[..optionsAt];
        var slash = ids.IndexOf('/', StringComparison.Ordinal);
        var traceId = (slash < 0 ? ids : ids[..slash]).ToLowerInvariant();
        if (traceId.Length != 32 || !IsLowerHex(traceId) || IsAllZero(traceId))
        {
            return null;
        }

        string? spanId = null;
        if (slash >= 0 && ulong.TryParse(ids.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var span) && span != 0)
        {
            spanId = span.ToString("x16", CultureInfo.InvariantCulture);
        }

        return new TraceContext(traceId, spanId, options.Trim() == "o=1");
    }

    private static string? First(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out StringValues values) && values.Count > 0 ? values[0] : null;

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAllZero(ReadOnlySpan<char> text) => !text.ContainsAnyExcept('0');
}
