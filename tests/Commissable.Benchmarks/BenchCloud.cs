using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Postgres.Processes;
using Npgsql;
using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// What the benchmarks of the functions share: the local cloud started as its own process (its
/// Cloud SQL Admin API, instances and bucket directories under <c>work/state</c>), the functions
/// host published as the <c>Dockerfile</c> does and started against it, and small helpers for
/// both APIs.
/// </summary>
internal sealed class BenchCloud : IAsyncDisposable
{
    public const string Project = "bench-project";
    public const string Bucket = "bench-backups";
    public const string RootPassword = "bench-root-pw";

    private readonly Process _process;

    private BenchCloud(string work, Process process, int port, HttpClient sql)
    {
        Work = work;
        _process = process;
        Port = port;
        Sql = sql;
    }

    /// <summary>The benchmark's work directory; the local cloud's state is <see cref="State"/> inside it.</summary>
    public string Work { get; }

    public string State => Path.Combine(Work, "state");

    public int Port { get; }

    /// <summary>A client of the local Cloud SQL Admin API, with its token.</summary>
    public HttpClient Sql { get; }

    public PostgresBinaries Binaries { get; } = PostgresBinaries.Locate();

    /// <summary>The client programs (pg_dump, pg_restore, psql) of the instances' major.</summary>
    public PostgresBinaries Tools { get; } = PostgresBinaries.LocateClient();

