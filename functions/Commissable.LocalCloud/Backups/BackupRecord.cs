using System.Text.Json.Nodes;

namespace Commissable.LocalCloud.Backups;

/// <summary>A base backup of an instance, kept in <c>instances/&lt;name&gt;/backups/&lt;id&gt;/</c> as <c>backup.json</c> and <c>base/</c>.</summary>
internal sealed class BackupRecord
{
    public required long Id { get; init; }
    public required string Instance { get; init; }
    /// <summary>AUTOMATED or ON_DEMAND.</summary>
    public required string Type { get; init; }
    public required string Status { get; set; }
    public string? Description { get; init; }
    public required DateTimeOffset EnqueuedTime { get; init; }
    public DateTimeOffset? WindowStartTime { get; init; }
    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    public string? Error { get; set; }
    /// <summary>The archiving stretch the backup was taken in; PITR rolls forward only within one.</summary>
    public DateTimeOffset? ArchivingSince { get; init; }
    public required string DatabaseVersion { get; init; }

    public JsonObject ToApi(string project, string baseUrl)
    {
        var json = new JsonObject
        {
            ["kind"] = "sql#backupRun",
            ["id"] = Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["instance"] = Instance,
            ["status"] = Status,
            ["type"] = Type,
            ["backupKind"] = "SNAPSHOT",
            ["enqueuedTime"] = Operations.OperationManager.Timestamp(EnqueuedTime),
            ["databaseVersion"] = DatabaseVersion,
            ["location"] = "us",
            ["selfLink"] = $"{baseUrl}sql/v1beta4/projects/{project}/instances/{Instance}/backupRuns/{Id}",
        };
        if (Description is not null) json["description"] = Description;
        if (WindowStartTime is { } window) json["windowStartTime"] = Operations.OperationManager.Timestamp(window);
        if (StartTime is { } start) json["startTime"] = Operations.OperationManager.Timestamp(start);
        if (EndTime is { } end) json["endTime"] = Operations.OperationManager.Timestamp(end);
        if (Error is not null)
        {
            json["error"] = new JsonObject { ["kind"] = "sql#operationError", ["code"] = "INTERNAL_ERROR", ["message"] = Error };
        }
        return json;
    }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["instance"] = Instance,
        ["type"] = Type,
        ["status"] = Status,
        ["description"] = Description,
        ["enqueuedTime"] = EnqueuedTime,
        ["windowStartTime"] = WindowStartTime,
        ["startTime"] = StartTime,
        ["endTime"] = EndTime,
        ["error"] = Error,
        ["archivingSince"] = ArchivingSince,
        ["databaseVersion"] = DatabaseVersion,
    };

    public static BackupRecord FromJson(JsonObject json) => new()
    {
        Id = (long)json["id"]!,
        Instance = (string)json["instance"]!,
        Type = (string)json["type"]!,
        Status = (string)json["status"]!,
        Description = (string?)json["description"],
        EnqueuedTime = json["enqueuedTime"]!.GetValue<DateTimeOffset>(),
        WindowStartTime = json["windowStartTime"]?.GetValue<DateTimeOffset>(),
        StartTime = json["startTime"]?.GetValue<DateTimeOffset>(),
        EndTime = json["endTime"]?.GetValue<DateTimeOffset>(),
        Error = (string?)json["error"],
        ArchivingSince = json["archivingSince"]?.GetValue<DateTimeOffset>(),
        DatabaseVersion = (string)json["databaseVersion"]!,
    };
}
