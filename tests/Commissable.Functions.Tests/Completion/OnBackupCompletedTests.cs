using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Completion;
using Commissable.Functions.Tests.Hosting;

namespace Commissable.Functions.Tests.Completion;

/// <summary>on-backup-completed and on-backup-audited through the real host, against the local cloud and the local bucket.</summary>
public sealed class OnBackupCompletedTests(CompletionEnvironment env) : IClassFixture<CompletionEnvironment>
{
    private const string Prefix = "backups";
    private static int _minutes;

    [Fact]
    public async Task A_finalized_scheduled_export_is_recorded_once_with_the_objects_size_checksums_and_times()
    {
        var name = NewName();
        var stored = await WriteObjectAsync(name);

        var status = await SendStorageAsync(ObjectData(stored));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, await CountManifestsAsync(name));
        var manifest = await ManifestAsync(name);
        Assert.Equal("scheduled-export", manifest.Kind);
        Assert.Equal($"gs://{CompletionEnvironment.Bucket}/{name}", manifest.Uri);
        Assert.Equal("prod", manifest.SourceInstance);
        Assert.Equal("SQL_GZIP", manifest.Format);
        Assert.Equal(stored.Size, manifest.SizeBytes);
        Assert.Equal(stored.Md5Hash, manifest.Md5Hash);
        Assert.Equal(stored.Crc32c, manifest.Crc32c);
        Assert.Equal(stored.Generation, manifest.Generation);
        Assert.Equal(stored.Updated, manifest.EndTime);
        AssertHoldsTheSource(manifest);

