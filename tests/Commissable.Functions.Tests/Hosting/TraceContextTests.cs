using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Tests.Hosting;

public sealed class TraceContextTests
{
    [Theory]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", false)]
    [InlineData(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03 ", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true)]
    [InlineData("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true)]
    public void A_valid_traceparent_is_parsed(string header, string traceId, string spanId, bool sampled)
    {
        Assert.Equal(new TraceContext(traceId, spanId, sampled), TraceContext.ParseTraceparent(header));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e47\"}-00f067aa0ba902b7-01")]
    public void An_invalid_traceparent_is_ignored(string? header)
    {
        Assert.Null(TraceContext.ParseTraceparent(header));
    }

    [Theory]
    [InlineData("105445aa7843bc8bf206b12000100000/1;o=1", "105445aa7843bc8bf206b12000100000", "0000000000000001", true)]
    [InlineData("105445AA7843BC8BF206B12000100000/18446744073709551615;o=0", "105445aa7843bc8bf206b12000100000", "ffffffffffffffff", false)]
    [InlineData("105445aa7843bc8bf206b12000100000/255", "105445aa7843bc8bf206b12000100000", "00000000000000ff", false)]
    [InlineData("105445aa7843bc8bf206b12000100000", "105445aa7843bc8bf206b12000100000", null, false)]
    [InlineData("105445aa7843bc8bf206b12000100000/notanumber;o=1", "105445aa7843bc8bf206b12000100000", null, true)]
    public void A_valid_X_Cloud_Trace_Context_is_parsed_with_its_decimal_span_in_hex(string header, string traceId, string? spanId, bool sampled)
    {
        Assert.Equal(new TraceContext(traceId, spanId, sampled), TraceContext.ParseCloudTraceContext(header));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("xyz/1;o=1")]
    [InlineData("105445aa7843bc8bf206b1200010000/1")]
    [InlineData("00000000000000000000000000000000/1")]
    public void An_invalid_X_Cloud_Trace_Context_is_ignored(string? header)
    {
        Assert.Null(TraceContext.ParseCloudTraceContext(header));
    }
}
