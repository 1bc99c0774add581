using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Completion;
using Commissable.Functions.Hosting;
using Commissable.Functions.Tests.Hosting;

namespace Commissable.Functions.Tests.Completion;

/// <summary>Cloud Storage "object finalized" events as Eventarc delivers them to on-backup-completed, for the completion and verification tests.</summary>
internal static class StorageEvents
{
    /// <summary>The event data of <paramref name="stored"/>, with the figures the bucket holds.</summary>
    public static string ObjectData(StoredObject stored) => new JsonObject
    {
        ["kind"] = "storage#object",
        ["id"] = $"{stored.Bucket}/{stored.Name}/{stored.Generation}",
        ["bucket"] = stored.Bucket,
        ["name"] = stored.Name,
        ["generation"] = stored.Generation.ToString(CultureInfo.InvariantCulture),
        ["metageneration"] = "1",
        ["size"] = stored.Size.ToString(CultureInfo.InvariantCulture),
        ["md5Hash"] = stored.Md5Hash,
        ["crc32c"] = stored.Crc32c,
        ["contentType"] = stored.ContentType,
        ["storageClass"] = "STANDARD",
        ["timeCreated"] = stored.Updated.ToString("O", CultureInfo.InvariantCulture),
        ["updated"] = stored.Updated.ToString("O", CultureInfo.InvariantCulture),
    }.ToJsonString();

    /// <summary>Posts <paramref name="data"/> to on-backup-completed as a binary-mode CloudEvent of <paramref name="bucket"/> and returns the status.</summary>
    public static async Task<HttpStatusCode> SendAsync(HttpClient client, string data, string bucket, string type = CompletionNames.StorageFinalized)
    {
        var name = JsonNode.Parse(data)!["name"]!.GetValue<string>();
        using var request = CloudEventRequests.Binary(data, "/" + FunctionNames.OnBackupCompleted, type, headers: new Dictionary<string, string?>
        {
            ["ce-id"] = Guid.NewGuid().ToString(),
            ["ce-source"] = $"//storage.googleapis.com/projects/_/buckets/{bucket}",
            ["ce-subject"] = "objects/" + name,
        });
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