    /// <summary>Starts the local cloud on a free port, its instances on <paramref name="addressPrefix"/>.x addresses.</summary>
    public static async Task<BenchCloud> StartAsync(string work, string addressPrefix)
    {
        var state = Path.Combine(work, "state");
        var port = FreePort();
        var process = await StartProcessAsync("Commissable.LocalCloud.dll", ["--port", port.ToString(CultureInfo.InvariantCulture), "--state", state, "--address-prefix", addressPrefix], new Dictionary<string, string>());
        var sql = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromHours(1) };
        sql.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(state, "token"))).Trim());
        return new BenchCloud(work, process, port, sql);
    }

    public async ValueTask DisposeAsync()
    {
        Sql.Dispose();
        await StopProcessAsync(_process);
        _process.Dispose();
    }

    /// <summary>Creates an instance of the local PostgreSQL's version; <paramref name="pitr"/> turns on automated backups and WAL archiving.</summary>
    public Task CreateInstanceAsync(string name, bool pitr) => OperationAsync(Api("instances"), new JsonObject
    {
        ["name"] = name,
        ["databaseVersion"] = Binaries.DatabaseVersion,
        ["rootPassword"] = RootPassword,
        ["settings"] = new JsonObject
        {
            ["tier"] = "db-custom-2-8192",
            ["backupConfiguration"] = new JsonObject { ["enabled"] = pitr, ["pointInTimeRecoveryEnabled"] = pitr, ["startTime"] = "02:00" },
        },
    });

    public Task CreateDatabaseAsync(string instance, string database) =>
        OperationAsync(Api($"instances/{instance}/databases"), new JsonObject { ["name"] = database });

    /// <summary>Takes an automated backup run of <paramref name="instance"/> now (the local cloud's own endpoint).</summary>
    public Task AutomatedBackupAsync(string instance) =>
        OperationAsync($"localcloud/v1/projects/{Project}/instances/{instance}/automatedBackup", null);

    /// <summary>The instance's loopback address (PostgreSQL listens on 5432 there).</summary>
    public async Task<string> AddressAsync(string instance)
    {
        var body = JsonNode.Parse(await Sql.GetStringAsync(Api($"instances/{instance}")))!;
        return (string)body["ipAddresses"]![0]!["ipAddress"]!;
    }

    /// <summary>The file that holds <paramref name="backupUri"/> (<c>gs://bucket/name</c>) in the local bucket directories.</summary>
    public string ObjectPath(string backupUri) => Path.Combine(State, "buckets", backupUri["gs://".Length..]);

    /// <summary>The manifest the functions wrote beside <paramref name="backupUri"/>.</summary>
    public async Task<BackupManifest> ReadManifestAsync(string backupUri)
    {
        await using var stream = File.OpenRead(ObjectPath(backupUri) + BackupObjectName.ManifestSuffix);
        return (await JsonSerializer.DeserializeAsync<BackupManifest>(stream, CatalogJson.Options))!;
    }

    /// <summary>
    /// How long the newest operation of <paramref name="type"/> on <paramref name="instance"/> ran
    /// in the local cloud (its start to its end): what a stage that waits for it spends beyond that
    /// is polling and the function's own work.
    /// </summary>
    public async Task<double> LastOperationSecondsAsync(string instance, string type)
    {
        var list = JsonNode.Parse(await Sql.GetStringAsync(Api($"operations?instance={instance}")))!;
        var operation = (list["items"]?.AsArray() ?? []).First(o => (string?)o!["operationType"] == type)!;
        return (DateTimeOffset.Parse((string)operation["endTime"]!, CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse((string)operation["startTime"]!, CultureInfo.InvariantCulture)).TotalSeconds;
    }

    /// <summary>"create-db 0.2 s, import 21.0 s, ..." from the stages in a function's answer.</summary>
    public static string Stages(JsonObject answer) =>
        string.Join(", ", (answer["stages"]?.AsArray() ?? []).Select(s => Invariant($"{(string?)s!["stage"]} {((long?)s["durationMs"] ?? 0) / 1000.0:F1} s")));

    /// <summary>The root password in a 0600 file, as the host's <c>INSPECTOR_DB_PASSWORD_FILE</c>.</summary>
    public string WritePasswordFile()
    {
        var passwordFile = Path.Combine(Work, "inspector-password");
        File.Delete(passwordFile);
        OwnerOnly.WriteNewFile(passwordFile, RootPassword);
        return passwordFile;
    }

    public static string Connection(string address, string database) =>
        new NpgsqlConnectionStringBuilder { Host = address, Username = "postgres", Password = RootPassword, Database = database, Pooling = false, CommandTimeout = 0 }.ConnectionString;

    public static string Api(string path) => $"sql/v1beta4/projects/{Project}/{path}";

    /// <summary>Starts an operation at <paramref name="path"/> (relative to the local cloud's root) and waits for it.</summary>
    public async Task OperationAsync(string path, JsonObject? body)
    {
        using var response = await Sql.PostAsync(path,
            new StringContent(body?.ToJsonString() ?? "{}", Encoding.UTF8, "application/json"));
        var operation = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {operation.ToJsonString()}");
        while (true)
        {
            var current = JsonNode.Parse(await Sql.GetStringAsync(Api($"operations/{(string)operation["name"]!}")))!;
            if ((string?)current["status"] == "DONE")
            {
                if (current["error"] is not null) throw new InvalidOperationException($"{path}: {current["error"]!.ToJsonString()}");
                return;
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The host as the image ships it: <c>dotnet publish</c> with the Dockerfile's flags into the
    /// work directory; returns the published <c>Commissable.Functions.dll</c>.
    /// </summary>
    public async Task<string> PublishHostAsync()
    {
        var output = Path.Combine(Work, "host");
        var project = Path.Combine(Repository(), "functions", "Commissable.Functions", "Commissable.Functions.csproj");
        Say("publishing the functions host as the Dockerfile does (ReadyToRun) ...");
        await Publish(project, output);
        return Path.Combine(output, "Commissable.Functions.dll");
    }

    /// <summary>dotnet publish with the Dockerfile's flags; its output (build errors come on stdout) goes to stderr, so a failure says why.</summary>
    public static async Task Publish(string project, string output) => await new ExternalProcess
    {
        FileName = "bash",
        Arguments = ["-c", "dotnet publish \"$1\" -c Release -o \"$2\" -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:UseAppHost=false --nologo -v quiet 1>&2", "publish", project, output],
        Environment = new Dictionary<string, string>(),
    }.RunAsync();

    public static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Commissable.Functions.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"Commissable.Functions.sln not found above {AppContext.BaseDirectory}: run the benchmark from the repository");
    }

    /// <summary>Starts <paramref name="dll"/> (the host, or a bare app) on <paramref name="port"/> against this local cloud; its JSON logs go to <paramref name="log"/>.</summary>
    /// <param name="extra">More environment variables (runtime settings being tried: <c>--host-env</c>).</param>
    public Process StartHost(string dll, int port, string passwordFile, string log, IReadOnlyDictionary<string, string>? extra = null)
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
            ["CLOUDSQL_API_ENDPOINT"] = $"http://127.0.0.1:{Port}/",
            ["CLOUDSQL_TOKEN_FILE"] = Path.Combine(State, "token"),
            ["LOCAL_STATE_DIR"] = State,
            ["INSPECTOR_DB_USER"] = "postgres",
            ["INSPECTOR_DB_PASSWORD_FILE"] = passwordFile,
        })
        {
            info.Environment[key] = value;
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
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

    /// <summary>Polls <c>GET /catalog</c> until the host answers; the time since <paramref name="started"/>, in ms.</summary>
    public static async Task<double> FirstResponseAsync(HttpClient http, Stopwatch started)
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

    /// <summary>POSTs <paramref name="body"/> to a function; its JSON answer, or an exception naming the status and body.</summary>
    public static async Task<(int Status, JsonObject Body)> PostAsync(HttpClient http, string function, JsonObject body)
    {
        using var response = await http.PostAsync(function, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject())
            : throw new InvalidOperationException($"{function} answered {(int)response.StatusCode}: {text}");
    }
}
