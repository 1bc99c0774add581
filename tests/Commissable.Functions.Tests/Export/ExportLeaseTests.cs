using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;
using Commissable.Functions.Hosting.Logging;
using Commissable.Functions.Tests.Hosting;
using Commissable.Functions.Tests.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Commissable.Functions.Tests.Export;

/// <summary>
/// The exporter's per-instance lease and its heartbeat, constructed directly with a fake clock
/// over the local cloud's real bucket store, Cloud SQL API and instance. An export is held
/// "running" for as long as a test needs by locking a table the export must read.
/// </summary>
public sealed class ExportLeaseTests : IClassFixture<PreDeployEnvironment>, IDisposable
{
    // The tests hold a table lock for as long as they need an export running, in real time: the
    // snapshot's lock wait must outlast any of them (the wait limit itself is tested on its own).
    private static readonly PreDeployOptions Defaults = new() { Environment = "prod", SnapshotLockTimeout = TimeSpan.FromMinutes(10) };
    private static readonly TimeSpan RealTimeLimit = TimeSpan.FromMinutes(3);

    private readonly PreDeployEnvironment _env;
    // Whole seconds, so that the store's microsecond generations stamp exactly the clock's times.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    // Each test has its own prefix, so its lease and tickets are its own.
    private readonly string _prefix = "lease-" + Guid.NewGuid().ToString("N")[..8];
    private readonly TestLogSink _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly InterferingStore _store;

    public ExportLeaseTests(PreDeployEnvironment env)
    {
        _env = env;
        _loggers = LoggerFactory.Create(b => b.AddProvider(new StructuredLoggerProvider(_logs, new StructuredLogOptions())));
        _store = new InterferingStore(new LocalBackupStore(new BucketPaths(env.Cloud.StateDirectory), PreDeployEnvironment.Bucket, _clock));
    }

    private string LeaseName => $"{_prefix}/.leases/prod.json";

    public void Dispose() => _loggers.Dispose();

