namespace Commissable.Functions.Hosting.Logging;

/// <summary>
/// The scope the host opens around every invocation: every entry logged inside it carries the
/// function's name as the <c>function</c> label and the request's trace.
/// </summary>
internal sealed record FunctionLogScope(string FunctionName, TraceContext? Trace);

/// <summary>Marks an entry logged by <see cref="FunctionLoggerExtensions.LogNotice"/> as NOTICE.</summary>
internal sealed class NoticeSeverityScope
{
    public static NoticeSeverityScope Instance { get; } = new();

    private NoticeSeverityScope()
    {
    }
}
