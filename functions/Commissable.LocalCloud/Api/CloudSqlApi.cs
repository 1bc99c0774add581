using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;
using Commissable.LocalCloud.Backups;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Commissable.LocalCloud.Transfer;
using Npgsql;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// The Cloud SQL Admin API v1beta4 REST surface (paths as in contracts/sqladmin.v1beta4.json).
/// Handlers validate synchronously (400/404/409 answered at once, as Google does) and do the
/// work in an operation. Names in the path are checked by <see cref="RequestGuard"/> before a
/// handler runs; names in bodies are checked here, each against the rule Google applies to it,
/// before any of them reaches SQL, a path or a tool.
/// </summary>
internal sealed partial class CloudSqlApi(
    InstanceManager instances, OperationManager operations, BackupEngine backups, SqlTransfer transfer, TimeProvider clock,
    LocalCloudOptions options, ILogger<CloudSqlApi> logger)
{
    private const string Prefix = "/sql/v1beta4/projects/{project}";

    /// <summary>
    /// The most pg_dump/pg_restore jobs an export or import may ask for. Google documents no
    /// number for <c>threads</c>; each job is a connection to the instance, so the bound keeps a
    /// request from exhausting the instance's connections (max_connections is 100).
    /// </summary>
    public const int MaxThreads = 16;

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet(Prefix + "/instances", (HttpContext c, string project) => ListInstances(c, project));
        routes.MapPost(Prefix + "/instances", (HttpContext c, string project) => InsertInstanceAsync(c, project));
        routes.MapGet(Prefix + "/instances/{instance}", (HttpContext c, string project, string instance) =>
            Json(instances.ToApi(instances.Get(project, instance), BaseUrl(c))));
        routes.MapMethods(Prefix + "/instances/{instance}", ["PATCH", "PUT"], (HttpContext c, string project, string instance) => PatchInstanceAsync(c, project, instance));
        routes.MapDelete(Prefix + "/instances/{instance}", (HttpContext c, string project, string instance) => DeleteInstance(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/export", (HttpContext c, string project, string instance) => ExportAsync(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/import", (HttpContext c, string project, string instance) => ImportAsync(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/clone", (HttpContext c, string project, string instance) => CloneAsync(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/restoreBackup", (HttpContext c, string project, string instance) => RestoreBackupAsync(c, project, instance));

        routes.MapGet(Prefix + "/instances/{instance}/databases", (HttpContext c, string project, string instance, CancellationToken ct) => ListDatabasesAsync(c, project, instance, ct));
        routes.MapPost(Prefix + "/instances/{instance}/databases", (HttpContext c, string project, string instance) => InsertDatabaseAsync(c, project, instance));
        routes.MapGet(Prefix + "/instances/{instance}/databases/{database}", (HttpContext c, string project, string instance, string database, CancellationToken ct) => GetDatabaseAsync(c, project, instance, database, ct));
        routes.MapDelete(Prefix + "/instances/{instance}/databases/{database}", (HttpContext c, string project, string instance, string database) => DeleteDatabaseAsync(c, project, instance, database));

        routes.MapGet(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance, CancellationToken ct) => ListUsersAsync(c, project, instance, ct));
        routes.MapGet(Prefix + "/instances/{instance}/users/{name}", (HttpContext c, string project, string instance, string name, CancellationToken ct) => GetUserAsync(c, project, instance, name, ct));
        routes.MapPost(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance) => InsertUserAsync(c, project, instance));
        routes.MapPut(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance) => UpdateUserAsync(c, project, instance));
        routes.MapDelete(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance) => DeleteUserAsync(c, project, instance));

        routes.MapGet(Prefix + "/instances/{instance}/backupRuns", (HttpContext c, string project, string instance) =>
            List("sql#backupRunsList", backups.List(instances.Get(project, instance)).Select(b => b.ToApi(project, BaseUrl(c)))));
        routes.MapGet(Prefix + "/instances/{instance}/backupRuns/{id}", (HttpContext c, string project, string instance, string id) =>
            Json(backups.Get(instances.Get(project, instance), ParseId(id)).ToApi(project, BaseUrl(c))));
        routes.MapPost(Prefix + "/instances/{instance}/backupRuns", (HttpContext c, string project, string instance) => InsertBackupRunAsync(c, project, instance));
        routes.MapDelete(Prefix + "/instances/{instance}/backupRuns/{id}", (HttpContext c, string project, string instance, string id) => DeleteBackupRun(c, project, instance, id));

        routes.MapGet(Prefix + "/operations", (HttpContext c, string project) =>
            List("sql#operationsList", operations.List(project, NullIfEmpty(c.Request.Query["instance"]))));
        routes.MapGet(Prefix + "/operations/{operation}", (string project, string operation) =>
            Json(operations.Snapshot(operation) is { } op && (string?)op["targetProject"] == project
                ? op
                : throw ApiException.NotFound($"The operation '{CloudNames.Printable(operation)}' does not exist in project '{project}'.")));

        // Not part of Google's API: takes the automated backup of today's window now, for drills and tests.
        routes.MapPost("/localcloud/v1/projects/{project}/instances/{instance}/automatedBackup", (HttpContext c, string project, string instance) =>
            Json(StartBackup(project, instances.GetRunnable(project, instance), "AUTOMATED", "Automated backup taken on request", BaseUrl(c), clock.GetUtcNow())));
    }

    // ---- instances -------------------------------------------------------------------------

    private IResult ListInstances(HttpContext context, string project) =>
        List("sql#instancesList", instances.All(project).Select(r => instances.ToApi(r, BaseUrl(context))));

    private async Task<IResult> InsertInstanceAsync(HttpContext context, string project)
    {
        var body = await RequestJson.ReadAsync(context, RequestShapes.Instance).ConfigureAwait(false);
        var name = (string?)body["name"];
        ValidateInstanceName(name, "name");
        ValidateRegion(body);
        var version = (string?)body["databaseVersion"];
        if (version != instances.Binaries.DatabaseVersion)
        {
            throw ApiException.BadRequest(
                $"databaseVersion '{CloudNames.Printable(version ?? "(missing)")}' is not available on this local cloud; available: {instances.Binaries.DatabaseVersion}.");
        }
        var rootPassword = (string?)body["rootPassword"];
        body.Remove("rootPassword");
        foreach (var computed in new[] { "state", "ipAddresses", "connectionName", "selfLink", "kind", "createTime" })
        {
            body.Remove(computed);
        }
        ValidateBackupConfiguration(body);
        var now = clock.GetUtcNow();
        var record = instances.Register(project, name!, body, now);
        try
        {
            return Json(StartOperation(project, [record.Name], "CREATE", BaseUrl(context), async (scope, ct) =>
            {
                try
                {
                    record.ArchivingSince = record.PitrEnabled ? clock.GetUtcNow() : null;
                    await instances.InitializeAsync(record, rootPassword, ct).ConfigureAwait(false);
                    record.State = "RUNNABLE";
                    instances.Save(record);
                }
                catch
                {
                    await instances.DiscardAsync(record, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
            }));
        }
        catch (ApiException)
        {
            await instances.DiscardAsync(record, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<IResult> PatchInstanceAsync(HttpContext context, string project, string instance)
    {
        var record = instances.Get(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Instance).ConfigureAwait(false);
        if (body["region"] is not null && (string?)body["region"] != record.Region)
        {
            throw ApiException.BadRequest($"The region of an instance cannot be changed: 'region' must be {record.Region} or absent.");
        }
        if (body["name"] is not null && (string?)body["name"] != instance)
        {
            throw ApiException.BadRequest("An instance cannot be renamed: 'name' must be the instance's own name or absent.");
        }
        if (body["databaseVersion"] is not null && (string?)body["databaseVersion"] != instances.Binaries.DatabaseVersion)
        {
            throw ApiException.BadRequest($"databaseVersion cannot be changed on this local cloud; it is {instances.Binaries.DatabaseVersion}.");
        }
        foreach (var ignored in new[] { "rootPassword", "state", "ipAddresses", "connectionName", "selfLink", "kind", "createTime", "name", "project" })
        {
            body.Remove(ignored);
        }
        if (body["settings"] is JsonObject settings)
        {
            settings.Remove("settingsVersion");
        }
        var merged = record.Resource.DeepClone().AsObject();
        Merge(merged, body);
        ValidateBackupConfiguration(merged);
        var wasPitr = record.PitrEnabled;
        var wasBackups = record.BackupsEnabled;
        var policy = (string?)merged["settings"]?["activationPolicy"] ?? "ALWAYS";
        if (policy is not ("ALWAYS" or "NEVER"))
        {
            throw ApiException.BadRequest($"settings.activationPolicy '{CloudNames.Printable(policy)}' is not supported; use ALWAYS (running) or NEVER (stopped).");
        }
        return Json(StartOperation(project, [record.Name], "UPDATE", BaseUrl(context), async (scope, ct) =>
        {
            record.Resource = merged;
            record.SettingsVersion++;
            if (record.BackupsEnabled && !wasBackups)
            {
                record.BackupsEnabledAt = clock.GetUtcNow();
            }
            instances.Save(record);
            if (record.PitrEnabled != wasPitr)
            {
                // Archiving (re)starts from here; what was archived before a gap cannot be rolled over it.
                await backups.StartNewArchivingStretchAsync(record, ct).ConfigureAwait(false);
                if (record.State == "RUNNABLE")
                {
                    await instances.RestartAsync(record, ct).ConfigureAwait(false);
                }
            }
            // activationPolicy NEVER stops the instance (state STOPPED), ALWAYS starts it again.
            if (policy == "NEVER" && record.State == "RUNNABLE")
            {
                await instances.Cluster(record).StopAsync(ct).ConfigureAwait(false);
                record.State = "STOPPED";
                instances.Save(record);
            }
            else if (policy == "ALWAYS" && record.State == "STOPPED")
            {
                await instances.StartAsync(record, ct).ConfigureAwait(false);
                record.State = "RUNNABLE";
                instances.Save(record);
            }
        }));
    }

    private IResult DeleteInstance(HttpContext context, string project, string instance)
    {
        var record = instances.Get(project, instance);
        return Json(StartOperation(project, [record.Name], "DELETE", BaseUrl(context), (scope, ct) =>
        {
            // Requests that race the deletion see it (400 invalidState, then 404), not a refused connection.
            record.State = "PENDING_DELETE";
            return instances.DiscardAsync(record, ct);
        }));
    }

    private async Task<IResult> ExportAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Export).ConfigureAwait(false);
        var export = body["exportContext"] as JsonObject ?? throw ApiException.BadRequest("exportContext is required.");
        ValidateExport(export);
        var target = transfer.ValidateExport(record, export);
        export["kind"] = "sql#exportContext";
        return Json(StartOperation(project, [record.Name], "EXPORT", BaseUrl(context),
            (scope, ct) => transfer.ExportAsync(record, export, target, scope, ct),
            op => op["exportContext"] = export.DeepClone()));
    }

    private async Task<IResult> ImportAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Import).ConfigureAwait(false);
        var import = body["importContext"] as JsonObject ?? throw ApiException.BadRequest("importContext is required.");
        ValidateImport(import);
        var source = transfer.ValidateImport(record, import);
        import["kind"] = "sql#importContext";
        return Json(StartOperation(project, [record.Name], "IMPORT", BaseUrl(context),
            (scope, ct) => transfer.ImportAsync(record, import, source, scope, ct),
            op => op["importContext"] = import.DeepClone()));
    }

    private async Task<IResult> CloneAsync(HttpContext context, string project, string instance)
    {
        var source = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Clone).ConfigureAwait(false);
        var clone = body["cloneContext"] as JsonObject ?? throw ApiException.BadRequest("cloneContext is required.");
        var destinationName = (string?)clone["destinationInstanceName"];
        ValidateInstanceName(destinationName, "cloneContext.destinationInstanceName");
        if ((string?)clone["destinationProject"] is { } destinationProject && destinationProject != project)
        {
            throw ApiException.BadRequest($"cloneContext.destinationProject must be the source's project '{project}' on the local cloud.");
        }
        foreach (var (database, i) in (clone["databaseNames"]?.AsArray() ?? []).Select((d, i) => ((string?)d, i)))
        {
            ValidateDatabaseName(database, $"cloneContext.databaseNames[{i}]");
        }
        if (instances.Find(project, destinationName!) is not null || destinationName == instance)
        {
            throw ApiException.Conflict($"The destination instance '{destinationName}' already exists; a clone always creates a new instance.");
        }
        DateTimeOffset? pointInTime = null;
        if (clone["pointInTime"] is { } pit)
        {
            pointInTime = DateTimeOffset.TryParse((string?)pit, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw ApiException.BadRequest($"cloneContext.pointInTime '{CloudNames.Printable((string?)pit ?? "")}' is not an RFC 3339 timestamp, for example 2026-11-25T03:00:00.000Z.");
        }
        else if (clone["pitrTimestampMs"] is { } ms)
        {
            pointInTime = long.TryParse(ScalarText(ms), NumberStyles.Integer, CultureInfo.InvariantCulture, out var millis)
                && millis >= 0 && millis <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                ? DateTimeOffset.FromUnixTimeMilliseconds(millis)
                : throw ApiException.BadRequest("cloneContext.pitrTimestampMs must be milliseconds since the epoch.");
        }
        if (pointInTime is { } time)
        {
            if (!source.PitrEnabled)
            {
                throw ApiException.BadRequest($"Point-in-time recovery is not enabled on instance '{instance}'; a clone to a point in time needs it.");
            }
            var window = backups.RecoveryWindow(source)
                ?? throw ApiException.BadRequest(
                    $"Instance '{instance}' has no recovery window yet: point-in-time recovery starts at the first successful backup taken since it was enabled.");
            if (time < window.Start || time > window.End)
            {
                throw ApiException.BadRequest(
                    $"The point in time {OperationManager.Timestamp(time)} is outside the recovery window of instance '{instance}': " +
                    $"{OperationManager.Timestamp(window.Start)} to {OperationManager.Timestamp(window.End)}.");
            }
        }
        var resource = source.Resource.DeepClone().AsObject();
        resource["name"] = destinationName;
        var destination = instances.Register(project, destinationName!, resource, clock.GetUtcNow());
        try
        {
            return Json(StartOperation(project, [source.Name, destination.Name], "CLONE", BaseUrl(context), async (scope, ct) =>
            {
                try
                {
                    await backups.CloneAsync(source, destination, pointInTime, scope, ct).ConfigureAwait(false);
                    destination.State = "RUNNABLE";
                    instances.Save(destination);
                }
                catch
                {
                    await instances.DiscardAsync(destination, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
            }));
        }
        catch (ApiException)
        {
            await instances.DiscardAsync(destination, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<IResult> RestoreBackupAsync(HttpContext context, string project, string instance)
    {
        var target = instances.Get(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.RestoreBackup).ConfigureAwait(false);
        var restore = body["restoreBackupContext"] as JsonObject ?? throw ApiException.BadRequest("restoreBackupContext is required.");
        var id = restore["backupRunId"] is { } raw ? ParseId(ScalarText(raw)) : throw ApiException.BadRequest("restoreBackupContext.backupRunId is required.");
        var sourceName = (string?)restore["instanceId"] ?? instance;
        ValidateInstanceName(sourceName, "restoreBackupContext.instanceId");
        if ((string?)restore["project"] is { } sourceProject && sourceProject != project)
        {
            throw ApiException.BadRequest($"restoreBackupContext.project must be '{project}': the local cloud restores within one project.");
        }
        var source = instances.Get(project, sourceName);
        var backup = backups.Get(source, id);
        if (backup.Status != "SUCCESSFUL")
        {
            throw ApiException.BadRequest($"The backup run {id} is {backup.Status}; only a SUCCESSFUL backup can be restored.");
        }
        var locked = sourceName == instance ? new[] { instance } : [instance, sourceName];
        return Json(StartOperation(project, locked, "RESTORE_VOLUME", BaseUrl(context), async (scope, ct) =>
        {
            target.State = "MAINTENANCE";
            instances.Save(target);
            try
            {
                await backups.RestoreAsync(target, source, backup, ct).ConfigureAwait(false);
            }
            finally
            {
                target.State = "RUNNABLE";
                instances.Save(target);
            }
        }));
    }

    // ---- databases -------------------------------------------------------------------------

    private async Task<IResult> ListDatabasesAsync(HttpContext context, string project, string instance, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        var names = await DatabaseNamesAsync(record, ct).ConfigureAwait(false);
        return List("sql#databasesList", names.Select(n => DatabaseJson(record, n, BaseUrl(context))));
    }

    private async Task<IResult> GetDatabaseAsync(HttpContext context, string project, string instance, string database, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        var names = await DatabaseNamesAsync(record, ct).ConfigureAwait(false);
        return names.Contains(database)
            ? Json(DatabaseJson(record, database, BaseUrl(context)))
            : throw ApiException.NotFound($"The database '{database}' does not exist on instance '{instance}'.");
    }

    private async Task<IResult> InsertDatabaseAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Database).ConfigureAwait(false);
        var name = (string?)body["name"];
        ValidateDatabaseName(name, "name");
        if ((await DatabaseNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(name!))
        {
            throw ApiException.Conflict($"The database '{name}' already exists on instance '{instance}'.");
        }
        return Json(StartOperation(project, [record.Name], "CREATE_DATABASE", BaseUrl(context),
            (scope, ct) => instances.ExecuteAsync(record, $"CREATE DATABASE {Quote(name!)} OWNER {InstanceManager.SuperuserRole}", cancellationToken: ct)));
    }

    private async Task<IResult> DeleteDatabaseAsync(HttpContext context, string project, string instance, string database)
    {
        var record = instances.GetRunnable(project, instance);
        if (!(await DatabaseNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(database))
        {
            throw ApiException.NotFound($"The database '{database}' does not exist on instance '{instance}'.");
        }
        return Json(StartOperation(project, [record.Name], "DELETE_DATABASE", BaseUrl(context), async (scope, ct) =>
        {
            try
            {
                await instances.ExecuteAsync(record, $"DROP DATABASE {Quote(database)}", cancellationToken: ct).ConfigureAwait(false);
            }
            catch (PostgresException error)
            {
                throw new OperationFailedException("ERROR_RDBMS", $"The database could not be deleted: {error.MessageText}");
            }
        }));
    }

    private Task<HashSet<string>> DatabaseNamesAsync(InstanceRecord record, CancellationToken ct) =>
        ReadClusterAsync(record, () => ReadDatabaseNamesAsync(record, ct));

    private async Task<HashSet<string>> ReadDatabaseNamesAsync(InstanceRecord record, CancellationToken ct)
    {
        await using var connection = await instances.OpenAdminAsync(record, cancellationToken: ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname", connection);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

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

    // ---- users -----------------------------------------------------------------------------

    private async Task<IResult> ListUsersAsync(HttpContext context, string project, string instance, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        var users = await UserNamesAsync(record, ct).ConfigureAwait(false);
        return List("sql#usersList", users.Select(u => UserJson(record, u)));
    }

    private async Task<IResult> GetUserAsync(HttpContext context, string project, string instance, string name, CancellationToken ct)
    {
        var record = instances.GetRunnable(project, instance);
        return (await UserNamesAsync(record, ct).ConfigureAwait(false)).Contains(name)
            ? Json(UserJson(record, name))
            : throw ApiException.NotFound($"The user '{name}' does not exist on instance '{instance}'.");
    }

    private async Task<IResult> InsertUserAsync(HttpContext context, string project, string instance)
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
        return Json(StartOperation(project, [record.Name], "CREATE_USER", BaseUrl(context),
            (scope, ct) => instances.ExecuteAsync(record,
                $"CREATE ROLE {Quote(name!)} LOGIN CREATEDB CREATEROLE IN ROLE {InstanceManager.SuperuserRole}{passwordClause}", cancellationToken: ct)));
    }

    private async Task<IResult> UpdateUserAsync(HttpContext context, string project, string instance)
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
            ? $"ALTER ROLE {Quote(name)} LOGIN"
            : $"ALTER ROLE {Quote(name)} PASSWORD '{Scram.Verifier(password)}'";
        return Json(StartOperation(project, [record.Name], "UPDATE_USER", BaseUrl(context),
            (scope, ct) => instances.ExecuteAsync(record, sql, cancellationToken: ct)));
    }

    private async Task<IResult> DeleteUserAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var name = NullIfEmpty(context.Request.Query["name"]) ?? throw ApiException.BadRequest("The query parameter 'name' is required.");
        ValidateUserName(name, "name");
        if (!(await UserNamesAsync(record, context.RequestAborted).ConfigureAwait(false)).Contains(name))
        {
            throw ApiException.NotFound($"The user '{name}' does not exist on instance '{instance}'.");
        }
        return Json(StartOperation(project, [record.Name], "DELETE_USER", BaseUrl(context), async (scope, ct) =>
        {
            try
            {
                await instances.ExecuteAsync(record, $"DROP ROLE {Quote(name)}", cancellationToken: ct).ConfigureAwait(false);
            }
            catch (PostgresException error)
            {
                throw new OperationFailedException("ERROR_RDBMS", $"The user could not be deleted: {error.MessageText}");
            }
        }));
    }

    private Task<List<string>> UserNamesAsync(InstanceRecord record, CancellationToken ct) =>
        ReadClusterAsync(record, () => ReadUserNamesAsync(record, ct));

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

    // ---- backup runs -----------------------------------------------------------------------

    private async Task<IResult> InsertBackupRunAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.BackupRun, emptyAllowed: true).ConfigureAwait(false);
        var description = (string?)body["description"];
        if (description is { Length: > MaxDescription })
        {
            throw ApiException.BadRequest($"description is {description.Length} characters; at most {MaxDescription} are kept.");
        }
        return Json(StartBackup(project, record, "ON_DEMAND", description, BaseUrl(context), null));
    }

    /// <summary>Starts a backup-run operation (also used by the scheduler for automated backups).</summary>
    public JsonObject StartBackup(string project, InstanceRecord record, string type, string? description, string baseUrl, DateTimeOffset? windowStart)
    {
        if (operations.IsBusy(project, record.Name))
        {
            throw ApiException.Busy(record.Name);
        }
        var backup = backups.Enqueue(record, type, description, windowStart);
        try
        {
            return StartOperation(project, [record.Name], "BACKUP_VOLUME", baseUrl,
                (scope, ct) => backups.RunAsync(record, backup, scope, ct),
                op => op["backupContext"] = new JsonObject { ["kind"] = "sql#backupContext", ["backupId"] = backup.Id.ToString(CultureInfo.InvariantCulture) });
        }
        catch (ApiException)
        {
            backups.Delete(record, backup.Id);
            throw;
        }
    }

    private IResult DeleteBackupRun(HttpContext context, string project, string instance, string id)
    {
        var record = instances.Get(project, instance);
        var backup = backups.Get(record, ParseId(id));
        return Json(StartOperation(project, [record.Name], "DELETE_BACKUP", BaseUrl(context), (scope, ct) =>
        {
            backups.Delete(record, backup.Id);
            return Task.CompletedTask;
        }, op => op["backupContext"] = new JsonObject { ["kind"] = "sql#backupContext", ["backupId"] = backup.Id.ToString(CultureInfo.InvariantCulture) }));
    }

    // ---- helpers ---------------------------------------------------------------------------

    /// <summary>The most characters of a backup run's description the local cloud keeps.</summary>
    private const int MaxDescription = 4096;

    /// <summary>
    /// Starts an operation whose failure, whatever threw it, reaches the caller as a Google-shaped
    /// error (<see cref="OperationErrors"/>) and reaches the log in full.
    /// </summary>
    private JsonObject StartOperation(string project, string[] targets, string operationType, string selfLinkBase,
        Func<OperationScope, CancellationToken, Task> work, Action<JsonObject>? decorate = null) =>
        operations.Start(project, targets, operationType, selfLinkBase, async (scope, ct) =>
        {
            try
            {
                await work(scope, ct).ConfigureAwait(false);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                var (code, message) = OperationErrors.Describe(error, options.StateDirectory);
                logger.LogError("operation {Operation} ({Type}) on {Instance} failed: {Error}", scope.Name, operationType, targets[0], OperationErrors.ForLog(error));
                throw new OperationFailedException(code, message);
            }
        }, decorate);

    /// <summary>
    /// Reads from an instance's cluster for a request. A cluster that refuses the connection is
    /// being deleted, stopped or restarted by an operation: the request learns which (404 gone,
    /// 400 invalidState, 409 operationInProgress) instead of a 500.
    /// </summary>
    private async Task<T> ReadClusterAsync<T>(InstanceRecord record, Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception error) when (error is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            logger.LogWarning("instance {Instance} refused a request's connection: {Error}", record.Name, OperationErrors.ForLog(error));
            if (instances.Find(record.Project, record.Name) is not { } current)
            {
                throw ApiException.NotFound($"The Cloud SQL instance '{record.Name}' does not exist in project '{record.Project}'.");
            }
            if (current.State != "RUNNABLE")
            {
                throw new ApiException(400, "invalidState", $"The instance '{record.Name}' is {current.State}, not RUNNABLE.");
            }
            if (operations.IsBusy(record.Project, record.Name))
            {
                throw ApiException.Busy(record.Name);
            }
            throw new ApiException(503, "backendError", $"The instance '{record.Name}' is not accepting connections. Retry the request.");
        }
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            // Maps merge too: gcloud sends the labels it keeps and each removed one as "key": null.
            if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                Merge(targetObject, patchObject);
            }
            else if (value is null)
            {
                target.Remove(key);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private static void ValidateBackupConfiguration(JsonObject resource)
    {
        var backup = resource["settings"]?["backupConfiguration"];
        if (backup is null) return;
        var startTime = (string?)backup["startTime"];
        if (startTime is not null && !StartTimePattern().IsMatch(startTime))
        {
            throw ApiException.BadRequest($"settings.backupConfiguration.startTime '{startTime}' must be HH:MM (24-hour, UTC).");
        }
        if (((bool?)backup["pointInTimeRecoveryEnabled"] ?? false) && !((bool?)backup["enabled"] ?? false))
        {
            throw ApiException.BadRequest("Point-in-time recovery requires automated backups: set settings.backupConfiguration.enabled to true.");
        }
        var days = (int?)backup["transactionLogRetentionDays"];
        if (days is < 1 or > 35)
        {
            throw ApiException.BadRequest("settings.backupConfiguration.transactionLogRetentionDays must be between 1 and 35.");
        }
        var retained = (int?)backup["backupRetentionSettings"]?["retainedBackups"];
        if (retained is < 1 or > 365)
        {
            throw ApiException.BadRequest("settings.backupConfiguration.backupRetentionSettings.retainedBackups must be between 1 and 365.");
        }
    }

    private static void ValidateInstanceName(string? name, string field)
    {
        if (CloudNames.InstanceProblem(name, field) is { } problem) throw ApiException.BadRequest(problem);
    }

    private static void ValidateDatabaseName(string? name, string field)
    {
        if (CloudNames.DatabaseProblem(name, field) is { } problem) throw ApiException.BadRequest(problem);
    }

    private static void ValidateUserName(string? name, string field)
    {
        if (!CloudNames.IsUser(name)) throw ApiException.BadRequest(CloudNames.UserProblem(name, field)!);
        if (IsReservedRole(name))
        {
            throw ApiException.BadRequest($"'{field}' names '{name}', a role reserved for running the instance; choose another user.");
        }
    }

    // Roles that run the instance (cloudsql*, including each import's own cloudsqlimport_ login) and
    // PostgreSQL's predefined pg_* roles: never an import user or a user to manage. postgres is
    // an ordinary user on Cloud SQL (and the default import user).
    private static bool IsReservedRole(string name) =>
        Commissable.Backup.Core.Naming.ReservedRoles.IsReserved(name) && !string.Equals(name, "postgres", StringComparison.Ordinal);

    /// <summary>The region becomes part of the instance's connection name and its socket directory.</summary>
    private static void ValidateRegion(JsonObject resource)
    {
        if ((string?)resource["region"] is { } region && !RegionPattern().IsMatch(region))
        {
            throw ApiException.BadRequest($"'region' must be a Cloud SQL region such as us-central1 (got '{CloudNames.Printable(region)}').");
        }
    }

    /// <summary>What an export names, checked before the request is accepted (types were checked when the body was read).</summary>
    private static void ValidateExport(JsonObject export)
    {
        ValidateUri((string?)export["uri"], "exportContext.uri");
        foreach (var (database, i) in (export["databases"]?.AsArray() ?? []).Select((d, i) => ((string?)d, i)))
        {
            ValidateDatabaseName(database, $"exportContext.databases[{i}]");
        }
        var options = export["sqlExportOptions"] as JsonObject;
        ValidateThreads(options?["threads"], "exportContext.sqlExportOptions.threads");
        foreach (var (table, i) in (options?["tables"]?.AsArray() ?? []).Select((t, i) => ((string?)t, i)))
        {
            // schema.table, each part a PostgreSQL identifier (quoted ones may hold any printable character).
            if (string.IsNullOrEmpty(table) || table.Length > 129 || table.Any(char.IsControl))
            {
                throw ApiException.BadRequest($"'exportContext.sqlExportOptions.tables[{i}]' must be a table name ('table' or 'schema.table'), at most 129 characters, without control characters.");
            }
        }
    }

    private static void ValidateImport(JsonObject import)
    {
        ValidateUri((string?)import["uri"], "importContext.uri");
        ValidateDatabaseName((string?)import["database"], "importContext.database");
        if ((string?)import["importUser"] is { Length: > 0 } user)
        {
            ValidateUserName(user, "importContext.importUser");
        }
        ValidateThreads(import["sqlImportOptions"]?["threads"], "importContext.sqlImportOptions.threads");
    }

    private static void ValidateThreads(JsonNode? threads, string field)
    {
        if (threads is not null && (int)threads is < 1 or > MaxThreads)
        {
            throw ApiException.BadRequest($"'{field}' must be from 1 to {MaxThreads} (got {(int)threads}).");
        }
    }

    /// <summary>Cloud Storage object names are at most 1024 bytes and hold no control characters.</summary>
    private static void ValidateUri(string? uri, string field)
    {
        if (uri is null) return;
        if (uri.Length > 1100 || uri.Any(char.IsControl))
        {
            throw ApiException.BadRequest($"'{field}' must be gs://<bucket>/<object>, at most 1024 bytes of object name, without control characters (got '{CloudNames.Printable(uri)}').");
        }
    }

    private static long ParseId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ApiException.BadRequest($"'{CloudNames.Printable(id)}' is not a backup run id (an integer).");

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Int64 fields arrive as strings (Google's convention) or, from lenient clients, as numbers.</summary>
    private static string ScalarText(JsonNode node) =>
        node.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString(Wire);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string BaseUrl(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}/";

    /// <summary>Google's answers do not escape quotes and angle brackets; neither does the local cloud.</summary>
    internal static readonly System.Text.Json.JsonSerializerOptions Wire = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(Wire), "application/json; charset=UTF-8");

    private static IResult List(string kind, IEnumerable<JsonObject> items)
    {
        var list = new JsonObject { ["kind"] = kind };
        var array = new JsonArray(items.Select(i => (JsonNode)i).ToArray());
        if (array.Count > 0) list["items"] = array;
        return Json(list);
    }

    [GeneratedRegex(@"\A[a-z]{2,}(?:-[a-z]+)+[0-9]{1,2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RegionPattern();

    [GeneratedRegex(@"\A(?:[01][0-9]|2[0-3]):[0-5][0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex StartTimePattern();
}
