using System.Text.Json;
using System.Text.Json.Serialization;

namespace Commissable.Backup.Core.CloudSql;

// Typed subset of the Cloud SQL Admin API v1beta4 resources (contracts/sqladmin.v1beta4.json).
// Property names follow the discovery document; fields the project does not use are carried in
// ExtensionData so a read-modify-write never drops them. Int64 fields are strings on the wire.

/// <summary>A Cloud SQL instance (schema <c>DatabaseInstance</c>).</summary>
public sealed record DatabaseInstance
{
    public string? Kind { get; init; }
    public string? Name { get; init; }
    public string? Project { get; init; }
    public string? DatabaseVersion { get; init; }
    public string? Region { get; init; }
    /// <summary>RUNNABLE, PENDING_CREATE, MAINTENANCE, FAILED, SUSPENDED, STOPPED, ...</summary>
    public string? State { get; init; }
    public string? ConnectionName { get; init; }
    public string? SelfLink { get; init; }
    public string? RootPassword { get; init; }
    public string? InstanceType { get; init; }
    public string? BackendType { get; init; }
    public string? CreateTime { get; init; }
    public IReadOnlyList<IpMapping>? IpAddresses { get; init; }
    public Settings? Settings { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; init; }
}

/// <summary>Instance settings (schema <c>Settings</c>).</summary>
public sealed record Settings
{
    public string? Tier { get; init; }
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)]
    public long? SettingsVersion { get; init; }
    public BackupConfiguration? BackupConfiguration { get; init; }
    public IReadOnlyDictionary<string, string>? UserLabels { get; init; }
    public string? ActivationPolicy { get; init; }
    /// <summary>The instance's database flags (schema <c>DatabaseFlags</c>): server settings such as <c>timezone</c>.</summary>
    public IReadOnlyList<DatabaseFlag>? DatabaseFlags { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; init; }

    /// <summary>
    /// The server's default TimeZone: the <c>timezone</c> flag, or UTC, Cloud SQL's default. It is
    /// the session TimeZone of an export's pg_dump, so it decides how the dump prints a <c>timestamptz</c>.
    /// </summary>
    [JsonIgnore]
    public string TimeZone => DatabaseFlags?.FirstOrDefault(f => string.Equals(f.Name, "timezone", StringComparison.OrdinalIgnoreCase))?.Value is { Length: > 0 } zone
        ? zone
        : "UTC";
}

/// <summary>One database flag (schema <c>DatabaseFlags</c>).</summary>
public sealed record DatabaseFlag
{
    public string? Name { get; init; }
    public string? Value { get; init; }
}

/// <summary>Automated backup and PITR settings (schema <c>BackupConfiguration</c>).</summary>
public sealed record BackupConfiguration
{
    public bool? Enabled { get; init; }
    /// <summary>Start of the daily backup window, <c>HH:MM</c> in UTC.</summary>
    public string? StartTime { get; init; }
    public bool? PointInTimeRecoveryEnabled { get; init; }
    public int? TransactionLogRetentionDays { get; init; }
    public BackupRetentionSettings? BackupRetentionSettings { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; init; }
}

public sealed record BackupRetentionSettings
{
    public int? RetainedBackups { get; init; }
    /// <summary>COUNT is the only unit Cloud SQL supports.</summary>
    public string? RetentionUnit { get; init; }
}

public sealed record IpMapping
{
    public string? IpAddress { get; init; }
    /// <summary>PRIMARY, OUTGOING or PRIVATE.</summary>
    public string? Type { get; init; }
}

public sealed record Database
{
    public string? Kind { get; init; }
    public string? Name { get; init; }
    public string? Instance { get; init; }
    public string? Project { get; init; }
    public string? Charset { get; init; }
    public string? Collation { get; init; }
    public string? SelfLink { get; init; }
    public string? Etag { get; init; }
}

public sealed record User
{
    public string? Kind { get; init; }
    public string? Name { get; init; }
    public string? Instance { get; init; }
    public string? Project { get; init; }
    public string? Host { get; init; }
    /// <summary>Write-only: sent on insert/update, never returned.</summary>
    public string? Password { get; init; }
    /// <summary>BUILT_IN, CLOUD_IAM_USER, ...</summary>
    public string? Type { get; init; }
    public string? Etag { get; init; }

    /// <summary>The record's text (in a log line or an assertion message) never holds the password, only whether one is set.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Kind = ").Append(Kind).Append(", Name = ").Append(Name).Append(", Instance = ").Append(Instance)
            .Append(", Project = ").Append(Project).Append(", Host = ").Append(Host)
            .Append(", Password = ").Append(Password is null ? "" : "(set)")
            .Append(", Type = ").Append(Type).Append(", Etag = ").Append(Etag);
        return true;
    }
}

