using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.FileStore;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local.Secrets;

/// <summary>
/// <c>googleapis.secretmanager.v1</c> over the <see cref="LocalSecretStore"/>:
/// <c>projects.secrets.versions.accessString</c> (<c>secret_id</c>, <c>version</c> = latest,
/// <c>project_id</c> = the workflow's project) returns the value as a string;
/// <c>projects.secrets.versions.access</c> (<c>name</c>) returns <c>{name, payload: {data}}</c> with
/// the data base64-encoded; <c>projects.secrets.addVersion</c> (<c>parent</c>, <c>body: {payload:
/// {data}}</c>) stores a version and returns the SecretVersion resource. A missing secret or version
/// is the API's 404 as an <c>HttpError</c>. Nothing here logs a value.
/// </summary>
internal sealed partial class SecretManagerConnector : IWorkflowCallHandler
{
    private const string Prefix = "googleapis.secretmanager.v1.projects.secrets.";
    private readonly LocalSecretStore _store;
    private readonly string _defaultProject;

    /// <param name="defaultProject">What <c>project_id</c> defaults to: the workflow's GOOGLE_CLOUD_PROJECT_ID.</param>
    public SecretManagerConnector(LocalSecretStore store, string defaultProject)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(defaultProject);
        _store = store;
        _defaultProject = defaultProject;
    }

    public bool Serves(string functionName) =>
        functionName is Prefix + "versions.accessString" or Prefix + "versions.access" or Prefix + "addVersion";

    public Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new CallArguments(request);
        JsonNode? result = request.Function[Prefix.Length..] switch
        {
            "versions.accessString" => AccessString(args),
            "versions.access" => Access(args),
            _ => AddVersion(args),
        };
        return Task.FromResult<JsonNode?>(result);
    }

    private JsonValue AccessString(CallArguments args)
    {
        var secret = args.RequiredString("secret_id");
        var version = args.OptionalString("version") ?? "latest";
        var project = args.OptionalString("project_id") ?? _defaultProject;
        args.RejectUnknown([]);
        var found = Find(project, secret, version);
        return JsonValue.Create(Encoding.UTF8.GetString(_store.Read(found)));
    }

    private JsonObject Access(CallArguments args)
    {
        var name = args.RequiredString("name");
        args.RejectUnknown([]);
        var match = VersionName().Match(name);
        if (!match.Success)
        {
            throw WorkflowErrors.Http(400, ErrorBody(400, $"Invalid resource field value in the request: name '{name}' is not projects/*/secrets/*/versions/*", "INVALID_ARGUMENT"), new JsonObject());
        }
        var found = Find(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
        return new JsonObject
        {
            ["name"] = found.Name,
            ["payload"] = new JsonObject { ["data"] = Convert.ToBase64String(_store.Read(found)) },
        };
    }

    private JsonObject AddVersion(CallArguments args)
    {
        var parent = args.RequiredString("parent");
        var body = args.OptionalMap("body") ?? throw WorkflowErrors.Value($"{args.Function}: missing required argument 'body'");
        args.RejectUnknown([]);
        var match = SecretName().Match(parent);
        if (!match.Success)
        {
            throw WorkflowErrors.Http(400, ErrorBody(400, $"Invalid resource field value in the request: parent '{parent}' is not projects/*/secrets/*", "INVALID_ARGUMENT"), new JsonObject());
        }
        var data = (string?)body["payload"]?["data"] ?? throw WorkflowErrors.Http(400, ErrorBody(400, "payload.data is required", "INVALID_ARGUMENT"), new JsonObject());
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(data);
        }
        catch (FormatException)
        {
            throw WorkflowErrors.Http(400, ErrorBody(400, "payload.data is not valid base64", "INVALID_ARGUMENT"), new JsonObject());
        }
        var (project, secret) = (match.Groups[1].Value, match.Groups[2].Value);
        var version = Guard(() => _store.AddVersion(project, secret, bytes))
            ?? throw NotFound($"Secret [projects/{project}/secrets/{secret}] not found.");
        return Resource(version);
    }

    /// <summary>The SecretVersion resource as the API returns it.</summary>
    public static JsonObject Resource(SecretVersionInfo version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return new JsonObject
        {
            ["name"] = version.Name,
            ["createTime"] = version.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            ["state"] = "ENABLED",
            ["replicationStatus"] = new JsonObject { ["automatic"] = new JsonObject() },
            ["etag"] = string.Create(CultureInfo.InvariantCulture, $"\"{version.Created.ToUnixTimeMilliseconds():x}\""),
        };
    }

    private SecretVersionInfo Find(string project, string secret, string version) =>
        Guard(() => _store.Find(project, secret, version))
        ?? throw NotFound(_store.Exists(project, secret) && version != "latest"
            ? $"Secret Version [projects/{project}/secrets/{secret}/versions/{version}] not found."
            : $"Secret [projects/{project}/secrets/{secret}] not found or has no versions.");

    /// <summary>A name the store refuses (a path, a bad character) is the API's 400, not a crash.</summary>
    private static T Guard<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ArgumentException error)
        {
            throw WorkflowErrors.Http(400, ErrorBody(400, error.Message, "INVALID_ARGUMENT"), new JsonObject());
        }
    }

    private static WorkflowErrorException NotFound(string message) =>
        WorkflowErrors.Http(404, ErrorBody(404, message, "NOT_FOUND"), new JsonObject { ["Content-Type"] = "application/json; charset=UTF-8" });

    private static JsonObject ErrorBody(int code, string message, string status) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status } };

    [GeneratedRegex("^projects/([^/]+)/secrets/([^/]+)/versions/([^/]+)\\z")]
    private static partial Regex VersionName();

    [GeneratedRegex("^projects/([^/]+)/secrets/([^/]+)\\z")]
    private static partial Regex SecretName();
}
