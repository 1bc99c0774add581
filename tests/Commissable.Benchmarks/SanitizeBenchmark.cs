using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Processes;

using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// Measures <c>commissable-backup sanitize</c> (run as an operator runs it, with the example rules
/// file for the demo) against <c>pg_restore -f - x.dump | wc -c</c> of the same custom-format dump,
/// both as MB of the dump's SQL text per second: the whole command (rules check, masking into a
/// scratch database through psql, pg_dump -Fc of it, the output's content manifest, the drop), and
/// its masking-and-loading stage alone as the command reports it.
/// </summary>
internal sealed partial class SanitizeBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep)
{
    private const string Database = "crm";
    private const string SuperUser = "bench";
    private const string Password = "bench-pw";
    private const string Key = "benchmark-key-of-at-least-16-bytes";
    private readonly PostgresBinaries _server = PostgresBinaries.Locate();
    private readonly PostgresBinaries _tools = PostgresBinaries.LocateClient();

    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        var cluster = DemoCluster(_server, work, "127.0.0.1", FreePort());
        try
        {
            var size = await LoadDemoAsync(cluster, SuperUser, Password, Database, demo, vacuum: false);
            var port = cluster.Layout.Port;
            var dump = Path.Combine(work, "x.dump");
            Say("exporting: pg_dump -Fc ...");
            await ShellAsync($"PGTZ=UTC '{_tools.Path("pg_dump")}' -h 127.0.0.1 -p {port} -U {SuperUser} -d {Database} -Fc -f '{dump}'", Password);
            var dumpBytes = new FileInfo(dump).Length;
            var rules = Path.Combine(BenchCloud.Repository(), "functions", "Commissable.Backup.Cli", "Examples", "sanitize-rules-demo.yaml");

            var restore = new List<(double Seconds, long Bytes)>();
            var sanitize = new List<(double Seconds, double StageSeconds, double StageMegabytes)>();
            for (var round = 1; round <= rounds; round++)
            {
                Say($"round {round}");
                var clock = Stopwatch.StartNew();
                var text = long.Parse((await new ExternalProcess
                {
                    FileName = "bash",
                    Arguments = ["-o", "pipefail", "-c", "\"$1\" -f - \"$2\" | wc -c", "count", _tools.Path("pg_restore"), dump],
                }.RunAsync()).Trim(), CultureInfo.InvariantCulture);
                restore.Add((clock.Elapsed.TotalSeconds, text));
                Say(Invariant($"pg_restore -f - x.dump | wc -c: {clock.Elapsed.TotalSeconds:F2} s, {text / 1048576.0:F0} MB of text"));

                var output = Path.Combine(work, Invariant($"masked-{round}.dump"));
                clock.Restart();
                var (exit, said) = await SanitizeAsync(dump, rules, output, port);
                var seconds = clock.Elapsed.TotalSeconds;
                if (exit != 0) throw new InvalidOperationException($"sanitize exited {exit}: {said}");
                var stage = StagePattern().Match(said);
                if (!stage.Success) throw new InvalidOperationException($"sanitize did not report its masking stage: {said}");
                var stageMegabytes = double.Parse(stage.Groups[1].Value, CultureInfo.InvariantCulture);
                var stageSeconds = double.Parse(stage.Groups[2].Value, CultureInfo.InvariantCulture);
                sanitize.Add((seconds, stageSeconds, stageMegabytes));
                Say(Invariant($"sanitize: {seconds:F2} s in all; masking into the scratch database {stageSeconds:F1} s; output {new FileInfo(output).Length / 1048576.0:F0} MB"));
                File.Delete(output);
                File.Delete(output + ".manifest.json");
            }

            var bestRestore = restore.MinBy(r => r.Seconds);
            var bestSanitize = sanitize.MinBy(r => r.Seconds);
            var bestStage = sanitize.MinBy(r => r.StageSeconds);
            var megabytes = bestRestore.Bytes / 1048576.0;
            var restoreRate = megabytes / bestRestore.Seconds;
            Console.WriteLine();
            Console.WriteLine(Invariant($"Demo database {size / 1048576.0:F0} MB ({demo.Tenants} tenants x {demo.RowsPerTenant} rows per tenant); x.dump {dumpBytes / 1048576.0:F0} MB, {megabytes:F0} MB of SQL text; best of {rounds} rounds; load average {LoadAverage():F2}."));
            Console.WriteLine();
            Console.WriteLine("| measure | seconds | MB/s of SQL text | vs `pg_restore -f -` |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine(Invariant($"| `pg_restore -f - x.dump \\| wc -c` | {bestRestore.Seconds:F2} | {restoreRate:F0} | 1.00 |"));
            Console.WriteLine(Invariant($"| `sanitize` (whole command) | {bestSanitize.Seconds:F2} | {megabytes / bestSanitize.Seconds:F1} | {megabytes / bestSanitize.Seconds / restoreRate:F2} |"));
            Console.WriteLine(Invariant($"| its masking into the scratch database (psql) | {bestStage.StageSeconds:F1} | {bestStage.StageMegabytes / bestStage.StageSeconds:F1} | {bestStage.StageMegabytes / bestStage.StageSeconds / restoreRate:F2} |"));
            return 0;
        }
        finally
        {
            await cluster.StopAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    /// <summary>The CLI's sanitize, the key and the scratch server's URL in its environment (never its arguments).</summary>
    private static async Task<(int Exit, string Output)> SanitizeAsync(string dump, string rules, string output, int port)
    {
        using var process = new ExternalProcess
        {
            FileName = "dotnet",
            Arguments = [Path.Combine(AppContext.BaseDirectory, "commissable-backup.dll"), "sanitize", dump, "--rules", rules, "--key-env", "BENCH_KEY", "--scratch-env", "BENCH_SCRATCH", "--out", output],
            Environment = new Dictionary<string, string>
            {
                ["BENCH_KEY"] = Key,
                ["BENCH_SCRATCH"] = Invariant($"postgresql://{SuperUser}:{Password}@127.0.0.1:{port}/postgres"),
            },
            InheritPostgresVariables = false,
        }.Start(redirectStdout: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = ExternalProcess.ReadTailAsync(process.StandardError);
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"\(([0-9.]+) MB of SQL text\) into scratch database \S+ in ([0-9.]+) s", RegexOptions.CultureInvariant)]
    private static partial Regex StagePattern();
}
