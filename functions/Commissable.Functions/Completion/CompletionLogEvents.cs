namespace Commissable.Functions.Completion;

/// <summary>The stable log events of the completion functions (the <c>event</c> field operators alert on).</summary>
internal static class CompletionLogEvents
{
    /// <summary>NOTICE (newly recorded) or INFO (already known): fields backupUri, instance, kind, startTime, endTime, outcome, newlyRecorded.</summary>
    public static readonly EventId Completed = new(40, "backup.completed");

    /// <summary>ERROR: an export or backup run finished in error; same fields plus error. Nothing is recorded.</summary>
    public static readonly EventId Failed = new(41, "backup.failed");

    /// <summary>INFO: an event acknowledged without recording anything; fields reason and what it named.</summary>
    public static readonly EventId Ignored = new(42, "backup.event.ignored");
}
