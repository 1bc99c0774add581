using System.Diagnostics;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Files;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;

using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// The read-back of restore-verify's checks stage on its own: the content manifest of a database
/// (the demo) read with one serial pg_dump (<see cref="DatabaseDump"/>, as before) and as
/// <see cref="PostgresBackupContentReader.ReadDatabaseAsync"/> reads it now (pg_dump plus COPY
/// sessions in its snapshot), against <c>pg_dump | wc -c</c>; in alternating order each round,
/// and the two manifests must be identical.
/// </summary>
internal sealed class ReadBackBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep)
{
    private const string Database = "crm";
    private const string SuperUser = "bench";
    private const string Password = "bench-pw";
    private const string Address = "127.0.214.1";
    private readonly PostgresBinaries _server = PostgresBinaries.Locate();
    private readonly PostgresBinaries _tools = PostgresBinaries.LocateClient();

    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        // The functions reach every instance on 5432 (DatabaseLoginOptions.Port): an address of its own.
        var cluster = DemoCluster(_server, work, Address, DatabaseLoginOptions.Port);
        try
        {
            var size = await LoadDemoAsync(cluster, SuperUser, Password, Database, demo, vacuum: true);

            var passwordFile = Path.Combine(work, "password");
            File.Delete(passwordFile); // a --work directory kept by an earlier run
            OwnerOnly.WriteNewFile(passwordFile, Password);
            var login = new DatabaseLoginOptions { User = SuperUser, PasswordFile = passwordFile };
            var instance = new DatabaseInstance { Name = "bench", IpAddresses = [new IpMapping { IpAddress = Address, Type = "PRIMARY" }] };
            var state = Path.Combine(work, "state");
            new BucketPaths(state).Prepare();
            var reader = new PostgresBackupContentReader(login, new LocalBackupStore(new BucketPaths(state), "unused"), _tools);
            var options = new DumpReadOptions { TenantColumn = "tenantId", TimeZone = "UTC" };

            // Each read-back's samples: wall seconds, this process's CPU seconds, MB it allocated.
            var measures = new Dictionary<string, List<(double Seconds, double Cpu, double Allocated)>>();
            var cpuAtStart = TimeSpan.Zero;
            var allocatedAtStart = 0L;
            void Record(string name, double seconds)
            {
                var used = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds;
                var bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocatedAtStart) / 1048576.0;
                (measures.TryGetValue(name, out var list) ? list : measures[name] = []).Add((seconds, used, bytes));
                Say(Invariant($"{name}: {seconds:F2} s, this process's CPU {used:F2} s, allocated {bytes:F0} MB (load {LoadAverage():F1})"));
            }
            var connection = $"-h {Address} -p {cluster.Layout.Port} -U {SuperUser} -d {Database}";
            // The parse alone, of the same text from a file in the page cache: what the reader costs without a server.
            var textFile = Path.Combine(work, "crm.sql");
            await ShellAsync($"PGTZ=UTC '{_tools.Path("pg_dump")}' {connection} > '{textFile}'", Password);
            for (var round = 1; round <= rounds; round++)
            {
                var order = round % 2 == 1 ? new[] { 0, 1, 2, 3, 4 } : [4, 3, 2, 1, 0];
                string? before = null, after = null;
                foreach (var which in order)
                {
                    cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
                    allocatedAtStart = GC.GetTotalAllocatedBytes(precise: true);
                    var clock = Stopwatch.StartNew();
                    switch (which)
                    {
                        case 0:
                            await ShellAsync($"PGTZ=UTC '{_tools.Path("pg_dump")}' {connection} | wc -c > /dev/null", Password);
                            Record("pg_dump | wc -c", clock.Elapsed.TotalSeconds);
                            break;
                        case 1:
                            await using (var text = await DatabaseDump.OpenAsync(login, instance, Database, new DatabaseDumpOptions(), _tools))
                            {
                                before = Json(await DumpContentReader.ReadAsync(text, options));
                            }
                            Record("manifest read back with pg_dump (before)", clock.Elapsed.TotalSeconds);
                            break;
                        case 3:
                            await using (var file = File.OpenRead(textFile))
                            {
                                await DumpContentReader.ReadAsync(file, options);
                            }
                            Record("the parse alone (DumpContentReader over the text in a file)", clock.Elapsed.TotalSeconds);
                            break;
                        case 4:
                            var results = await new PostgresRestoredDatabaseChecks(login).RunAsync(instance, Database, new Commissable.Backup.Core.Databases.RestoreCheckOptions());
                            Record($"the checks on the database's own terms ({results.Count}: migrations, sequences, critical tables)", clock.Elapsed.TotalSeconds);
                            break;
                        default:
                            after = Json(await reader.ReadDatabaseAsync(instance, Database, options));
                            Record("manifest read back with pg_dump + COPY sessions (now)", clock.Elapsed.TotalSeconds);
                            break;
                    }
                }
                if (before != after)
                {
                    throw new InvalidOperationException("the two read-backs gave different manifests");
                }
            }

            var floor = measures["pg_dump | wc -c"].Min(m => m.Seconds);
            Console.WriteLine();
            Console.WriteLine(Invariant($"Demo database {size / 1048576.0:F0} MB; best of {rounds} rounds; the two manifests identical in every round."));
            Console.WriteLine();
            Console.WriteLine("| read-back | seconds | vs `pg_dump \\| wc -c` | this process's CPU seconds (least) | MB this process allocated (least) |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (name, list) in measures)
            {
                var seconds = list.Min(m => m.Seconds);
                Console.WriteLine(Invariant($"| {name.Replace("|", "\\|", StringComparison.Ordinal)} | {seconds:F2} | {seconds / floor:F2} | {list.Min(m => m.Cpu):F2} | {list.Min(m => m.Allocated):F0} |"));
            }
            return 0;
        }
        finally
        {
            await cluster.StopAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    private static string Json(BackupContent content) => JsonSerializer.Serialize(content, CatalogJson.Options);

}
