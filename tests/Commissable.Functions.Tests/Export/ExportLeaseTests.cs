using System.Text.Json.Nodes;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Storage;
using Npgsql;

namespace Commissable.Functions.Tests.Export;

/// <summary>
/// The exporter's per-instance lease and its heartbeat, constructed directly with a fake clock
/// over the local cloud's real bucket store, Cloud SQL API and instance. An export is held
/// "running" for as long as a test needs by locking a table the export must read.
/// </summary>
public sealed class ExportLeaseTests(PreDeployEnvironment env) : ExporterTestBase(env, "lease"), IClassFixture<PreDeployEnvironment>
{
    [Fact]
    public async Task A_long_export_keeps_its_lease_past_the_stale_limit_and_another_change_gets_busy_instead_of_taking_it()
    {
        var holder = Exporter();
        await using var tenants = await HoldTenantTableAsync();
        var request = Request("long-export");
        var key = Key();
        var running = await holder.StartAsync(request, key);
        await LeaseAsync();

        while (Clock.GetUtcNow() - running.StartedAt <= Defaults.StaleAfter)
        {
            await BeatAsync(holder, running.Id);
        }
        var beating = await holder.GetAsync(running.Id);
        Assert.Equal(ExportStatus.Running, beating!.Status);
        Assert.Equal(Clock.GetUtcNow(), beating.HeartbeatAt);
        // Started longer ago than the stale limit but beating: the same request joins it, never restarts it.
        var joined = await holder.StartAsync(request, key);
        Assert.Equal(running.StartedAt, joined.StartedAt);
        Assert.Equal(running.BackupUri, joined.BackupUri);

        // Another host, another change on the same instance: it waits for the lease, then answers busy.
        var other = await Exporter().StartAsync(Request("other-change"), Key());
        for (var beat = 0; beat < 40 && (await holder.GetAsync(other.Id))!.Status == ExportStatus.Running; beat++)
        {
            await BeatAsync(holder, running.Id);
        }
        Assert.Equal(ExportStatus.Busy, (await holder.GetAsync(other.Id))!.Status);
        Assert.Equal(running.Id, await LeaseHolderAsync());
        Assert.Empty(Logs.WithEvent("backup.export.lease.taken_over"));

        await tenants.CloseAsync();
        var done = await FinishedAsync(holder, running.Id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Null(await Store.GetAsync(LeaseName));
    }

    [Fact]
    public async Task A_crashed_holders_lease_and_running_ticket_are_taken_over_once_the_stale_limit_has_passed_since_their_last_update()
    {
        var exporter = Exporter();
        var request = Request("after-crash");
        var key = Key();
        var id = PreDeployExporter.TicketId(request, key);
        var crashedAt = Clock.GetUtcNow();
        // What a process that died mid-export leaves: its lease and its running ticket, never
        // renewed again; the ticket in the shape written before heartbeats (no heartbeatAt).
        await WriteAsync(LeaseName, $$"""{"ticket":"{{id}}","takenAt":"{{crashedAt:O}}"}""", 0);
        await WriteAsync($"{Prefix}/.requests/{id}.json", $$"""
            {"id":"{{id}}","instance":"prod","database":"crm","change":"after-crash",
             "backupUri":"gs://{{PreDeployEnvironment.Bucket}}/{{Prefix}}/prod/prod/dead.sql.gz","objectName":"{{Prefix}}/prod/prod/dead.sql.gz",
             "status":"running","startedAt":"{{crashedAt:O}}","stages":[]}
            """, 0);

        Clock.Advance(Defaults.StaleAfter);
        var joined = await exporter.StartAsync(request, key);
        Assert.Equal(ExportStatus.Running, joined.Status);
        Assert.Equal(crashedAt, joined.StartedAt);

        Clock.Advance(TimeSpan.FromSeconds(1));
        var restarted = await exporter.StartAsync(request, key);
        Assert.Equal(Clock.GetUtcNow(), restarted.StartedAt);
        var done = await FinishedAsync(exporter, id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Equal(restarted.BackupUri, done.BackupUri);
        var takenOver = Assert.Single(Logs.WithEvent("backup.export.lease.taken_over"));
        Assert.Equal("WARNING", takenOver.GetProperty("severity").GetString());
        Assert.Null(await Store.GetAsync(LeaseName));
    }

    [Fact]
    public async Task A_renewal_that_finds_the_lease_replaced_leaves_the_new_holders_lease_alone_and_in_place_after_release()
    {
        var exporter = Exporter();
        await using var tenants = await HoldTenantTableAsync();
        var running = await exporter.StartAsync(Request("lease-replaced"), Key());
        var ours = await LeaseAsync();
        // Another export took the lease over, as it may after this one stalled past the stale limit.
        var theirs = await WriteAsync(LeaseName, """{"ticket":"another-export"}""", ours.Generation);

        await BeatAsync(exporter, running.Id);
        await BeatAsync(exporter, running.Id);
        var lost = Assert.Single(Logs.WithEvent("backup.export.lease.lost"));
        Assert.Equal("WARNING", lost.GetProperty("severity").GetString());
        Assert.Equal(theirs.Generation, (await Store.GetAsync(LeaseName))!.Generation);

        await tenants.CloseAsync();
        var done = await FinishedAsync(exporter, running.Id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Equal(theirs.Generation, (await Store.GetAsync(LeaseName))?.Generation);
        Assert.Equal("another-export", await LeaseHolderAsync());
    }

    [Fact]
    public async Task A_store_error_during_a_renewal_is_logged_and_the_next_beat_renews_the_lease()
    {
        var exporter = Exporter();
        await using var tenants = await HoldTenantTableAsync();
        var running = await exporter.StartAsync(Request("flaky-store"), Key());
        var taken = await LeaseAsync();
        var failures = 1;
        Store.BeforeWrite = name => name == LeaseName && Interlocked.Decrement(ref failures) >= 0
            ? throw new IOException("the bucket answered 503")
            : Task.CompletedTask;

        await BeatAsync(exporter, running.Id);
        Assert.Single(Logs.WithEvent("backup.export.heartbeat.failed"));
        Assert.Equal(taken.Generation, (await Store.GetAsync(LeaseName))!.Generation);

        await BeatAsync(exporter, running.Id);
        Assert.Equal(Clock.GetUtcNow(), (await Store.GetAsync(LeaseName))!.Updated);
        Assert.Single(Logs.WithEvent("backup.export.heartbeat.failed"));
        Assert.Empty(Logs.WithEvent("backup.export.lease.lost"));

        await tenants.CloseAsync();
        var done = await FinishedAsync(exporter, running.Id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Null(await Store.GetAsync(LeaseName));
    }

    [Theory]
    [InlineData(60, 30, false)]
    [InlineData(30, 30, false)]
    [InlineData(30, 0, false)]
    [InlineData(61, 30, true)]
    public void A_stale_limit_of_at_most_two_heartbeats_is_refused_naming_both_options(int staleSeconds, int heartbeatSeconds, bool accepted)
    {
        var options = Defaults with { StaleAfter = TimeSpan.FromSeconds(staleSeconds), HeartbeatInterval = TimeSpan.FromSeconds(heartbeatSeconds) };
        var error = Record.Exception(() => Exporter(options));
        if (accepted)
        {
            Assert.Null(error);
            return;
        }
        var refused = Assert.IsType<ArgumentException>(error);
        Assert.Contains("HeartbeatInterval", refused.Message, StringComparison.Ordinal);
        if (heartbeatSeconds > 0) Assert.Contains("StaleAfter", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>One heartbeat interval on the fake clock, and the wait until the export's beat has landed.</summary>
    private async Task BeatAsync(PreDeployExporter exporter, string ticketId)
    {
        Clock.Advance(Defaults.HeartbeatInterval);
        var now = Clock.GetUtcNow();
        await EventuallyAsync(async () => (await exporter.GetAsync(ticketId))?.HeartbeatAt == now, $"the heartbeat of {now:O} to reach ticket {ticketId}");
    }

    private async Task<string?> LeaseHolderAsync()
    {
        await using var content = await Store.OpenReadAsync(LeaseName);
        return (string?)JsonNode.Parse(content)!["ticket"];
    }
}
