using System.Text.Json.Nodes;
using Commissable.Backup.Core.Naming;
using Commissable.LocalCloud.Backups;
using Commissable.LocalCloud.Instances;
using static Commissable.LocalCloud.Api.ApiResults;
using static Commissable.LocalCloud.Api.RequestValidation;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// The instances resource: list, get, insert, patch (settings, labels, activation policy) and
/// delete. Insert and patch check what they are given synchronously and do the work (initdb,
/// restarts, stops) in an operation.
/// </summary>
internal sealed class InstanceEndpoints(InstanceManager instances, BackupEngine backups, OperationStarter starter, TimeProvider clock)
{
    public IResult List(HttpContext context, string project) =>
        ApiResults.List("sql#instancesList", instances.All(project).Select(r => instances.ToApi(r, BaseUrl(context))));

    public IResult Get(HttpContext context, string project, string instance) =>
        Json(instances.ToApi(instances.Get(project, instance), BaseUrl(context)));

    public async Task<IResult> InsertAsync(HttpContext context, string project)
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
            return Json(starter.Start(project, [record.Name], "CREATE", BaseUrl(context), async (scope, ct) =>
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

    public async Task<IResult> PatchAsync(HttpContext context, string project, string instance)
    {
        var record = instances.Get(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Instance).ConfigureAwait(false);
        // A key given as null is a change too: the merge removes it, and an instance without a region
        // fell back to us-central1 (another connectionName and socket directory). Google keeps the
        // region fixed; the instance's own region, sent back as GET gave it, is no change.
        if (body.ContainsKey("region") && (body["region"] is null || (string?)body["region"] != record.Region))
        {
            throw ApiException.BadRequest($"The region of an instance cannot be changed: 'region' must be {record.Region} or absent.");
        }
        if (body["name"] is not null && (string?)body["name"] != instance)
        {
            throw ApiException.BadRequest("An instance cannot be renamed: 'name' must be the instance's own name or absent.");
        }
        if (body.ContainsKey("databaseVersion") && (body["databaseVersion"] is null || (string?)body["databaseVersion"] != instances.Binaries.DatabaseVersion))
        {
            throw ApiException.BadRequest($"databaseVersion cannot be changed on this local cloud; it is {instances.Binaries.DatabaseVersion}.");
        }
        // Without its settings an instance has no tier, backups or flags: null is no way to change them.
        if (body.ContainsKey("settings") && body["settings"] is null)
        {
            throw ApiException.BadRequest("'settings' cannot be null: send the settings to change, or leave it out.");
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
        return Json(starter.Start(project, [record.Name], "UPDATE", BaseUrl(context), async (scope, ct) =>
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

    public IResult Delete(HttpContext context, string project, string instance)
    {
        var record = instances.Get(project, instance);
        return Json(starter.Start(project, [record.Name], "DELETE", BaseUrl(context), (scope, ct) =>
        {
            // Requests that race the deletion see it (400 invalidState, then 404), not a refused connection.
            record.State = "PENDING_DELETE";
            return instances.DiscardAsync(record, ct);
        }));
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
}
