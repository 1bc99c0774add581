using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;
using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// The proof of restore against the raw tools, in one run, at one or more sizes of the demo
/// database: (a) the pre-deploy gate end to end (<c>POST /pre-deploy-export</c> on the published
/// functions host until 200: export, object check, content manifest, manifest) against
/// <c>pg_dump -Fc</c> of the same database to a file; (b) the content manifest of that export
/// (<see cref="PostgresBackupContentReader"/> over the <c>.sql.gz</c>, in this process) against
/// <c>gunzip -c | wc -c</c> of it; (c) <c>restore-verify</c> in import mode (import, then the
/// restored database read back with pg_dump and compared with the manifest) against
/// <c>CREATE DATABASE</c> and <c>gunzip -c | psql</c> of the same object into the same instance;
/// (d) the host's peak resident set during (a) to (c): VmHWM, reset before each call to the host
/// and read after it (between calls the host is idle), so each peak is told to its call.
/// </summary>
/// <remarks>
/// Fairness: the same machine, run and data for both sides. After each load the database is
/// vacuumed (every page read once and its hint bits set, so neither side pays for the load's
/// first read) and the WAL archiver is let catch up; then each measure runs its two sides in
/// alternating order, ours first in odd rounds, so with one round any cold cost falls on ours.
/// Before (c), one bare restore (not timed) gives the verification instance the WAL segments a
/// restore of this size needs, so the first timed restore does not create them.
/// </remarks>
internal sealed class ProofBenchmark(DemoDatabaseOptions demo, IReadOnlyList<double> scales, int? rounds, string work, bool keep, IReadOnlyDictionary<string, string> hostEnvironment)
{
    private const double Gigabyte = 1024.0 * 1024 * 1024;
    private const double Megabyte = 1024.0 * 1024;
    private const double GateTarget = 1.15;
    private const double ContentTarget = 3;
    private const double VerifyTarget = 1.25;
    private const double MemoryTarget = 150;

    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        BenchCloud? cloud = null;
        Process? host = null;
        try
        {
            cloud = await BenchCloud.StartAsync(work, "127.0.213");
            Say("creating the instances ...");
            await cloud.CreateInstanceAsync("prod", pitr: true);
            await cloud.CreateInstanceAsync("verify", pitr: false);
            await cloud.AutomatedBackupAsync("prod");
            var passwordFile = cloud.WritePasswordFile();
            var published = await cloud.PublishHostAsync();

            var port = FreePort();
            host = cloud.StartHost(published, port, passwordFile, Path.Combine(work, "functions.log"), hostEnvironment);
            if (hostEnvironment.Count > 0)
            {
                Say("host environment added: " + string.Join(' ', hostEnvironment.Select(e => $"{e.Key}={e.Value}")));
            }
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromHours(3) };
            await BenchCloud.FirstResponseAsync(http, Stopwatch.StartNew());
            Say($"functions host (ReadyToRun, as the image) listening, pid {host.Id}");

            var reader = new PostgresBackupContentReader(
                new DatabaseLoginOptions { User = "postgres", PasswordFile = passwordFile },
                new LocalBackupStore(new BucketPaths(cloud.State), BenchCloud.Bucket),
                cloud.Tools);
            var results = new List<ScaleResult>();
            string? previous = null;
            for (var index = 0; index < scales.Count; index++)
            {
                var result = await RunScaleAsync(cloud, http, host, reader, scales[index], index + 1, previous);
                previous = result.Database;
                results.Add(result);
                PrintScale(result, Console.Error);
            }

