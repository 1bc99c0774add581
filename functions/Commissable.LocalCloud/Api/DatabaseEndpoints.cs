using System.Text.Json.Nodes;
using Commissable.LocalCloud.Instances;
using static Commissable.LocalCloud.Api.ApiResults;
using static Commissable.LocalCloud.Api.RequestValidation;

namespace Commissable.LocalCloud.Api;

/// <summary>The databases of an instance, read from and created in its PostgreSQL cluster.</summary>
internal sealed class DatabaseEndpoints(InstanceManager instances, OperationStarter starter, ClusterReads clusters)
{
    public async Task<IResult> ListAsync(HttpContext context, string project, string instance, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        var names = await DatabaseNamesAsync(record, ct).ConfigureAwait(false);
        return List("sql#databasesList", names.Select(n => DatabaseJson(record, n, BaseUrl(context))));
    }

    public async Task<IResult> GetAsync(HttpContext context, string project, string instance, string database, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        var names = await DatabaseNamesAsync(record, ct).ConfigureAwait(false);
        return names.Contains(database)
            ? Json(DatabaseJson(record, database, BaseUrl(context)))
            : throw ApiException.NotFound($"The database '{database}' does not exist on instance '{instance}'.");
    }

    public async Task<IResult> InsertAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Database).ConfigureAwait(false);
        var name = (string?)body["name"];
        ValidateDatabaseName(name, "name");
        if ((await DatabaseNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(name!))
        {
            throw ApiException.Conflict($"The database '{name}' already exists on instance '{instance}'.");
        }
        return Json(starter.Start(project, [record.Name], "CREATE_DATABASE", BaseUrl(context),
            (scope, ct) => instances.ExecuteAsync(record, $"CREATE DATABASE {SqlIdentifier.Quote(name!)} OWNER {InstanceManager.SuperuserRole}", cancellationToken: ct)));
    }

    public async Task<IResult> DeleteAsync(HttpContext context, string project, string instance, string database)
    {
        var record = instances.GetRunnable(project, instance);
        if (!(await DatabaseNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(database))
        {
            throw ApiException.NotFound($"The database '{database}' does not exist on instance '{instance}'.");
        }
        return Json(starter.StartDrop(project, record, "DELETE_DATABASE", BaseUrl(context), $"DROP DATABASE {SqlIdentifier.Quote(database)}", "database"));
    }

    private async Task<HashSet<string>> DatabaseNamesAsync(InstanceRecord record, CancellationToken ct) =>
        new(await clusters.NamesAsync(record, "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname", [], ct).ConfigureAwait(false),
            StringComparer.Ordinal);

    private static JsonObject DatabaseJson(InstanceRecord record, string name, string baseUrl) => new()
    {
        ["kind"] = "sql#database",
        ["name"] = name,
        ["instance"] = record.Name,
        ["project"] = record.Project,
        ["charset"] = "UTF8",
        ["collation"] = "C.UTF-8",
        ["selfLink"] = $"{baseUrl}sql/v1beta4/projects/{record.Project}/instances/{record.Name}/databases/{Uri.EscapeDataString(name)}",
    };
}
