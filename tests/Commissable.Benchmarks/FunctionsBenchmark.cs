using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Postgres.Processes;
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
internal sealed class FunctionsBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep)
{
    private const string Project = "bench-project";
    private const string Bucket = "bench-backups";
    private const string RootPassword = "bench-root-pw";
    private readonly PostgresBinaries _binaries = PostgresBinaries.Locate();
    private readonly string _state = Path.Combine(work, "state");

    public async Task<int> RunAsync()
    {
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
        Process? cloud = null, host = null;
        try
        {
            var cloudPort = FreePort();
            cloud = await StartProcessAsync("Commissable.LocalCloud.dll", ["--port", cloudPort.ToString(CultureInfo.InvariantCulture), "--state", _state, "--address-prefix", "127.0.251"], new Dictionary<string, string>());
            using var sql = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{cloudPort}/"), Timeout = TimeSpan.FromMinutes(30) };
            sql.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(_state, "token"))).Trim());

            Say("creating the instances and loading the demo database ...");
            await OperationAsync(sql, Api("instances"), Instance("prod", pitr: true));
            await OperationAsync(sql, Api("instances"), Instance("verify", pitr: false));
            await OperationAsync(sql, Api("instances/prod/databases"), new JsonObject { ["name"] = "crm" });
            var passwordFile = Path.Combine(work, "inspector-password");
            await File.WriteAllTextAsync(passwordFile, RootPassword);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

            // Start-up on a quiet machine, before the database load keeps PostgreSQL busy: the
            // image's build (ReadyToRun, published as the Dockerfile does) and, for reference, the JIT build.
            var published = await PublishHostAsync();
            var bare = await PublishBareAppAsync();
            var readyToRun = new List<double>();
            var floor = new List<double>();
            var jit = new List<double>();
            // Interleaved, so that drift on the machine touches all three alike.
            for (var i = 0; i < 7; i++)
            {
                readyToRun.Add(await StartupAsync(published, cloudPort, passwordFile));
                floor.Add(await StartupAsync(bare, cloudPort, passwordFile));
                jit.Add(await StartupAsync(Path.Combine(AppContext.BaseDirectory, "Commissable.Functions.dll"), cloudPort, passwordFile));
            }
            Say(Invariant($"first response: host {Describe(readyToRun)} (ReadyToRun), bare ASP.NET Core {Describe(floor)}, host {Describe(jit)} (JIT)"));

            var prod = await AddressAsync(sql, "prod");
            var verify = await AddressAsync(sql, "verify");
            await DemoDatabase.CreateAsync(Connection(prod, "crm"), demo, new Progress<string>(Say));
            var size = await ScalarAsync<long>(Connection(prod, "crm"), "SELECT pg_database_size(current_database())");
            await OperationAsync(sql, $"localcloud/v1/projects/{Project}/instances/prod/automatedBackup", null);

            var port = FreePort();
            var started = Stopwatch.StartNew();
            host = StartHost(published, port, cloudPort, passwordFile, Path.Combine(work, "functions.log"));
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromHours(1) };
            var busyStart = await FirstResponseAsync(http, started);
            Say(Invariant($"functions host: first response after {busyStart:F0} ms right after the database load"));

            var export = Stopwatch.StartNew();
            var exported = await PostAsync(http, "pre-deploy-export", new JsonObject { ["instance"] = "prod", ["database"] = "crm", ["change"] = "bench" });
            var backupUri = (string)exported["backupUri"]!;
            Say(Invariant($"pre-deploy export of {size / 1048576.0:F0} MB: {export.Elapsed.TotalSeconds:F1} s, {((long?)exported["sizeBytes"] ?? 0) / 1048576.0:F0} MB"));
            var hostPeakAfterExport = PeakResidentMegabytes(host.Id);

            // Rounds in alternating order, best of each: on a fresh instance the first 1 GB import
            // also allocates the WAL segments that later imports recycle, which favours the second.
            var manifest = await ReadManifestAsync(backupUri);
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
                        var verified = await PostAsync(http, "restore-verify", new JsonObject { ["backup"] = backupUri, ["verificationInstance"] = "verify" });
                        oursSeconds = Math.Min(oursSeconds, ours.Elapsed.TotalSeconds);
                        if ((bool?)verified["passed"] != true)
                        {
                            Say("FAILED: restore-verify did not pass: " + verified.ToJsonString());
                            return 1;
                        }
                        Say(Invariant($"round {round + 1}: restore-verify {ours.Elapsed.TotalSeconds:F1} s, stages {Stages(verified)}"));
                    }
                    else
                    {
                        var plain = Stopwatch.StartNew();
                        checks = await PlainRestoreAndChecksAsync(verify, backupUri, manifest);
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
            await StopProcessAsync(cloud);
            if (!keep)
            {
                try
                {
                    Directory.Delete(work, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>
    /// The host as the image ships it: <c>dotnet publish</c> with the Dockerfile's flags into the
    /// work directory; returns the published <c>Commissable.Functions.dll</c>.
    /// </summary>
    private async Task<string> PublishHostAsync()
    {
        var output = Path.Combine(work, "host");
        var project = Path.Combine(Repository(), "functions", "Commissable.Functions", "Commissable.Functions.csproj");
        Say("publishing the functions host as the Dockerfile does (ReadyToRun) ...");
        await Publish(project, output);
        return Path.Combine(output, "Commissable.Functions.dll");
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
        await Publish(Path.Combine(source, "bare.csproj"), output);
        return Path.Combine(output, "bare.dll");
    }

    /// <summary>dotnet publish with the Dockerfile's flags; its output (build errors come on stdout) goes to stderr, so a failure says why.</summary>
    private static async Task Publish(string project, string output) => await new ExternalProcess
    {
        FileName = "bash",
        Arguments = ["-c", "dotnet publish \"$1\" -c Release -o \"$2\" -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:UseAppHost=false --nologo -v quiet 1>&2", "publish", project, output],
        Environment = new Dictionary<string, string>(),
    }.RunAsync();

    /// <summary>Starts and stops a program once; from process start to its first answer, in ms.</summary>
    private async Task<double> StartupAsync(string dll, int cloudPort, string passwordFile)
    {
        var port = FreePort();
        var started = Stopwatch.StartNew();
        var process = StartHost(dll, port, cloudPort, passwordFile, Path.Combine(work, "startup.log"));
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            return await FirstResponseAsync(http, started);
        }
        finally
        {
            await StopProcessAsync(process);
            process.Dispose();
        }
    }

    /// <summary>"create-db 0.2 s, import 21.0 s, ..." from restore-verify's answer.</summary>
    private static string Stages(JsonObject verified) =>
        string.Join(", ", (verified["stages"]?.AsArray() ?? []).Select(s => Invariant($"{(string?)s!["stage"]} {((long?)s["durationMs"] ?? 0) / 1000.0:F1} s")));

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Describe(List<double> values) => Invariant($"median {Median(values):F0} ms of {values.Count} ({values.Min():F0}-{values.Max():F0})");

    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Commissable.Functions.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"Commissable.Functions.sln not found above {AppContext.BaseDirectory}: run the benchmark from the repository");
    }

    private Process StartHost(string dll, int port, int cloudPort, string passwordFile, string log)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["LOCAL_MODE"] = "true",
            ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["GOOGLE_CLOUD_PROJECT"] = Project,
            ["BACKUP_BUCKET"] = Bucket,
            ["ENVIRONMENT_NAME"] = "prod",
            ["PRODUCTION_INSTANCES"] = "prod",
            ["CLOUDSQL_API_ENDPOINT"] = $"http://127.0.0.1:{cloudPort}/",
            ["CLOUDSQL_TOKEN_FILE"] = Path.Combine(_state, "token"),
            ["LOCAL_STATE_DIR"] = _state,
            ["INSPECTOR_DB_USER"] = "postgres",
            ["INSPECTOR_DB_PASSWORD_FILE"] = passwordFile,
        })
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info)!;
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line) await File.AppendAllTextAsync(log, line + "\n");
        });
        return process;
    }

    private static async Task<double> FirstResponseAsync(HttpClient http, Stopwatch started)
    {
        while (started.Elapsed < TimeSpan.FromMinutes(1))
        {
            try
            {
                using var response = await http.GetAsync("catalog");
                if (response.IsSuccessStatusCode) return started.Elapsed.TotalMilliseconds;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(5);
        }
        throw new TimeoutException("the functions host did not answer within a minute");
    }

    /// <summary>What an operator does by hand: a fresh database, the dump through gunzip and psql, the same checks, then drop it.</summary>
    private async Task<int> PlainRestoreAndChecksAsync(string address, string backupUri, BackupManifest manifest)
    {
        var database = "plain_" + Guid.NewGuid().ToString("N")[..8];
        var file = Path.Combine(_state, "buckets", backupUri["gs://".Length..]);
        var psql = _binaries.Path("psql");
        await ShellAsync($"'{psql}' -h {address} -U postgres -d postgres -qc 'CREATE DATABASE {database}' && gunzip -c '{file}' | '{psql}' -X -q -v ON_ERROR_STOP=1 -h {address} -U postgres -d {database} >/dev/null", RootPassword);
        await using (var dataSource = NpgsqlDataSource.Create(Connection(address, database)))
        {
            var results = await RestoreChecks.RunAsync(dataSource);
            if (results.Any(r => !r.Passed)) throw new InvalidOperationException("the plain restore failed its checks: " + string.Join("; ", results.Where(r => !r.Passed).Select(r => r.Detail)));
        }
        await ShellAsync($"'{psql}' -h {address} -U postgres -d postgres -qc 'DROP DATABASE {database}'", RootPassword);
        return RestoreChecks.All.Count;
    }

    private async Task<BackupManifest> ReadManifestAsync(string backupUri)
    {
        await using var stream = File.OpenRead(Path.Combine(_state, "buckets", backupUri["gs://".Length..] + BackupObjectName.ManifestSuffix));
        return (await JsonSerializer.DeserializeAsync<BackupManifest>(stream, CatalogJson.Options))!;
    }

    private JsonObject Instance(string name, bool pitr) => new()
    {
        ["name"] = name,
        ["databaseVersion"] = _binaries.DatabaseVersion,
        ["rootPassword"] = RootPassword,
        ["settings"] = new JsonObject
        {
            ["tier"] = "db-custom-2-8192",
            ["backupConfiguration"] = new JsonObject { ["enabled"] = pitr, ["pointInTimeRecoveryEnabled"] = pitr, ["startTime"] = "02:00" },
        },
    };

    private static string Connection(string address, string database) =>
        new NpgsqlConnectionStringBuilder { Host = address, Username = "postgres", Password = RootPassword, Database = database, Pooling = false, CommandTimeout = 0 }.ConnectionString;

    private static async Task<string> AddressAsync(HttpClient sql, string instance)
    {
        var body = JsonNode.Parse(await sql.GetStringAsync(Api($"instances/{instance}")))!;
        return (string)body["ipAddresses"]![0]!["ipAddress"]!;
    }

    private static string Api(string path) => $"sql/v1beta4/projects/{Project}/{path}";

    /// <summary>Starts an operation at <paramref name="path"/> (relative to the local cloud's root) and waits for it.</summary>
    private static async Task OperationAsync(HttpClient sql, string path, JsonObject? body)
    {
        using var response = await sql.PostAsync(path,
            new StringContent(body?.ToJsonString() ?? "{}", Encoding.UTF8, "application/json"));
        var operation = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {operation.ToJsonString()}");
        while (true)
        {
            var current = JsonNode.Parse(await sql.GetStringAsync(Api($"operations/{(string)operation["name"]!}")))!;
            if ((string?)current["status"] == "DONE")
            {
                if (current["error"] is not null) throw new InvalidOperationException($"{path}: {current["error"]!.ToJsonString()}");
                return;
            }
            await Task.Delay(100);
        }
    }

    private static async Task<JsonObject> PostAsync(HttpClient http, string function, JsonObject body)
    {
        using var response = await http.PostAsync(function, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonNode.Parse(text)!.AsObject() : throw new InvalidOperationException($"{function} answered {(int)response.StatusCode}: {text}");
    }
}
