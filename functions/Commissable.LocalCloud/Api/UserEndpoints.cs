using System.Text.Json.Nodes;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Npgsql;
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
        return Json(starter.Start(project, [record.Name], "DELETE_USER", BaseUrl(context), async (scope, ct) =>
        {
            try
            {
                await instances.ExecuteAsync(record, $"DROP ROLE {SqlIdentifier.Quote(name)}", cancellationToken: ct).ConfigureAwait(false);
            }
            catch (PostgresException error)
            {
                throw new OperationFailedException("ERROR_RDBMS", $"The user could not be deleted: {error.MessageText}");
            }
        }));
    }

    private Task<List<string>> UserNamesAsync(InstanceRecord record, CancellationToken ct) =>
        clusters.ReadAsync(record, () => ReadUserNamesAsync(record, ct));

    private async Task<List<string>> ReadUserNamesAsync(InstanceRecord record, CancellationToken ct)
    {
        await using var connection = await instances.OpenAdminAsync(record, cancellationToken: ct).ConfigureAwait(false);
        // An import's own login (see ImportLogin) is the local cloud's, not a user.
        await using var command = new NpgsqlCommand("SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname <> $1 AND NOT starts_with(rolname, $2) ORDER BY rolname", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = InstanceManager.AdminUser });
        command.Parameters.Add(new NpgsqlParameter { Value = Transfer.ImportLogin.RolePrefix });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var names = new List<string>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

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
