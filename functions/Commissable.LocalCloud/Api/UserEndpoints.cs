using System.Text.Json.Nodes;
using Commissable.Backup.Postgres.Access;
using Commissable.LocalCloud.Instances;
using static Commissable.LocalCloud.Api.ApiResults;
using static Commissable.LocalCloud.Api.RequestValidation;

namespace Commissable.LocalCloud.Api;

/// <summary>The built-in users of an instance: login roles of its PostgreSQL cluster, without the local cloud's own.</summary>
internal sealed class UserEndpoints(InstanceManager instances, OperationStarter starter, ClusterReads clusters)
{
    public async Task<IResult> ListAsync(HttpContext context, string project, string instance, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        var users = await UserNamesAsync(record, ct).ConfigureAwait(false);
        return List("sql#usersList", users.Select(u => UserJson(record, u)));
    }

    public async Task<IResult> GetAsync(HttpContext context, string project, string instance, string name, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        return (await UserNamesAsync(record, ct).ConfigureAwait(false)).Contains(name)
            ? Json(UserJson(record, name))
            : throw ApiException.NotFound($"The user '{name}' does not exist on instance '{instance}'.");
    }

    public async Task<IResult> InsertAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.User).ConfigureAwait(false);
        var name = (string?)body["name"];
        ValidateUserName(name, "name");
        var password = (string?)body["password"];
        if ((await UserNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(name!) || name == InstanceManager.AdminUser)
        {
            throw ApiException.Conflict($"The user '{name}' already exists on instance '{instance}'.");
        }
        var passwordClause = password is null ? "" : $" PASSWORD '{Scram.Verifier(password)}'";
        return Json(starter.Start(project, [record.Name], "CREATE_USER", BaseUrl(context),
            (scope, ct) => instances.ExecuteAsync(record,
                $"CREATE ROLE {SqlIdentifier.Quote(name!)} LOGIN CREATEDB CREATEROLE IN ROLE {InstanceManager.SuperuserRole}{passwordClause}", cancellationToken: ct)));
    }

    public async Task<IResult> UpdateAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var name = NullIfEmpty(context.Request.Query["name"]) ?? throw ApiException.BadRequest("The query parameter 'name' is required.");
        ValidateUserName(name, "name");
        var body = await RequestJson.ReadAsync(context, RequestShapes.User).ConfigureAwait(false);
        if ((string?)body["name"] is { } bodyName && bodyName != name)
        {
            throw ApiException.BadRequest("A user cannot be renamed: the body's 'name' must be the query's 'name' or absent.");
        }
        if (!(await UserNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(name))
        {
            throw ApiException.NotFound($"The user '{name}' does not exist on instance '{instance}'.");
        }
        var password = (string?)body["password"];
        var sql = password is null
            ? $"ALTER ROLE {SqlIdentifier.Quote(name)} LOGIN"
            : $"ALTER ROLE {SqlIdentifier.Quote(name)} PASSWORD '{Scram.Verifier(password)}'";
        return Json(starter.Start(project, [record.Name], "UPDATE_USER", BaseUrl(context),
            (scope, ct) => instances.ExecuteAsync(record, sql, cancellationToken: ct)));
    }

    public async Task<IResult> DeleteAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var name = NullIfEmpty(context.Request.Query["name"]) ?? throw ApiException.BadRequest("The query parameter 'name' is required.");
        ValidateUserName(name, "name");
        if (!(await UserNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(name))
        {
            throw ApiException.NotFound($"The user '{name}' does not exist on instance '{instance}'.");
        }
        return Json(starter.StartDrop(project, record, "DELETE_USER", BaseUrl(context), $"DROP ROLE {SqlIdentifier.Quote(name)}", "user"));
    }

    // An import's own login (see ImportLogin) is the local cloud's, not a user.
    private Task<List<string>> UserNamesAsync(InstanceRecord record, CancellationToken ct) =>
        clusters.NamesAsync(record, "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname <> $1 AND NOT starts_with(rolname, $2) ORDER BY rolname",
            [InstanceManager.AdminUser, Transfer.ImportLogin.RolePrefix], ct);

    private static JsonObject UserJson(InstanceRecord record, string name) => new()
    {
        ["kind"] = "sql#user",
        ["name"] = name,
        ["host"] = "",
        ["instance"] = record.Name,
        ["project"] = record.Project,
        ["type"] = "BUILT_IN",
    };
}
