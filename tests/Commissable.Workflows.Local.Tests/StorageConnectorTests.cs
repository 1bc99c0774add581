using System.Text.Json.Nodes;
using Commissable.Backup.FileStore;
using Commissable.Workflows.Local.Storage;

namespace Commissable.Workflows.Local.Tests;

/// <summary>objects.get answers the local buckets' metadata like Cloud Storage, URL-encoded names included.</summary>
public sealed class StorageConnectorTests : IDisposable
{
    private const string Get = "googleapis.storage.v1.objects.get";
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"stor-{Guid.NewGuid():N}"[..13]);

    [Fact]
    public async Task An_existing_object_answers_its_metadata_and_a_missing_one_404()
    {
        var directory = Path.Combine(_state, "buckets", "backups-b", "backups", "prod");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "x.sql.gz"), "12345");
        var storage = new StorageConnector(bucket => new LocalBackupStore(new BucketPaths(_state), bucket));

        var found = await storage.CallAsync(Get, new JsonObject { ["bucket"] = "backups-b", ["object"] = Uri.EscapeDataString("backups/prod/x.sql.gz") });
        Assert.Equal("backups/prod/x.sql.gz", (string?)found!["name"]);
        Assert.Equal("5", (string?)found["size"]);
        Assert.True(long.Parse((string)found["generation"]!, System.Globalization.CultureInfo.InvariantCulture) > 0);

        var missing = await storage.RaisesAsync("HttpError", Get, new JsonObject { ["bucket"] = "backups-b", ["object"] = "backups%2Fnone" });
        Assert.Equal(404, (int)missing["code"]!);
        var escape = await storage.RaisesAsync("HttpError", Get, new JsonObject { ["bucket"] = "backups-b", ["object"] = "..%2F..%2Fetc" });
        Assert.Equal(400, (int)escape["code"]!);
        var badBucket = await storage.RaisesAsync("HttpError", Get, new JsonObject { ["bucket"] = "../state", ["object"] = "token" });
        Assert.Equal(400, (int)badBucket["code"]!);
        Assert.Contains("'bucket'", (string?)badBucket["message"], StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_state)) Directory.Delete(_state, recursive: true);
    }
}
