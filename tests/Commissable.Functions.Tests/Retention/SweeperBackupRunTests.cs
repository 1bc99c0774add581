using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Retention;
using Commissable.Functions.Tests.Completion;

namespace Commissable.Functions.Tests.Retention;

/// <summary>
/// retention-sweeper against the Cloud SQL backup runs of real local-cloud instances: runs the
/// catalog never heard of (their audit entry lost) are reconciled. Each test has its own
/// instances, so runs never mix.
/// </summary>
public sealed class SweeperBackupRunTests(SweeperEnvironment env) : IClassFixture<SweeperEnvironment>
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    /// <summary>A finished backup run of <paramref name="instance"/>: on demand through the Cloud SQL API, or the local cloud's automated one.</summary>
    private async Task<(long Id, string Operation)> TakeRunAsync(string instance, bool automated = false)
    {
        var operation = automated
            ? await env.Cloud.RunAsync(HttpMethod.Post, $"localcloud/v1/projects/{env.Cloud.Project}/instances/{instance}/automatedBackup")
            : await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api($"instances/{instance}/backupRuns"), """{"description":"before the import"}""");
        return (long.Parse((string)operation["backupContext"]!["backupId"]!, CultureInfo.InvariantCulture), (string)operation["name"]!);
    }

    private async Task<int> RunStatusAsync(string instance, long id) =>
        (await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api($"instances/{instance}/backupRuns/{id}"))).Status;

    private static JsonObject Uncatalogued(JsonObject body, long id) =>
        body["uncatalogued"]!.AsArray().Single(u => (long)u!["backupRunId"]! == id)!.AsObject();

    private static JsonNode Entry(JsonObject body, string list, string name) =>
        body[list]!.AsArray().Single(e => (string?)e!["name"] == name)!;

    [Fact]
    public async Task Apply_records_the_runs_a_dry_run_listed_as_uncatalogued_and_deletes_exactly_what_it_listed_never_an_automated_run()
    {
        const string Instance = "rc-plan";
        await env.Cloud.CreateInstanceAsync(Instance);
        var (onDemand, _) = await TakeRunAsync(Instance);
        var (automated, _) = await TakeRunAsync(Instance, automated: true);
        // Two days on, the on-demand run is past a one-day MaxAge.
        await using var host = await env.CreateHostAsync(clock: new ShiftedClock(2 * Day), productionInstances: Instance);
        var expired = SweeperHost.Scheduled(45 * Day, instance: Instance);
        await host.WriteBackupAsync(expired, BackupKinds.ScheduledExport);
        var before = await host.ListBucketAsync();
        const string DryRun = """{"policy":{"maxAgeDays":1,"maxDeleteShare":1}}""";
        const string Apply = """{"apply":true,"policy":{"maxAgeDays":1,"maxDeleteShare":1}}""";

        var (status, dryRun) = await host.SweepAsync(DryRun);

        Assert.True(status == HttpStatusCode.OK, dryRun.ToJsonString());
        var listedOnDemand = Uncatalogued(dryRun, onDemand);
        var listedAutomated = Uncatalogued(dryRun, automated);
        Assert.Equal(2, dryRun["uncatalogued"]!.AsArray().Count);
        Assert.Equal(Instance, (string?)listedOnDemand["instance"]);
        Assert.Equal("ON_DEMAND", (string?)listedOnDemand["type"]);
        Assert.Equal("AUTOMATED", (string?)listedAutomated["type"]);
        Assert.NotNull(listedOnDemand["endTime"]);
        Assert.False((bool)listedOnDemand["recorded"]!);
        var onDemandName = (string)listedOnDemand["name"]!;
        var automatedName = (string)listedAutomated["name"]!;
        Assert.Equal(
            new Dictionary<string, string> { [expired.Name] = RetentionReasons.Expired, [onDemandName] = RetentionReasons.Expired }.OrderBy(p => p.Key),
            SweeperHost.Deleted(dryRun).OrderBy(p => p.Key));
        var planned = Entry(dryRun, "deleted", onDemandName);
        Assert.True((bool)planned["uncatalogued"]!);
        Assert.Equal(["manifest", "backupRun"], planned["steps"]!.AsArray().Select(s => (string)s!["target"]!));
        Assert.Null(Entry(dryRun, "deleted", expired.Name)["uncatalogued"]);
        Assert.Equal(RetentionReasons.ManagedByCloudSql, SweeperHost.Kept(dryRun, automatedName));
        Assert.True((bool)Entry(dryRun, "kept", automatedName)["uncatalogued"]!);
        // A dry run writes nothing and deletes nothing.
        Assert.Equal(before, await host.ListBucketAsync());
        Assert.Empty(host.Logs.WithEvent("backup.reconciled"));
        Assert.Equal(200, await RunStatusAsync(Instance, onDemand));

        var (applyStatus, applied) = await host.SweepAsync(Apply);

        Assert.True(applyStatus == HttpStatusCode.OK, applied.ToJsonString());
        Assert.Equal(SweeperHost.Deleted(dryRun).OrderBy(p => p.Key), SweeperHost.Deleted(applied).OrderBy(p => p.Key));
        Assert.Empty(applied["failed"]!.AsArray());
        Assert.All(applied["uncatalogued"]!.AsArray(), u => Assert.True((bool)u!["recorded"]!));
        // The manifest step found a manifest to delete: the run was recorded before it was swept.
        Assert.All(Entry(applied, "deleted", onDemandName)["steps"]!.AsArray(), s => Assert.Equal("deleted", (string?)s!["status"]));
        Assert.Equal(404, await RunStatusAsync(Instance, onDemand));
        Assert.Equal(200, await RunStatusAsync(Instance, automated));
        Assert.True(BackupObjectName.TryParse(automatedName, SweeperHost.Prefix, out var automatedBackup));
        var after = await host.ListBucketAsync();
        Assert.Equal(before.Except([expired.Name, expired.ManifestName]).Append(automatedBackup!.ManifestName).Order(StringComparer.Ordinal), after);
        var manifest = await new BackupCatalog(host.StoreAt(DateTimeOffset.UtcNow), SweeperHost.Prefix, TimeProvider.System).GetAsync(automatedBackup);
        Assert.Equal(BackupKinds.AutomatedBackupRun, manifest!.Kind);
        Assert.Equal(automated, manifest.BackupRunId);
        var reconciled = host.Logs.WithEvent("backup.reconciled");
        Assert.Equal(new[] { automated, onDemand }.Order(), reconciled.Select(l => l.GetProperty("backupRunId").GetInt64()).Order());
        Assert.All(reconciled, l => Assert.Equal("WARNING", l.GetProperty("severity").GetString()));
        Assert.All(reconciled, l => Assert.True(l.GetProperty("newlyRecorded").GetBoolean()));

        // Nothing is missing any more: the next run records nothing.
        var (_, again) = await host.SweepAsync(Apply);
        Assert.Empty(again["uncatalogued"]!.AsArray());
        Assert.Empty(again["deleted"]!.AsArray());
        Assert.Equal(2, host.Logs.WithEvent("backup.reconciled").Count);
    }

    [Fact]
    public async Task A_reconciled_run_the_policy_keeps_stays_recorded_and_its_late_audit_entry_leaves_one_record()
    {
        const string Instance = "rc-late";
        await env.Cloud.CreateInstanceAsync(Instance);
        var (id, operation) = await TakeRunAsync(Instance);
        // Two hours on: past the hour left to the audit entry, far from the minimum age.
        await using var host = await env.CreateHostAsync(clock: new ShiftedClock(TimeSpan.FromHours(2)), productionInstances: Instance);

        var (status, body) = await host.SweepAsync("""{"apply":true}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var listed = Uncatalogued(body, id);
        Assert.True((bool)listed["recorded"]!);
        var name = (string)listed["name"]!;
        Assert.Equal(RetentionReasons.TooYoung, SweeperHost.Kept(body, name));
        Assert.True((bool)Entry(body, "kept", name)["uncatalogued"]!);
        Assert.True(BackupObjectName.TryParse(name, SweeperHost.Prefix, out var backup));
        Assert.Contains(backup!.ManifestName, await host.ListBucketAsync());
        var line = Assert.Single(host.Logs.WithEvent("backup.reconciled"));
        Assert.Equal(id, line.GetProperty("backupRunId").GetInt64());
        Assert.Equal(Instance, line.GetProperty("instance").GetString());

        // The audit entry arrives after all.
        Assert.Equal(HttpStatusCode.OK, await AuditEntries.SendAsync(host.Client, AuditEntries.BackupRun(operation, id.ToString(CultureInfo.InvariantCulture), Instance)));

        var manifests = (await host.ListBucketAsync()).Where(n => n.EndsWith(BackupObjectName.ManifestSuffix, StringComparison.Ordinal)).ToList();
        Assert.Equal([backup.ManifestName], manifests);
        var completed = Assert.Single(host.Logs.WithEvent("backup.completed"));
        Assert.False(completed.GetProperty("newlyRecorded").GetBoolean());
        var (_, again) = await host.SweepAsync("""{"apply":true}""");
        Assert.Empty(again["uncatalogued"]!.AsArray());
        Assert.Single(host.Logs.WithEvent("backup.reconciled"));
    }
}
