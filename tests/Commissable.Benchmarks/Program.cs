using System.Globalization;
using Commissable.Backup.Postgres.Demo;
using Commissable.Benchmarks;

const string Usage = "usage: Commissable.Benchmarks local-cloud|functions|dump-text|proof|read-back|tenant-restore|restore|data-management [--tenants N] [--rows-per-tenant M] [--rounds R] [--scales S1,S2,...] [--work DIR] [--keep] [--host-env NAME=VALUE (proof, functions)] [--backups N (data-management)]";
// dotnet run -c Release --project tests/Commissable.Benchmarks -- <benchmark> [options]
if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine(Usage);
    Console.WriteLine("  proof: --scales multiplies the demo database (default 1); --rounds defaults to 2 at scales up to 1 and 1 above.");
    Console.WriteLine("  data-management: --backups is the catalog's size (default 50, real pre-deploy exports of the tiny demo database).");
    Console.WriteLine("  tenant-restore: the demo defaults to --tenants 100 --rows-per-tenant 5600 (~1 GB, a tenant ~1 % of the rows); --rounds 2.");
    return args.Length == 0 ? 2 : 0;
}
// 28 tenants x 20,000 rows is about 1 GB (measured: 979 MiB).
var demo = new DemoDatabaseOptions { Tenants = 28, RowsPerTenant = 20_000 };
int? rounds = null;
IReadOnlyList<double> scales = [1];
var work = Path.Combine(Path.GetTempPath(), $"cbench-{Guid.NewGuid():N}"[..14]);
var keep = false;
var backups = DataManagementBenchmark.DefaultBackups;
var hostEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 1; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--tenants": demo = demo with { Tenants = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--rows-per-tenant": demo = demo with { RowsPerTenant = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--scales":
            scales = [.. Next().Split(',').Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture))];
            if (scales.Count == 0 || scales.Any(s => !(s > 0))) return Fail("--scales takes positive numbers separated by commas, e.g. 0.25,1,4");
            break;
        case "--work": work = Path.GetFullPath(Next()); break;
        case "--keep": keep = true; break;
        case "--backups": backups = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--host-env":
            // proof, functions: a runtime setting to try on the functions host, e.g. --host-env DOTNET_TieredPGO=0 (repeatable).
            var setting = Next().Split('=', 2);
            if (setting.Length != 2 || setting[0].Length == 0) return Fail("--host-env takes NAME=VALUE");
            hostEnvironment[setting[0]] = setting[1];
            break;
        default:
            return Fail($"unknown option {args[i]}\n{Usage}");
    }
}
if (rounds is < 1) return Fail("--rounds must be at least 1");
if (backups is < 1 or > 1000) return Fail("--backups must be from 1 to 1000");
using var interrupts = BenchTools.StopClustersOnInterrupt(work, keep);
try
{
    var code = await Run();
    await BenchTools.AfterInterruptAsync();
    return code;
}
catch (Exception) when (BenchTools.Interrupted)
{
    // The servers were stopped under the benchmark: the interrupt handler ends the process once it has cleaned up.
    await BenchTools.AfterInterruptAsync();
    return 1;
}

async Task<int> Run() => args[0] switch
{
    "local-cloud" => await new LocalCloudBenchmark(demo, rounds ?? 2, work, keep).RunAsync(),
    "functions" => await new FunctionsBenchmark(demo, rounds ?? 2, work, keep, hostEnvironment).RunAsync(),
    "dump-text" => await new DumpTextBenchmark(demo, rounds ?? 2, work, keep).RunAsync(),
    "proof" => await new ProofBenchmark(demo, scales, rounds, work, keep, hostEnvironment).RunAsync(),
    "read-back" => await new ReadBackBenchmark(demo, rounds ?? 3, work, keep).RunAsync(),
    "tenant-restore" => await new TenantRestoreBenchmark(TenantRestoreBenchmark.Defaults(demo, args), rounds ?? 2, work, keep).RunAsync(),
    "dump" => await new DumpBenchmark(demo, rounds ?? 3, work, keep).RunAsync(),
    "restore" => await new RestoreBenchmark(demo, rounds ?? 2, work, keep).RunAsync(),
    "sanitize" => await new SanitizeBenchmark(demo, rounds ?? 2, work, keep).RunAsync(),
    "data-management" => await new DataManagementBenchmark(backups, work, keep).RunAsync(),
    _ => Fail($"unknown benchmark '{args[0]}'; available: local-cloud, functions, dump-text, proof, read-back, tenant-restore, dump, restore, sanitize, data-management"),
};

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
