using System.CommandLine;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud;

// dotnet run --project functions/Commissable.LocalCloud -- --port 8123 --state .localcloud
var portOption = new Option<int>("--port")
{
    Description = "TCP port on 127.0.0.1; 0 picks a free one (printed when it listens)",
    DefaultValueFactory = _ => 8123,
};
portOption.Validators.Add(result =>
{
    // A value that is no number at all is the parser's own error; this judges the numbers.
    if (result.Tokens is [var token] && int.TryParse(token.Value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is < 0 or > 65535)
    {
        result.AddError("--port must be 0 to 65535 (0 picks a free one).");
    }
});
var stateOption = new Option<string>("--state")
{
    Description = "the directory where the local cloud keeps its instances, backups, buckets and token",
    Required = true,
};
var prefixOption = new Option<string>("--address-prefix")
{
    Description = "the first three octets of the instances' loopback addresses",
    DefaultValueFactory = _ => LocalCloudOptions.DefaultAddressPrefix,
};
prefixOption.Validators.Add(result =>
{
    if (LocalCloudOptions.AddressPrefixProblem(result.GetValueOrDefault<string>()) is { } problem) result.AddError(problem);
});
var root = new RootCommand("The Cloud SQL Admin API v1beta4 over real PostgreSQL clusters, on 127.0.0.1.") { portOption, stateOption, prefixOption };
root.SetAction((parsed, cancellationToken) => RunAsync(parsed.GetValue(portOption), parsed.GetValue(stateOption)!, parsed.GetValue(prefixOption)!));
var parseResult = root.Parse(args);
if (parseResult.Errors.Count > 0)
{
    foreach (var parseError in parseResult.Errors)
    {
        Console.Error.WriteLine($"local cloud: {parseError.Message}");
    }
    Console.Error.WriteLine("usage: Commissable.LocalCloud --state <DIR> [--port 8123] [--address-prefix 127.0.1] (--help for more)");
    return 2;
}
// The host handles SIGTERM and Ctrl+C itself (a graceful stop stops the clusters); the parser must not.
return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

static async Task<int> RunAsync(int port, string state, string prefix)
{
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
}