    [Fact]
    public async Task A_long_export_keeps_its_lease_past_the_stale_limit_and_another_change_gets_busy_instead_of_taking_it()
    {
        var holder = Exporter();
        await using var tenants = await HoldTenantTableAsync();
        var request = Request("long-export");
        var key = Key();
        var running = await holder.StartAsync(request, key);
        await LeaseAsync();

        while (_clock.GetUtcNow() - running.StartedAt <= Defaults.StaleAfter)
        {
            await BeatAsync(holder, running.Id);
        }
        var beating = await holder.GetAsync(running.Id);
        Assert.Equal(ExportStatus.Running, beating!.Status);
        Assert.Equal(_clock.GetUtcNow(), beating.HeartbeatAt);
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
        Assert.Empty(_logs.WithEvent("backup.export.lease.taken_over"));

        await tenants.CloseAsync();
        var done = await FinishedAsync(holder, running.Id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Null(await _store.GetAsync(LeaseName));
    }

    [Fact]
    public async Task A_crashed_holders_lease_and_running_ticket_are_taken_over_once_the_stale_limit_has_passed_since_their_last_update()
    {
        var exporter = Exporter();
        var request = Request("after-crash");
        var key = Key();
        var id = PreDeployExporter.TicketId(request, key);
        var crashedAt = _clock.GetUtcNow();
        // What a process that died mid-export leaves: its lease and its running ticket, never
        // renewed again; the ticket in the shape written before heartbeats (no heartbeatAt).
        await WriteAsync(LeaseName, $$"""{"ticket":"{{id}}","takenAt":"{{crashedAt:O}}"}""", 0);
        await WriteAsync($"{_prefix}/.requests/{id}.json", $$"""
            {"id":"{{id}}","instance":"prod","database":"crm","change":"after-crash",
             "backupUri":"gs://{{PreDeployEnvironment.Bucket}}/{{_prefix}}/prod/prod/dead.sql.gz","objectName":"{{_prefix}}/prod/prod/dead.sql.gz",
             "status":"running","startedAt":"{{crashedAt:O}}","stages":[]}
            """, 0);

        _clock.Advance(Defaults.StaleAfter);
        var joined = await exporter.StartAsync(request, key);
        Assert.Equal(ExportStatus.Running, joined.Status);
        Assert.Equal(crashedAt, joined.StartedAt);

        _clock.Advance(TimeSpan.FromSeconds(1));
        var restarted = await exporter.StartAsync(request, key);
        Assert.Equal(_clock.GetUtcNow(), restarted.StartedAt);
        var done = await FinishedAsync(exporter, id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Equal(restarted.BackupUri, done.BackupUri);
        var takenOver = Assert.Single(_logs.WithEvent("backup.export.lease.taken_over"));
        Assert.Equal("WARNING", takenOver.GetProperty("severity").GetString());
        Assert.Null(await _store.GetAsync(LeaseName));
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
        var lost = Assert.Single(_logs.WithEvent("backup.export.lease.lost"));
        Assert.Equal("WARNING", lost.GetProperty("severity").GetString());
        Assert.Equal(theirs.Generation, (await _store.GetAsync(LeaseName))!.Generation);

        await tenants.CloseAsync();
        var done = await FinishedAsync(exporter, running.Id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Equal(theirs.Generation, (await _store.GetAsync(LeaseName))?.Generation);
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
        _store.BeforeWrite = name => name == LeaseName && Interlocked.Decrement(ref failures) >= 0
            ? throw new IOException("the bucket answered 503")
            : Task.CompletedTask;

        await BeatAsync(exporter, running.Id);
        Assert.Single(_logs.WithEvent("backup.export.heartbeat.failed"));
        Assert.Equal(taken.Generation, (await _store.GetAsync(LeaseName))!.Generation);

        await BeatAsync(exporter, running.Id);
        Assert.Equal(_clock.GetUtcNow(), (await _store.GetAsync(LeaseName))!.Updated);
        Assert.Single(_logs.WithEvent("backup.export.heartbeat.failed"));
        Assert.Empty(_logs.WithEvent("backup.export.lease.lost"));

        await tenants.CloseAsync();
        var done = await FinishedAsync(exporter, running.Id);
        Assert.True(done.Status == ExportStatus.Succeeded, done.Error);
        Assert.Null(await _store.GetAsync(LeaseName));
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

    private PreDeployExporter Exporter(PreDeployOptions? options = null) => new(
        _env.Services.GetRequiredService<ICloudSqlAdmin>(),
        _store,
        new BackupCatalog(_store, _prefix, _clock),
        _env.Services.GetRequiredService<IDatabaseInspector>(),
        (options ?? Defaults) with { Prefix = _prefix },
        _clock,
        _loggers.CreateLogger<PreDeployExporter>());

    private static PreDeployRequest Request(string change) => new() { Instance = "prod", Database = "crm", Change = change };

    private static string Key() => "test-" + Guid.NewGuid();

    /// <summary>Locks a table the export reads, so it stays running until the connection closes.</summary>
    private async Task<NpgsqlConnection> HoldTenantTableAsync()
    {
        var connection = new NpgsqlConnection(await _env.Cloud.ConnectionStringAsync("prod", "crm"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""BEGIN; LOCK TABLE "Tenant" IN ACCESS EXCLUSIVE MODE""", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>One heartbeat interval on the fake clock, and the wait until the export's beat has landed.</summary>
    private async Task BeatAsync(PreDeployExporter exporter, string ticketId)
    {
        _clock.Advance(Defaults.HeartbeatInterval);
        var now = _clock.GetUtcNow();
        await EventuallyAsync(async () => (await exporter.GetAsync(ticketId))?.HeartbeatAt == now, $"the heartbeat of {now:O} to reach ticket {ticketId}");
    }

    private async Task<StoredObject> LeaseAsync()
    {
        StoredObject? lease = null;
        await EventuallyAsync(async () => (lease = await _store.GetAsync(LeaseName)) is not null, "the export to take its lease");
        return lease!;
    }

    private async Task<string?> LeaseHolderAsync()
    {
        await using var content = await _store.OpenReadAsync(LeaseName);
        return (string?)JsonNode.Parse(content)!["ticket"];
    }

    private async Task<StoredObject> WriteAsync(string name, string json, long ifGenerationMatch)
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return await _store.WriteAsync(name, content, "application/json", ifGenerationMatch);
    }

    /// <summary>Polls in real time (the export's real work does not follow the fake clock) until the export is no longer running.</summary>
    private static async Task<ExportTicket> FinishedAsync(PreDeployExporter exporter, string id)
    {
        ExportTicket? ticket = null;
        await EventuallyAsync(async () => (ticket = await exporter.GetAsync(id)) is { Status: not ExportStatus.Running }, $"export {id} to finish");
        return ticket!;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + RealTimeLimit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
