using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Naming;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local.CloudSql;

/// <summary>
/// <c>googleapis.sqladmin.v1beta4.*</c> over the project's Cloud SQL client (locally pointed at the
/// local cloud): arguments as the connector takes them (path parameters, documented query
/// parameters, <c>body</c>, <c>connector_params</c>), answers returned as parsed JSON. Methods that
/// start an operation wait for it like the real connector, with the client's operation poller:
/// they return the finished operation, raise <c>OperationError</c> (with the operation) when it
/// failed and <c>TimeoutError</c> when it outlives <c>connector_params.timeout</c>;
/// <c>skip_polling</c> returns the operation as started. Error answers are <c>HttpError</c>s in
/// Google's error shape, after the client's retries of transient answers (409
/// <c>operationInProgress</c>, 429, 5xx); a server that cannot be reached is a <c>ConnectionError</c>.
/// Path parameters with a rule of their own (project, instance, database, user) are checked before
/// any request. Locally the polls follow the client's schedule, not <c>polling_policy</c>, which
/// is checked but only decides how soon a finished operation is noticed.
/// </summary>
internal sealed class CloudSqlConnector : IWorkflowCallHandler
{
    private const string ProjectPrefix = "sql/v1beta4/projects/{project}/";
    private readonly Func<string, ICloudSqlAdmin> _clientFor;
    private readonly ConnectorParams _defaults;
    private readonly ConcurrentDictionary<string, ICloudSqlAdmin> _clients = new(StringComparer.Ordinal);

    /// <param name="clientFor">The Cloud SQL client of a project (a workflow may address several); asked once per project.</param>
    /// <param name="defaults">The <c>connector_params</c> defaults; <see cref="ConnectorParams.Documented"/> unless a test needs another.</param>
    public CloudSqlConnector(Func<string, ICloudSqlAdmin> clientFor, ConnectorParams? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(clientFor);
        _clientFor = clientFor;
        _defaults = defaults ?? ConnectorParams.Documented;
    }

    public bool Serves(string functionName) =>
        functionName.StartsWith(SqlAdminMethods.Prefix, StringComparison.Ordinal)
        && SqlAdminMethods.All.ContainsKey(functionName[SqlAdminMethods.Prefix.Length..]);

    public async Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var method = SqlAdminMethods.All[request.Function[SqlAdminMethods.Prefix.Length..]];
        var args = new CallArguments(request);
        var parameters = ConnectorParams.From(args.Raw("connector_params"), _defaults);

        var project = args.RequiredString("project");
        var path = method.Path[ProjectPrefix.Length..];
        foreach (var name in method.PathParameters.Where(p => p != "project"))
        {
            var value = args.RequiredString(name);
            path = path.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
        }
        var query = new List<string>();
        foreach (var name in method.Query)
        {
            if (args.Raw(name) is { } value)
            {
                query.Add($"{name}={Uri.EscapeDataString(QueryValue(value))}");
            }
        }
        JsonNode? body = null;
        if (method.TakesBody)
        {
            body = args.Raw("body") ?? throw WorkflowErrors.Value($"{request.Function}: missing required argument 'body'");
        }
        args.RejectUnknown([]);
        CheckNames(args, method);
        var sql = _clients.GetOrAdd(project, _clientFor);

        var answer = await GuardAsync(() => sql.SendJsonAsync(new HttpMethod(method.HttpMethod), query.Count == 0 ? path : path + "?" + string.Join('&', query), body, cancellationToken));
        if (!method.ReturnsOperation || parameters.SkipPolling)
        {
            return answer;
        }
        var started = answer.Deserialize<Operation>(CloudSqlJson.Options) ?? throw WorkflowErrors.Type($"{request.Function}: the answer is not an Operation");
        return await WaitAsync(sql, started, parameters.Timeout, cancellationToken);
    }

    private static async Task<JsonNode?> WaitAsync(ICloudSqlAdmin sql, Operation started, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(started.Name)) throw WorkflowErrors.Type("the Operation has no name");
        try
        {
            var done = await GuardAsync(() => sql.WaitForOperationAsync(started, timeout, cancellationToken));
            return JsonSerializer.SerializeToNode(done, CloudSqlJson.Options);
        }
        catch (CloudSqlOperationFailedException failed)
        {
            var first = failed.Operation.Error?.Errors?.Select(e => e.Message).FirstOrDefault(m => m is not null) ?? "unknown error";
            throw WorkflowErrors.Operation($"Operation {started.Name} ({failed.Operation.OperationType}) failed: {first}",
                JsonSerializer.SerializeToNode(failed.Operation, CloudSqlJson.Options)!);
        }
        catch (TimeoutException)
        {
            throw WorkflowErrors.Timeout(string.Create(CultureInfo.InvariantCulture,
                $"Operation {started.Name} ({started.OperationType}) did not finish within the timeout of {timeout.TotalSeconds:0.###} seconds (connector_params.timeout)"));
        }
    }

    /// <summary>The client's failures as the connector raises them.</summary>
    private static async Task<T> GuardAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (CloudSqlApiException error)
        {
            throw WorkflowErrors.Http(error.HttpStatus, ErrorBody(error.HttpStatus, error.Reason, error.ApiMessage), new JsonObject());
        }
        catch (HttpRequestException error) when (error.InnerException is SocketException || error.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw WorkflowErrors.Connection($"the Cloud SQL Admin API could not be reached: {error.Message}");
        }
    }

    /// <summary>
    /// A name with a rule of its own is checked before it becomes a URL segment; Google answers a
    /// malformed one with a 400, and so does the connector here, without a request.
    /// </summary>
    private static void CheckNames(CallArguments args, SqlAdminMethod method)
    {
        string?[] problems =
        [
            CloudNames.ProjectProblem(args.RequiredString("project"), "project"),
            method.PathParameters.Contains("instance") ? CloudNames.InstanceProblem(args.RequiredString("instance"), "instance") : null,
            method.PathParameters.Contains("database") ? CloudNames.DatabaseProblem(args.RequiredString("database"), "database") : null,
            method.PathParameters.Contains("name") ? CloudNames.UserProblem(args.RequiredString("name"), "name") : null,
            method.PathParameters.Contains("id") && !long.TryParse(args.RequiredString("id"), NumberStyles.None, CultureInfo.InvariantCulture, out _) ? "'id' must be a backup run ID: digits only." : null,
            method.PathParameters.Contains("operation") && args.RequiredString("operation") is "." or ".." ? "'operation' must be an operation name." : null,
        ];
        if (problems.FirstOrDefault(p => p is not null) is { } problem)
        {
            throw WorkflowErrors.Http(400, ErrorBody(400, "invalid", $"Invalid request: {problem}"), new JsonObject());
        }
    }

    /// <summary>Google's error shape, from what the client's typed error keeps of it.</summary>
    private static JsonObject ErrorBody(int code, string? reason, string message) => new()
    {
        ["error"] = new JsonObject
        {
            ["code"] = code,
            ["message"] = message,
            ["errors"] = new JsonArray(new JsonObject { ["domain"] = "global", ["reason"] = reason, ["message"] = message }),
        },
    };

    private static string QueryValue(JsonNode value) => value switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>() ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        JsonArray list => string.Join(',', list.Select(i => i is null ? "" : QueryValue(i))),
        _ => throw WorkflowErrors.Type("a query argument must be a string, number, boolean or list"),
    };
}
