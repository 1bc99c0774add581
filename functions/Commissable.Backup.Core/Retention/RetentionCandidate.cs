namespace Commissable.Backup.Core.Retention;

/// <summary>What produced a backup; it decides which retention rule applies.</summary>
public enum BackupKind
{
    /// <summary>Not known: no manifest says (an orphaned dump, an object that is not a backup) or a kind this version does not know. Never deleted as a backup.</summary>
    Unknown,
    /// <summary>A logical export taken before a risky change (<c>..._before_&lt;change&gt;</c>), by the pre-deploy function or an operator's <c>dump</c>.</summary>
    PreDeployExport,
    /// <summary>A logical export taken on a schedule.</summary>
    ScheduledExport,
    /// <summary>An on-demand Cloud SQL backup run the project asked for.</summary>
    OnDemandBackupRun,
    /// <summary>An automated Cloud SQL backup run: Cloud SQL retires it; the sweeper never deletes it.</summary>
    AutomatedBackupRun,
}

/// <summary>Reads the kind a manifest records (<see cref="Backups.BackupManifest.Kind"/>).</summary>
public static class BackupKinds
{
    public const string PreDeployExport = "pre-deploy-export";
    public const string ScheduledExport = "scheduled-export";
    public const string OnDemandBackupRun = "on-demand-backup-run";
    public const string AutomatedBackupRun = "automated-backup-run";

    /// <summary>
    /// A custom-format dump an operator took before a change (<c>commissable-backup dump --change</c>,
    /// strategy 5.2) and uploaded: named <c>..._before_&lt;change&gt;.dump</c>, kept as a pre-deploy export is.
    /// </summary>
    public const string OperatorDump = "operator-dump";

    /// <summary>The kind for a manifest's kind string; <see cref="BackupKind.Unknown"/> for null or anything else.</summary>
    public static BackupKind Parse(string? manifestKind) => manifestKind switch
    {
        PreDeployExport or OperatorDump => BackupKind.PreDeployExport,
        ScheduledExport => BackupKind.ScheduledExport,
        OnDemandBackupRun => BackupKind.OnDemandBackupRun,
        AutomatedBackupRun => BackupKind.AutomatedBackupRun,
        _ => BackupKind.Unknown,
    };

    internal static bool IsBackupRun(this BackupKind kind) => kind is BackupKind.OnDemandBackupRun or BackupKind.AutomatedBackupRun;
}

/// <summary>The outcome of the newest restore test of a backup.</summary>
public sealed record VerificationOutcome(bool Passed, DateTimeOffset At);

/// <summary>
/// One entry of the catalog as the retention planner sees it: a backup name and what is stored
/// for it, or an object under the prefix that is not named as a backup. The environment and
/// instance are read from the name (<c>&lt;prefix&gt;/&lt;env&gt;/&lt;instance&gt;/backup_...</c>), the
/// one thing every object of a backup agrees on.
/// </summary>
public sealed record RetentionCandidate
{
    /// <summary>The backup's name (the dump's object name, or the "directory" of a directory-format export), or the object's name when it is not a backup.</summary>
    public required string Name { get; init; }

    public BackupKind Kind { get; init; }

    /// <summary>When the backup was started (the manifest's start time; for an orphan, its object's time).</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>The manifest <c>&lt;Name&gt;.manifest.json</c> exists: the backup is complete.</summary>
    public bool HasManifest { get; init; }

    /// <summary>The dump's objects: the name itself, or the objects under <c>&lt;Name&gt;/</c> of a directory-format export. Empty for backup runs and for a manifest whose dump is gone.</summary>
    public IReadOnlyList<string> DumpObjects { get; init; } = [];

    /// <summary>For backup runs: the Cloud SQL backup run id; null when the run is not known to exist.</summary>
    public long? BackupRunId { get; init; }

    /// <summary>At least one hold is placed: never deleted.</summary>
    public bool OnHold { get; init; }

    /// <summary>The newest restore test, or null when never verified.</summary>
    public VerificationOutcome? LastVerification { get; init; }

    /// <summary>
    /// A dump without manifest that the export which claimed its name abandoned (its process died,
    /// it failed, or a retry took another name): it will never get a manifest, so it is reported as
    /// an orphan however young it is (and still kept while younger than the minimum age).
    /// </summary>
    public bool Abandoned { get; init; }

    /// <summary>The verification record objects under <c>&lt;Name&gt;.verifications/</c>.</summary>
    public IReadOnlyList<string> VerificationObjects { get; init; } = [];

    /// <summary>The backup's data exists: the dump objects of an export, the run of a backup run.</summary>
    public bool HasData => Kind.IsBackupRun() ? BackupRunId is not null : DumpObjects.Count > 0;

    /// <summary>Complete and restorable as far as the catalog knows: manifest and data both exist.</summary>
    public bool IsComplete => HasManifest && HasData;
}
