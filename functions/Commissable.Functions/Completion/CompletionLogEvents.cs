namespace Commissable.Functions.Completion;

/// <summary>The stable log events of the completion functions (the <c>event</c> field operators alert on).</summary>
internal static class CompletionLogEvents
{
    /// <summary>NOTICE (newly recorded) or INFO (already known): fields backupUri, instance, kind, startTime, endTime, outcome, newlyRecorded.</summary>
    public static readonly EventId Completed = new(40, "backup.completed");

    /// <summary>
    /// ERROR: an export or backup run finished in error, or its object is not a whole, readable dump
    /// (cut off, another format than its name says, not a dump at all); same fields plus error.
    /// Nothing is recorded, and the event is acknowledged: the object will not read differently.
    /// </summary>
    public static readonly EventId Failed = new(41, "backup.failed");

    /// <summary>
    /// INFO: an event acknowledged without recording anything; fields reason and what it named.
    /// WARNING when it named a backup run that cannot be found (an unknown operation).
    /// </summary>
    public static readonly EventId Ignored = new(42, "backup.event.ignored");

    /// <summary>
    /// WARNING: a finalized event for an object the bucket does not hold (never written, or already
    /// deleted); fields subject, generation (the event's) and reason. Nothing is recorded, and the
    /// event is acknowledged: that generation will never appear, so a retry could not help.
    /// </summary>
    public static readonly EventId ObjectMissing = new(43, "backup.event.object_missing");

    /// <summary>
    /// INFO: the event names another generation than the one the bucket holds (the object was
    /// replaced, or the event is wrong); fields subject, eventGeneration, storedGeneration. The
    /// stored one is what gets recorded.
    /// </summary>
    public static readonly EventId StaleGeneration = new(45, "backup.event.stale_generation");
}
