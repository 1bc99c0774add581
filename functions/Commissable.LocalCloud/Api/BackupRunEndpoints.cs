using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.LocalCloud.Backups;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using static Commissable.LocalCloud.Api.ApiResults;
using static Commissable.LocalCloud.Api.RequestValidation;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// The backup runs of an instance: list, get, insert (on demand), delete, and the start of a
/// backup-run operation the scheduler uses for automated backups.
/// </summary>
internal sealed class BackupRunEndpoints(InstanceManager instances, OperationManager operations, BackupEngine backups, OperationStarter starter, TimeProvider clock)
{
    public IResult List(HttpContext context, string project, string instance) =>
        ApiResults.List("sql#backupRunsList", backups.List(instances.Get(project, instance)).Select(b => b.ToApi(project, BaseUrl(context))));

    public IResult Get(HttpContext context, string project, string instance, string id) =>
        Json(backups.Get(instances.Get(project, instance), ParseId(id)).ToApi(project, BaseUrl(context)));

    public async Task<IResult> InsertAsync(HttpContext context, string project, string instance)
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
            return starter.Start(project, [record.Name], "BACKUP_VOLUME", baseUrl,
                (scope, ct) => backups.RunAsync(record, backup, scope, ct),
                op => op["backupContext"] = new JsonObject { ["kind"] = "sql#backupContext", ["backupId"] = backup.Id.ToString(CultureInfo.InvariantCulture) });
        }
        catch (ApiException)
        {
            backups.Delete(record, backup.Id);
            throw;
        }
    }

    public IResult Delete(HttpContext context, string project, string instance, string id)
    {
        var record = instances.Get(project, instance);
        var backup = backups.Get(record, ParseId(id));
        return Json(starter.Start(project, [record.Name], "DELETE_BACKUP", BaseUrl(context), (scope, ct) =>
        {
            backups.Delete(record, backup.Id);
            return Task.CompletedTask;
        }, op => op["backupContext"] = new JsonObject { ["kind"] = "sql#backupContext", ["backupId"] = backup.Id.ToString(CultureInfo.InvariantCulture) }));
    }

    /// <summary>Not part of Google's API: takes the automated backup of today's window now, for drills and tests.</summary>
    public IResult TakeAutomated(HttpContext context, string project, string instance) =>
        Json(StartBackup(project, instances.GetRunnable(project, instance), "AUTOMATED", "Automated backup taken on request", BaseUrl(context), clock.GetUtcNow()));
}
