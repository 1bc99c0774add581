using System.Text.Json.Nodes;

namespace Commissable.LocalCloud.Instances;

/// <summary>What the local cloud keeps of an instance in <c>instances/&lt;name&gt;/instance.json</c>.</summary>
internal sealed class InstanceRecord
{
    public required string Name { get; init; }
    public required string Project { get; init; }
    /// <summary>The resource as clients set it (fields with no local meaning kept as sent), without computed fields and never with a password.</summary>
    public required JsonObject Resource { get; set; }
    /// <summary>The instance's own loopback address; it listens on port 5432 there.</summary>
    public required string Address { get; init; }
    public required string State { get; set; }
    public required DateTimeOffset CreateTime { get; init; }
    /// <summary>When automated backups were last switched on; no automated backup is due for a window before it.</summary>
    public DateTimeOffset? BackupsEnabledAt { get; set; }
    /// <summary>
    /// When the current unbroken stretch of WAL archiving began (null: PITR off). Base backups
    /// from an earlier stretch cannot be rolled forward past the gap, so they do not count.
    /// </summary>
    public DateTimeOffset? ArchivingSince { get; set; }
    public long SettingsVersion { get; set; } = 1;

    public string Region => (string?)Resource["region"] ?? "us-central1";
    public string ConnectionName => $"{Project}:{Region}:{Name}";

    public JsonObject BackupConfiguration =>
        Resource["settings"]?["backupConfiguration"] as JsonObject ?? new JsonObject();

    public bool BackupsEnabled => (bool?)BackupConfiguration["enabled"] ?? false;
    public bool PitrEnabled => (bool?)BackupConfiguration["pointInTimeRecoveryEnabled"] ?? false;
    /// <summary>Daily backup window start, HH:MM UTC (Cloud SQL's default is set at create; 00:00 here when absent).</summary>
    public string BackupStartTime => (string?)BackupConfiguration["startTime"] ?? "00:00";
    public int RetainedBackups => (int?)BackupConfiguration["backupRetentionSettings"]?["retainedBackups"] ?? 7;
    public int TransactionLogRetentionDays => (int?)BackupConfiguration["transactionLogRetentionDays"] ?? 7;
    public IReadOnlyDictionary<string, string> Labels =>
        (Resource["settings"]?["userLabels"] as JsonObject)?.ToDictionary(p => p.Key, p => (string?)p.Value ?? "") ?? new Dictionary<string, string>();

    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["project"] = Project,
        ["resource"] = Resource.DeepClone(),
        ["address"] = Address,
        ["state"] = State,
        ["createTime"] = CreateTime,
        ["backupsEnabledAt"] = BackupsEnabledAt,
        ["archivingSince"] = ArchivingSince,
        ["settingsVersion"] = SettingsVersion,
    };

    public static InstanceRecord FromJson(JsonObject json) => new()
    {
        Name = (string)json["name"]!,
        Project = (string)json["project"]!,
        Resource = json["resource"]!.DeepClone().AsObject(),
        Address = (string)json["address"]!,
        State = (string)json["state"]!,
        CreateTime = json["createTime"]!.GetValue<DateTimeOffset>(),
        BackupsEnabledAt = json["backupsEnabledAt"]?.GetValue<DateTimeOffset>(),
        ArchivingSince = json["archivingSince"]?.GetValue<DateTimeOffset>(),
        SettingsVersion = (long?)json["settingsVersion"] ?? 1,
    };
}
