namespace Commissable.LocalCloud.Api;

/// <summary>
/// The Cloud SQL Admin API v1beta4 REST surface (paths as in contracts/sqladmin.v1beta4.json):
/// the route map, one handler class per resource. Handlers validate synchronously (400/404/409
/// answered at once, as Google does) and do the work in an operation. Names in the path are
/// checked by <see cref="RequestGuard"/> before a handler runs; names in bodies by
/// <see cref="RequestValidation"/>, each against the rule Google applies to it, before any of them
/// reaches SQL, a path or a tool.
/// </summary>
internal sealed class CloudSqlApi(
    InstanceEndpoints instances, TransferEndpoints transfer, RecoveryEndpoints recovery, DatabaseEndpoints databases,
    UserEndpoints users, BackupRunEndpoints backupRuns, OperationEndpoints operations)
{
    private const string Prefix = "/sql/v1beta4/projects/{project}";

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet(Prefix + "/instances", (HttpContext c, string project) => instances.List(c, project));
        routes.MapPost(Prefix + "/instances", (HttpContext c, string project) => instances.InsertAsync(c, project));
        routes.MapGet(Prefix + "/instances/{instance}", (HttpContext c, string project, string instance) => instances.Get(c, project, instance));
        routes.MapMethods(Prefix + "/instances/{instance}", ["PATCH", "PUT"], (HttpContext c, string project, string instance) => instances.PatchAsync(c, project, instance));
        routes.MapDelete(Prefix + "/instances/{instance}", (HttpContext c, string project, string instance) => instances.Delete(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/export", (HttpContext c, string project, string instance) => transfer.ExportAsync(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/import", (HttpContext c, string project, string instance) => transfer.ImportAsync(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/clone", (HttpContext c, string project, string instance) => recovery.CloneAsync(c, project, instance));
        routes.MapPost(Prefix + "/instances/{instance}/restoreBackup", (HttpContext c, string project, string instance) => recovery.RestoreBackupAsync(c, project, instance));

        routes.MapGet(Prefix + "/instances/{instance}/databases", (HttpContext c, string project, string instance, CancellationToken ct) => databases.ListAsync(c, project, instance, ct));
        routes.MapPost(Prefix + "/instances/{instance}/databases", (HttpContext c, string project, string instance) => databases.InsertAsync(c, project, instance));
        routes.MapGet(Prefix + "/instances/{instance}/databases/{database}", (HttpContext c, string project, string instance, string database, CancellationToken ct) => databases.GetAsync(c, project, instance, database, ct));
        routes.MapDelete(Prefix + "/instances/{instance}/databases/{database}", (HttpContext c, string project, string instance, string database) => databases.DeleteAsync(c, project, instance, database));

        routes.MapGet(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance, CancellationToken ct) => users.ListAsync(c, project, instance, ct));
        routes.MapGet(Prefix + "/instances/{instance}/users/{name}", (HttpContext c, string project, string instance, string name, CancellationToken ct) => users.GetAsync(c, project, instance, name, ct));
        routes.MapPost(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance) => users.InsertAsync(c, project, instance));
        routes.MapPut(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance) => users.UpdateAsync(c, project, instance));
        routes.MapDelete(Prefix + "/instances/{instance}/users", (HttpContext c, string project, string instance) => users.DeleteAsync(c, project, instance));

        routes.MapGet(Prefix + "/instances/{instance}/backupRuns", (HttpContext c, string project, string instance) => backupRuns.List(c, project, instance));
        routes.MapGet(Prefix + "/instances/{instance}/backupRuns/{id}", (HttpContext c, string project, string instance, string id) => backupRuns.Get(c, project, instance, id));
        routes.MapPost(Prefix + "/instances/{instance}/backupRuns", (HttpContext c, string project, string instance) => backupRuns.InsertAsync(c, project, instance));
        routes.MapDelete(Prefix + "/instances/{instance}/backupRuns/{id}", (HttpContext c, string project, string instance, string id) => backupRuns.Delete(c, project, instance, id));

        routes.MapGet(Prefix + "/operations", (HttpContext c, string project) => operations.List(c, project));
        routes.MapGet(Prefix + "/operations/{operation}", (string project, string operation) => operations.Get(project, operation));

        // Not part of Google's API: takes the automated backup of today's window now, for drills and tests.
        routes.MapPost("/localcloud/v1/projects/{project}/instances/{instance}/automatedBackup", (HttpContext c, string project, string instance) =>
            backupRuns.TakeAutomated(c, project, instance));
    }
}
