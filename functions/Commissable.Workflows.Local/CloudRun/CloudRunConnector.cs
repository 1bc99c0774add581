using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local.CloudRun;

/// <summary>
/// <c>googleapis.run.v2.projects.locations.services.get</c> (<c>name</c>) and <c>.patch</c>
/// (<c>name</c>, <c>body</c>, <c>allowMissing</c>, <c>validateOnly</c>) over
/// <see cref="LocalRunServices"/>. Patch is a long-running operation the real connector waits on and
/// then returns the operation's result, the updated Service; locally the change is immediate, so
/// the Service comes back at once. A missing service is the API's 404 as an <c>HttpError</c>.
/// </summary>
internal sealed class CloudRunConnector : IWorkflowCallHandler
{
    private const string Prefix = "googleapis.run.v2.projects.locations.services.";
    private readonly LocalRunServices _services;

    public CloudRunConnector(LocalRunServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
    }

    public bool Serves(string functionName) => functionName is Prefix + "get" or Prefix + "patch";

    public Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new CallArguments(request);
        var name = args.RequiredString("name");
        try
        {
            LocalRunServices.Split(name);
        }
        catch (ArgumentException error)
        {
            throw WorkflowErrors.Http(400, ErrorBody(400, error.Message, "INVALID_ARGUMENT"), new JsonObject());
        }
        JsonNode? result;
        if (request.Function == Prefix + "get")
        {
            args.RejectUnknown([]);
            result = _services.Get(name) ?? throw NotFound(name);
        }
        else
        {
            var body = args.OptionalMap("body") ?? throw WorkflowErrors.Value($"{request.Function}: missing required argument 'body'");
            var allowMissing = args.OptionalBool("allowMissing") ?? false;
            var validateOnly = args.OptionalBool("validateOnly") ?? false;
            ConnectorParams.From(args.Raw("connector_params"), ConnectorParams.Documented);
            args.RejectUnknown([]);
            if (body["name"] is JsonValue bodyName && (string?)bodyName is { Length: > 0 } named && named != name)
            {
                throw WorkflowErrors.Http(400, ErrorBody(400, $"body.name '{named}' does not match name '{name}'", "INVALID_ARGUMENT"), new JsonObject());
            }
            result = validateOnly
                ? (_services.Get(name) is not null || allowMissing ? body.DeepClone() : throw NotFound(name))
                : _services.Patch(name, body, allowMissing) ?? throw NotFound(name);
        }
        return Task.FromResult<JsonNode?>(result);
    }

    private static WorkflowErrorException NotFound(string name) =>
        WorkflowErrors.Http(404, ErrorBody(404, $"Resource '{LocalRunServices.Split(name).Service}' of kind 'SERVICE' in region '{LocalRunServices.Split(name).Location}' in project '{LocalRunServices.Split(name).Project}' does not exist.", "NOT_FOUND"), new JsonObject());

    private static JsonObject ErrorBody(int code, string message, string status) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status } };
}