/// <summary>A backup run (schema <c>BackupRun</c>).</summary>
public sealed record BackupRun
{
    public string? Kind { get; init; }
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)]
    public long? Id { get; init; }
    public string? Instance { get; init; }
    /// <summary>ENQUEUED, RUNNING, SUCCESSFUL, FAILED, DELETION_PENDING, DELETED, ...</summary>
    public string? Status { get; init; }
    /// <summary>AUTOMATED or ON_DEMAND.</summary>
    public string? Type { get; init; }
    public string? BackupKind { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset? EnqueuedTime { get; init; }
    public DateTimeOffset? WindowStartTime { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public OperationError? Error { get; init; }
    public string? DatabaseVersion { get; init; }
    public string? Location { get; init; }
    public string? SelfLink { get; init; }
}

/// <summary>A long-running admin operation (schema <c>Operation</c>).</summary>
public sealed record Operation
{
    public string? Kind { get; init; }
    public string? Name { get; init; }
    /// <summary>PENDING, RUNNING or DONE.</summary>
    public string? Status { get; init; }
    public string? OperationType { get; init; }
    public string? TargetId { get; init; }
    public string? TargetLink { get; init; }
    public string? TargetProject { get; init; }
    public string? User { get; init; }
    public string? SelfLink { get; init; }
    public DateTimeOffset? InsertTime { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public OperationErrors? Error { get; init; }
    public ExportContext? ExportContext { get; init; }
    public ImportContext? ImportContext { get; init; }
    public BackupContext? BackupContext { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; init; }

    [JsonIgnore] public bool IsDone => string.Equals(Status, "DONE", StringComparison.Ordinal);
}

public sealed record OperationErrors
{
    public string? Kind { get; init; }
    public IReadOnlyList<OperationError>? Errors { get; init; }
}

public sealed record OperationError
{
    public string? Kind { get; init; }
    public string? Code { get; init; }
    public string? Message { get; init; }
}

public sealed record BackupContext
{
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)]
    public long? BackupId { get; init; }
    public string? Kind { get; init; }
}

public sealed record ExportContext
{
    public string? Kind { get; init; }
    /// <summary><c>gs://bucket/path</c>; a <c>.gz</c> suffix compresses.</summary>
    public string? Uri { get; init; }
    public IReadOnlyList<string>? Databases { get; init; }
    /// <summary>SQL, CSV or BAK; PostgreSQL supports SQL and CSV.</summary>
    public string? FileType { get; init; }
    public bool? Offload { get; init; }
    public SqlExportOptions? SqlExportOptions { get; init; }
}

public sealed record SqlExportOptions
{
    public IReadOnlyList<string>? Tables { get; init; }
    public bool? SchemaOnly { get; init; }
    /// <summary>Parallel export writes pg_dump directory format.</summary>
    public bool? Parallel { get; init; }
    public int? Threads { get; init; }
    public PostgresExportOptions? PostgresExportOptions { get; init; }
}

public sealed record PostgresExportOptions
{
    public bool? Clean { get; init; }
    public bool? IfExists { get; init; }
}

public sealed record ImportContext
{
    public string? Kind { get; init; }
    public string? Uri { get; init; }
    public string? Database { get; init; }
    public string? FileType { get; init; }
    public string? ImportUser { get; init; }
    public SqlImportOptions? SqlImportOptions { get; init; }
}

public sealed record SqlImportOptions
{
    public bool? Parallel { get; init; }
    public int? Threads { get; init; }
    public PostgresImportOptions? PostgresImportOptions { get; init; }
}

public sealed record PostgresImportOptions
{
    public bool? Clean { get; init; }
    public bool? IfExists { get; init; }
}

public sealed record CloneContext
{
    public string? Kind { get; init; }
    public string? DestinationInstanceName { get; init; }
    /// <summary>Point in time to recover to (RFC 3339); requires PITR on the source.</summary>
    public DateTimeOffset? PointInTime { get; init; }
    public IReadOnlyList<string>? DatabaseNames { get; init; }
}

public sealed record RestoreBackupContext
{
    public string? Kind { get; init; }
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)]
    public long? BackupRunId { get; init; }
    /// <summary>The instance the backup run belongs to; defaults to the target.</summary>
    public string? InstanceId { get; init; }
    public string? Project { get; init; }
}

public sealed record InstancesExportRequest(ExportContext ExportContext);
public sealed record InstancesImportRequest(ImportContext ImportContext);
public sealed record InstancesCloneRequest(CloneContext CloneContext);
public sealed record InstancesRestoreBackupRequest(RestoreBackupContext RestoreBackupContext);

public sealed record ListResponse<T>
{
    public string? Kind { get; init; }
    public IReadOnlyList<T>? Items { get; init; }
    public string? NextPageToken { get; init; }
}