            Console.WriteLine();
            Console.WriteLine($"Command: dotnet run -c Release --project tests/Commissable.Benchmarks -- {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}");
            foreach (var result in results) PrintScale(result, Console.Out);
            if (results.Count > 1) PrintGrowth(results);
            return results.All(r => r.TargetsMet) ? 0 : 3;
        }
        finally
        {
            await StopProcessAsync(host);
            if (cloud is not null) await cloud.DisposeAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    private async Task<ScaleResult> RunScaleAsync(BenchCloud cloud, HttpClient http, Process host, PostgresBackupContentReader reader, double scale, int index, string? previous)
    {
        var options = Scaled(demo, scale);
        var database = $"crm{index}";
        var prod = await cloud.AddressAsync("prod");
        var verify = await cloud.AddressAsync("verify");
        if (previous is not null)
        {
            // The disk holds one size at a time (its exports stay in the bucket).
            await ExecuteAsync(BenchCloud.Connection(prod, "postgres"), $"DROP DATABASE {previous}");
        }
        Say(Invariant($"scale {scale}: loading the demo database ({options.Tenants} tenants x {options.RowsPerTenant} rows per tenant) into prod/{database} ..."));
        await cloud.CreateDatabaseAsync("prod", database);
        var load = Stopwatch.StartNew();
        await DemoDatabase.CreateAsync(BenchCloud.Connection(prod, database), options, new Progress<string>(Say));
        var size = await ScalarAsync<long>(BenchCloud.Connection(prod, database), "SELECT pg_database_size(current_database())");
        Say(Invariant($"loaded {size / Megabyte:F0} MB in {load.Elapsed.TotalSeconds:F0} s; vacuuming and letting the WAL archiver catch up (not measured) ..."));
        await ExecuteAsync(BenchCloud.Connection(prod, database), "VACUUM");
        await WaitForArchiverAsync(BenchCloud.Connection(prod, database));
        await ShellAsync("sync", BenchCloud.RootPassword);

        var roundsHere = rounds ?? (scale <= 1 ? 2 : 1);
        var result = new ScaleResult { Scale = scale, Options = options, Database = database, SizeBytes = size, Rounds = roundsHere, LoadAtStart = LoadAverage(), HostRestingMegabytes = ProcessMegabytes(host.Id, "VmRSS") };
        var pgDump = cloud.Tools.Path("pg_dump");
        var psql = cloud.Tools.Path("psql");

        // (a) The pre-deploy gate against pg_dump -Fc to a file.
        string? backupUri = null;
        for (var round = 0; round < roundsHere; round++)
        {
            foreach (var oursTurn in Order(round))
            {
                if (oursTurn)
                {
                    ResetPeakMemory(host.Id);
                    var clock = Stopwatch.StartNew();
                    var exported = await PreDeployExportAsync(http, new JsonObject { ["instance"] = "prod", ["database"] = database, ["change"] = $"proof-s{index}-r{round + 1}" });
                    var seconds = clock.Elapsed.TotalSeconds;
                    result.HostPeakGate = Math.Max(result.HostPeakGate, PeakResidentMegabytes(host.Id));
                    backupUri ??= (string)exported["backupUri"]!;
                    result.ExportBytes = (long?)exported["sizeBytes"] ?? 0;
                    Say(Invariant($"(a) round {round + 1}: pre-deploy-export {seconds:F1} s, {result.ExportBytes / Megabyte:F0} MB; stages {BenchCloud.Stages(exported)}"));
                    if (seconds < result.Gate.Ours)
                    {
                        result.Gate.Ours = seconds;
                        result.GateStages = BenchCloud.Stages(exported);
                    }
                }
                else
                {
                    var file = Path.Combine(work, "raw.dump");
                    var clock = Stopwatch.StartNew();
                    await ShellAsync($"'{pgDump}' -Fc -h {prod} -U postgres -d {database} -f '{file}'", BenchCloud.RootPassword);
                    var seconds = clock.Elapsed.TotalSeconds;
                    result.RawDumpBytes = new FileInfo(file).Length;
                    File.Delete(file);
                    Say(Invariant($"(a) round {round + 1}: pg_dump -Fc {seconds:F1} s, {result.RawDumpBytes / Megabyte:F0} MB"));
                    result.Gate.Raw = Math.Min(result.Gate.Raw, seconds);
                }
            }
        }

        // (b) The content manifest of the export against gunzip -c | wc -c of it. The host's
        // manifest of the same object must come out the same, or the read measured is not the one it does.
        var objectPath = cloud.ObjectPath(backupUri!);
        var objectName = backupUri!["gs://".Length..].Split('/', 2)[1];
        var recorded = await cloud.ReadManifestAsync(backupUri);
        var recordedContent = recorded.Content ?? throw new InvalidOperationException($"{backupUri}: the manifest has no content section");
        var reading = new DumpReadOptions { TenantColumn = recordedContent.TenantColumn, TimeZone = recordedContent.TimeZone };
        for (var round = 0; round < roundsHere; round++)
        {
            foreach (var oursTurn in Order(round))
            {
                if (oursTurn)
                {
                    ResetPeakMemory(Environment.ProcessId);
                    var clock = Stopwatch.StartNew();
                    var content = await reader.ReadBackupAsync(objectName, recorded.Format, reading);
                    var seconds = clock.Elapsed.TotalSeconds;
                    result.ReaderPeakMegabytes = Math.Max(result.ReaderPeakMegabytes, PeakResidentMegabytes(Environment.ProcessId));
                    if (JsonSerializer.Serialize(content, CatalogJson.Options) != JsonSerializer.Serialize(recordedContent, CatalogJson.Options))
                    {
                        throw new InvalidOperationException($"{backupUri}: the content read here differs from the manifest the host wrote");
                    }
                    result.TableCount = content.Tables.Count;
                    result.TotalRows = content.TotalRows;
                    Say(Invariant($"(b) round {round + 1}: content manifest {seconds:F2} s ({content.Tables.Count} tables, {content.TotalRows} rows; same as the host's)"));
                    result.Content.Ours = Math.Min(result.Content.Ours, seconds);
                }
                else
                {
                    var clock = Stopwatch.StartNew();
                    var output = await new ExternalProcess { FileName = "bash", Arguments = ["-o", "pipefail", "-c", $"gunzip -c '{objectPath}' | wc -c"] }.RunAsync();
                    var seconds = clock.Elapsed.TotalSeconds;
                    result.TextBytes = long.Parse(output.Trim(), CultureInfo.InvariantCulture);
                    Say(Invariant($"(b) round {round + 1}: gunzip -c | wc -c {seconds:F2} s ({result.TextBytes / Megabyte:F0} MB of text)"));
                    result.Content.Raw = Math.Min(result.Content.Raw, seconds);
                }
            }
        }

        // (c) restore-verify (import, read back, compare) against a bare restore into a fresh database.
        // The restore of a database this size on an instance that has never held one also creates
        // the WAL segments every later restore recycles (the server's CPU for the same import was
        // 26 s the first time and 17 s after), which would weigh on whichever side goes first in
        // round 1. So one bare restore runs first, not timed.
        async Task<(double Restore, double Drop)> BareRestoreAsync()
        {
            var bare = "bare_" + Guid.NewGuid().ToString("N")[..8];
            var clock = Stopwatch.StartNew();
            await ShellAsync($"'{psql}' -X -h {verify} -U postgres -d postgres -qc 'CREATE DATABASE {bare}' && gunzip -c '{objectPath}' | '{psql}' -X -q -v ON_ERROR_STOP=1 -h {verify} -U postgres -d {bare} >/dev/null", BenchCloud.RootPassword);
            var seconds = clock.Elapsed.TotalSeconds;
            var drop = Stopwatch.StartNew();
            await ShellAsync($"'{psql}' -X -h {verify} -U postgres -d postgres -qc 'DROP DATABASE {bare}'", BenchCloud.RootPassword);
            return (seconds, drop.Elapsed.TotalSeconds);
        }
        var warmUp = await BareRestoreAsync();
        Say(Invariant($"(c) warm-up: CREATE DATABASE + gunzip -c | psql {warmUp.Restore:F1} s (not counted)"));
        for (var round = 0; round < roundsHere; round++)
        {
            foreach (var oursTurn in Order(round))
            {
                if (oursTurn)
                {
                    ResetPeakMemory(host.Id);
                    var clock = Stopwatch.StartNew();
                    var (_, verified) = await BenchCloud.PostAsync(http, "restore-verify", new JsonObject { ["backup"] = backupUri, ["verificationInstance"] = "verify" });
                    var seconds = clock.Elapsed.TotalSeconds;
                    result.HostPeakVerify = Math.Max(result.HostPeakVerify, PeakResidentMegabytes(host.Id));
                    if ((bool?)verified["passed"] != true)
                    {
                        throw new InvalidOperationException("restore-verify did not pass: " + verified.ToJsonString());
                    }
                    var checks = verified["checks"]?.AsArray().Count ?? 0;
                    var operation = await cloud.LastOperationSecondsAsync("verify", "IMPORT");
                    Say(Invariant($"(c) round {round + 1}: restore-verify {seconds:F1} s, passed {checks} checks; stages {BenchCloud.Stages(verified)}; the local cloud's import operation itself {operation:F1} s"));
                    if (seconds < result.Verify.Ours)
                    {
                        result.Verify.Ours = seconds;
                        result.VerifyStages = BenchCloud.Stages(verified);
                        result.VerifyChecks = checks;
                    }
                }
                else
                {
                    var (seconds, drop) = await BareRestoreAsync();
                    Say(Invariant($"(c) round {round + 1}: CREATE DATABASE + gunzip -c | psql {seconds:F1} s (then DROP DATABASE {drop:F1} s, not counted)"));
                    result.Verify.Raw = Math.Min(result.Verify.Raw, seconds);
                }
            }
        }
        result.LoadAtEnd = LoadAverage();
        return result;
    }

    /// <summary>Ours first in odd rounds (1, 3, ...), the raw tool first in even ones.</summary>
    private static bool[] Order(int round) => round % 2 == 0 ? [true, false] : [false, true];

    /// <summary>POST /pre-deploy-export; a 202 is followed on its status URL until the export is done.</summary>
    internal static async Task<JsonObject> PreDeployExportAsync(HttpClient http, JsonObject request)
    {
        var (status, body) = await BenchCloud.PostAsync(http, "pre-deploy-export", request);
        while (status == 202)
        {
            await Task.Delay(200);
            using var response = await http.GetAsync(((string)body["statusUrl"]!).TrimStart('/'));
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode && (int)response.StatusCode != 202) throw new InvalidOperationException($"pre-deploy-export status answered {(int)response.StatusCode}: {text}");
            (status, body) = ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject());
        }
        return (string?)body["status"] == "succeeded" ? body : throw new InvalidOperationException("pre-deploy-export did not succeed: " + body.ToJsonString());
    }

    /// <summary>The demo scaled by <paramref name="scale"/>: the number of tenants when that stays whole, else the rows per tenant.</summary>
    internal static DemoDatabaseOptions Scaled(DemoDatabaseOptions demo, double scale)
    {
        var tenants = demo.Tenants * scale;
        return Math.Abs(tenants - Math.Round(tenants)) < 1e-9 && tenants >= 1
            ? demo with { Tenants = (int)Math.Round(tenants) }
            : demo with { RowsPerTenant = (int)Math.Round(demo.RowsPerTenant * scale) };
    }

    /// <summary>A field of <c>/proc/&lt;pid&gt;/status</c> given in kB (VmRSS, VmHWM), in MB.</summary>
    private static double ProcessMegabytes(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>Resets a process's VmHWM to its current resident size (Linux: 5 to clear_refs).</summary>
    private static void ResetPeakMemory(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    private static void PrintScale(ScaleResult r, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine(Invariant($"Scale {r.Scale}: demo {r.Options.Tenants} tenants x {r.Options.RowsPerTenant} rows per tenant, database {r.SizeBytes / Megabyte:F0} MB ({r.TableCount} tables, {r.TotalRows} rows), export {r.ExportBytes / Megabyte:F0} MB .sql.gz ({r.TextBytes / Megabyte:F0} MB of SQL text), pg_dump -Fc {r.RawDumpBytes / Megabyte:F0} MB; best of {r.Rounds}."));
        output.WriteLine();
        output.WriteLine("| measure | ours | raw | ratio | target |");
        output.WriteLine("|---|---|---|---|---|");
        output.WriteLine(Invariant($"| (a) pre-deploy gate end to end (`POST /pre-deploy-export` until 200) | {r.Gate.Ours:F1} s | {r.Gate.Raw:F1} s (`pg_dump -Fc` to a file) | {r.Gate.Ratio:F3} | <= {GateTarget} |"));
        output.WriteLine(Invariant($"| (b) content manifest of the export (`PostgresBackupContentReader`, .sql.gz) | {r.Content.Ours:F2} s | {r.Content.Raw:F2} s (`gunzip -c \\| wc -c`) | {r.Content.Ratio:F3} | <= {ContentTarget} |"));
        output.WriteLine(Invariant($"| (c) restore-verify, import mode with content comparison ({r.VerifyChecks} checks passed) | {r.Verify.Ours:F1} s | {r.Verify.Raw:F1} s (`CREATE DATABASE` + `gunzip -c \\| psql`) | {r.Verify.Ratio:F3} | <= {VerifyTarget} |"));
        output.WriteLine(Invariant($"| (d) functions host peak memory (VmHWM) during (a)-(c) | {r.HostPeakMegabytes:F0} MB (during (a) {r.HostPeakGate:F0} MB, during (c) {r.HostPeakVerify:F0} MB; at rest before them {r.HostRestingMegabytes:F0} MB) | | | < {MemoryTarget} MB |"));
        output.WriteLine(Invariant($"| this process's peak memory during (b) (VmHWM, for reference) | {r.ReaderPeakMegabytes:F0} MB | | | |"));
        output.WriteLine();
        output.WriteLine($"Where the time goes (best round): pre-deploy-export {r.GateStages}; restore-verify {r.VerifyStages}.");
        output.WriteLine(Invariant($"Machine load (1-minute average, 2 cores) at the start and end of this scale: {r.LoadAtStart:F1} / {r.LoadAtEnd:F1}."));
    }

    private static void PrintGrowth(List<ScaleResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("How the times grow with size (s/GB: seconds per GiB of database; growth: time at this scale over time at the one before):");
        Console.WriteLine();
        Console.WriteLine("| measure | " + string.Join(" | ", results.Select(r => Invariant($"scale {r.Scale}")))
            + " | " + string.Join(" | ", results.Skip(1).Select((r, i) => Invariant($"growth {results[i].Scale} to {r.Scale}"))) + " |");
        Console.WriteLine("|---|" + string.Concat(Enumerable.Repeat("---|", results.Count * 2 - 1)));
        Console.WriteLine("| database size | " + string.Join(" | ", results.Select(r => Invariant($"{r.SizeBytes / Gigabyte:F2} GiB")))
            + " | " + string.Join(" | ", results.Skip(1).Select((r, i) => Invariant($"x{(double)r.SizeBytes / results[i].SizeBytes:F2}"))) + " |");
        Row("(a) pre-deploy-export", r => r.Gate.Ours);
        Row("(a) pg_dump -Fc", r => r.Gate.Raw);
        Row("(b) content manifest", r => r.Content.Ours);
        Row("(b) gunzip -c \\| wc -c", r => r.Content.Raw);
        Row("(c) restore-verify", r => r.Verify.Ours);
        Row("(c) gunzip -c \\| psql", r => r.Verify.Raw);
        Console.WriteLine("| (d) host peak memory | " + string.Join(" | ", results.Select(r => Invariant($"{r.HostPeakMegabytes:F0} MB")))
            + " | " + string.Join(" | ", results.Skip(1).Select((r, i) => Invariant($"x{r.HostPeakMegabytes / results[i].HostPeakMegabytes:F2}"))) + " |");

        void Row(string name, Func<ScaleResult, double> seconds) =>
            Console.WriteLine($"| {name} | " + string.Join(" | ", results.Select(r => Invariant($"{seconds(r):F1} s ({seconds(r) / (r.SizeBytes / Gigabyte):F1} s/GB)")))
                + " | " + string.Join(" | ", results.Skip(1).Select((r, i) => Invariant($"x{seconds(r) / seconds(results[i]):F2}"))) + " |");
    }

    private sealed class Pair
    {
        public double Ours { get; set; } = double.MaxValue;

        public double Raw { get; set; } = double.MaxValue;

        public double Ratio => Ours / Raw;
    }

    private sealed class ScaleResult
    {
        public required double Scale { get; init; }

        public required DemoDatabaseOptions Options { get; init; }

        public required string Database { get; init; }

        public required long SizeBytes { get; init; }

        public required int Rounds { get; init; }

        public Pair Gate { get; } = new();

        public Pair Content { get; } = new();

        public Pair Verify { get; } = new();

        public string GateStages { get; set; } = "";

        public string VerifyStages { get; set; } = "";

        public int VerifyChecks { get; set; }

        public long ExportBytes { get; set; }

        public long RawDumpBytes { get; set; }

        public long TextBytes { get; set; }

        public int TableCount { get; set; }

        public long TotalRows { get; set; }

        public double HostPeakMegabytes => Math.Max(HostPeakGate, HostPeakVerify);

        public double HostPeakGate { get; set; }

        public double HostPeakVerify { get; set; }

        public required double HostRestingMegabytes { get; init; }

        public required double LoadAtStart { get; init; }

        public double LoadAtEnd { get; set; }

        public double ReaderPeakMegabytes { get; set; }

        public bool TargetsMet => Gate.Ratio <= GateTarget && Content.Ratio <= ContentTarget && Verify.Ratio <= VerifyTarget && HostPeakMegabytes < MemoryTarget;
    }
}
