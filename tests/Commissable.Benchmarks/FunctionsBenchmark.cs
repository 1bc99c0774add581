using System.Diagnostics;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Verification;
using Npgsql;
using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// The functions against the raw tools, same backup, same run: restore-verify against a plain
/// <c>gunzip | psql</c> restore into a fresh database plus the same check queries; and the host's
/// time to its first response and its peak memory during a pre-deploy export of the database.
/// </summary>
internal sealed class FunctionsBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep, IReadOnlyDictionary<string, string> hostEnvironment)
{
    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        BenchCloud? cloud = null;
        Process? host = null;
        try
        {
            cloud = await BenchCloud.StartAsync(work, "127.0.251");

            Say("creating the instances and loading the demo database ...");
            await cloud.CreateInstanceAsync("prod", pitr: true);
            await cloud.CreateInstanceAsync("verify", pitr: false);
            await cloud.CreateDatabaseAsync("prod", "crm");
            var passwordFile = cloud.WritePasswordFile();

            // Start-up on a quiet machine, before the database load keeps PostgreSQL busy: the
            // image's build (ReadyToRun, published as the Dockerfile does) and, for reference, the JIT build.
            var published = await cloud.PublishHostAsync();
            var bare = await PublishBareAppAsync();
            var readyToRun = new List<double>();
            var floor = new List<double>();
            var jit = new List<double>();
            // Interleaved, so that drift on the machine touches all three alike.
            for (var i = 0; i < 7; i++)
            {
                readyToRun.Add(await StartupAsync(cloud, published, passwordFile, hostEnvironment));
                floor.Add(await StartupAsync(cloud, bare, passwordFile, null));
                jit.Add(await StartupAsync(cloud, Path.Combine(AppContext.BaseDirectory, "Commissable.Functions.dll"), passwordFile, hostEnvironment));
            }
            Say(Invariant($"first response: host {Describe(readyToRun)} (ReadyToRun), bare ASP.NET Core {Describe(floor)}, host {Describe(jit)} (JIT)"));

            var prod = await cloud.AddressAsync("prod");
            var verify = await cloud.AddressAsync("verify");
            await DemoDatabase.CreateAsync(BenchCloud.Connection(prod, "crm"), demo, new Progress<string>(Say));
            var size = await ScalarAsync<long>(BenchCloud.Connection(prod, "crm"), "SELECT pg_database_size(current_database())");
            await cloud.AutomatedBackupAsync("prod");

            var port = FreePort();
            var started = Stopwatch.StartNew();
            host = cloud.StartHost(published, port, passwordFile, Path.Combine(work, "functions.log"), hostEnvironment);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromHours(1) };
            var busyStart = await BenchCloud.FirstResponseAsync(http, started);
            Say(Invariant($"functions host: first response after {busyStart:F0} ms right after the database load"));

            var export = Stopwatch.StartNew();
            var (_, exported) = await BenchCloud.PostAsync(http, "pre-deploy-export", new JsonObject { ["instance"] = "prod", ["database"] = "crm", ["change"] = "bench" });
            var backupUri = (string)exported["backupUri"]!;
            Say(Invariant($"pre-deploy export of {size / 1048576.0:F0} MB: {export.Elapsed.TotalSeconds:F1} s, {((long?)exported["sizeBytes"] ?? 0) / 1048576.0:F0} MB"));
            var hostPeakAfterExport = PeakResidentMegabytes(host.Id);

            // Rounds in alternating order, best of each: on a fresh instance the first 1 GB import
            // also allocates the WAL segments that later imports recycle, which favours the second.
            var manifest = await cloud.ReadManifestAsync(backupUri);
            var oursSeconds = double.MaxValue;
            var plainSeconds = double.MaxValue;
            var checks = 0;
            for (var round = 0; round < rounds; round++)
            {
                for (var turn = 0; turn < 2; turn++)
                {
                    if ((round + turn) % 2 == 0)
                    {
                        var ours = Stopwatch.StartNew();
                        var (_, verified) = await BenchCloud.PostAsync(http, "restore-verify", new JsonObject { ["backup"] = backupUri, ["verificationInstance"] = "verify" });
                        oursSeconds = Math.Min(oursSeconds, ours.Elapsed.TotalSeconds);
                        if ((bool?)verified["passed"] != true)
                        {
                            Say("FAILED: restore-verify did not pass: " + verified.ToJsonString());
                            return 1;
                        }
                        Say(Invariant($"round {round + 1}: restore-verify {ours.Elapsed.TotalSeconds:F1} s, stages {BenchCloud.Stages(verified)}"));
                    }
                    else
                    {
                        var plain = Stopwatch.StartNew();
                        checks = await PlainRestoreAndChecksAsync(cloud, verify, backupUri, manifest);
                        plainSeconds = Math.Min(plainSeconds, plain.Elapsed.TotalSeconds);
                        Say(Invariant($"round {round + 1}: plain psql {plain.Elapsed.TotalSeconds:F1} s ({checks} checks passed)"));
                    }
                }
            }
            Say(Invariant($"restore + checks, best of {rounds}: restore-verify {oursSeconds:F1} s, plain psql {plainSeconds:F1} s"));
            var hostPeak = PeakResidentMegabytes(host.Id);

