using System.Text.Json.Nodes;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Storage;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local.Storage;

/// <summary>
/// <c>googleapis.storage.v1.objects.get</c> (<c>bucket</c>, <c>object</c> URL-encoded as the connector
/// requires) over a bucket store (locally the local cloud's bucket directories): the Object resource's metadata (<c>name</c>, <c>bucket</c>,
/// <c>size</c> and <c>generation</c> as strings, <c>contentType</c>, <c>updated</c>, hashes); a missing
/// object is the API's 404 as an <c>HttpError</c>. Media downloads (<c>alt: media</c>) are not served.
/// </summary>
internal sealed class StorageConnector : IWorkflowCallHandler
{
    private const string Function = "googleapis.storage.v1.objects.get";
    private readonly Func<string, IBackupStore> _storeFor;

    /// <param name="storeFor">The store of a bucket, by name; it throws <see cref="ArgumentException"/> for a name it refuses.</param>
    public StorageConnector(Func<string, IBackupStore> storeFor)
    {
        ArgumentNullException.ThrowIfNull(storeFor);
        _storeFor = storeFor;
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
        if (CloudNames.BucketProblem(bucket) is { } problem)
        {
            throw WorkflowErrors.Http(400, Error(400, problem), new JsonObject());
        }
        StoredObject? found;
        try
        {
            found = await _storeFor(bucket).GetAsync(name, cancellationToken);
        }
        catch (ArgumentException error)
        {
            throw WorkflowErrors.Http(400, Error(400, error.Message), new JsonObject());
        }
        if (found is null)
        {
            throw WorkflowErrors.Http(404, Error(404, $"No such object: {bucket}/{name}"), new JsonObject());
        }
        var resource = ObjectResource.From(found);
        resource["selfLink"] = $"https://www.googleapis.com/storage/v1/b/{bucket}/o/{Uri.EscapeDataString(name)}";
        return resource;
    }

    private static JsonObject Error(int code, string message) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = code == 404 ? "notFound" : "invalid" }) } };
}
