using System.Globalization;
using Commissable.Backup.Postgres.Demo;
using Commissable.Benchmarks;

// dotnet run -c Release --project tests/Commissable.Benchmarks -- local-cloud|functions [--tenants N] [--rows-per-tenant M] [--rounds R] [--work DIR] [--keep]
// dotnet run -c Release --project tests/Commissable.Benchmarks -- content-read --dump FILE[.gz] [--rounds R]
if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine("usage: Commissable.Benchmarks local-cloud|functions [--tenants N] [--rows-per-tenant M] [--rounds R] [--work DIR] [--keep]");
    Console.WriteLine("       Commissable.Benchmarks content-read --dump FILE[.gz] [--rounds R]");
    return args.Length == 0 ? 2 : 0;
}
if (args[0] == "content-read")
{
    return await ContentReadBenchmark.RunAsync(args[1..]);
}
// 28 tenants x 20,000 rows is about 1 GB (measured: 979 MiB).
var demo = new DemoDatabaseOptions { Tenants = 28, RowsPerTenant = 20_000 };
var rounds = 2;
var work = Path.Combine(Path.GetTempPath(), $"cbench-{Guid.NewGuid():N}"[..14]);
var keep = false;
for (var i = 1; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--tenants": demo = demo with { Tenants = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--rows-per-tenant": demo = demo with { RowsPerTenant = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--work": work = Path.GetFullPath(Next()); break;
        case "--keep": keep = true; break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}
return args[0] switch
{
    "local-cloud" => await new LocalCloudBenchmark(demo, rounds, work, keep).RunAsync(),
    "functions" => await new FunctionsBenchmark(demo, rounds, work, keep).RunAsync(),
    _ => Fail($"unknown benchmark '{args[0]}'; available: local-cloud, functions"),
};

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
