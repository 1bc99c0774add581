namespace Commissable.Backup.Core.Backups;

/// <summary>
/// What the catalog knows of one complete backup. Written once, create-only, after the dump is
/// complete and checked: its presence is what makes an object a backup.
/// </summary>
public sealed record BackupManifest
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;
    /// <summary><c>gs://bucket/name</c> of the dump; for a dump kept on an operator's machine, its <c>file://</c> URI.</summary>
    public required string Uri { get; init; }
    /// <summary>pre-deploy-export, scheduled-export, automated-backup-run, on-demand-backup-run, or operator-dump (<c>commissable-backup dump</c>).</summary>
    public required string Kind { get; init; }
    public required string Environment { get; init; }
    public required string SourceInstance { get; init; }
    public IReadOnlyList<string> Databases { get; init; } = [];
    /// <summary>For example POSTGRES_15.</summary>
    public string? DatabaseVersion { get; init; }
    /// <summary>SQL, SQL_GZIP, DIRECTORY, CUSTOM, or BASE_BACKUP for backup runs.</summary>
    public string? Format { get; init; }
    public BackupTrigger Trigger { get; init; } = new();
    public required DateTimeOffset StartTime { get; init; }
    public required DateTimeOffset EndTime { get; init; }
    public long? SizeBytes { get; init; }
    /// <summary>Base64 MD5 and CRC32C as Cloud Storage reports them, checked before the manifest is written.</summary>
    public string? Md5Hash { get; init; }
    public string? Crc32c { get; init; }
    public long? Generation { get; init; }
    /// <summary>The Cloud SQL operation that produced the backup.</summary>
    public string? OperationName { get; init; }
    /// <summary>The Cloud SQL backup run id, for backup runs.</summary>
    public long? BackupRunId { get; init; }
    /// <summary>
    /// What the source database held just before the export, read from the live database; only in
    /// manifests written before content manifests existed (<see cref="Content"/> replaces it).
    /// </summary>
    public DatabaseSnapshot? Snapshot { get; init; }

    /// <summary>
    /// What the backup object itself holds, read from its bytes (<see cref="BackupContent"/>): what a
    /// restore is compared with. Null for backup runs, and for manifests written before it existed
    /// (restore verification then reads it from the object first).
    /// </summary>
    public BackupContent? Content { get; init; }

    /// <summary>
    /// For a masked copy made by <c>commissable-backup sanitize</c>: what it was made from and how
    /// it was masked. Null for every other backup.
    /// </summary>
    public SanitizedCopy? Sanitized { get; init; }
}

/// <summary>How a masked copy for developers was made. Never holds the key or a value of the source.</summary>
public sealed record SanitizedCopy
{
    /// <summary>The backup it was made from, as the operator named it: a <c>gs://</c> URI or a file's full path.</summary>
    public required string Source { get; init; }

    /// <summary>Every masking rule applied, by column (<c>table.column</c>, or <c>schema.table.column</c> outside public), as its kind: <c>keep</c>, <c>null</c>, <c>fixed</c>, <c>email</c>, <c>name</c>, <c>phone</c>, <c>text</c>, <c>number</c>.</summary>
    public IReadOnlyDictionary<string, string> Rules { get; init; } = new Dictionary<string, string>();

    /// <summary>How pseudonyms were made: <c>hmac-sha256</c> under a key only the operator holds.</summary>
    public string Pseudonyms { get; init; } = "hmac-sha256";

    /// <summary>The tenants kept (their closure), when the copy was limited to some; null when every tenant was kept.</summary>
    public IReadOnlyList<string>? Tenants { get; init; }

    /// <summary>The tenant column the tenants were selected by, with <see cref="Tenants"/>.</summary>
    public string? TenantColumn { get; init; }

    /// <summary>Large objects of the source left out (their bytes cannot be masked).</summary>
    public long LargeObjectsLeftOut { get; init; }
}

/// <summary>Who and what asked for the backup. No secret ever goes here.</summary>
public sealed record BackupTrigger
{
    public string? Change { get; init; }
    public string? CommitSha { get; init; }
    public string? PipelineRunId { get; init; }
    public string? RequestedBy { get; init; }
    public string? IdempotencyKey { get; init; }
}

/// <summary>
/// The source database as read just before the export, in manifests written before content manifests
/// (<see cref="BackupContent"/>); kept so those manifests still read. Nothing compares with it any more.
/// </summary>
public sealed record DatabaseSnapshot
{
    public string? MigrationHead { get; init; }
    public int AppliedMigrations { get; init; }
    public IReadOnlyDictionary<string, long> RowCounts { get; init; } = new Dictionary<string, long>();
    public IReadOnlyList<string> TenantIds { get; init; } = [];
    public int TenantCount => TenantIds.Count;
    public string? SchemaFingerprint { get; init; }

}

/// <summary>A sequence's position as <c>setval(name, LastValue, IsCalled)</c> sets it.</summary>
/// <param name="LastValue">The sequence's <c>last_value</c>.</param>
/// <param name="IsCalled">False when the next <c>nextval</c> returns <paramref name="LastValue"/> itself.</param>
public sealed record RecordedSequence(long LastValue, bool IsCalled);

/// <summary>One restore test of one backup: immutable, one object per run, beside the manifest.</summary>
public sealed record VerificationRecord
{
    public required string Id { get; init; }
    public required string BackupUri { get; init; }
    public required string VerificationInstance { get; init; }
    /// <summary>
    /// <c>live</c> when a live database was checked in place against this backup's manifest (a
    /// disaster-recovery restore, a staging clone); null for a restore into a scratch database.
    /// </summary>
    public string? Mode { get; init; }
    /// <summary>In <c>live</c> mode, the database of <see cref="VerificationInstance"/> that was checked.</summary>
    public string? Database { get; init; }
    public required bool Passed { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public required DateTimeOffset EndTime { get; init; }
    /// <summary>Each stage (import, checks, cleanup) with its duration in milliseconds.</summary>
    public IReadOnlyList<StageTiming> Stages { get; init; } = [];
    public IReadOnlyList<CheckResult> Checks { get; init; } = [];
    public string? Failure { get; init; }
    /// <summary>
    /// Live mode with <c>evidence</c>: the restored database against the newest backup before the
    /// point in time and against production now (counts only); null otherwise.
    /// </summary>
    public RecoveryEvidence? Evidence { get; init; }
}

public sealed record StageTiming(string Stage, long DurationMs, bool Succeeded);

/// <summary>A named check and why it passed or failed, in words an operator can act on.</summary>
public sealed record CheckResult(string Name, bool Passed, string Detail);
