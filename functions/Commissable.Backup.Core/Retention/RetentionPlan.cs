using Commissable.Backup.Core.Backups;

namespace Commissable.Backup.Core.Retention;

/// <summary>
/// What one retention run decides: a decision for every catalog entry (ordered by name), the
/// orphans found, and the refusal when a safety rail tripped (then nothing is deleted).
/// </summary>
public sealed record RetentionPlan(
    RetentionPolicy Policy,
    DateTimeOffset Now,
    IReadOnlyList<RetentionDecision> Decisions,
    IReadOnlyList<OrphanFinding> Orphans,
    RetentionRefusal? Refusal)
{
    /// <summary>The decisions to carry out, in name order; each one's <see cref="RetentionDecision.Steps"/> in order.</summary>
    public IEnumerable<RetentionDecision> Deletions => Decisions.Where(d => d.Action == RetentionAction.Delete);

    /// <summary>One line for the run's log entry.</summary>
    public string Summary
    {
        get
        {
            var deleting = Decisions.Count(d => d.Action == RetentionAction.Delete);
            var head = $"{Decisions.Count} catalog entries: {deleting} to delete, {Decisions.Count - deleting} kept; {Orphans.Count} orphan(s).";
            return Refusal is null ? head : $"{head} Refused: {Refusal.Text}";
        }
    }
}

public enum RetentionAction
{
    Keep,
    Delete,
}

/// <summary>The decision for one catalog entry (with its parsed name, null when it is not a backup), why, and (for a deletion) the objects to delete in order.</summary>
public sealed record RetentionDecision(
    RetentionCandidate Entry,
    BackupObjectName? Backup,
    RetentionAction Action,
    RetentionReason Reason,
    IReadOnlyList<DeletionStep> Steps)
{
    public string Name => Entry.Name;
}

/// <summary>A stable code (see <see cref="RetentionReasons"/>) operators and alerts can rely on, and text that says it in words.</summary>
public sealed record RetentionReason(string Code, string Text);

/// <summary>The stable reason codes. <c>keep.*</c> codes go with a keep, <c>delete.*</c> with a deletion.</summary>
public static class RetentionReasons
{
    /// <summary>Outside the prefix or not named as a backup: not a backup, ignored.</summary>
    public const string NotABackup = "keep.not-a-backup";
    /// <summary>An automated backup run: Cloud SQL retires it.</summary>
    public const string ManagedByCloudSql = "keep.managed-by-cloud-sql";
    /// <summary>No rule applies to a kind this version does not know.</summary>
    public const string UnknownKind = "keep.unknown-kind";
    /// <summary>The entry lists objects that are not its own (outside its name): kept rather than trusted.</summary>
    public const string ForeignObjects = "keep.foreign-objects";
    public const string OnHold = "keep.on-hold";
    /// <summary>Younger than the minimum age (for a dump without manifest: possibly still being written).</summary>
    public const string TooYoung = "keep.too-young";
    /// <summary>An orphan, kept because deleting orphans is off.</summary>
    public const string OrphanKept = "keep.orphan";
    /// <summary>The newest backup of its instance whose last restore test passed.</summary>
    public const string NewestVerified = "keep.newest-verified";
    /// <summary>One of the last N pre-deploy exports of its instance.</summary>
    public const string LastPreDeploy = "keep.last-pre-deploy";
    public const string WithinMaxAge = "keep.within-max-age";
    public const string Weekly = "keep.weekly";
    public const string Monthly = "keep.monthly";
    /// <summary>Would have been deleted, but the run would delete more than the allowed share: nothing is deleted.</summary>
    public const string DeleteShareExceeded = "keep.delete-share-exceeded";
    /// <summary>A pre-deploy export older than the pre-deploy maximum age and not one of the last N.</summary>
    public const string PreDeployExpired = "delete.pre-deploy-expired";
    /// <summary>A scheduled export or on-demand backup run older than the maximum age, with no weekly or monthly keep.</summary>
    public const string Expired = "delete.expired";
    /// <summary>An orphan older than the minimum age, deleted because deleting orphans is on.</summary>
    public const string OrphanDeleted = "delete.orphan";
    /// <summary>The code of the refusal when the plan would delete more than the allowed share.</summary>
    public const string RefusedMaxDeleteShare = "refused.max-delete-share";
}

/// <summary>What one deletion step removes.</summary>
public enum DeletionTarget
{
    /// <summary>The manifest: always first, so the catalog stops listing the backup before any of it is gone.</summary>
    Manifest,
    VerificationRecord,
    /// <summary>An object of the dump (a directory-format export has several).</summary>
    DumpObject,
    /// <summary>A Cloud SQL on-demand backup run (backupRuns.delete), identified by <see cref="DeletionStep.BackupRunId"/>.</summary>
    BackupRun,
}

/// <summary>
/// One deletion, in plan order: the manifest first, then the verification records, then the data
/// (the dump's objects, or the backup run). Holds are never deleted: a held backup is kept.
/// <see cref="ObjectName"/> names the object to delete; for <see cref="DeletionTarget.BackupRun"/>
/// it is null and <see cref="BackupRunId"/> names the run of the decision's instance.
/// </summary>
/// <remarks>
/// Manifest first because the catalog is the set of manifests: once the first step has run, the
/// backup is no longer listed, so nothing picks a half-deleted backup to restore or verify. A crash
/// after that leaves a dump without manifest, which the next run reports as an orphan with its age.
/// The data goes last so that every crash leaves that same recognisable orphan (never a manifest
/// pointing at nothing, which would look restorable until someone tried).
/// </remarks>
public sealed record DeletionStep(DeletionTarget Target, string? ObjectName, long? BackupRunId)
{
    /// <summary>Deletes an object of the bucket.</summary>
    public static DeletionStep ForObject(DeletionTarget target, string objectName) => new(target, objectName, null);

    /// <summary>Deletes a Cloud SQL backup run of the backup's instance.</summary>
    public static DeletionStep ForBackupRun(long backupRunId) => new(DeletionTarget.BackupRun, null, backupRunId);
}

public enum OrphanKind
{
    /// <summary>A dump (or part of one) with no manifest: an export that crashed, or a deletion that crashed after removing the manifest.</summary>
    DumpWithoutManifest,
    /// <summary>A manifest whose dump (or backup run) is gone: it looks restorable and is not.</summary>
    ManifestWithoutDump,
    /// <summary>Only verification records are left: neither manifest nor dump.</summary>
    RecordsWithoutBackup,
}

/// <summary>An orphan the run found, with its age, whether or not it is deleted.</summary>
public sealed record OrphanFinding(string Name, OrphanKind Kind, TimeSpan Age, string Text);

/// <summary>A safety rail tripped: the plan deletes nothing, and this says why.</summary>
public sealed record RetentionRefusal(
    string Code,
    string Text,
    int CatalogSize,
    int MaxDeletions,
    IReadOnlyList<string> WouldDelete);
