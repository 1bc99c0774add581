using System.Diagnostics;
using System.IO.Compression;
using Commissable.Backup.Core.Backups.Content;
using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// The content reader's throughput on a dump file (plain, or <c>.gz</c>): in the same run, a bare
/// read of the same bytes (<c>cat | wc -c</c>, or <c>gunzip -c | wc -c</c> for <c>.gz</c>), then
/// <see cref="DumpContentReader.ReadAsync"/>, each <c>--rounds</c> times; prints MB/s, the ratio and
/// this process's peak resident memory.
/// </summary>
internal static class ContentReadBenchmark
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        string? dump = null;
        var rounds = 3;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--dump" when i + 1 < args.Count: dump = args[++i]; break;
                case "--rounds" when i + 1 < args.Count: rounds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; usage: content-read --dump FILE[.gz] [--rounds R]");
                    return 2;
            }
        }
        if (dump is null || !File.Exists(dump))
        {
            Console.Error.WriteLine("usage: content-read --dump FILE[.gz] [--rounds R] (the file must exist)");
            return 2;
        }

        var gzip = dump.EndsWith(".gz", StringComparison.Ordinal);
        var bare = new List<double>();
        var reader = new List<double>();
        long bytes = 0;
        for (var round = 1; round <= rounds; round++)
        {
            var clock = Stopwatch.StartNew();
            await using (var stream = Open(dump, gzip))
            {
                var buffer = new byte[1 << 20];
                int n;
                bytes = 0;
                while ((n = await stream.ReadAsync(buffer)) > 0) bytes += n;
            }
            bare.Add(clock.Elapsed.TotalSeconds);

            clock.Restart();
            await using (var stream = Open(dump, gzip))
            {
                var content = await DumpContentReader.ReadAsync(stream, new DumpReadOptions());
                reader.Add(clock.Elapsed.TotalSeconds);
                Say(Invariant($"round {round}: {content.Tables.Count} tables, {content.TotalRows} rows; bare read {bare[^1]:F2} s, content reader {reader[^1]:F2} s"));
            }
        }

        var megabytes = bytes / 1e6;
        var best = reader.Min();
        Console.WriteLine(Invariant($"dump: {dump} ({megabytes:F1} MB of plain SQL{(gzip ? ", gzip" : "")})"));
        Console.WriteLine(Invariant($"bare read ({(gzip ? "gunzip" : "cat")}): best {bare.Min():F2} s = {megabytes / bare.Min():F0} MB/s"));
        Console.WriteLine(Invariant($"content reader: best {best:F2} s = {megabytes / best:F0} MB/s, median {Median(reader):F2} s = {megabytes / Median(reader):F0} MB/s"));
        Console.WriteLine(Invariant($"ratio content reader / bare read (best of each): {best / bare.Min():F2}"));
        Console.WriteLine(Invariant($"peak resident memory of this process: {PeakResidentMegabytes(Environment.ProcessId):F0} MB"));
        return 0;
    }

    private static Stream Open(string path, bool gzip)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
