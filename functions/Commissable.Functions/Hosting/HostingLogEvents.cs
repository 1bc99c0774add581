namespace Commissable.Functions.Hosting;

/// <summary>The host's own stable log events (the <c>event</c> field).</summary>
internal static class HostingLogEvents
{
    /// <summary>INFO: the host is serving; fields mode, functions, port.</summary>
    public static readonly EventId Started = new(1, "function.host.started");

    /// <summary>CRITICAL: the host cannot start; the message names the variables.</summary>
    public static readonly EventId StartFailed = new(2, "function.host.start_failed");

    /// <summary>CRITICAL: the host stopped on an unexpected exception.</summary>
    public static readonly EventId Crashed = new(3, "function.host.crashed");

    /// <summary>WARNING (4xx) or ERROR (5xx): a function, or the CloudEvent decoder, refused the request; fields status, code, reason.</summary>
    public static readonly EventId Rejected = new(10, "function.request.rejected");

    /// <summary>ERROR: a function threw an unhandled exception; answered 500.</summary>
    public static readonly EventId Failed = new(11, "function.request.failed");

    /// <summary>INFO: the caller went away before the function finished.</summary>
    public static readonly EventId Aborted = new(12, "function.request.aborted");

    /// <summary>DEBUG: a CloudEvent was decoded; fields cloudEventId, cloudEventType, cloudEventSource, cloudEventSubject.</summary>
    public static readonly EventId EventReceived = new(13, "function.event.received");
}
