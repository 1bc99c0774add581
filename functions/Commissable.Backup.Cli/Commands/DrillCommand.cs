using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.FileStore;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;
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
              Prints each step as it goes and a report. Exit 0 passed, 1 a step failed,
              2 interrupted (Ctrl-C stops the step, the functions and the local cloud).
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
            await using var drill = new Drill(context.Out, context.Time, state, port, addressPrefix, demo, context.Interrupted);
            return await drill.RunAsync();
        });
        return command;
    }
}

/// <param name="clock">What names the drill's backups (the change, the day of the scheduled export); the local cloud and the functions keep their own.</param>
/// <param name="interrupted">Ctrl-C: the current step is abandoned, no further step starts, and disposal stops the functions and the local cloud (its clusters with it), as after a failure.</param>
internal sealed class Drill(TextWriter output, TimeProvider clock, string state, int port, string addressPrefix, DemoDatabaseOptions size,
    CancellationToken interrupted = default) : IAsyncDisposable
{
    private const string Project = LocalStack.DefaultProject;
    private const string Bucket = LocalStack.Bucket;
    private const string Prod = LocalStack.ProdInstance;
    private const string Verify = LocalStack.VerifyInstance;
    private const string Database = "crm";

    private const string InterruptedDetail = "interrupted (Ctrl-C)";

    private readonly List<(string Step, bool Passed, TimeSpan Duration, string Detail)> _report = [];
    private readonly LocalStack _stack = new(state, port, addressPrefix);
    private readonly string _drillDirectory = Path.Combine(state, "drill");
    private CloudSqlAdminClient? _sql;
    private HttpClient? _http;
    private bool _interrupted;

    private CloudSqlAdminClient Sql => _sql ?? throw new InvalidOperationException("the local cloud has not started");

    private HttpClient Functions => _http ?? throw new InvalidOperationException("the functions have not started");

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
            var outcome = passed ? "passed" : detail == InterruptedDetail ? "stopped" : "FAILED";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step,-38} {outcome,-8} {duration.TotalSeconds,9:F1}s  {detail}"));
        }
        var result = _interrupted ? "interrupted" : ok ? "passed" : "FAILED";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drill {result} in {total.Elapsed.TotalSeconds:F1} s (state: {state}; function logs: {Path.Combine(_drillDirectory, "functions.log")})"));
        if (_interrupted)
        {
            output.WriteLine("drill: interrupted; the functions and the local cloud are stopped (what the finished steps made is kept in the state directory; run again to go on)");
            return ExitCodes.Interrupted;
        }
        return ok ? ExitCodes.Success : ExitCodes.Failed;
    }

    private async Task<bool> StepAsync(string name, Func<Task<string>> work)
    {
        output.WriteLine($"-> {name} ...");
        var clock = Stopwatch.StartNew();
        try
        {
            interrupted.ThrowIfCancellationRequested();
            // Every long call of a step takes the token (the Cloud SQL calls and their operations,
            // the demo's load, the functions' requests); starting the host and the functions is short
            // and finishes, so nothing is left running behind the drill's disposal.
            var detail = await work();
            _report.Add((name, true, clock.Elapsed, detail));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   ok ({clock.Elapsed.TotalSeconds:F1} s) {detail}"));
            return true;
        }
        catch (Exception) when (interrupted.IsCancellationRequested)
        {
            // Whatever the step was doing when Ctrl-C came (a cancelled call may fail rather than cancel).
            _interrupted = true;
            _report.Add((name, false, clock.Elapsed, InterruptedDetail));
            output.WriteLine($"   {InterruptedDetail}");
            return false;
        }
        catch (Exception error) when (error is DrillException or CloudSqlApiException or CloudSqlOperationFailedException or HttpRequestException
            or NpgsqlException or InvalidOperationException or IOException or TimeoutException)
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
        _sql = _stack.CloudSql(Project);
        return detail;
    }

    private async Task<string> EnsureInstanceAsync(string name, bool pitr)
    {
        DatabaseInstance instance;
        try
        {
            instance = await Sql.GetInstanceAsync(name, interrupted);
        }
        catch (CloudSqlApiException missing) when (missing.HttpStatus == 404)
        {
            await RunAsync(Sql.InsertInstanceAsync(new DatabaseInstance
            {
                Name = name,
                DatabaseVersion = PostgresBinaries.Locate().DatabaseVersion,
                RootPassword = RootPassword(),
                Region = "us-central1",
                Settings = new Settings
                {
                    Tier = "db-custom-1-3840",
                    UserLabels = new Dictionary<string, string> { ["env"] = name == Prod ? "prod" : "drill" },
                    BackupConfiguration = new BackupConfiguration { Enabled = pitr, PointInTimeRecoveryEnabled = pitr, StartTime = "02:00" },
                },
            }, interrupted));
            return "created";
        }
        if (instance.State != "RUNNABLE")
        {
            throw new DrillException($"instance '{name}' is {instance.State}; delete it or the state directory and run again");
        }
        return "reused";
    }

    private async Task<string> EnsureDemoAsync()
    {
        if ((await Sql.ListDatabasesAsync(Prod, interrupted)).Any(d => d.Name == Database))
        {
            return "reused";
        }
        await RunAsync(Sql.InsertDatabaseAsync(Prod, new Database { Name = Database }, interrupted));
        await DemoDatabase.CreateAsync(await ConnectionStringAsync(Prod, Database), size, cancellationToken: interrupted);
        return string.Create(CultureInfo.InvariantCulture, $"loaded ({size.Tenants} tenants x {size.RowsPerTenant} rows per tenant)");
    }

    private async Task<string> EnsureAutomatedBackupAsync()
    {
        var newest = (await Sql.ListBackupRunsAsync(Prod, interrupted))
            .Where(r => r is { Type: "AUTOMATED", Status: "SUCCESSFUL", EndTime: not null })
            .Select(r => r.EndTime!.Value)
            .DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        if (clock.GetUtcNow() - newest < TimeSpan.FromHours(20))
        {
            return $"reused the one that ended {newest:u}";
        }
        await _stack.TakeAutomatedBackupAsync(Sql, Prod, interrupted);
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
        var bucket = new LocalBackupStore(new BucketPaths(state), Bucket);
        if (await bucket.GetAsync(name) is null)
        {
            await RunAsync(Sql.ExportAsync(Prod, new ExportContext { FileType = "SQL", Uri = $"gs://{Bucket}/{name}", Databases = [Database] }, interrupted));
        }
        var stored = await bucket.GetAsync(name) ?? throw new DrillException($"the export left no gs://{Bucket}/{name}");
        using var content = StorageEvents.ObjectFinalized(stored, clock.GetUtcNow())
            .ToHttpContent(ContentMode.Binary, new JsonEventFormatter());
        using var response = await Functions.PostAsync("on-backup-completed", content, interrupted);
        if (!response.IsSuccessStatusCode)
        {
            throw new DrillException($"on-backup-completed answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return await bucket.GetAsync(name + ".manifest.json") is not null
            ? $"gs://{Bucket}/{name} recorded in the catalog"
            : throw new DrillException("the completion event left no manifest");
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
        using var response = await Functions.PostAsync(function, new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"), interrupted);
        var text = await response.Content.ReadAsStringAsync(interrupted);
        if (!response.IsSuccessStatusCode)
        {
            throw new DrillException($"{function} answered {(int)response.StatusCode}: {text}");
        }
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Waits for a started operation with the client's poller; a failed one throws <see cref="CloudSqlOperationFailedException"/>.</summary>
    private async Task RunAsync(Task<Operation> started) => await Sql.WaitForOperationAsync(await started, cancellationToken: interrupted);

    private async Task<string> ConnectionStringAsync(string instance, string database)
    {
        var addresses = (await Sql.GetInstanceAsync(instance, interrupted)).IpAddresses;
        var address = addresses is { Count: > 0 } ? addresses[0].IpAddress : null;
        return new NpgsqlConnectionStringBuilder
        {
            Host = address ?? throw new DrillException($"instance '{instance}' has no IP address"),
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
        _sql?.Dispose();
        await _stack.DisposeAsync();
    }
}

/// <summary>A drill step failed for a reason the report states.</summary>
internal sealed class DrillException(string message) : Exception(message);
