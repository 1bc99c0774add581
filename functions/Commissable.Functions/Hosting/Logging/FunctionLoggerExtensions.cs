using Microsoft.Extensions.Logging;

namespace Commissable.Functions.Hosting.Logging;

/// <summary>Logging helpers for what <see cref="ILogger"/> has no level for.</summary>
public static class FunctionLoggerExtensions
{
    /// <summary>
    /// Logs at Cloud Logging's NOTICE severity ("normal but significant": a backup recorded, an
    /// export completed), which <see cref="LogLevel"/> lacks. Other providers see Information.
    /// </summary>
    /// <param name="logger">The logger.</param>
    /// <param name="eventId">The stable event, e.g. <c>new EventId(2, "backup.export.completed")</c>.</param>
    /// <param name="message">A message template; its placeholders become fields.</param>
    /// <param name="args">The placeholders' values.</param>
    public static void LogNotice(this ILogger logger, EventId eventId, string message, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(logger);
        using (logger.BeginScope(NoticeSeverityScope.Instance))
        {
#pragma warning disable CA2254 // The template is the caller's, passed through unchanged.
            logger.Log(LogLevel.Information, eventId, message, args);
#pragma warning restore CA2254
        }
    }
}
