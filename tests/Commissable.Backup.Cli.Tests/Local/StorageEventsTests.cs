using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.FileStore;

namespace Commissable.Backup.Cli.Tests.Local;

/// <summary>The drill's object-finalized event says what Cloud Storage would say about the local object.</summary>
public sealed class StorageEventsTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"sev-{Guid.NewGuid():N}"[..12]);

    [Fact]
    public async Task The_generation_is_the_objects_own_in_microseconds_since_the_Unix_epoch()
    {
        var paths = new BucketPaths(_state);
        var store = new LocalBackupStore(paths, "drill-backups");
        var name = "backups/prod/prod/backup_20260301_0000_prod_scheduled.sql.gz";
        var written = await store.WriteAsync(name, new MemoryStream("dump"u8.ToArray()), "application/gzip", ifGenerationMatch: 0);
        var stored = (await store.GetAsync(name))!;
        var file = new FileInfo(Path.Combine(_state, "buckets", "drill-backups", name));

        var cloudEvent = StorageEvents.ObjectFinalized(stored, DateTimeOffset.UtcNow);

        var data = Assert.IsType<JsonObject>(cloudEvent.Data);
        var generation = long.Parse((string)data["generation"]!, CultureInfo.InvariantCulture);
        Assert.Equal(written.Generation, generation);
        var asTime = DateTimeOffset.UnixEpoch.AddTicks(generation * 10);
        Assert.True((asTime - file.LastWriteTimeUtc).Duration() < TimeSpan.FromSeconds(1), $"generation {generation} reads as {asTime:O}, the file was written {file.LastWriteTimeUtc:O}");
        Assert.Equal($"drill-backups/{name}/{generation}", (string?)data["id"]);
        Assert.Equal("4", (string?)data["size"]);
    }

    [Fact]
    public async Task The_event_travels_in_binary_mode_with_eventarcs_attributes()
    {
        var stored = new Commissable.Backup.Core.Storage.StoredObject
        {
            Bucket = "drill-backups", Name = "backups/x.sql.gz", Size = 7, Generation = 1_772_323_200_000_001, Updated = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), ContentType = "application/gzip",
        };
        var cloudEvent = StorageEvents.ObjectFinalized(stored, new DateTimeOffset(2026, 3, 1, 0, 0, 1, TimeSpan.Zero));

        using var content = cloudEvent.ToHttpContent(ContentMode.Binary, new JsonEventFormatter());

        Assert.Equal("google.cloud.storage.object.v1.finalized", content.Headers.GetValues("ce-type").Single());
        Assert.Equal("//storage.googleapis.com/projects/_/buckets/drill-backups", content.Headers.GetValues("ce-source").Single());
        Assert.Equal("objects/backups/x.sql.gz", content.Headers.GetValues("ce-subject").Single());
        Assert.Equal("1.0", content.Headers.GetValues("ce-specversion").Single());
        var body = JsonNode.Parse(Encoding.UTF8.GetString(await content.ReadAsByteArrayAsync()))!;
        Assert.Equal("1772323200000001", (string?)body["generation"]);
        Assert.Equal("7", (string?)body["size"]);
    }

    public void Dispose()
    {
        if (Directory.Exists(_state)) Directory.Delete(_state, recursive: true);
    }
}
