using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;

using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// <c>commissable-backup dump</c> against the raw tool on the same demo database: (a) the command
/// as an operator runs it (its own process, the URL in an environment variable), manifest and
/// checksums included, against (b) <c>pg_dump -Fc --no-owner --no-privileges -f FILE</c>, target
/// at most 1.05; also (c) the dump alone in this process (<see cref="CustomFormatDump"/>, without
/// the command's start-up) and (d) the content manifest read as a second pass over (b)'s file
/// (<c>pg_restore -f -</c> and the parser, <see cref="PostgresBackupContentReader.ReadFileAsync"/>),
/// which is what the manifest would cost without the one-pass tee. Rounds alternate the order of
/// (a) and (b); best of each. Checked every round: the command's manifest equals a second read of
/// its own file and the database's content as (d) reads it from (b). Once, after the rounds and not
/// in the ratio: <c>pg_restore --jobs 2</c> of each file into a new database, since the command's
/// archive (written through a pipe) has no data offsets in its table of contents and (b)'s has.
/// </summary>
internal sealed class DumpBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep)
{
    private const double Target = 1.05;
    private const double Megabyte = 1024.0 * 1024;
    private const string Database = "crm";
    private const string SuperUser = "bench";
    private const string Password = "bench-dump-pw";

    private readonly PostgresBinaries _server = PostgresBinaries.Locate();
    private readonly PostgresBinaries _tools = PostgresBinaries.LocateClient();

