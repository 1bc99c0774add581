using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Demo;
using Npgsql;

using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// Measures the local cloud against the raw PostgreSQL tools on the same database in the same run:
/// export (API, until the operation is DONE) against <c>pg_dump | gzip</c>, and point-in-time
/// clone against a manual <c>pg_basebackup</c> restore with recovery to the same time; and the
/// peak resident memory of the local cloud process (VmHWM).
/// </summary>
internal sealed class LocalCloudBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep)
{
    private const string Instance = "bench";
    private const string Database = "crm";
    private const string RootPassword = "bench-root-pw";
    private readonly PostgresBinaries _binaries = PostgresBinaries.Locate();
    private readonly string _state = Path.Combine(work, "state");
    private Process? _cloud;

    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        try
        {
            var port = FreePort();
            _cloud = await StartCloudAsync(port);
            using var client = new CloudSqlAdminClientBuilder
            {
                ProjectId = "bench-project",
                BaseUri = new Uri($"http://127.0.0.1:{port}/"),
                TokenSource = new FileTokenSource(Path.Combine(_state, "token")),
                // Fine polling, so the measured time is the operation's, not the poll interval's.
                PollSettings = CloudSqlPollSettings.Default with { InitialDelay = TimeSpan.FromMilliseconds(50), Multiplier = 1.0, MaxDelay = TimeSpan.FromMilliseconds(50) },
            }.Build();

            Say("creating the instance and loading the demo database ...");
            await client.WaitForOperationAsync(await client.InsertInstanceAsync(new DatabaseInstance
            {
                Name = Instance,
                DatabaseVersion = _binaries.DatabaseVersion,
                RootPassword = RootPassword,
                Settings = new Settings { Tier = "db-custom-2-8192", BackupConfiguration = new BackupConfiguration { Enabled = true, PointInTimeRecoveryEnabled = true, StartTime = "02:00" } },
            }));
            await client.WaitForOperationAsync(await client.InsertDatabaseAsync(Instance, new Database { Name = Database }));
            var address = (await client.GetInstanceAsync(Instance)).IpAddresses![0].IpAddress!;
            var app = new NpgsqlConnectionStringBuilder { Host = address, Username = "postgres", Password = RootPassword, Database = Database, Pooling = false, CommandTimeout = 0 }.ConnectionString;
            var load = Stopwatch.StartNew();
            await DemoDatabase.CreateAsync(app, demo, new Progress<string>(Say));
            var size = await ScalarAsync<long>(app, "SELECT pg_database_size(current_database())");
            Say($"demo database: {size / 1048576.0:F0} MB ({demo.Tenants} tenants x {demo.RowsPerTenant} rows per tenant), loaded in {load.Elapsed.TotalSeconds:F0} s");
            await client.WaitForOperationAsync(await client.InsertBackupRunAsync(Instance, new BackupRun { Description = "benchmark base" }));
            // The manual path's base backup, taken by hand at the same moment (not timed, like the backup run).
            var manualBase = await ManualBaseBackupAsync(address);

            var exportOurs = new List<double>();
            var exportRaw = new List<double>();
            long oursBytes = 0, rawBytes = 0;
            for (var round = 1; round <= rounds; round++)
            {
                var rawFile = Path.Combine(work, $"raw-{round}.sql.gz");
                var clock = Stopwatch.StartNew();
                await ShellAsync($"'{_binaries.Path("pg_dump")}' -h {address} -U postgres -d {Database} --no-owner --no-privileges | gzip > '{rawFile}'", RootPassword);
                exportRaw.Add(clock.Elapsed.TotalSeconds);
                rawBytes = new FileInfo(rawFile).Length;
                File.Delete(rawFile);

                clock.Restart();
                var uri = $"gs://bench-bucket/backup_{round}.sql.gz";
                await client.WaitForOperationAsync(await client.ExportAsync(Instance, new ExportContext { FileType = "SQL", Uri = uri, Databases = [Database] }));
                exportOurs.Add(clock.Elapsed.TotalSeconds);
                var ours = Path.Combine(_state, "buckets", "bench-bucket", $"backup_{round}.sql.gz");
                oursBytes = new FileInfo(ours).Length;
                File.Delete(ours);
                Say($"export round {round}: local cloud {exportOurs[^1]:F2} s, pg_dump | gzip {exportRaw[^1]:F2} s");
            }

            // Point in time: rows written, T noted, rows deleted; both recoveries must bring the rows back.
            await ExecuteAsync(app, "CREATE TABLE bench_marker (id int); INSERT INTO bench_marker SELECT generate_series(1, 1000);");
            await Task.Delay(1100);
            var pointInTime = DateTimeOffset.UtcNow;
            await Task.Delay(1100);
            await ExecuteAsync(app, "DELETE FROM bench_marker;");

            var clone = Stopwatch.StartNew();
            await client.WaitForOperationAsync(await client.CloneAsync(Instance, new CloneContext { DestinationInstanceName = "bench-pitr", PointInTime = pointInTime }));
            var cloneOurs = clone.Elapsed.TotalSeconds;
            var cloneAddress = (await client.GetInstanceAsync("bench-pitr")).IpAddress();
            var restoredOurs = await ScalarAsync<long>(app.Replace(address, cloneAddress, StringComparison.Ordinal), "SELECT count(*) FROM bench_marker");

            clone.Restart();
            var restoredRaw = await ManualPointInTimeRestoreAsync(manualBase, pointInTime);
            var cloneRaw = clone.Elapsed.TotalSeconds;
            Say($"point-in-time: local cloud clone {cloneOurs:F2} s ({restoredOurs} rows back), manual copy of a pg_basebackup + recovery {cloneRaw:F2} s ({restoredRaw} rows back)");
            if (restoredOurs != 1000 || restoredRaw != 1000)
            {
                Say("FAILED: a recovery did not bring back the 1000 rows deleted after the point in time");
                return 1;
            }

            var peak = PeakResidentMegabytes(_cloud.Id);
            var exportRatio = exportOurs.Min() / exportRaw.Min();
            var cloneRatio = cloneOurs / cloneRaw;
            Console.WriteLine();
            Console.WriteLine($"| measure | local cloud | raw tools | ratio | target |");
            Console.WriteLine($"|---|---|---|---|---|");
            Console.WriteLine(Invariant($"| export of a {size / 1048576.0:F0} MB database (best of {rounds}) | {exportOurs.Min():F2} s, {oursBytes / 1048576.0:F0} MB | {exportRaw.Min():F2} s, {rawBytes / 1048576.0:F0} MB (`pg_dump \\| gzip`) | {exportRatio:F3} | <= 1.05 |"));
            Console.WriteLine(Invariant($"| point-in-time clone | {cloneOurs:F2} s | {cloneRaw:F2} s (copy of a `pg_basebackup` + recovery) | {cloneRatio:F3} | <= 1.10 |"));
            Console.WriteLine(Invariant($"| peak memory of the local cloud process (VmHWM) | {peak:F0} MB | | | < 200 MB |"));
            return exportRatio <= 1.05 && cloneRatio <= 1.10 && peak < 200 ? 0 : 3;
        }
        finally
        {
            await StopCloudAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    /// <summary>A base backup taken by hand with pg_basebackup, as an operator would keep one.</summary>
    private async Task<string> ManualBaseBackupAsync(string sourceAddress)
    {
        var directory = Path.Combine(work, "manual-base");
        Directory.CreateDirectory(work);
        var runAs = PostgresCluster.DefaultRunAs();
        if (runAs is not null)
        {
            await new ExternalProcess { FileName = "chown", Arguments = [$"{runAs}:", work] }.RunAsync();
        }
        await new ExternalProcess
        {
            FileName = _binaries.Path("pg_basebackup"),
            Arguments = ["-h", sourceAddress, "-U", "cloudsqladmin", "-D", directory, "-X", "stream", "-c", "fast", "--no-password"],
            Environment = new Dictionary<string, string> { ["PGPASSWORD"] = await AdminPasswordAsync() },
            RunAs = runAs,
        }.RunAsync();
        return directory;
    }

    /// <summary>What an operator does by hand: copy the base backup, point recovery at the archived WAL and T, start, wait for promotion.</summary>
    private async Task<long> ManualPointInTimeRestoreAsync(string baseBackup, DateTimeOffset pointInTime)
    {
        var admin = await AdminPasswordAsync();
        var root = Path.Combine(work, "manual");
        var cluster = new PostgresCluster(_binaries, new ClusterLayout
        {
            DataDirectory = Path.Combine(root, "data"),
            LogFile = Path.Combine(root, "postgres.log"),
            ListenAddress = "127.0.0.1",
            Port = FreePort(),
            RunAs = PostgresCluster.DefaultRunAs(),
        });
        Directory.CreateDirectory(root);
        await cluster.GiveAsync(root);
        await new ExternalProcess { FileName = "cp", Arguments = ["-a", baseBackup, cluster.Layout.DataDirectory] }.RunAsync();
        await cluster.PrepareDataDirectoryAsync();
        await File.WriteAllTextAsync(Path.Combine(cluster.Layout.DataDirectory, "recovery.signal"), "");
        await cluster.GiveAsync(Path.Combine(cluster.Layout.DataDirectory, "recovery.signal"));
        var archive = Path.Combine(_state, "instances", Instance, "wal");
        await cluster.WriteRuntimeConfigAsync(new Dictionary<string, string>
        {
            ["restore_command"] = $"cp '{archive}/%f' '%p'",
            ["recovery_target_time"] = pointInTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture),
            ["recovery_target_action"] = "promote",
            ["archive_mode"] = "off",
        });
        await cluster.StartAsync();
        try
        {
            var connection = cluster.ConnectionString("cloudsqladmin", admin, Database);
            while (await ScalarAsync<bool>(connection, "SELECT pg_is_in_recovery()"))
            {
                await Task.Delay(50);
            }
            return await ScalarAsync<long>(connection, "SELECT count(*) FROM bench_marker");
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    private async Task<string> AdminPasswordAsync() =>
        (await File.ReadAllTextAsync(Path.Combine(_state, "instances", Instance, "admin.secret"))).Trim();

    private Task<Process> StartCloudAsync(int port) => StartProcessAsync("Commissable.LocalCloud.dll", ["--port", port.ToString(CultureInfo.InvariantCulture), "--state", _state, "--address-prefix", "127.0.250"], new Dictionary<string, string>());

    private Task StopCloudAsync() => StopProcessAsync(_cloud);

}

internal static class InstanceExtensions
{
    public static string IpAddress(this DatabaseInstance instance) => instance.IpAddresses![0].IpAddress!;
}
