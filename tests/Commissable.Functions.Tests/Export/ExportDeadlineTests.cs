using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Npgsql;

namespace Commissable.Functions.Tests.Export;

/// <summary>
/// A pre-deploy export that cannot go on (its deadline, the host's shutdown, its
/// process gone) ends failed with the reason and frees the instance, and a caller never waits on
/// an export nobody runs. The exporter is built directly over the local cloud's real bucket store,
/// Cloud SQL API and instance, with a fake clock; the stall is a real table lock.
/// </summary>
public sealed class ExportDeadlineTests(PreDeployEnvironment env) : ExporterTestBase(env, "deadline"), IClassFixture<PreDeployEnvironment>
{
    [Fact]
    public async Task An_export_past_its_deadline_ends_failed_naming_the_deadline_and_releases_its_lease()
    {
        var exporter = Exporter(Defaults with { Deadline = TimeSpan.FromMinutes(20) });
        await using var tenants = await HoldTenantTableAsync();
        var stalled = await exporter.StartAsync(Request("past-deadline"), Key());
        await LeaseAsync();
        // Only once Cloud SQL lists the export is the export stage sure to have begun: the lease is
        // visible a little before, and a deadline in between is reported in the lease stage.
        await CloudSqlExportAsync(stalled.BackupUri, done: false);

        Clock.Advance(TimeSpan.FromMinutes(20));

        var failed = await FinishedAsync(exporter, stalled.Id);
        Assert.Equal(ExportStatus.Failed, failed.Status);
        Assert.Contains("deadline of 20 min", failed.Error, StringComparison.Ordinal);
        // The lock holds the export's own pg_dump: nothing of ours reads the production tables.
        Assert.Contains("export stage", failed.Error, StringComparison.Ordinal);
        Assert.Null(await Store.GetAsync(LeaseName));
        await tenants.DisposeAsync();
        await CloudSqlExportAsync(stalled.BackupUri, done: true);
    }

    [Fact]
    public async Task A_host_shutdown_ends_the_running_export_failed_and_releases_its_lease_before_the_drain_returns()
    {
        using var stopping = new CancellationTokenSource();
        var exporter = Exporter(Defaults, stopping.Token);
        await using var tenants = await HoldTenantTableAsync();
        var stalled = await exporter.StartAsync(Request("host-stops"), Key());
        await LeaseAsync();
        // Stopped with its Cloud SQL export started, not with the request to start it in flight: one
        // that reached the local cloud after this test could wait on the next test's table lock.
        await CloudSqlExportAsync(stalled.BackupUri, done: false);

        await stopping.CancelAsync();
        await exporter.DrainAsync().WaitAsync(RealTimeLimit);

        var failed = await exporter.GetAsync(stalled.Id);
        Assert.Equal(ExportStatus.Failed, failed!.Status);
        Assert.Contains("shutting down", failed.Error, StringComparison.Ordinal);
        Assert.Null(await Store.GetAsync(LeaseName));
        await tenants.DisposeAsync();
        await CloudSqlExportAsync(stalled.BackupUri, done: true);
    }

    [Fact]
    public async Task A_caller_waiting_on_an_export_whose_process_died_takes_it_over_once_it_is_stale_instead_of_waiting_out_its_limit()
    {
        var exporter = Exporter();
        var request = Request("waited-on-a-dead-one");
        var key = Key();
        var id = PreDeployExporter.TicketId(request, key);
        var diedAt = Clock.GetUtcNow();
        // A process died mid-export a moment ago: its lease and running ticket, just refreshed, never again.
        await WriteAsync(LeaseName, $$"""{"ticket":"{{id}}","takenAt":"{{diedAt:O}}","renewedAt":"{{diedAt:O}}"}""", 0);
        await WriteAsync($"{Prefix}/.requests/{id}.json", $$"""
            {"id":"{{id}}","instance":"prod","database":"crm","change":"waited-on-a-dead-one",
             "backupUri":"gs://{{PreDeployEnvironment.Bucket}}/{{Prefix}}/prod/prod/dead.sql.gz","objectName":"{{Prefix}}/prod/prod/dead.sql.gz",
             "status":"running","startedAt":"{{diedAt:O}}","heartbeatAt":"{{diedAt:O}}","stages":[]}
            """, 0);
        var joined = await exporter.StartAsync(request, key);
        Assert.Equal(diedAt, joined.StartedAt);

        // The call may wait 30 minutes; the dead export is noticed once the stale limit has passed.
        var waiting = exporter.WaitOrTakeOverAsync(request, key, joined, TimeSpan.FromMinutes(30));
        Clock.Advance(Defaults.StaleAfter + TimeSpan.FromSeconds(1));
        // The waiting call may not have set its first poll's timer before that advance (a loaded
        // machine): time goes on one poll interval at a look until it has taken the export over.
        await EventuallyAsync(async () =>
        {
            if ((await exporter.GetAsync(id))!.StartedAt > diedAt) return true;
            Clock.Advance(Defaults.PollInterval);
            return false;
        }, "the waiting call to take the dead export over");
        var restarted = (await exporter.GetAsync(id))!.StartedAt;
        Assert.True(restarted - diedAt >= Defaults.StaleAfter, "taken over before the export was stale");
        Assert.True(restarted - diedAt < TimeSpan.FromMinutes(30), "the waiting call waited out its limit instead of taking the dead export over");
        // The restarted export's real work (pg_dump, the content read, the manifest) takes real time:
        // wait for it with the clock still, so that the waiting call's limit cannot run out meanwhile.
        var finished = await FinishedAsync(exporter, id);
        Assert.True(finished.Status == ExportStatus.Succeeded, finished.Error);
        var deadline = DateTime.UtcNow + RealTimeLimit;
        while (!waiting.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for the waiting call to see the restarted export finished.");
            // Only the polls between the waiting call's looks follow the fake clock.
            Clock.Advance(Defaults.PollInterval);
            await Task.WhenAny(waiting, Task.Delay(20));
        }
        var done = await waiting;
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.NotEqual(joined.BackupUri, done.BackupUri);
        Assert.Single(Logs.WithEvent("backup.export.lease.taken_over"));
    }

