using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Naming;
using Commissable.LocalCloud.Backups;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using static Commissable.LocalCloud.Api.ApiResults;
using static Commissable.LocalCloud.Api.RequestValidation;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// Recovery from backups: clone (a new instance, optionally at a point in time within the
/// recovery window) and restoreBackup (a backup run onto an existing instance).
/// </summary>
internal sealed class RecoveryEndpoints(InstanceManager instances, BackupEngine backups, OperationStarter starter, TimeProvider clock)
{
    public async Task<IResult> CloneAsync(HttpContext context, string project, string instance)
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
            return Json(starter.Start(project, [source.Name, destination.Name], "CLONE", BaseUrl(context), async (scope, ct) =>
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

    public async Task<IResult> RestoreBackupAsync(HttpContext context, string project, string instance)
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
        return Json(starter.Start(project, locked, "RESTORE_VOLUME", BaseUrl(context), async (scope, ct) =>
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
}
