using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Demo;
using Npgsql;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>drill</c>: rehearses the whole backup chain on the local cloud, through the functions over
/// HTTP, and reports each step with its outcome and duration. Re-runnable: what exists is reused.
/// </summary>
internal static class DrillCommand
{
    public const string Usage = """
          drill [--state DIR] [--port P] [--address-prefix A.B.C] [--size tiny|small]
              Rehearses the backup chain on the local cloud: a prod instance with backups and
              PITR and the demo database, a verification instance, then pre-deploy export, the
              completion event, restore-verify and a dry-run sweep through the functions.
              Prints each step as it goes and a report. Exit 0 passed, 1 a step failed.
              Defaults: --state .localcloud --port 8123 --address-prefix 127.0.1 --size tiny.
        """;

    /// <summary>Runs the drill on the real console with <paramref name="args"/> after <c>drill</c>.</summary>
    public static Task<int> RunAsync(string[] args) => CommandTree.RunOnConsoleAsync(["drill", .. args]);

    public static Command Create(CommandContext context)
    {
        var local = new LocalCloudOptionSet();
        var size = CliOptions.Valued("--size", "tiny|small", "the demo database's size", "tiny");
        var command = new CliCommand("drill", "Rehearses the backup chain on the local cloud through the functions.", Usage);
        local.AddTo(command);
        command.Options.Add(size);
        CommandTree.SetAction(command, context, async result =>
        {
            var (state, port, addressPrefix) = local.Read(result);
            var demo = result.GetValue(size) switch
            {
                "tiny" => DemoDatabaseOptions.Tiny,
                "small" => DemoDatabaseOptions.Small,
                var other => throw new UsageException($"--size '{other}' is not one of tiny, small"),
            };
            await using var drill = new Drill(context.Out, context.Time, state, port, addressPrefix, demo);
            return await drill.RunAsync();
        });
        return command;
    }
}

/// <param name="clock">What names the drill's backups (the change, the day of the scheduled export); the local cloud and the functions keep their own.</param>
internal sealed class Drill(TextWriter output, TimeProvider clock, string state, int port, string addressPrefix, DemoDatabaseOptions size) : IAsyncDisposable
{
    private const string Project = LocalStack.DefaultProject;
    private const string Bucket = LocalStack.Bucket;
    private const string Prod = LocalStack.ProdInstance;
    private const string Verify = LocalStack.VerifyInstance;
    private const string Database = "crm";

    private readonly List<(string Step, bool Passed, TimeSpan Duration, string Detail)> _report = [];
    private readonly LocalStack _stack = new(state, port, addressPrefix);
    private readonly string _drillDirectory = Path.Combine(state, "drill");
    private HttpClient _sql = null!;
    private HttpClient _http = null!;

