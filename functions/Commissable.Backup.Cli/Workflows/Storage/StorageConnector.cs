using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;
using Commissable.Workflows.Runtime;

namespace Commissable.Backup.Cli.Workflows.Storage;

/// <summary>
/// <c>googleapis.storage.v1.objects.get</c> (<c>bucket</c>, <c>object</c> URL-encoded as the connector
/// requires) over the local cloud's buckets: the Object resource's metadata (<c>name</c>, <c>bucket</c>,
/// <c>size</c> and <c>generation</c> as strings, <c>contentType</c>, <c>updated</c>, hashes); a missing
/// object is the API's 404 as an <c>HttpError</c>. Media downloads (<c>alt: media</c>) are not served.
/// </summary>
internal sealed class StorageConnector : IWorkflowCallHandler
{
    private const string Function = "googleapis.storage.v1.objects.get";
    private readonly BucketPaths _paths;

    /// <param name="stateDirectory">The local cloud's state directory (buckets are under <c>buckets/</c>).</param>
    public StorageConnector(string stateDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        _paths = new BucketPaths(stateDirectory);
    }

    public bool Serves(string functionName) => functionName == Function;

    public async Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new CallArguments(request);
        var bucket = args.RequiredString("bucket");
        var name = Uri.UnescapeDataString(args.RequiredString("object"));
        var alt = args.OptionalString("alt") ?? "json";
        args.OptionalString("projection");
        args.OptionalString("userProject");
        args.RejectUnknown([]);
        if (alt != "json")
        {
            throw WorkflowErrors.Value($"{Function}: alt '{alt}' is not served locally; only object metadata (alt: json)");
        }
        StoredObject? found;
        try
        {
            found = await new LocalBackupStore(_paths, bucket).GetAsync(name, cancellationToken);
        }
        catch (ArgumentException error)
        {
            throw WorkflowErrors.Http(400, Error(400, error.Message), new JsonObject());
        }
        if (found is null)
        {
            throw WorkflowErrors.Http(404, Error(404, $"No such object: {bucket}/{name}"), new JsonObject());
        }
        var updated = found.Updated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var generation = found.Generation.ToString(CultureInfo.InvariantCulture);
        var resource = new JsonObject
        {
            ["kind"] = "storage#object",
            ["id"] = $"{bucket}/{name}/{generation}",
            ["name"] = name,
            ["bucket"] = bucket,
            ["generation"] = generation,
            ["metageneration"] = "1",
            ["contentType"] = found.ContentType ?? "application/octet-stream",
            ["size"] = found.Size.ToString(CultureInfo.InvariantCulture),
            ["timeCreated"] = updated,
            ["updated"] = updated,
            ["storageClass"] = "STANDARD",
            ["selfLink"] = $"https://www.googleapis.com/storage/v1/b/{bucket}/o/{Uri.EscapeDataString(name)}",
        };
        if (found.Md5Hash is not null) resource["md5Hash"] = found.Md5Hash;
        if (found.Crc32c is not null) resource["crc32c"] = found.Crc32c;
        return resource;
    }

    private static JsonObject Error(int code, string message) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = code == 404 ? "notFound" : "invalid" }) } };
}
