using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Retention;
using Commissable.Functions.Tests.Completion;
using Commissable.Testing;

namespace Commissable.Functions.Tests.Retention;

/// <summary>
/// retention-sweeper against the Cloud SQL backup runs of real local-cloud instances: runs the
/// catalog never heard of (their audit entry lost) are reconciled, and each instance's backup
/// freshness is judged from its runs. Each test has its own instances, so runs never mix.
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

    private static JsonObject Freshness(JsonObject body, string instance) =>
        body["freshness"]!.AsArray().Single(f => (string?)f!["instance"] == instance)!.AsObject();

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

    [Fact]
    public async Task An_instance_with_a_recent_automated_backup_is_fresh_and_overdue_with_an_error_line_once_past_max_backup_age()
    {
        const string Instance = "fr-recent";
        await env.Cloud.CreateInstanceAsync(Instance);
        var (id, _) = await TakeRunAsync(Instance, automated: true);
        var (_, run) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api($"instances/{Instance}/backupRuns/{id}"));
        var ended = DateTimeOffset.Parse((string)run["endTime"]!, CultureInfo.InvariantCulture);

        await using (var now = await env.CreateHostAsync(productionInstances: Instance))
        {
            var (status, body) = await now.SweepAsync(null);

            Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
            var fresh = Freshness(body, Instance);
            Assert.False((bool)fresh["overdue"]!);
            Assert.Equal("fresh", (string?)fresh["status"]);
            Assert.Equal("fresh", (string?)fresh["reason"]!["code"]);
            Assert.Equal(id, (long)fresh["newestSuccessfulRunId"]!);
            Assert.True((double)fresh["ageHours"]! < 1, fresh.ToJsonString());
            Assert.Equal(26, (double)fresh["maxAgeHours"]!);
            Assert.Empty(now.Logs.WithEvent("backup.overdue"));
        }

        await using var later = await env.CreateHostAsync(clock: new ShiftedClock(TimeSpan.FromHours(27)), productionInstances: Instance);
        // Freshness never stops a run that applies, and never deletes.
        var (laterStatus, laterBody) = await later.SweepAsync("""{"apply":true}""");

        Assert.True(laterStatus == HttpStatusCode.OK, laterBody.ToJsonString());
        var overdue = Freshness(laterBody, Instance);
        Assert.True((bool)overdue["overdue"]!);
        Assert.Equal("overdue", (string?)overdue["status"]);
        Assert.Equal("overdue.too-old", (string?)overdue["reason"]!["code"]);
        Assert.Contains("26 h allowed", (string?)overdue["reason"]!["text"], StringComparison.Ordinal);
        Assert.True((double)overdue["ageHours"]! >= 27, overdue.ToJsonString());
        Assert.Equal(1, (int)laterBody["summary"]!["overdue"]!);
        Assert.Empty(laterBody["deleted"]!.AsArray());
        Assert.Equal(200, await RunStatusAsync(Instance, id));
        var line = Assert.Single(later.Logs.WithEvent("backup.overdue"));
        Assert.Equal("ERROR", line.GetProperty("severity").GetString());
        Assert.Equal(Instance, line.GetProperty("instance").GetString());
        Assert.Equal("overdue.too-old", line.GetProperty("reason").GetString());
        Assert.Equal(26, line.GetProperty("maxAgeHours").GetDouble());
        Assert.True(line.GetProperty("ageHours").GetDouble() >= 27);
        Assert.Equal(ended, line.GetProperty("newestSuccessfulEndTime").GetDateTimeOffset());
    }

    [Fact]
    public async Task An_instance_without_a_successful_automated_backup_is_overdue_and_one_cloud_sql_does_not_know_is_reported_not_a_500()
    {
        const string Never = "fr-never";
        const string Gone = "fr-gone";
        await env.Cloud.CreateInstanceAsync(Never);
        // An on-demand run is a backup, but not the daily schedule that freshness is about.
        await TakeRunAsync(Never);
        await using var host = await env.CreateHostAsync(productionInstances: $"{Never},{Gone}");

        var (status, body) = await host.SweepAsync(null);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var never = Freshness(body, Never);
        Assert.True((bool)never["overdue"]!);
        Assert.Equal("overdue.no-successful-backup", (string?)never["reason"]!["code"]);
        Assert.Null(never["newestSuccessfulEndTime"]);
        var gone = Freshness(body, Gone);
        Assert.Equal("instanceNotFound", (string?)gone["status"]);
        Assert.False((bool)gone["overdue"]!);
        Assert.Equal("unknown.instance-not-found", (string?)gone["reason"]!["code"]);
        var line = Assert.Single(host.Logs.WithEvent("backup.overdue"));
        Assert.Equal(Never, line.GetProperty("instance").GetString());
        Assert.Equal("ERROR", line.GetProperty("severity").GetString());
        Assert.Equal(JsonValueKind.Null, line.GetProperty("newestSuccessfulEndTime").ValueKind);
        Assert.Equal("overdue.no-successful-backup", line.GetProperty("reason").GetString());
    }
}
