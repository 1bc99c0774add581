using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Tests.Completion;
using Commissable.Functions.Verify;
using Microsoft.Extensions.DependencyInjection;

namespace Commissable.Functions.Tests.Verify;

/// <summary>
/// restore-verify of backups the product did not export itself: objects registered through
/// on-backup-completed (a custom-format <c>.dump</c>, a scheduled export), and a manifest written
/// before content manifests existed. Through the real host, against the local cloud, importing
/// into the environment's verification instance.
/// </summary>
[Collection(VerifyEnvironment.Collection)]
public sealed class CompletedBackupVerifyTests(VerifyEnvironment env)
{
    private const string Prefix = "backups";

    private IBackupStore Store => env.Services.GetRequiredService<IBackupStore>();
    private BackupCatalog Catalog => env.Services.GetRequiredService<BackupCatalog>();

    [Fact]
    public async Task A_dump_of_an_empty_database_registered_through_on_backup_completed_fails_verification_having_no_table_and_no_schema()
    {
        // The wrong database, empty, dumped as the strategy's operator path does (pg_dump -Fc) under a scheduled backup's name.
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/databases"), """{"name":"empty_source"}""");
        var name = $"{Prefix}/prod/prod/backup_20260301_0200_prod_scheduled-empty.dump";
        var stored = await WriteAsync(name, await SourceDumps.CustomFormatAsync(env.Cloud, "prod", "empty_source"));

        Assert.Equal(HttpStatusCode.OK, await StorageEvents.SendAsync(env.Client, StorageEvents.ObjectData(stored), VerifyEnvironment.Bucket));

        // Recorded: it is a whole, readable dump; what it holds is nothing.
        var manifest = await ManifestAsync(name);
        Assert.Equal("scheduled-export", manifest.Kind);
        Assert.Equal("CUSTOM", manifest.Format);
        Assert.NotNull(manifest.Content);
        Assert.Empty(manifest.Content.Tables);

        var (status, body) = await VerifyAsync(stored.Uri);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!, body.ToJsonString());
        Assert.True((bool)Check(body, RestoreVerifier.ImportSucceeded)["passed"]!, body.ToJsonString());
        var tables = Check(body, ContentComparison.Tables);
        Assert.False((bool)tables["passed"]!);
        Assert.Contains("the backup holds no table", (string?)tables["detail"], StringComparison.Ordinal);
        var schema = Check(body, ContentComparison.Schema);
        Assert.False((bool)schema["passed"]!);
        Assert.Contains("the backup has no schema statement", (string?)schema["detail"], StringComparison.Ordinal);
        // The content was recorded by on-backup-completed: nothing is read again.
        Assert.DoesNotContain(body["checks"]!.AsArray(), c => (string?)c!["name"] == RestoreVerifier.ContentRead);
        Assert.Contains($"[{ContentComparison.Tables}]", (string?)body["failure"], StringComparison.Ordinal);
        await AssertNoScratchDatabaseLeftAsync();
        Assert.Contains(env.Logs.WithEvent("backup.verify.failed"),
            e => e.GetProperty("severity").GetString() == "ERROR" && e.ToString().Contains(stored.Uri, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_scheduled_export_registered_through_on_backup_completed_then_changed_in_place_at_the_same_size_fails_verification_naming_the_checksums()
    {
        // Cloud SQL's scheduled export writes the object; Eventarc tells on-backup-completed.
        var name = $"{Prefix}/prod/prod/backup_20260301_0300_prod_scheduled-tampered.sql.gz";
        var uri = $"gs://{VerifyEnvironment.Bucket}/{name}";
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/export"),
            $$$"""{"exportContext":{"kind":"sql#exportContext","fileType":"SQL","uri":"{{{uri}}}","databases":["crm"]}}""");
        var stored = await Store.GetAsync(name) ?? throw new Xunit.Sdk.XunitException($"the export wrote no {uri}");
        Assert.Equal(HttpStatusCode.OK, await StorageEvents.SendAsync(env.Client, StorageEvents.ObjectData(stored), VerifyEnvironment.Bucket));
        var manifest = await ManifestAsync(name);
        Assert.Equal((stored.Size, stored.Crc32c, stored.Md5Hash), (manifest.SizeBytes, manifest.Crc32c, manifest.Md5Hash));
        Assert.NotNull(manifest.Content);

        // A writer then changes one byte in the bucket's file and puts its modification time back.
        env.TamperKeepingSizeAndTime(uri);

        var (status, body) = await VerifyAsync(uri);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!, body.ToJsonString());
        var import = Check(body, RestoreVerifier.ImportSucceeded);
        Assert.False((bool)import["passed"]!);
        var detail = (string?)import["detail"];
        Assert.Contains("changed after the export", detail, StringComparison.Ordinal);
        Assert.Contains("its CRC32C is", detail, StringComparison.Ordinal);
        Assert.Contains("its MD5 is", detail, StringComparison.Ordinal);
        Assert.Equal(["resolve", "create-db", "import", "cleanup"], body["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        await AssertNoScratchDatabaseLeftAsync();
    }

    [Fact]
    public async Task A_directory_export_whose_files_changed_size_after_the_export_is_not_imported()
    {
        // Cloud SQL's parallel export writes a directory; on-backup-completed records it at its toc.dat.
        var name = $"{Prefix}/prod/prod/backup_20260301_0500_prod_scheduled-directory";
        var uri = $"gs://{VerifyEnvironment.Bucket}/{name}";
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/export"),
            $$$$"""{"exportContext":{"kind":"sql#exportContext","fileType":"SQL","uri":"{{{{uri}}}}","databases":["crm"],"sqlExportOptions":{"parallel":true,"threads":2}}}""");
        var toc = await Store.GetAsync(name + "/toc.dat") ?? throw new Xunit.Sdk.XunitException($"the export wrote no {uri}/toc.dat");
        Assert.Equal(HttpStatusCode.OK, await StorageEvents.SendAsync(env.Client, StorageEvents.ObjectData(toc), VerifyEnvironment.Bucket));
        var manifest = await ManifestAsync(name);
        Assert.Equal("DIRECTORY", manifest.Format);
        Assert.NotNull(manifest.SizeBytes);

        // A writer then adds a byte to one of its data files.
        var data = Directory.GetFiles(env.LocalPath(uri), "*.dat.gz").Order(StringComparer.Ordinal).First();
        await File.AppendAllTextAsync(data, "x");

        var (status, body) = await VerifyAsync(uri);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!, body.ToJsonString());
        var import = Check(body, RestoreVerifier.ImportSucceeded);
        Assert.False((bool)import["passed"]!);
        Assert.Contains("changed after the export: its ", (string?)import["detail"], StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"the manifest records {manifest.SizeBytes:N0}"), (string?)import["detail"], StringComparison.Ordinal);
        Assert.DoesNotContain(body["stages"]!.AsArray(), s => (string?)s!["stage"] == "checks");
        await AssertNoScratchDatabaseLeftAsync();
    }

    [Fact]
    public async Task A_manifest_that_records_neither_size_nor_checksum_fails_verification_without_importing()
    {
        var shared = await env.SharedBackupAsync();
        var name = $"{Prefix}/prod/prod/backup_20260301_0600_prod_unchecked.sql.gz";
        var stored = await WriteAsync(name, await File.ReadAllBytesAsync(env.LocalPath(shared)));
        var (_, created) = await Catalog.RecordAsync(ParseName(name), ScheduledExport(stored));
        Assert.True(created);

        var (status, body) = await VerifyAsync(stored.Uri);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!, body.ToJsonString());
        var import = Check(body, RestoreVerifier.ImportSucceeded);
        Assert.False((bool)import["passed"]!);
        Assert.Contains("records neither its size nor a checksum", (string?)import["detail"], StringComparison.Ordinal);
        await AssertNoScratchDatabaseLeftAsync();
    }

    [Fact]
    public async Task A_manifest_written_before_content_manifests_gets_its_content_read_from_the_backup_first_and_verifies()
    {
        // The shared pre-deploy export's bytes, recorded as an older release recorded a backup: no content section.
        var shared = await env.SharedBackupAsync();
        var sharedName = ParseName(shared["gs://".Length..][(VerifyEnvironment.Bucket.Length + 1)..]);
        var sharedContent = (await Catalog.GetAsync(sharedName))?.Content ?? throw new Xunit.Sdk.XunitException($"{shared} has no content manifest");
        var name = $"{Prefix}/prod/prod/backup_20260301_0400_prod_legacy-manifest.sql.gz";
        var stored = await WriteAsync(name, await File.ReadAllBytesAsync(env.LocalPath(shared)));
        var (recorded, created) = await Catalog.RecordAsync(ParseName(name),
            ScheduledExport(stored) with { SizeBytes = stored.Size, Md5Hash = stored.Md5Hash, Crc32c = stored.Crc32c });
        Assert.True(created);
        Assert.Null(recorded.Content);

        var (status, body) = await VerifyAsync(stored.Uri);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        var read = Check(body, RestoreVerifier.ContentRead);
        Assert.True((bool)read["passed"]!);
        Assert.Contains("read it from the backup's bytes", (string?)read["detail"], StringComparison.Ordinal);
        // What it read is what the export recorded of the same bytes.
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{sharedContent.Tables.Count} tables, {sharedContent.TotalRows:N0} rows"),
            (string?)read["detail"], StringComparison.Ordinal);
        Assert.Equal(["resolve", "content", "create-db", "import", "checks", "cleanup"], body["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        Assert.All(body["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{sharedContent.Tables.Count} tables, {sharedContent.TotalRows} rows: counts and contents equal"),
            (string?)Check(body, ContentComparison.Tables)["detail"], StringComparison.Ordinal);
        // The manifest stays as written (create-only): the next verification reads the object again.
        Assert.Null((await ManifestAsync(name)).Content);
        await AssertNoScratchDatabaseLeftAsync();
    }

    // ---- helpers ------------------------------------------------------------------------------

    private async Task<StoredObject> WriteAsync(string name, byte[] content)
    {
        using var stream = new MemoryStream(content, writable: false);
        return await Store.WriteAsync(name, stream, "application/octet-stream", ifGenerationMatch: 0);
    }

    /// <summary>The manifest of a scheduled export of prod's crm, as a release without content manifests recorded it: no size, no checksum.</summary>
    private static BackupManifest ScheduledExport(StoredObject stored) => new()
    {
        Uri = stored.Uri,
        Kind = "scheduled-export",
        Environment = "prod",
        SourceInstance = "prod",
        Databases = ["crm"],
        Format = "SQL_GZIP",
        StartTime = stored.Updated.AddMinutes(-1),
        EndTime = stored.Updated,
        Generation = stored.Generation,
    };

    private static BackupObjectName ParseName(string name)
    {
        Assert.True(BackupObjectName.TryParse(name, Prefix, out var parsed), name);
        return parsed!;
    }

    private async Task<BackupManifest> ManifestAsync(string name) =>
        await Catalog.GetAsync(ParseName(name)) ?? throw new Xunit.Sdk.XunitException($"no manifest for {name}");

    private async Task<(HttpStatusCode Status, JsonObject Body)> VerifyAsync(string uri)
    {
        using var response = await env.Client.PostAsync("/restore-verify", new StringContent($$"""{"backup":"{{uri}}"}""", Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static JsonObject Check(JsonObject body, string name) =>
        body["checks"]!.AsArray().Single(c => (string?)c!["name"] == name)!.AsObject();

    private async Task AssertNoScratchDatabaseLeftAsync() =>
        Assert.DoesNotContain(await env.DatabasesAsync(VerifyEnvironment.Target), d => d.StartsWith("verify_", StringComparison.Ordinal));
}
