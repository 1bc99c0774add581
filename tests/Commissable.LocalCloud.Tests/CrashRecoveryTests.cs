using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.LocalCloud.Tests;

/// <summary>The local cloud as its own process, killed and restarted: nothing stuck, nothing partial, state kept.</summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"lcc-{Guid.NewGuid():N}"[..12]);
    private readonly string _prefix = LocalCloudFixture.NextAddressPrefix();
    private readonly StringBuilder _log = new();
    private Process? _process;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Killing_the_local_cloud_mid_export_ends_the_operation_with_an_error_and_leaves_no_object()
    {
        using var http = await StartAsync();
        await RunAsync(http, HttpMethod.Post, "instances", """{"name":"crashy","databaseVersion":"POSTGRES_15","rootPassword":"pw-1","settings":{"tier":"db-f1-micro","backupConfiguration":{"enabled":true,"pointInTimeRecoveryEnabled":true}}}""");
        await RunAsync(http, HttpMethod.Post, "instances/crashy/databases", """{"name":"app"}""");
        var connectionString = new NpgsqlConnectionStringBuilder { Host = $"{_prefix}.2", Username = "postgres", Password = "pw-1", Database = "app", Pooling = false }.ConnectionString;
        // pg_dump waits for this lock, so the export is reliably mid-way when the process dies.
        await using var blocker = await HoldNewTableAsync(connectionString);

        var (_, export) = await SendAsync(http, HttpMethod.Post, "instances/crashy/export",
            """{"exportContext":{"fileType":"SQL","uri":"gs://crash-bucket/exports/app.sql.gz","databases":["app"]}}""");
        var name = (string)export["name"]!;
        await WaitForAsync(async () => (string?)(await SendAsync(http, HttpMethod.Get, $"operations/{name}")).Body["status"] == "RUNNING");
        var bucket = Path.Combine(_state, "buckets", "crash-bucket", "exports");
        await WaitForAsync(() => Task.FromResult(Directory.Exists(bucket) && Directory.EnumerateFiles(bucket).Any()));

        var children = await KillAsync(name);
        await ReleaseAsync(blocker);

        using var again = await StartAsync();
        AssertNoChildOf(children);
        var (status, operation) = await SendAsync(again, HttpMethod.Get, $"operations/{name}");
        Assert.Equal(200, status);
        Assert.Equal("DONE", (string?)operation["status"]);
        Assert.Contains("interrupted", (string?)operation["error"]!["errors"]![0]!["message"], StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(bucket));

        // The state survived: the instance is back and serves its data, and the instance is not left busy.
        var (_, instance) = await SendAsync(again, HttpMethod.Get, "instances/crashy");
        Assert.Equal("RUNNABLE", (string?)instance["state"]);
        await using var check = new NpgsqlConnection(connectionString);
        await check.OpenAsync();
        await RunAsync(again, HttpMethod.Post, "instances/crashy/export",
            """{"exportContext":{"fileType":"SQL","uri":"gs://crash-bucket/exports/app.sql.gz","databases":["app"]}}""");
        Assert.True(File.Exists(Path.Combine(bucket, "app.sql.gz")));
    }

    [Fact]
    public async Task Killing_the_local_cloud_mid_import_kills_the_import_so_it_never_completes_and_a_new_one_runs()
    {
        using var http = await StartAsync();
        await CreateInstanceAsync(http);
        var connectionString = UserConnection("app");
        // The imported statement waits for this lock: the import is reliably mid-way when the process dies.
        await using var blocker = await HoldNewTableAsync(connectionString);
        var file = Path.Combine(_state, "buckets", "crash-bucket", "imports", "late.sql.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await using (var gzip = new System.IO.Compression.GZipStream(File.Create(file), System.IO.Compression.CompressionLevel.Fastest))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes("INSERT INTO held VALUES (2);\n"));
        }
        var import = """{"importContext":{"fileType":"SQL","uri":"gs://crash-bucket/imports/late.sql.gz","database":"app","importUser":"postgres"}}""";

        var (_, started) = await SendAsync(http, HttpMethod.Post, "instances/crashy/import", import);
        var name = (string)started["name"]!;
        await using var admin = new NpgsqlConnection(AdminConnection());
        await admin.OpenAsync();
        await WaitForAsync(async () => await ImportSessionsAsync(admin, waitingForLock: true) > 0);

        var children = await KillAsync(name);
        using var again = await StartAsync();
        AssertNoChildOf(children);
        // The server side of the cut import is gone too, before the lock it waited for is released.
        Assert.Equal(0, await ImportSessionsAsync(admin, waitingForLock: false));
        await ReleaseAsync(blocker);

        var (_, operation) = await SendAsync(again, HttpMethod.Get, $"operations/{name}");
        Assert.Equal("DONE", (string?)operation["status"]);
        Assert.NotNull(operation["error"]);
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM held WHERE id = 2", blocker))
        {
            Assert.Equal(0L, await count.ExecuteScalarAsync());
        }
        await RunAsync(again, HttpMethod.Post, "instances/crashy/import", import);
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM held WHERE id = 2", blocker))
        {
            Assert.Equal(1L, await count.ExecuteScalarAsync());
        }
    }

    [Theory]
    [InlineData("clone")]
    [InlineData("backup")]
    public async Task Killing_the_local_cloud_mid_base_backup_kills_pg_basebackup_and_keeps_nothing_partial(string kind)
    {
        using var http = await StartAsync();
        await CreateInstanceAsync(http);
        // A new login reads pg_authid; holding it makes pg_basebackup wait mid-way, started but not done.
        await using var admin = new NpgsqlConnection(AdminConnection());
        await admin.OpenAsync();
        await using var transaction = await admin.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE pg_authid IN ACCESS EXCLUSIVE MODE", admin, transaction))
        {
            await hold.ExecuteNonQueryAsync();
        }
        var (path, body) = kind == "clone"
            ? ("instances/crashy/clone", """{"cloneContext":{"destinationInstanceName":"crashy-copy"}}""")
            : ("instances/crashy/backupRuns", """{"description":"cut"}""");
        var (status, started) = await SendAsync(http, HttpMethod.Post, path, body);
        Assert.True(status == 200, started.ToJsonString());
        var name = (string)started["name"]!;
        await WaitForAsync(() => Task.FromResult(RecordedChildren(name).Any(c => CommandOf(c.ProcessId).Contains("pg_basebackup", StringComparison.Ordinal))));

        var children = await KillAsync(name);
        await transaction.RollbackAsync();
        using var again = await StartAsync();
        AssertNoChildOf(children);

        var (_, operation) = await SendAsync(again, HttpMethod.Get, $"operations/{name}");
        Assert.Equal("DONE", (string?)operation["status"]);
        Assert.NotNull(operation["error"]);
        if (kind == "clone")
        {
            Assert.Equal(404, (await SendAsync(again, HttpMethod.Get, "instances/crashy-copy")).Status);
            Assert.False(Directory.Exists(Path.Combine(_state, "instances", "crashy-copy")));
            await RunAsync(again, HttpMethod.Post, path, body);
            Assert.Equal("RUNNABLE", (string?)(await SendAsync(again, HttpMethod.Get, "instances/crashy-copy")).Body["state"]);
        }
        else
        {
            var runs = (await SendAsync(again, HttpMethod.Get, "instances/crashy/backupRuns")).Body["items"]!.AsArray();
            Assert.Equal("FAILED", (string?)Assert.Single(runs)!["status"]);
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_state, "instances", "crashy", "backups"), "base", SearchOption.AllDirectories));
            await RunAsync(again, HttpMethod.Post, path, body);
            runs = (await SendAsync(again, HttpMethod.Get, "instances/crashy/backupRuns")).Body["items"]!.AsArray();
            Assert.Contains(runs, r => (string?)r!["status"] == "SUCCESSFUL");
        }
    }

    [Fact]
    public async Task An_instance_whose_address_is_taken_at_start_is_FAILED_with_a_message_naming_the_address()
    {
        using (var http = await StartAsync())
        {
            await RunAsync(http, HttpMethod.Post, "instances", """{"name":"squatted","databaseVersion":"POSTGRES_15","rootPassword":"pw-2"}""");
        }
        await StopAsync();
        var address = $"{_prefix}.2";
        using var squatter = new TcpListener(IPAddress.Parse(address), 5432);
        squatter.Start();

        using var again = await StartAsync();
        var (_, instance) = await SendAsync(again, HttpMethod.Get, "instances/squatted");
        Assert.Equal("FAILED", (string?)instance["state"]);
        lock (_log)
        {
            Assert.Contains($"cannot listen on {address}:5432", _log.ToString(), StringComparison.Ordinal);
        }
    }

    private async Task CreateInstanceAsync(HttpClient http)
    {
        await RunAsync(http, HttpMethod.Post, "instances", """{"name":"crashy","databaseVersion":"POSTGRES_15","rootPassword":"pw-1","settings":{"tier":"db-f1-micro"}}""");
        await RunAsync(http, HttpMethod.Post, "instances/crashy/databases", """{"name":"app"}""");
    }

    private string UserConnection(string database) =>
        new NpgsqlConnectionStringBuilder { Host = $"{_prefix}.2", Username = "postgres", Password = "pw-1", Database = database, Pooling = false }.ConnectionString;

    private string AdminConnection() => new NpgsqlConnectionStringBuilder
    {
        Host = $"{_prefix}.2",
        Username = "cloudsqladmin",
        Password = File.ReadAllText(Path.Combine(_state, "instances", "crashy", "admin.secret")).Trim(),
        Database = "app",
        Pooling = false,
    }.ConnectionString;

    private static async Task<int> ImportSessionsAsync(NpgsqlConnection admin, bool waitingForLock)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*)::int FROM pg_stat_activity WHERE starts_with(usename, 'cloudsqlimport_') AND (NOT $1 OR wait_event_type = 'Lock')", admin);
        command.Parameters.Add(new NpgsqlParameter { Value = waitingForLock });
        return (int)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Kills the local cloud (SIGKILL) and checks that every program its operation started died with it.</summary>
    private async Task<IReadOnlyList<ChildProcess>> KillAsync(string operation)
    {
        var children = RecordedChildren(operation);
        Assert.NotEmpty(children);
        _process!.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
        // The kernel delivers the parent-death signal as the process dies; the wait covers their teardown only.
        await WaitForAsync(() => Task.FromResult(!children.Any(c => ChildProcesses.GroupMembers(c.ProcessId).Count > 0) && StrayPrograms().Count == 0));
        return children;
    }

    private void AssertNoChildOf(IReadOnlyList<ChildProcess> children)
    {
        Assert.All(children, c => Assert.Empty(ChildProcesses.GroupMembers(c.ProcessId)));
        Assert.Empty(StrayPrograms());
    }

    private List<ChildProcess> RecordedChildren(string operation)
    {
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(_state, "operations", operation + ".json")))!;
        return record["children"]?.AsArray().Select(c => new ChildProcess((int)c!["pid"]!, (long)c["startTime"]!)).ToList() ?? [];
    }

    /// <summary>Programs (not the clusters' servers, nor a local cloud) whose command line names the state directory.</summary>
    private List<string> StrayPrograms()
    {
        var stray = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var id) || ChildProcesses.StartTime(id) is null) continue;
            var command = CommandOf(id);
            var program = Path.GetFileName(command.Split('\0')[0]);
            if (command.Contains(_state, StringComparison.Ordinal) && program is not ("postgres" or "dotnet") && !program.StartsWith("postgres:", StringComparison.Ordinal))
            {
                stray.Add(command.Replace('\0', ' '));
            }
        }
        return stray;
    }

    private static string CommandOf(int processId)
    {
        try
        {
            return File.ReadAllText($"/proc/{processId}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
    }

    private async Task<HttpClient> StartAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Commissable.LocalCloud.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Port 0: each start binds a port of its own and says which.
        foreach (var argument in new[] { dll, "--port", "0", "--state", _state, "--address-prefix", _prefix })
        {
            info.ArgumentList.Add(argument);
        }
        _process = Process.Start(info)!;
        var process = _process;
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } errorLine)
            {
                lock (_log) _log.AppendLine(errorLine);
            }
        });
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Matches(@"\Alistening http://127\.0\.0\.1:[1-9][0-9]*/\z", line);
        var http = new HttpClient { BaseAddress = new Uri(new Uri(line!["listening ".Length..]), "sql/v1beta4/projects/crash-project/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(_state, "token"))).Trim());
        return http;
    }

    /// <summary>Creates a one-row table "held" and locks it in an open transaction; the lock lasts until the connection is disposed.</summary>
    private static async Task<NpgsqlConnection> HoldNewTableAsync(string connectionString)
    {
        var blocker = new NpgsqlConnection(connectionString);
        await blocker.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE held (id int); INSERT INTO held VALUES (1);", blocker))
        {
            await create.ExecuteNonQueryAsync();
        }
        await using (var hold = new NpgsqlCommand("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE", blocker))
        {
            await hold.ExecuteNonQueryAsync();
        }
        return blocker;
    }

    private static async Task ReleaseAsync(NpgsqlConnection blocker)
    {
        await using var rollback = new NpgsqlCommand("ROLLBACK", blocker);
        await rollback.ExecuteNonQueryAsync();
    }

    private async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            // SIGTERM: a graceful stop, which also stops the clusters.
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
    }

    private static async Task<(int Status, JsonObject Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static async Task RunAsync(HttpClient http, HttpMethod method, string path, string json)
    {
        var (status, operation) = await SendAsync(http, method, path, json);
        Assert.True(status == 200, operation.ToJsonString());
        JsonObject done = operation;
        await WaitForAsync(async () => (string?)(done = (await SendAsync(http, HttpMethod.Get, $"operations/{(string)operation["name"]!}")).Body)["status"] == "DONE");
        Assert.True(done["error"] is null, done.ToJsonString());
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 2 minutes");
            await Task.Delay(100);
        }
    }
}