    private sealed record Round(int Number, double Command, double Raw, double InProcess, double SecondRead, long CommandBytes, long RawBytes, double Load)
    {
        /// <summary>CPU seconds on the client's side (this process and the programs it waited for; the server's are the same for all) of (a) to (d).</summary>
        public (double Command, double Raw, double InProcess, double SecondRead) Cpu { get; init; }
    }

    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        var port = FreePort();
        var cluster = DemoCluster(_server, work, "127.0.0.1", port);
        try
        {
            var size = await LoadDemoAsync(cluster, SuperUser, Password, Database, demo, vacuum: true);
            var url = $"postgresql://{SuperUser}:{Password}@127.0.0.1:{port}/{Database}";
            var endpoint = DatabaseEndpoint.FromUrl(url, out _);
            var files = Path.Combine(work, "files");
            OwnerOnly.CreateDirectory(files);
            var raw = Path.Combine(files, "raw.dump");

            var results = new List<Round>();
            string? commandFile = null;
            for (var number = 1; number <= rounds; number++)
            {
                double command = 0, rawSeconds = 0, commandCpu = 0, rawCpu = 0;
                var load = LoadAverage();
                async Task Command()
                {
                    var cpu = CpuSeconds();
                    (command, commandFile) = await CommandAsync(url, Path.Combine(files, Invariant($"r{number}")), Invariant($"bench-r{number}"));
                    commandCpu = CpuSeconds() - cpu;
                }
                async Task Raw()
                {
                    File.Delete(raw);
                    var cpu = CpuSeconds();
                    var clock = Stopwatch.StartNew();
                    await ShellAsync($"'{_tools.Path("pg_dump")}' -h 127.0.0.1 -p {port} -U {SuperUser} -d {Database} -Fc --no-owner --no-privileges -f '{raw}'", Password);
                    rawSeconds = clock.Elapsed.TotalSeconds;
                    rawCpu = CpuSeconds() - cpu;
                }
                if (number % 2 == 1)
                {
                    await Command();
                    await Raw();
                }
                else
                {
                    await Raw();
                    await Command();
                }

                var inProcessFile = Path.Combine(files, Invariant($"in-process-{number}.dump"));
                var before = CpuSeconds();
                var clock = Stopwatch.StartNew();
                var inProcess = await CustomFormatDump.WriteAsync(endpoint, Database, inProcessFile, new CustomFormatDumpOptions(), _tools);
                var inProcessSeconds = clock.Elapsed.TotalSeconds;
                var inProcessCpu = CpuSeconds() - before;
                File.Delete(inProcessFile);

                before = CpuSeconds();
                clock.Restart();
                var secondRead = await PostgresBackupContentReader.ReadFileAsync(raw, new DumpReadOptions { TimeZone = CustomFormatDump.TimeZone }, _tools);
                var secondReadSeconds = clock.Elapsed.TotalSeconds;
                var secondReadCpu = CpuSeconds() - before;

                Check(commandFile!, secondRead, inProcess.Content);
                var round = new Round(number, command, rawSeconds, inProcessSeconds, secondReadSeconds, new FileInfo(commandFile!).Length, new FileInfo(raw).Length, load)
                {
                    Cpu = (commandCpu, rawCpu, inProcessCpu, secondReadCpu),
                };
                results.Add(round);
                Say(Invariant($"round {number}: dump command {command:F2} s (CPU {commandCpu:F2} s), pg_dump -Fc {rawSeconds:F2} s (CPU {rawCpu:F2} s), in process {inProcessSeconds:F2} s (CPU {inProcessCpu:F2} s), manifest as a second read {secondReadSeconds:F2} s (CPU {secondReadCpu:F2} s); load {load:F1}"));
            }

            Say("restoring each file with pg_restore --jobs 2 (not in the ratio) ...");
            var restoreCommandFile = await RestoreAsync(cluster, commandFile!, "restored_command");
            var restoreRaw = await RestoreAsync(cluster, raw, "restored_raw");
            return Print(results, size, restoreCommandFile, restoreRaw) ? 0 : 3;
        }
        finally
        {
            await cluster.StopAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    /// <summary>User and system CPU seconds of this process and of every program it has waited for (getrusage).</summary>
    private static double CpuSeconds()
    {
        static double Of(int who)
        {
            // struct rusage begins with ru_utime and ru_stime, two struct timeval (seconds, microseconds) on 64-bit Linux.
            var usage = new long[18];
            if (GetResourceUsage(who, usage) != 0) throw new InvalidOperationException("getrusage failed");
            return usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6;
        }
        return Of(0) + Of(-1);
    }

    [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetResourceUsage(int who, [Out] long[] usage);

    /// <summary>The command as an operator runs it, in its own process; returns its time and the file it wrote.</summary>
    private static async Task<(double Seconds, string File)> CommandAsync(string url, string output, string change)
    {
        var clock = Stopwatch.StartNew();
        var result = await new ExternalProcess
        {
            FileName = "dotnet",
            Arguments = [Path.Combine(AppContext.BaseDirectory, "commissable-backup.dll"), "dump", "--from-env", "BENCH_URL", "--change", change, "--out", output],
            Environment = new Dictionary<string, string> { ["BENCH_URL"] = url },
            InheritPostgresVariables = false,
        }.RunAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        var file = Directory.GetFiles(output, "*.dump").Single();
        if (!result.Contains("dump:     " + file, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the dump command did not report {file}: {result}");
        }
        return (seconds, file);
    }

    /// <summary>The command's manifest is that of its own bytes and of the database (as read from the raw dump); the in-process dump's too.</summary>
    private void Check(string file, BackupContent database, BackupContent inProcess)
    {
        var manifest = JsonSerializer.Deserialize<BackupManifest>(File.ReadAllText(file + BackupObjectName.ManifestSuffix), CatalogJson.Options)!;
        var own = PostgresBackupContentReader.ReadFileAsync(file, new DumpReadOptions { TimeZone = CustomFormatDump.TimeZone }, _tools).GetAwaiter().GetResult();
        if (JsonSerializer.Serialize(own, CatalogJson.Options) != JsonSerializer.Serialize(manifest.Content, CatalogJson.Options))
        {
            throw new InvalidOperationException($"the manifest of {file} is not that of its own bytes");
        }
        foreach (var content in new[] { manifest.Content!, inProcess })
        {
            if (ContentComparison.Compare(content, database).FirstOrDefault(c => !c.Passed) is { } failed)
            {
                throw new InvalidOperationException($"a dump's manifest differs from the database: [{failed.Name}] {failed.Detail}");
            }
        }
        if (manifest.SizeBytes != new FileInfo(file).Length)
        {
            throw new InvalidOperationException($"the manifest of {file} records {manifest.SizeBytes} bytes");
        }
    }

    private async Task<double> RestoreAsync(Commissable.Backup.Postgres.Clusters.PostgresCluster cluster, string file, string database)
    {
        await ExecuteAsync(cluster.ConnectionString(SuperUser, Password), $"CREATE DATABASE {database}");
        var clock = Stopwatch.StartNew();
        await ShellAsync($"'{_tools.Path("pg_restore")}' -h 127.0.0.1 -p {cluster.Layout.Port} -U {SuperUser} -d {database} --jobs 2 --no-owner --no-privileges --exit-on-error '{file}'", Password);
        return clock.Elapsed.TotalSeconds;
    }

    private bool Print(List<Round> results, long size, double restoreCommandFile, double restoreRaw)
    {
        var command = results.Min(r => r.Command);
        var raw = results.Min(r => r.Raw);
        var inProcess = results.Min(r => r.InProcess);
        var secondRead = results.Min(r => r.SecondRead);
        var ratio = command / raw;
        Console.WriteLine();
        Console.WriteLine(Invariant($"Demo {demo.Tenants} tenants x {demo.RowsPerTenant} rows per tenant, database {size / Megabyte:F0} MB; custom-format dump {results[0].CommandBytes / Megabyte:F1} MB (command) / {results[0].RawBytes / Megabyte:F1} MB (pg_dump -Fc); {results.Count} round(s), best of each."));
        Console.WriteLine();
        Console.WriteLine("| round | (a) dump command | (b) pg_dump -Fc | (a)/(b) | (c) dump in process | (d) manifest as a second read of (b) | ((b)+(d))/(b) | client CPU (a) / (b) / (c) / (d) | load |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Console.WriteLine(Invariant($"| {r.Number} | {r.Command:F2} s | {r.Raw:F2} s | {r.Command / r.Raw:F3} | {r.InProcess:F2} s | {r.SecondRead:F2} s | {(r.Raw + r.SecondRead) / r.Raw:F3} | {r.Cpu.Command:F2} / {r.Cpu.Raw:F2} / {r.Cpu.InProcess:F2} / {r.Cpu.SecondRead:F2} s | {r.Load:F1} |"));
        }
        Console.WriteLine();
        Console.WriteLine(Invariant($"(a) dump command, manifest and checksums included, over (b) pg_dump -Fc: {command:F2} / {raw:F2} s = {ratio:F3} (target <= {Target}): {(ratio <= Target ? "met" : "MISSED")}."));
        Console.WriteLine(Invariant($"(c) the dump in this process (no command start-up) over (b): {inProcess:F2} / {raw:F2} s = {inProcess / raw:F3}."));
        Console.WriteLine(Invariant($"The manifest's part: read in the same pass it adds {(inProcess - raw):F2} s to pg_dump ((c)-(b)); read as a second pass over the file it would add {secondRead:F2} s ((b)+(d) = {(raw + secondRead) / raw:F3} x (b))."));
        Console.WriteLine(Invariant($"pg_restore --jobs 2 of the command's file (no data offsets) {restoreCommandFile:F2} s, of pg_dump -Fc's file {restoreRaw:F2} s ({restoreCommandFile / restoreRaw:F2})."));
        return ratio <= Target;
    }
}
