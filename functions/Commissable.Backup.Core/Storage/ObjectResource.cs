using System.Globalization;
using System.Text.Json.Nodes;

namespace Commissable.Backup.Core.Storage;

/// <summary>
/// Cloud Storage's <c>Object</c> resource (JSON API v1) for a stored object: what
/// <c>objects.get</c> answers and what an object event carries as its data. Int64 fields
/// (<c>generation</c>, <c>metageneration</c>, <c>size</c>) are strings, as on the wire.
/// </summary>
public static class ObjectResource
{
    /// <summary>The resource of <paramref name="stored"/>; hashes only when the store knows them.</summary>
    public static JsonObject From(StoredObject stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var updated = stored.Updated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var generation = stored.Generation.ToString(CultureInfo.InvariantCulture);
        var resource = new JsonObject
        {
            ["kind"] = "storage#object",
            ["id"] = $"{stored.Bucket}/{stored.Name}/{generation}",
            ["name"] = stored.Name,
            ["bucket"] = stored.Bucket,
            ["generation"] = generation,
            ["metageneration"] = "1",
            ["contentType"] = stored.ContentType ?? "application/octet-stream",
            ["size"] = stored.Size.ToString(CultureInfo.InvariantCulture),
            ["timeCreated"] = updated,
            ["updated"] = updated,
            ["storageClass"] = "STANDARD",
        };
        if (stored.Md5Hash is not null) resource["md5Hash"] = stored.Md5Hash;
        if (stored.Crc32c is not null) resource["crc32c"] = stored.Crc32c;
        return resource;
    }
}
