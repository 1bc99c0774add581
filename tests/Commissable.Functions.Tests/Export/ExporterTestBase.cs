using System.Text;
using Commissable.Backup.Core.Backups.Content;
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
/// What the tests that build the exporter directly share: the local cloud's real bucket store,
/// Cloud SQL API and instance, a fake clock, a prefix of the test's own (so its lease and tickets
/// are its own), the logs, and the waits. An export is held "running" for as long as a test needs
/// by locking a table the export must read.
/// </summary>
public abstract class ExporterTestBase : IDisposable
{
    // The tests hold a table lock for as long as they need an export running, in real time: the
    // snapshot's lock wait must outlast any of them (the wait limit itself is tested on its own).
    protected static readonly PreDeployOptions Defaults = new() { Environment = "prod" };
    protected static readonly TimeSpan RealTimeLimit = TimeSpan.FromMinutes(3);

    private readonly ILoggerFactory _loggers;

    protected ExporterTestBase(PreDeployEnvironment env, string prefix)
    {
        Env = env;
        Prefix = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        _loggers = LoggerFactory.Create(b => b.AddProvider(new StructuredLoggerProvider(Logs, new StructuredLogOptions())));
        Store = new InterferingStore(new LocalBackupStore(new BucketPaths(env.Cloud.StateDirectory), PreDeployEnvironment.Bucket, Clock));
    }

    protected PreDeployEnvironment Env { get; }

    // Whole seconds, so that the store's microsecond generations stamp exactly the clock's times.
    protected FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    protected string Prefix { get; }

    protected TestLogSink Logs { get; } = new();

    protected InterferingStore Store { get; }

    protected string LeaseName => $"{Prefix}/.leases/prod.json";

    public void Dispose()
    {
        _loggers.Dispose();
        GC.SuppressFinalize(this);
    }

    protected PreDeployExporter Exporter(PreDeployOptions? options = null, CancellationToken stopping = default) => new(
        Env.Services.GetRequiredService<ICloudSqlAdmin>(),
        Store,
        new BackupCatalog(Store, Prefix, Clock),
        Env.Services.GetRequiredService<IBackupContentReader>(),
        (options ?? Defaults) with { Prefix = Prefix },
        Clock,
        _loggers.CreateLogger<PreDeployExporter>(),
        stopping);

    protected static PreDeployRequest Request(string change) => new() { Instance = "prod", Database = "crm", Change = change };

    protected static string Key() => "test-" + Guid.NewGuid();

    /// <summary>Locks a table the export reads, so it stays running until the connection closes.</summary>
    protected async Task<NpgsqlConnection> HoldTenantTableAsync()
    {
        var connection = new NpgsqlConnection(await Env.Cloud.ConnectionStringAsync("prod", "crm"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""BEGIN; LOCK TABLE "Tenant" IN ACCESS EXCLUSIVE MODE""", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    protected async Task<StoredObject> LeaseAsync()
    {
        StoredObject? lease = null;
        await EventuallyAsync(async () => (lease = await Store.GetAsync(LeaseName)) is not null, "the export to take its lease");
        return lease!;
    }

    protected async Task<StoredObject> WriteAsync(string name, string json, long ifGenerationMatch)
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return await Store.WriteAsync(name, content, "application/json", ifGenerationMatch);
    }

    /// <summary>Polls in real time (the export's real work does not follow the fake clock) until the export is no longer running.</summary>
    protected static async Task<ExportTicket> FinishedAsync(PreDeployExporter exporter, string id)
    {
        ExportTicket? ticket = null;
        await EventuallyAsync(async () => (ticket = await exporter.GetAsync(id)) is { Status: not ExportStatus.Running }, $"export {id} to finish");
        return ticket!;
    }

    protected static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + RealTimeLimit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