        var line = Assert.Single(CompletedLines(manifest.Uri));
        Assert.Equal("NOTICE", line.GetProperty("severity").GetString());
        Assert.True(line.GetProperty("newlyRecorded").GetBoolean());
        Assert.Equal("succeeded", line.GetProperty("outcome").GetString());
        Assert.Equal("prod", line.GetProperty("instance").GetString());
        Assert.Equal("scheduled-export", line.GetProperty("kind").GetString());
        Assert.True(line.TryGetProperty("startTime", out _));
        Assert.True(line.TryGetProperty("endTime", out _));
    }

    [Fact]
    public async Task The_same_event_twice_leaves_one_manifest_and_the_second_says_already_known()
    {
        var name = NewName();
        var data = ObjectData(await WriteObjectAsync(name));

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(data));
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(data));

        Assert.Equal(1, await CountManifestsAsync(name));
        var lines = CompletedLines($"gs://{CompletionEnvironment.Bucket}/{name}");
        Assert.Equal(2, lines.Count);
        Assert.True(lines[0].GetProperty("newlyRecorded").GetBoolean());
        Assert.False(lines[1].GetProperty("newlyRecorded").GetBoolean());
        Assert.Equal("INFO", lines[1].GetProperty("severity").GetString());
    }

    [Fact]
    public async Task The_audit_twin_before_the_storage_event_leaves_one_manifest_from_the_export()
    {
        var name = NewName();
        var data = ObjectData(await WriteObjectAsync(name));
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(ExportEntry(uri, "op-before")));
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(data));

        Assert.Equal(1, await CountManifestsAsync(name));
        var manifest = await ManifestAsync(name);
        Assert.Equal("op-before", manifest.OperationName);
        Assert.Equal(["crm"], manifest.Databases);
        Assert.Equal(DateTimeOffset.Parse("2026-11-25T02:00:05Z", CultureInfo.InvariantCulture), manifest.StartTime);
        AssertHoldsTheSource(manifest);
        Assert.Equal([true, false], CompletedLines(uri).Select(l => l.GetProperty("newlyRecorded").GetBoolean()));
    }

    [Fact]
    public async Task The_audit_twin_after_the_storage_event_leaves_one_manifest_and_says_already_known()
    {
        var name = NewName();
        var data = ObjectData(await WriteObjectAsync(name));
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(data));
        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(ExportEntry(uri, "op-after")));

        Assert.Equal(1, await CountManifestsAsync(name));
        Assert.Null((await ManifestAsync(name)).OperationName);
        Assert.Equal([true, false], CompletedLines(uri).Select(l => l.GetProperty("newlyRecorded").GetBoolean()));
    }

    [Theory]
    [InlineData("elsewhere/prod/prod/backup_20261125_0200_prod_scheduled.sql.gz", "outside the backup prefix")]
    [InlineData("backups/prod/prod/backup_20261125_0200_prod_scheduled.sql.gz.manifest.json", "catalog side object")]
    [InlineData("backups/prod/prod/backup_20261125_0200_prod_scheduled.sql.gz.verifications/20261125T030000Z-1.json", "catalog side object")]
    [InlineData("backups/prod/prod/backup_20261125_0200_prod_scheduled.sql.gz.holds/abc.json", "catalog side object")]
    [InlineData("backups/.requests/0123456789abcdef0123456789abcdef.json", "catalog side object")]
    [InlineData("backups/.leases/prod.json", "catalog side object")]
    [InlineData("backups/prod/prod/backup_20261125_0200_prod_before_add-index.sql.gz", "pre-deploy export")]
    [InlineData("backups/prod/prod/notes.txt", "not named as a backup")]
    public async Task An_object_that_is_not_a_scheduled_backup_is_acknowledged_and_nothing_is_recorded(string objectName, string reason)
    {
        await WriteObjectAsync(objectName, ifAbsent: true);
        var before = await CountManifestsAsync(Prefix + "/");

        var status = await SendStorageAsync(ObjectData(objectName));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(before, await CountManifestsAsync(Prefix + "/"));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"),
            l => l.GetProperty("subject").GetString() == objectName && l.GetProperty("reason").GetString()!.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_object_in_another_bucket_is_acknowledged_and_nothing_is_recorded()
    {
        var name = NewName();
        var status = await SendStorageAsync(ObjectData(name, bucket: "someone-elses-bucket"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"), l => l.GetProperty("subject").GetString() == name);
    }

    [Fact]
    public async Task A_storage_event_of_another_type_is_acknowledged_and_ignored()
    {
        var name = NewName();
        var data = ObjectData(await WriteObjectAsync(name));

        var status = await SendStorageAsync(data, type: "google.cloud.storage.object.v1.deleted");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"),
            l => l.GetProperty("subject").GetString() == name && l.GetProperty("reason").GetString()!.Contains("is not google.cloud.storage.object.v1.finalized", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_directory_format_export_is_recorded_as_the_directory_when_its_toc_arrives()
    {
        var name = NewName(extension: "");
        var files = await WriteDirectoryAsync(name);
        var data = files[0];
        var toc = files[^1];
        Assert.EndsWith("/toc.dat", toc.Name, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(data)));
        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(toc)));

        var manifest = await ManifestAsync(name);
        Assert.Equal($"gs://{CompletionEnvironment.Bucket}/{name}", manifest.Uri);
        Assert.Equal("DIRECTORY", manifest.Format);
        Assert.Equal(files.Sum(f => f.Size), manifest.SizeBytes);
        AssertHoldsTheSource(manifest);
    }

    [Fact]
    public async Task A_failed_export_logs_backup_failed_at_error_and_records_nothing()
    {
        var name = NewName();
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";

        var status = await SendAuditAsync(ExportEntry(uri, "op-failed", failed: true));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, await CountManifestsAsync(name));
        var line = Assert.Single(env.Logs.WithEvent("backup.failed"), l => l.GetProperty("backupUri").GetString() == uri);
        Assert.Equal("ERROR", line.GetProperty("severity").GetString());
        Assert.Equal("failed", line.GetProperty("outcome").GetString());
        Assert.Equal("prod", line.GetProperty("instance").GetString());
        Assert.Equal("2026-11-25T02:00:05.0000000Z", line.GetProperty("startTime").GetString());
        Assert.Equal("2026-11-25T02:03:00.0000000Z", line.GetProperty("endTime").GetString());
        Assert.Contains("pg_dump exited with 1", line.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(line.GetProperty("newlyRecorded").GetBoolean());
    }

    [Fact]
    public async Task An_audit_entry_before_the_operations_last_is_acknowledged_and_ignored()
    {
        var name = NewName();
        await WriteObjectAsync(name);
        var entry = ExportEntry($"gs://{CompletionEnvironment.Bucket}/{name}", "op-first");
        entry["operation"] = new JsonObject { ["id"] = "op-first", ["producer"] = "cloudsql.googleapis.com", ["first"] = true };

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));
        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"), l => l.GetProperty("reason").GetString()!.Contains("op-first", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_audit_entry_of_another_method_is_acknowledged_and_ignored()
    {
        var entry = ExportEntry($"gs://{CompletionEnvironment.Bucket}/{NewName()}", "op-restart");
        entry["protoPayload"]!["methodName"] = "cloudsql.instances.restart";

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"), l => l.GetProperty("subject").GetString() == "cloudsql.instances.restart");
    }

    [Fact]
    public async Task A_finished_on_demand_backup_run_is_recorded_with_the_runs_times_read_from_cloud_sql()
    {
        var operation = await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/backupRuns"), """{"description":"before the import"}""");
        var id = (string)operation["backupContext"]!["backupId"]!;
        var (_, run) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api($"instances/prod/backupRuns/{id}"));
        Assert.Equal("SUCCESSFUL", (string?)run["status"]);
        var start = DateTimeOffset.Parse((string)run["startTime"]!, CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse((string)run["endTime"]!, CultureInfo.InvariantCulture);

        var entry = AuditEntries.BackupRun((string)operation["name"]!, id);
        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));
        // The twin entry names only the operation: the run is found through it.
        var onlyOperation = AuditEntries.BackupRun((string)operation["name"]!, id);
        onlyOperation["protoPayload"]!["response"]!.AsObject().Remove("backupContext");
        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(onlyOperation));

        var name = string.Create(CultureInfo.InvariantCulture, $"{Prefix}/prod/prod/backup_{start.UtcDateTime:yyyyMMdd_HHmm}_prod_on-demand-run-{id}");
        Assert.Equal(1, await CountManifestsAsync(name));
        var manifest = await ManifestAsync(name);
        Assert.Equal("on-demand-backup-run", manifest.Kind);
        Assert.Equal(long.Parse(id, CultureInfo.InvariantCulture), manifest.BackupRunId);
        Assert.Equal((string?)run["selfLink"], manifest.Uri);
        Assert.Equal(start, manifest.StartTime);
        Assert.Equal(end, manifest.EndTime);
        Assert.Equal("BASE_BACKUP", manifest.Format);
        Assert.Equal((string)operation["name"]!, manifest.OperationName);
        Assert.Equal([true, false], CompletedLines(manifest.Uri).Select(l => l.GetProperty("newlyRecorded").GetBoolean()));
    }

    [Fact]
    public async Task A_finished_automated_backup_run_is_recorded_as_an_automated_run()
    {
        var operation = await env.Cloud.RunAsync(HttpMethod.Post, $"localcloud/v1/projects/{env.Cloud.Project}/instances/prod/automatedBackup");
        var id = (string)operation["backupContext"]!["backupId"]!;
        var (_, run) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api($"instances/prod/backupRuns/{id}"));
        var start = DateTimeOffset.Parse((string)run["startTime"]!, CultureInfo.InvariantCulture);

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(AuditEntries.BackupRun((string)operation["name"]!, id)));

        var manifest = await ManifestAsync(string.Create(CultureInfo.InvariantCulture, $"{Prefix}/prod/prod/backup_{start.UtcDateTime:yyyyMMdd_HHmm}_prod_automated-run-{id}"));
        Assert.Equal("automated-backup-run", manifest.Kind);
        Assert.Equal(start, manifest.StartTime);
    }

    [Fact]
    public async Task A_failed_backup_run_logs_backup_failed_at_error_and_records_nothing()
    {
        var before = await CountManifestsAsync(Prefix + "/");
        var entry = AuditEntries.BackupRun("op-run-failed", "999999");
        entry["protoPayload"]!["status"] = new JsonObject { ["code"] = 13, ["message"] = "The backup run failed: disk full" };

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        Assert.Equal(before, await CountManifestsAsync(Prefix + "/"));
        var line = Assert.Single(env.Logs.WithEvent("backup.failed"), l => l.GetProperty("backupUri").GetString()!.EndsWith("/backupRuns/999999", StringComparison.Ordinal));
        Assert.Equal("ERROR", line.GetProperty("severity").GetString());
        Assert.Contains("disk full", line.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_finalized_event_for_an_object_the_bucket_does_not_hold_records_nothing_and_warns()
    {
        var name = NewName();

        var status = await SendStorageAsync(ObjectData(name));

        // Acknowledged: that generation will never appear, so Eventarc retrying could not help.
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Empty(CompletedLines($"gs://{CompletionEnvironment.Bucket}/{name}"));
        var line = Assert.Single(env.Logs.WithEvent("backup.event.object_missing"), l => l.GetProperty("subject").GetString() == name);
        Assert.Equal("WARNING", line.GetProperty("severity").GetString());
        Assert.Equal(1764036000000001, line.GetProperty("generation").GetInt64());
    }

    [Fact]
    public async Task An_event_with_a_wrong_size_and_checksums_delivered_first_records_what_the_bucket_holds()
    {
        var name = NewName();
        var stored = await WriteObjectAsync(name);
        var forged = JsonNode.Parse(ObjectData(stored))!.AsObject();
        forged["size"] = "3";
        forged["md5Hash"] = "AAAAAAAAAAAAAAAAAAAAAA==";
        forged["crc32c"] = "AAAAAA==";

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(forged.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(stored)));

        Assert.Equal(1, await CountManifestsAsync(name));
        var manifest = await ManifestAsync(name);
        Assert.Equal(stored.Size, manifest.SizeBytes);
        Assert.Equal(stored.Md5Hash, manifest.Md5Hash);
        Assert.Equal(stored.Crc32c, manifest.Crc32c);
        Assert.Equal(stored.Generation, manifest.Generation);
    }

    [Fact]
    public async Task An_event_naming_another_generation_records_the_generation_the_bucket_holds()
    {
        var name = NewName();
        var stored = await WriteObjectAsync(name);
        var other = JsonNode.Parse(ObjectData(stored))!.AsObject();
        other["generation"] = (stored.Generation + 7).ToString(CultureInfo.InvariantCulture);

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(other.ToJsonString()));

        var manifest = await ManifestAsync(name);
        Assert.Equal(stored.Generation, manifest.Generation);
        Assert.Equal(stored.Size, manifest.SizeBytes);
        var line = Assert.Single(env.Logs.WithEvent("backup.event.stale_generation"), l => l.GetProperty("subject").GetString() == name);
        Assert.Equal(stored.Generation + 7, line.GetProperty("eventGeneration").GetInt64());
        Assert.Equal(stored.Generation, line.GetProperty("storedGeneration").GetInt64());
    }

    [Fact]
    public async Task A_toc_event_for_a_directory_without_its_toc_records_nothing()
    {
        var name = NewName(extension: "");
        var (file, bytes) = env.DirectoryDump[0];
        Assert.NotEqual("toc.dat", file);
        await WriteObjectAsync($"{name}/{file}", bytes);

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(name + "/toc.dat")));

        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Single(env.Logs.WithEvent("backup.event.object_missing"), l => l.GetProperty("subject").GetString() == name + "/toc.dat");
    }

    [Fact]
    public async Task A_backup_run_entry_naming_an_unknown_operation_is_acknowledged_with_a_warning()
    {
        var operation = Guid.NewGuid().ToString();
        var entry = AuditEntries.BackupRun(operation, "1");
        entry["protoPayload"]!["response"]!.AsObject().Remove("backupContext");
        entry["protoPayload"]!["request"]!["body"]!.AsObject().Remove("id");

        // A 500 would make Eventarc retry the entry until it expires.
        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        var line = Assert.Single(env.Logs.WithEvent("backup.event.ignored"), l => l.GetProperty("reason").GetString()!.Contains(operation, StringComparison.Ordinal));
        Assert.Equal("WARNING", line.GetProperty("severity").GetString());
        Assert.Contains("which Cloud SQL does not know", line.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(env.Logs.WithSeverity("ERROR"), l => l.GetRawText().Contains(operation, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_backup_run_entry_carrying_a_forged_run_records_what_cloud_sql_says_of_the_run()
    {
        var operation = await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/backupRuns"), """{"description":"forged twin"}""");
        var id = (string)operation["backupContext"]!["backupId"]!;
        var (_, run) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api($"instances/prod/backupRuns/{id}"));
        var start = DateTimeOffset.Parse((string)run["startTime"]!, CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse((string)run["endTime"]!, CultureInfo.InvariantCulture);
        var forgedName = string.Create(CultureInfo.InvariantCulture, $"{Prefix}/prod/prod/backup_20200101_0000_prod_on-demand-run-{id}");
        var entry = AuditEntries.BackupRun((string)operation["name"]!, id);
        entry["protoPayload"]!["response"] = ForgedRun(id, "2020-01-01T00:00:00Z");

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        // Nothing of the entry's run is believed: the name, times and link are Cloud SQL's.
        Assert.Equal(0, await CountManifestsAsync(forgedName));
        var manifest = await ManifestAsync(string.Create(CultureInfo.InvariantCulture, $"{Prefix}/prod/prod/backup_{start.UtcDateTime:yyyyMMdd_HHmm}_prod_on-demand-run-{id}"));
        Assert.Equal((string?)run["selfLink"], manifest.Uri);
        Assert.Equal(start, manifest.StartTime);
        Assert.Equal(end, manifest.EndTime);
        Assert.Equal(long.Parse(id, CultureInfo.InvariantCulture), manifest.BackupRunId);
    }

    [Fact]
    public async Task A_backup_run_entry_carrying_a_forged_run_cloud_sql_does_not_know_records_nothing()
    {
        var before = await CountManifestsAsync(Prefix + "/");
        var id = "9" + Random.Shared.NextInt64(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);
        var entry = AuditEntries.BackupRun("op-" + Guid.NewGuid().ToString("N"), id);
        entry["protoPayload"]!["response"] = ForgedRun(id, "2020-01-01T00:00:00Z");
        entry["protoPayload"]!["request"]!["body"]!["id"] = id;

        // Acknowledged: Cloud SQL's answer will not change, so a retry could not help.
        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        Assert.Equal(before, await CountManifestsAsync(Prefix + "/"));
        Assert.Empty(CompletedLines("https://evil.example/run"));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"), l => l.GetProperty("reason").GetString()!.Contains(id, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("request.id", "abc")]
    [InlineData("request.body.id", "abc")]
    [InlineData("response.backupContext.backupId", "abc")]
    [InlineData("response.backupContext.backupId", "-5")]
    [InlineData("response.backupContext.backupId", "1.5")]
    [InlineData("response.startTime", "x")]
    public async Task A_backup_run_entry_with_a_malformed_value_is_acknowledged_and_nothing_is_recorded(string path, string value)
    {
        var before = await CountManifestsAsync(Prefix + "/");
        var operation = "op-" + Guid.NewGuid().ToString("N");
        var id = "8" + Random.Shared.NextInt64(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);
        var entry = AuditEntries.BackupRun(operation, id);
        string expected;
        if (path == "response.startTime")
        {
            // A response shaped like a run, with a start that is no time: never read, the run is looked up.
            entry["protoPayload"]!["response"] = ForgedRun(id, value);
            entry["protoPayload"]!["request"]!["body"]!["id"] = id;
            expected = $"backup run {id} of 'prod' is not known to Cloud SQL";
        }
        else
        {
            var parts = path.Split('.');
            var node = entry["protoPayload"]!;
            foreach (var part in parts[..^1]) node = node[part] ??= new JsonObject();
            node[parts[^1]] = value == "1.5" ? JsonValue.Create(1.5) : value;
            expected = $"{path} {(value == "1.5" ? value : $"\"{value}\"")} is not a backup run id";
        }

        // 200: an entry that can never be recorded must not be retried by Eventarc.
        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        Assert.Equal(before, await CountManifestsAsync(Prefix + "/"));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"), l => l.GetProperty("reason").GetString()!.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain(env.Logs.WithSeverity("ERROR"), l => l.GetRawText().Contains(operation, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_export_entry_naming_a_database_that_is_no_text_is_acknowledged_and_nothing_is_recorded()
    {
        var name = NewName();
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";
        await WriteObjectAsync(name);
        var entry = ExportEntry(uri, "op-" + Guid.NewGuid().ToString("N"));
        entry["protoPayload"]!["request"]!["body"]!["exportContext"]!["databases"] = new JsonArray(1);

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"), l => l.GetProperty("subject").GetString() == uri);
    }

    [Theory]
    [InlineData("../instances/prod")]
    [InlineData("x%2F..%2Fy")]
    public async Task A_backup_run_entry_naming_an_operation_that_is_no_name_is_acknowledged_and_nothing_is_asked(string operation)
    {
        var entry = AuditEntries.BackupRun(operation, "1");
        entry["protoPayload"]!["response"]!.AsObject().Remove("backupContext");

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"),
            l => l.GetProperty("reason").GetString()!.Contains("which is not an operation name", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("projects/test-project/instances/..")]
    [InlineData("projects/test-project/instances/prod-")]
    [InlineData("projects/../instances/prod")]
    public async Task A_backup_run_entry_for_a_resource_that_is_no_instance_is_acknowledged_and_nothing_is_recorded(string resource)
    {
        var before = await CountManifestsAsync(Prefix + "/");
        var entry = AuditEntries.BackupRun("op-" + Guid.NewGuid().ToString("N"), "12345");
        entry["protoPayload"]!["resourceName"] = resource;

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(entry));

        Assert.Equal(before, await CountManifestsAsync(Prefix + "/"));
        Assert.Contains(env.Logs.WithEvent("backup.event.ignored"),
            l => l.GetProperty("reason").GetString()!.Contains("with a valid project and instance ID", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(".sql", "SQL")]
    [InlineData(".sql.gz", "SQL_GZIP")]
    [InlineData(".dump", "CUSTOM")]
    public async Task A_finalized_export_in_each_single_object_format_is_recorded_with_the_content_read_from_its_bytes(string extension, string format)
    {
        var name = NewName(label: "format-" + format.ToLowerInvariant().Replace('_', '-'), extension: extension);
        var stored = await WriteObjectAsync(name);

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(stored)));

        var manifest = await ManifestAsync(name);
        Assert.Equal(format, manifest.Format);
        Assert.Equal(stored.Size, manifest.SizeBytes);
        AssertHoldsTheSource(manifest);
    }

    [Fact]
    public async Task One_databases_content_is_recorded_the_same_from_a_plain_gzip_custom_and_directory_export()
    {
        var names = new[] { NewName(extension: ".sql"), NewName(extension: ".sql.gz"), NewName(extension: ".dump") };
        foreach (var name in names)
        {
            Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(await WriteObjectAsync(name))));
        }
        var directory = NewName(extension: "");
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData((await WriteDirectoryAsync(directory))[^1])));

        var contents = new List<BackupContent>();
        foreach (var name in names.Append(directory))
        {
            contents.Add((await ManifestAsync(name)).Content ?? throw new Xunit.Sdk.XunitException($"{name} was recorded without content"));
        }
        var first = contents[0];
        Assert.All(contents.Skip(1), other =>
        {
            Assert.Equal(first.Tables.Keys.Order(StringComparer.Ordinal), other.Tables.Keys.Order(StringComparer.Ordinal));
            Assert.All(first.Tables, t =>
            {
                Assert.Equal((t.Key, t.Value.Rows, t.Value.Digest), (t.Key, other.Tables[t.Key].Rows, other.Tables[t.Key].Digest));
                Assert.Equal(
                    t.Value.Tenants?.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value.Rows, r.Value.Digest)),
                    other.Tables[t.Key].Tenants?.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value.Rows, r.Value.Digest)));
            });
            Assert.Equal(first.SchemaFingerprint, other.SchemaFingerprint);
            Assert.Equal(first.Sequences.OrderBy(q => q.Key, StringComparer.Ordinal), other.Sequences.OrderBy(q => q.Key, StringComparer.Ordinal));
        });
    }

    [Fact]
    public async Task A_gzip_export_cut_off_halfway_logs_backup_failed_at_error_naming_the_object_and_records_nothing()
    {
        var name = NewName();
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";
        var stored = await WriteObjectAsync(name, env.GzipDump[..(env.GzipDump.Length / 2)]);

        // Acknowledged: the object will not read differently on a retry.
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(stored)));

        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Empty(CompletedLines(uri));
        var line = Assert.Single(env.Logs.WithEvent("backup.failed"), l => l.GetProperty("backupUri").GetString() == uri);
        Assert.Equal("ERROR", line.GetProperty("severity").GetString());
        Assert.Equal("failed", line.GetProperty("outcome").GetString());
        Assert.Equal("prod", line.GetProperty("instance").GetString());
        Assert.Equal("scheduled-export", line.GetProperty("kind").GetString());
        Assert.False(line.GetProperty("newlyRecorded").GetBoolean());
        Assert.Contains(uri, line.GetProperty("message").GetString(), StringComparison.Ordinal);
        var error = line.GetProperty("error").GetString();
        Assert.Contains("not a whole, readable dump", error, StringComparison.Ordinal);
        Assert.Contains(name, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".sql", "text")]
    [InlineData(".sql", "empty")]
    [InlineData(".sql.gz", "text")]
    [InlineData(".sql.gz", "gzip of text")]
    [InlineData(".dump", "random")]
    [InlineData(".dump", "gzip of text")]
    public async Task An_object_that_is_no_dump_at_all_logs_backup_failed_at_error_and_records_nothing(string extension, string content)
    {
        var name = NewName(label: "not-a-dump", extension: extension);
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";
        var text = "Quarterly notes: call every tenant back.\nNothing here is SQL.\n"u8.ToArray();
        var bytes = content switch
        {
            "text" => text,
            "empty" => [],
            "gzip of text" => Gzip(text),
            _ => RandomBytes(4096),
        };
        var stored = await WriteObjectAsync(name, bytes);

        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(stored)));

        Assert.Equal(0, await CountManifestsAsync(name));
        Assert.Empty(CompletedLines(uri));
        var line = Assert.Single(env.Logs.WithEvent("backup.failed"), l => l.GetProperty("backupUri").GetString() == uri);
        Assert.Equal("ERROR", line.GetProperty("severity").GetString());
        Assert.Contains("not a whole, readable dump", line.GetProperty("error").GetString(), StringComparison.Ordinal);
        // Whatever the object holds stays out of the log.
        Assert.DoesNotContain("Quarterly", line.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_for_a_backup_already_recorded_reads_nothing()
    {
        var name = NewName();
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";
        var stored = await WriteObjectAsync(name);
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(stored)));
        var recorded = await ManifestAsync(name);

        // The object is replaced by bytes that are no dump: reading it again would fail loudly.
        using (var garbage = new MemoryStream(RandomBytes(512)))
        {
            stored = await env.Store.WriteAsync(name, garbage, "application/octet-stream", ifGenerationMatch: stored.Generation);
        }
        Assert.Equal(HttpStatusCode.OK, await SendStorageAsync(ObjectData(stored)));

        Assert.Equal(1, await CountManifestsAsync(name));
        Assert.Equal(recorded.Generation, (await ManifestAsync(name)).Generation);
        Assert.Equal([true, false], CompletedLines(uri).Select(l => l.GetProperty("newlyRecorded").GetBoolean()));
        Assert.DoesNotContain(env.Logs.WithEvent("backup.failed"), l => l.GetProperty("backupUri").GetString() == uri);
    }

    [Fact]
    public async Task An_audit_entry_of_a_finished_export_whose_object_is_cut_off_logs_backup_failed_and_records_nothing()
    {
        var name = NewName();
        var uri = $"gs://{CompletionEnvironment.Bucket}/{name}";
        await WriteObjectAsync(name, env.GzipDump[..(env.GzipDump.Length / 2)]);

        Assert.Equal(HttpStatusCode.OK, await SendAuditAsync(ExportEntry(uri, "op-cut-off")));

        Assert.Equal(0, await CountManifestsAsync(name));
        var line = Assert.Single(env.Logs.WithEvent("backup.failed"), l => l.GetProperty("backupUri").GetString() == uri);
        Assert.Equal("ERROR", line.GetProperty("severity").GetString());
        Assert.Contains(name, line.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static string NewName(string label = "scheduled", string extension = ".sql.gz")
    {
        var time = new DateTime(2026, 11, 25, 2, 0, 0, DateTimeKind.Utc).AddMinutes(Interlocked.Increment(ref _minutes));
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}/prod/prod/backup_{time:yyyyMMdd_HHmm}_prod_{label}{extension}");
    }

    /// <summary>
    /// Writes <paramref name="content"/>, by default a real dump of the source database in the
    /// format the name says (<c>.sql.gz</c> gzip, <c>.dump</c> custom, else plain SQL), create-only.
    /// </summary>
    private async Task<StoredObject> WriteObjectAsync(string name, byte[]? content = null, bool ifAbsent = false)
    {
        if (ifAbsent && await env.Store.GetAsync(name) is { } existing)
        {
            return existing;
        }
        content ??= name.EndsWith(".gz", StringComparison.Ordinal) ? env.GzipDump
            : name.EndsWith(".dump", StringComparison.Ordinal) ? env.CustomDump
            : env.PlainDump;
        using var stream = new MemoryStream(content, writable: false);
        return await env.Store.WriteAsync(name, stream, "application/octet-stream", ifGenerationMatch: 0);
    }

    /// <summary>The source's parallel export under <paramref name="name"/>/, in pg_dump's order: the data files, then toc.dat.</summary>
    private async Task<List<StoredObject>> WriteDirectoryAsync(string name)
    {
        var written = new List<StoredObject>();
        foreach (var (file, bytes) in env.DirectoryDump)
        {
            written.Add(await WriteObjectAsync($"{name}/{file}", bytes));
        }
        return written;
    }

    /// <summary>
    /// The manifest's content section is the source database's: the same tables, each with the
    /// source's row count, and per tenant the source's rows, read from the object's own bytes.
    /// </summary>
    private void AssertHoldsTheSource(BackupManifest manifest)
    {
        var content = manifest.Content;
        Assert.NotNull(content);
        Assert.Equal(CompletionEnvironment.TenantColumn, content.TenantColumn);
        Assert.Equal("UTC", content.TimeZone);
        Assert.Equal(env.SourceRows.OrderBy(t => t.Key, StringComparer.Ordinal), content.Tables.Select(t => KeyValuePair.Create(t.Key, t.Value.Rows)).OrderBy(t => t.Key, StringComparer.Ordinal));
        Assert.Equal(env.SourceRows.Values.Sum(), content.TotalRows);
        var tenants = content.Tables
            .SelectMany(t => (t.Value.Tenants ?? new Dictionary<string, TenantContent>()).Select(r => KeyValuePair.Create((t.Key, r.Key), r.Value.Rows)))
            .OrderBy(r => r.Key.Item1, StringComparer.Ordinal).ThenBy(r => r.Key.Item2, StringComparer.Ordinal);
        Assert.Equal(env.SourceTenantRows.OrderBy(r => r.Key.Table, StringComparer.Ordinal).ThenBy(r => r.Key.Tenant, StringComparer.Ordinal)
            .Select(r => KeyValuePair.Create((r.Key.Table, r.Key.Tenant), r.Value)), tenants);
        Assert.NotEmpty(content.SchemaObjects);
    }

    private static string ObjectData(StoredObject stored) => StorageEvents.ObjectData(stored);

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }
        return buffer.ToArray();
    }

    /// <summary>Bytes that are no format at all (they start neither as gzip nor as a custom archive).</summary>
    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        bytes[0] = (byte)'X';
        return bytes;
    }

    private static string ObjectData(string name, string bucket = CompletionEnvironment.Bucket) => CloudEventRequests.ObjectData(bucket, name);

    private static JsonObject ExportEntry(string uri, string operation, bool failed = false)
    {
        var response = new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.cloud.sql.v1beta4.Operation",
            ["kind"] = "sql#operation",
            ["name"] = operation,
            ["operationType"] = "EXPORT",
            ["status"] = "DONE",
            ["targetId"] = "prod",
            ["targetProject"] = "test-project",
            ["insertTime"] = "2026-11-25T02:00:01Z",
            ["startTime"] = "2026-11-25T02:00:05Z",
            ["endTime"] = "2026-11-25T02:03:00Z",
        };
        if (failed)
        {
            response["error"] = new JsonObject
            {
                ["kind"] = "sql#operationErrors",
                ["errors"] = new JsonArray(new JsonObject { ["kind"] = "sql#operationError", ["code"] = "INTERNAL_ERROR", ["message"] = "pg_dump exited with 1" }),
            };
        }
        var entry = AuditEntries.Create("cloudsql.instances.export", operation,
            new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.cloud.sql.v1beta4.SqlInstancesExportRequest",
                ["instance"] = "prod",
                ["project"] = "test-project",
                ["body"] = new JsonObject
                {
                    ["exportContext"] = new JsonObject { ["kind"] = "sql#exportContext", ["uri"] = uri, ["databases"] = new JsonArray("crm"), ["fileType"] = "SQL" },
                },
            },
            response);
        if (failed)
        {
            entry["severity"] = "ERROR";
            entry["protoPayload"]!["status"] = new JsonObject { ["code"] = 13, ["message"] = "pg_dump exited with 1" };
        }
        return entry;
    }

    /// <summary>A response shaped like a finished run, as a forger would write it.</summary>
    private static JsonObject ForgedRun(string id, string startTime) => new()
    {
        ["kind"] = "sql#backupRun",
        ["id"] = id,
        ["status"] = "SUCCESSFUL",
        ["type"] = "ON_DEMAND",
        ["startTime"] = startTime,
        ["endTime"] = "2020-01-01T00:05:00Z",
        ["selfLink"] = "https://evil.example/run",
    };

    private Task<HttpStatusCode> SendStorageAsync(string data, string type = CompletionNames.StorageFinalized) =>
        StorageEvents.SendAsync(env.Client, data, CompletionEnvironment.Bucket, type);

    private Task<HttpStatusCode> SendAuditAsync(JsonObject entry) => AuditEntries.SendAsync(env.Client, entry);

    private async Task<int> CountManifestsAsync(string prefix)
    {
        var count = 0;
        await foreach (var item in env.Store.ListAsync(prefix))
        {
            if (item.Name.EndsWith(BackupObjectName.ManifestSuffix, StringComparison.Ordinal)) count++;
        }
        return count;
    }

    private async Task<BackupManifest> ManifestAsync(string name)
    {
        Assert.True(BackupObjectName.TryParse(name, Prefix, out var parsed), name);
        return await env.Catalog.GetAsync(parsed!) ?? throw new Xunit.Sdk.XunitException($"no manifest for {name}");
    }

    private List<JsonElement> CompletedLines(string uri) =>
        [.. env.Logs.WithEvent("backup.completed").Where(l => l.GetProperty("backupUri").GetString() == uri)];
}
