using System.Diagnostics;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;

using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// Measures <see cref="BackupObjectText"/> (a backup object read as plain SQL text, counted and
/// thrown away) and the whole content manifest (<see cref="PostgresBackupContentReader"/>) for
/// gzip, directory and custom exports of the same demo database against
/// <c>gunzip -c x.sql.gz | wc -c</c> of its gzip export, in one run; also <c>pg_restore -f - |
/// wc -c</c> straight from local files, the floor for the two pg_restore formats, and the peak
/// memory of this process while it reads (VmHWM, reset before the reads).
/// </summary>
internal sealed class DumpTextBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep)
{
    private const string Bucket = "bench";
    private const string Database = "crm";
    private const string SuperUser = "bench";
    private const string Password = "bench-pw";
    private readonly PostgresBinaries _server = PostgresBinaries.Locate();
    private readonly PostgresBinaries _tools = PostgresBinaries.LocateClient();

    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        var cluster = DemoCluster(_server, work, "127.0.0.1", FreePort());
        try
        {
            var size = await LoadDemoAsync(cluster, SuperUser, Password, Database, demo, vacuum: false);

            var state = Path.Combine(work, "state");
            var paths = new BucketPaths(state);
            paths.Prepare();
            var bucket = paths.BucketDirectory(Bucket);
            paths.CreatePrivateDirectory(bucket);
            var connection = $"-h 127.0.0.1 -p {cluster.Layout.Port} -U {SuperUser} -d {Database}";
            var pgDump = _tools.Path("pg_dump");
            var pgRestore = _tools.Path("pg_restore");
            Say("exporting: pg_dump | gzip, pg_dump -Fd -j2, pg_dump -Fc ...");
            await ShellAsync($"PGTZ=UTC '{pgDump}' {connection} | gzip > '{bucket}/x.sql.gz'", Password);
            await ShellAsync($"PGTZ=UTC '{pgDump}' {connection} -Fd -j2 -f '{bucket}/x'", Password);
            await ShellAsync($"PGTZ=UTC '{pgDump}' {connection} -Fc -f '{bucket}/x.dump'", Password);
            var gzipBytes = new FileInfo(Path.Combine(bucket, "x.sql.gz")).Length;
            var directoryBytes = Directory.GetFiles(Path.Combine(bucket, "x")).Sum(f => new FileInfo(f).Length);
            var customBytes = new FileInfo(Path.Combine(bucket, "x.dump")).Length;
            var store = new LocalBackupStore(paths, Bucket);
            // Backups only: the login is never used.
            var manifests = new PostgresBackupContentReader(new DatabaseLoginOptions { User = "unused", PasswordFile = "/nonexistent" }, store, _tools);

            ResetPeakMemory();
            var measures = new Dictionary<string, List<(double Seconds, long Bytes)>>();
            void Record(string name, double seconds, long bytes)
            {
                (measures.TryGetValue(name, out var list) ? list : measures[name] = []).Add((seconds, bytes));
                Say(Invariant($"{name}: {seconds:F2} s, {bytes / 1048576.0:F0} MB of text, {bytes / 1048576.0 / seconds:F0} MB/s"));
            }
            for (var round = 1; round <= rounds; round++)
            {
                Say($"round {round}");
                var (seconds, bytes) = await ShellCountAsync($"gunzip -c '{bucket}/x.sql.gz' | wc -c");
                Record("gunzip -c x.sql.gz | wc -c", seconds, bytes);
                (seconds, bytes) = await ReadAsync(store, "x.sql.gz", "SQL_GZIP");
                Record("BackupObjectText, SQL_GZIP", seconds, bytes);
                (seconds, bytes) = await ReadAsync(store, "x", "DIRECTORY");
                Record("BackupObjectText, DIRECTORY", seconds, bytes);
                (seconds, bytes) = await ShellCountAsync($"'{pgRestore}' -f - '{bucket}/x' | wc -c");
                Record("pg_restore -f - x/ | wc -c", seconds, bytes);
                (seconds, bytes) = await ReadAsync(store, "x.dump", "CUSTOM");
                Record("BackupObjectText, CUSTOM", seconds, bytes);
                (seconds, bytes) = await ShellCountAsync($"'{pgRestore}' -f - '{bucket}/x.dump' | wc -c");
                Record("pg_restore -f - x.dump | wc -c", seconds, bytes);
                (seconds, bytes) = await ManifestAsync(manifests, "x.sql.gz", "SQL_GZIP");
                Record("content manifest, SQL_GZIP", seconds, bytes);
                (seconds, bytes) = await ManifestAsync(manifests, "x", "DIRECTORY");
                Record("content manifest, DIRECTORY", seconds, bytes);
                (seconds, bytes) = await ManifestAsync(manifests, "x.dump", "CUSTOM");
                Record("content manifest, CUSTOM", seconds, bytes);
            }
            var peak = PeakResidentMegabytes(Environment.ProcessId);

            var baseline = measures["gunzip -c x.sql.gz | wc -c"].Min(m => m.Seconds);
            Console.WriteLine();
            Console.WriteLine(Invariant($"Demo database {size / 1048576.0:F0} MB; exports: x.sql.gz {gzipBytes / 1048576.0:F0} MB, x/ (directory, -j2) {directoryBytes / 1048576.0:F0} MB, x.dump {customBytes / 1048576.0:F0} MB; best of {rounds} rounds."));
            Console.WriteLine();
            Console.WriteLine("| read | seconds | text MB | MB/s | vs `gunzip -c \\| wc -c` |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (name, list) in measures)
            {
                var best = list.MinBy(m => m.Seconds);
                Console.WriteLine(Invariant($"| {name.Replace("|", "\\|", StringComparison.Ordinal)} | {best.Seconds:F2} | {best.Bytes / 1048576.0:F0} | {best.Bytes / 1048576.0 / best.Seconds:F0} | {best.Seconds / baseline:F2} |"));
            }
            Console.WriteLine(Invariant($"| peak memory of this process while reading (VmHWM) | {peak:F0} MB | | | |"));
            return 0;
        }
        finally
        {
            await cluster.StopAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    private async Task<(double Seconds, long Bytes)> ReadAsync(LocalBackupStore store, string objectName, string format)
    {
        var clock = Stopwatch.StartNew();
        long total = 0;
        var buffer = new byte[1 << 20];
        await using (var text = await BackupObjectText.OpenAsync(store, objectName, format, _tools))
        {
            int read;
            while ((read = await text.ReadAsync(buffer)) > 0)
            {
                total += read;
            }
        }
        return (clock.Elapsed.TotalSeconds, total);
    }

    /// <summary>The whole content manifest of an object; the bytes are those of the text it read.</summary>
    private static async Task<(double Seconds, long Bytes)> ManifestAsync(PostgresBackupContentReader reader, string objectName, string format)
    {
        var bytes = new LastReport();
        var clock = Stopwatch.StartNew();
        var content = await reader.ReadBackupAsync(objectName, format, new DumpReadOptions { BytesRead = bytes });
        var seconds = clock.Elapsed.TotalSeconds;
        if (content.Tables.Count == 0)
        {
            throw new InvalidOperationException($"the manifest of {objectName} holds no table");
        }
        return (seconds, bytes.Value);
    }

    /// <summary>Keeps the last progress report, as it is made (Progress&lt;T&gt; would post it later).</summary>
    private sealed class LastReport : IProgress<long>
    {
        public long Value { get; private set; }

        public void Report(long value) => Value = value;
    }

    private static async Task<(double Seconds, long Bytes)> ShellCountAsync(string script)
    {
        var clock = Stopwatch.StartNew();
        var output = await new ExternalProcess { FileName = "bash", Arguments = ["-o", "pipefail", "-c", script] }.RunAsync();
        return (clock.Elapsed.TotalSeconds, long.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Resets this process's VmHWM to its current resident size (Linux: 5 to clear_refs), so the peak is the reads'.</summary>
    private static void ResetPeakMemory() => File.WriteAllText("/proc/self/clear_refs", "5");
}
