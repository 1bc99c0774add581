using System.Globalization;
using Commissable.Backup.Postgres.Clusters;
using Commissable.LocalCloud;

// dotnet run --project functions/Commissable.LocalCloud -- --port 8123 --state .localcloud
var port = 8123;
string? state = null;
var prefix = "127.0.1";
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--state": state = Next(); break;
        case "--address-prefix": prefix = Next(); break;
        case "--help" or "-h":
            Console.WriteLine("usage: Commissable.LocalCloud --port <P> --state <DIR> [--address-prefix 127.0.1]");
            return 0;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; usage: --port <P> --state <DIR> [--address-prefix 127.0.1]");
            return 2;
    }
}
if (state is null)
{
    Console.Error.WriteLine("--state <DIR> is required: the directory where the local cloud keeps its instances, backups, buckets and token.");
    return 2;
}
if (LocalCloudOptions.AddressPrefixProblem(prefix) is { } prefixProblem)
{
    Console.Error.WriteLine(prefixProblem);
    return 2;
}

try
{
    var options = new LocalCloudOptions
    {
        Port = port,
        StateDirectory = Path.GetFullPath(state),
        AddressPrefix = prefix,
        Binaries = PostgresBinaries.Locate(),
    };
    var app = LocalCloudHost.Build(options);
    var url = await LocalCloudHost.StartAsync(app);
    Console.WriteLine($"listening {url}");
    await app.WaitForShutdownAsync();
    return 0;
}
catch (Exception error) when (error is InvalidOperationException or IOException or ArgumentException)
{
    Console.Error.WriteLine($"local cloud: {error.Message}");
    return 1;
}
