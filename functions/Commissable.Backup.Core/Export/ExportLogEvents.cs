using Microsoft.Extensions.Logging;

namespace Commissable.Backup.Core.Export;

/// <summary>The stable log events of a pre-deploy export's lease and heartbeat (the <c>event</c> field operators alert on).</summary>
internal static class ExportLogEvents
{
    /// <summary>WARNING: a precondition failed, nothing was exported (the answer is 412). Fields instance, change, failures.</summary>
    public static readonly EventId Refused = new(10, "backup.export.refused");

    /// <summary>INFO: the export started. Fields backupUri, instance, database, change, startTime.</summary>
    public static readonly EventId Started = new(11, "backup.export.started");

    /// <summary>INFO: the dump is checked and its manifest written. Fields backupUri, sizeBytes, startTime, endTime, durationMs, outcome.</summary>
    public static readonly EventId Completed = new(12, "backup.export.completed");

    /// <summary>ERROR: the export failed; the deploy must not go on. Fields backupUri, startTime, endTime, outcome, error.</summary>
    public static readonly EventId Failed = new(13, "backup.export.failed");

    /// <summary>WARNING: a renewal found the instance's lease replaced; the export carries on without it and will not release it. Fields backupUri, instance, lease.</summary>
    public static readonly EventId LeaseLost = new(20, "backup.export.lease.lost");

    /// <summary>WARNING: a heartbeat found the export's ticket replaced; it is no longer refreshed. Fields backupUri, instance, ticket.</summary>
    public static readonly EventId TicketReplaced = new(21, "backup.export.ticket.replaced");

    /// <summary>WARNING: a heartbeat write failed (a store error); the next beat tries again. Fields backupUri, instance, object, error.</summary>
    public static readonly EventId HeartbeatFailed = new(22, "backup.export.heartbeat.failed");

    /// <summary>WARNING: a lease not renewed for longer than the stale limit was taken as a crashed holder's and removed. Fields instance, lease, lastRenewed.</summary>
    public static readonly EventId LeaseTakenOver = new(23, "backup.export.lease.taken_over");

    /// <summary>WARNING: the finished export could not delete its lease (a store error); it holds the instance until it goes stale. Fields instance, lease, error.</summary>
    public static readonly EventId LeaseReleaseFailed = new(24, "backup.export.lease.release_failed");

    /// <summary>ERROR: the export's outcome could not be written to its ticket, which stays running until it goes stale. Fields backupUri, outcome, error.</summary>
    public static readonly EventId TicketWriteFailed = new(25, "backup.export.ticket.write_failed");
}