    public async Task<int> RunAsync()
    {
        Directory.CreateDirectory(_drillDirectory);
        var total = Stopwatch.StartNew();
        var ok = await StepAsync("local cloud", StartCloudAsync)
            && await StepAsync("prod instance (backups, PITR)", () => EnsureInstanceAsync(Prod, pitr: true))
            && await StepAsync("verification instance", () => EnsureInstanceAsync(Verify, pitr: false))
            && await StepAsync("demo database", EnsureDemoAsync)
            && await StepAsync("recent automated backup", EnsureAutomatedBackupAsync)
            && await StepAsync("functions (local mode)", StartFunctionsAsync);
        string? backupUri = null;
        ok = ok && await StepAsync("pre-deploy export", async () => (backupUri = await PreDeployExportAsync()) is not null ? $"{backupUri}" : "no backup");
        ok = ok && await StepAsync("scheduled export + completion event", ScheduledExportAndEventAsync);
        ok = ok && await StepAsync("restore-verify", () => RestoreVerifyAsync(backupUri!));
        ok = ok && await StepAsync("retention sweep (dry run)", SweepAsync);

        output.WriteLine();
        output.WriteLine($"{"step",-38} {"outcome",-8} {"duration",10}  detail");
        foreach (var (step, passed, duration, detail) in _report)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step,-38} {(passed ? "passed" : "FAILED"),-8} {duration.TotalSeconds,9:F1}s  {detail}"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drill {(ok ? "passed" : "FAILED")} in {total.Elapsed.TotalSeconds:F1} s (state: {state}; function logs: {Path.Combine(_drillDirectory, "functions.log")})"));
        return ok ? ExitCodes.Success : ExitCodes.Failed;
    }

    private async Task<bool> StepAsync(string name, Func<Task<string>> work)
    {
        output.WriteLine($"-> {name} ...");
        var clock = Stopwatch.StartNew();
        try
        {
            var detail = await work();
            _report.Add((name, true, clock.Elapsed, detail));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   ok ({clock.Elapsed.TotalSeconds:F1} s) {detail}"));
            return true;
        }
        catch (Exception error) when (error is DrillException or HttpRequestException or NpgsqlException or InvalidOperationException or IOException or TimeoutException)
        {
            var message = error.Message.Split('\n')[0];
            _report.Add((name, false, clock.Elapsed, message));
            output.WriteLine($"   FAILED: {message}");
            return false;
        }
    }

    private async Task<string> StartCloudAsync()
    {
        var detail = await _stack.StartCloudAsync();
        _sql = _stack.Sql;
        return detail;
    }

    private async Task<string> EnsureInstanceAsync(string name, bool pitr)
    {
        var (status, instance) = await SqlAsync(HttpMethod.Get, $"instances/{name}");
        if (status == 404)
        {
            await OperationAsync(HttpMethod.Post, "instances", new JsonObject
            {
                ["name"] = name,
                ["databaseVersion"] = PostgresBinaries.Locate().DatabaseVersion,
                ["rootPassword"] = RootPassword(),
                ["region"] = "us-central1",
                ["settings"] = new JsonObject
                {
                    ["tier"] = "db-custom-1-3840",
                    ["userLabels"] = new JsonObject { ["env"] = name == Prod ? "prod" : "drill" },
                    ["backupConfiguration"] = new JsonObject { ["enabled"] = pitr, ["pointInTimeRecoveryEnabled"] = pitr, ["startTime"] = "02:00" },
                },
            });
            return "created";
        }
        if ((string?)instance["state"] != "RUNNABLE")
        {
            throw new DrillException($"instance '{name}' is {(string?)instance["state"]}; delete it or the state directory and run again");
        }
        return "reused";
    }

    private async Task<string> EnsureDemoAsync()
    {
        var (_, databases) = await SqlAsync(HttpMethod.Get, $"instances/{Prod}/databases");
        if (databases["items"]?.AsArray().Any(d => (string?)d!["name"] == Database) == true)
        {
            return "reused";
        }
        await OperationAsync(HttpMethod.Post, $"instances/{Prod}/databases", new JsonObject { ["name"] = Database });
        await DemoDatabase.CreateAsync(await ConnectionStringAsync(Prod, Database), size);
        return string.Create(CultureInfo.InvariantCulture, $"loaded ({size.Tenants} tenants x {size.RowsPerTenant} rows per tenant)");
    }

    private async Task<string> EnsureAutomatedBackupAsync()
    {
        var (_, runs) = await SqlAsync(HttpMethod.Get, $"instances/{Prod}/backupRuns");
        var newest = runs["items"]?.AsArray()
            .Where(r => (string?)r!["type"] == "AUTOMATED" && (string?)r["status"] == "SUCCESSFUL")
            .Select(r => DateTimeOffset.Parse((string)r!["endTime"]!, CultureInfo.InvariantCulture))
            .DefaultIfEmpty(DateTimeOffset.MinValue).Max() ?? DateTimeOffset.MinValue;
        if (clock.GetUtcNow() - newest < TimeSpan.FromHours(20))
        {
            return $"reused the one that ended {newest:u}";
        }
        await OperationAsync(HttpMethod.Post, $"localcloud/v1/projects/{Project}/instances/{Prod}/automatedBackup", null, api: false);
        return "taken now";
    }

    private async Task<string> StartFunctionsAsync()
    {
        var detail = await _stack.StartFunctionsAsync();
        _http = new HttpClient { BaseAddress = _stack.FunctionsUrl, Timeout = TimeSpan.FromMinutes(30) };
        return detail;
    }

    private async Task<string?> PreDeployExportAsync()
    {
        var change = $"drill-{clock.GetUtcNow():yyyyMMdd-HHmmss}";
        var body = await CallAsync("pre-deploy-export", new JsonObject { ["instance"] = Prod, ["database"] = Database, ["change"] = change, ["requestedBy"] = "drill" });
        return (string?)body["backupUri"];
    }

    private async Task<string> ScheduledExportAndEventAsync()
    {
        // One scheduled export a day (named for midnight), so a second drill the same day reuses it
        // whatever minute it runs in.
        var name = string.Create(CultureInfo.InvariantCulture, $"backups/prod/{Prod}/backup_{clock.GetUtcNow():yyyyMMdd}_0000_prod_scheduled.sql.gz");
        var path = Path.Combine(state, "buckets", Bucket, name);
        if (!File.Exists(path))
        {
            await OperationAsync(HttpMethod.Post, $"instances/{Prod}/export", new JsonObject
            {
                ["exportContext"] = new JsonObject { ["fileType"] = "SQL", ["uri"] = $"gs://{Bucket}/{name}", ["databases"] = new JsonArray(Database) },
            });
        }
        var file = new FileInfo(path);
        var data = new JsonObject
        {
            ["bucket"] = Bucket,
            ["name"] = name,
            ["size"] = file.Length.ToString(CultureInfo.InvariantCulture),
            ["generation"] = (file.LastWriteTimeUtc.Ticks / 10).ToString(CultureInfo.InvariantCulture),
            ["contentType"] = "application/gzip",
            ["timeCreated"] = file.LastWriteTimeUtc.ToString("O", CultureInfo.InvariantCulture),
            ["updated"] = file.LastWriteTimeUtc.ToString("O", CultureInfo.InvariantCulture),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "on-backup-completed")
        {
            Content = new StringContent(data.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("ce-id", Guid.NewGuid().ToString());
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-type", "google.cloud.storage.object.v1.finalized");
        request.Headers.Add("ce-source", $"//storage.googleapis.com/projects/_/buckets/{Bucket}");
        request.Headers.Add("ce-subject", $"objects/{name}");
        request.Headers.Add("ce-time", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        using var response = await _http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new DrillException($"on-backup-completed answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        var manifest = Path.Combine(state, "buckets", Bucket, name + ".manifest.json");
        return File.Exists(manifest) ? $"gs://{Bucket}/{name} recorded in the catalog" : throw new DrillException("the completion event left no manifest");
    }

    private async Task<string> RestoreVerifyAsync(string backupUri)
    {
        var body = await CallAsync("restore-verify", new JsonObject { ["backup"] = backupUri, ["verificationInstance"] = Verify });
        if ((bool?)body["passed"] != true)
        {
            var failed = body["checks"]?.AsArray().Where(c => (bool?)c!["passed"] == false).Select(c => $"{(string?)c!["name"]}: {(string?)c["detail"]}");
            throw new DrillException("the restore did not verify: " + string.Join("; ", failed ?? []));
        }
        var rto = (double?)body["recoveryTimeMs"] ?? 0;
        return string.Create(CultureInfo.InvariantCulture, $"{body["checks"]?.AsArray().Count ?? 0} checks passed; achieved recovery time {rto / 1000:F1} s");
    }

    private async Task<string> SweepAsync()
    {
        var body = await CallAsync("retention-sweeper", new JsonObject { ["apply"] = false });
        if (body["refusal"] is JsonObject refusal)
        {
            return $"refused: {(string?)refusal["text"]}";
        }
        return (string?)body["summary"]?["text"] ?? "dry run done";
    }

    private async Task<JsonObject> CallAsync(string function, JsonObject request)
    {
        using var response = await _http.PostAsync(function, new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new DrillException($"{function} answered {(int)response.StatusCode}: {text}");
        }
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<(int Status, JsonObject Body)> SqlAsync(HttpMethod method, string path, JsonObject? body = null, bool api = true)
    {
        using var request = new HttpRequestMessage(method, api ? $"sql/v1beta4/projects/{Project}/{path}" : path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _sql.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)?.AsObject() ?? []);
    }

    private async Task OperationAsync(HttpMethod method, string path, JsonObject? body, bool api = true)
    {
        var (status, operation) = await SqlAsync(method, path, body, api);
        if (status != 200)
        {
            throw new DrillException($"{method} {path} answered {status}: {(string?)operation["error"]?["message"]}");
        }
        var name = (string)operation["name"]!;
        var deadline = DateTime.UtcNow.AddMinutes(30);
        while (true)
        {
            var (_, current) = await SqlAsync(HttpMethod.Get, $"operations/{name}");
            if ((string?)current["status"] == "DONE")
            {
                if (current["error"] is { } error) throw new DrillException($"{(string?)current["operationType"]} failed: {(string?)error["errors"]?[0]?["message"]}");
                return;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"operation {name} did not finish in 30 minutes");
            await Task.Delay(200);
        }
    }

    private async Task<string> ConnectionStringAsync(string instance, string database)
    {
        var (_, body) = await SqlAsync(HttpMethod.Get, $"instances/{instance}");
        return new NpgsqlConnectionStringBuilder
        {
            Host = (string)body["ipAddresses"]![0]!["ipAddress"]!,
            Username = "postgres",
            Password = RootPassword(),
            Database = database,
            Pooling = false,
            CommandTimeout = 0,
        }.ConnectionString;
    }

    /// <summary>The drill instances' postgres password (kept by <see cref="LocalStack"/>, never printed).</summary>
    private string RootPassword() => _stack.RootPassword();

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        await _stack.DisposeAsync();
    }
}

/// <summary>A drill step failed for a reason the report states.</summary>
internal sealed class DrillException(string message) : Exception(message);