            var ratio = oursSeconds / plainSeconds;
            Console.WriteLine();
            Console.WriteLine("| measure | functions | raw tools | ratio | target |");
            Console.WriteLine("|---|---|---|---|---|");
            Console.WriteLine(Invariant($"| restore-verify of a {size / 1048576.0:F0} MB database's export, best of {rounds} | {oursSeconds:F1} s | {plainSeconds:F1} s (`gunzip \\| psql` + the same checks) | {ratio:F3} | <= 1.10 |"));
            Console.WriteLine(Invariant($"| host start to first response, image build (ReadyToRun), median of {readyToRun.Count} | {Median(readyToRun):F0} ms ({readyToRun.Min():F0}-{readyToRun.Max():F0}) | {Median(floor):F0} ms ({floor.Min():F0}-{floor.Max():F0}), a bare ASP.NET Core app | {Median(readyToRun) / Median(floor):F3} | < 300 ms |"));
            Console.WriteLine(Invariant($"| host start to first response, JIT build, median of {jit.Count} | {Median(jit):F0} ms ({jit.Min():F0}-{jit.Max():F0}) | | | |"));
            Console.WriteLine(Invariant($"| host start to first response right after the 1 GB load (ReadyToRun) | {busyStart:F0} ms | | | |"));
            Console.WriteLine(Invariant($"| host peak memory (VmHWM) during the export / whole run | {hostPeakAfterExport:F0} MB / {hostPeak:F0} MB | | | < 150 MB |"));
            return ratio <= 1.10 && Median(readyToRun) < 300 && hostPeak < 150 ? 0 : 3;
        }
        finally
        {
            await StopProcessAsync(host);
            if (cloud is not null) await cloud.DisposeAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    /// <summary>
    /// The floor for the start-up target: the smallest ASP.NET Core app that answers <c>GET
    /// /catalog</c> (the slim builder, one endpoint, on PORT), published with the host's flags.
    /// </summary>
    private async Task<string> PublishBareAppAsync()
    {
        var source = Path.Combine(work, "bare-src");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "bare.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><InvariantGlobalization>true</InvariantGlobalization></PropertyGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(source, "Program.cs"), """
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:" + Environment.GetEnvironmentVariable("PORT"));
            var app = builder.Build();
            app.MapGet("/catalog", () => Results.Json(new { backups = Array.Empty<object>() }));
            app.Run();
            """);
        var output = Path.Combine(work, "bare");
        Say("publishing a bare ASP.NET Core app the same way, for the start-up floor ...");
        await BenchCloud.Publish(Path.Combine(source, "bare.csproj"), output);
        return Path.Combine(output, "bare.dll");
    }

    /// <summary>Starts and stops a program once; from process start to its first answer, in ms.</summary>
    /// <param name="extra">Runtime settings being tried on the host (<c>--host-env</c>); none for the bare app.</param>
    private async Task<double> StartupAsync(BenchCloud cloud, string dll, string passwordFile, IReadOnlyDictionary<string, string>? extra)
    {
        var port = FreePort();
        var started = Stopwatch.StartNew();
        var process = cloud.StartHost(dll, port, passwordFile, Path.Combine(work, "startup.log"), extra);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            return await BenchCloud.FirstResponseAsync(http, started);
        }
        finally
        {
            await StopProcessAsync(process);
            process.Dispose();
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Describe(List<double> values) => Invariant($"median {Median(values):F0} ms of {values.Count} ({values.Min():F0}-{values.Max():F0})");

    /// <summary>What an operator does by hand: a fresh database, the dump through gunzip and psql, the same checks, then drop it.</summary>
    private static async Task<int> PlainRestoreAndChecksAsync(BenchCloud cloud, string address, string backupUri, BackupManifest manifest)
    {
        var database = "plain_" + Guid.NewGuid().ToString("N")[..8];
        var file = cloud.ObjectPath(backupUri);
        var psql = cloud.Binaries.Path("psql");
        await ShellAsync($"'{psql}' -h {address} -U postgres -d postgres -qc 'CREATE DATABASE {database}' && gunzip -c '{file}' | '{psql}' -X -q -v ON_ERROR_STOP=1 -h {address} -U postgres -d {database} >/dev/null", BenchCloud.RootPassword);
        await using (var dataSource = NpgsqlDataSource.Create(BenchCloud.Connection(address, database)))
        {
            var results = await RestoreChecks.RunAsync(dataSource);
            if (results.Any(r => !r.Passed)) throw new InvalidOperationException("the plain restore failed its checks: " + string.Join("; ", results.Where(r => !r.Passed).Select(r => r.Detail)));
        }
        await ShellAsync($"'{psql}' -h {address} -U postgres -d postgres -qc 'DROP DATABASE {database}'", BenchCloud.RootPassword);
        return RestoreChecks.All.Count;
    }
}