    [Fact]
    public async Task A_dump_its_export_abandoned_is_an_orphan_at_once_and_one_still_being_written_is_not()
    {
        var exporter = Exporter();
        // The export's process "dies" between the dump and its manifest: the manifest write fails.
        Store.BeforeWrite = name => name.EndsWith(".manifest.json", StringComparison.Ordinal)
            ? throw new IOException("the process died") : Task.CompletedTask;
        var started = await exporter.StartAsync(Request("died-before-manifest"), Key());
        var failed = await FinishedAsync(exporter, started.Id);
        Assert.Equal(ExportStatus.Failed, failed.Status);
        Assert.NotNull(await Store.GetAsync(failed.ObjectName));

        // A dump a live export is still checking, and one nobody claimed (a scheduled export's).
        Store.BeforeWrite = _ => Task.CompletedTask;
        var tenants = await HoldTenantTableAsync();
        var live = await exporter.StartAsync(Request("still-running"), Key());
        var unclaimed = $"{Prefix}/prod/prod/backup_20260101_0300_prod_nightly.sql.gz";
        await WriteAsync(unclaimed, "-- a dump of a scheduled export", 0);

        var abandoned = await exporter.AbandonedAsync([failed.ObjectName, live.ObjectName, unclaimed]);
        Assert.Equal([failed.ObjectName], abandoned);
        await tenants.DisposeAsync();
        await FinishedAsync(exporter, live.Id);

        // The planner reports it although it is minutes old, and still keeps it (too young to delete).
        var policy = new RetentionPolicy { Prefix = Prefix };
        var candidate = new RetentionCandidate { Name = failed.ObjectName, Created = Clock.GetUtcNow(), DumpObjects = [failed.ObjectName] };
        var plan = RetentionPlanner.Plan(policy, Clock.GetUtcNow(), [candidate with { Abandoned = true }]);
        var orphan = Assert.Single(plan.Orphans);
        Assert.Contains("died", orphan.Text, StringComparison.Ordinal);
        Assert.Empty(plan.Deletions);
        Assert.Empty(RetentionPlanner.Plan(policy, Clock.GetUtcNow(), [candidate]).Orphans);
    }

    /// <summary>
    /// Waits until the local cloud lists the Cloud SQL export to <paramref name="backupUri"/>, and
    /// with <paramref name="done"/> until it has ended, so that no export of this test still runs
    /// (and waits on another test's table lock, keeping the instance busy) after it.
    /// </summary>
    private Task CloudSqlExportAsync(string backupUri, bool done) => EventuallyAsync(async () =>
    {
        var (_, operations) = await Env.Cloud.SendAsync(HttpMethod.Get, Env.Cloud.Api("operations?instance=prod"));
        var status = operations["items"]?.AsArray().Where(o => (string?)o!["exportContext"]?["uri"] == backupUri).Select(o => (string?)o!["status"]).FirstOrDefault();
        return status is not null && (!done || status == "DONE");
    }, done ? $"the Cloud SQL export to {backupUri} to end" : $"Cloud SQL to list the export to {backupUri}");
}
