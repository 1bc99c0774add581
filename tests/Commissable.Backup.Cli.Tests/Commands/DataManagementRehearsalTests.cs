using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// The CRM's admin screens rehearsed offline against <c>local up</c>: data-management, given the
/// CRM's JWKS through the environment, starts its jobs through the local Workflow Executions API
/// and they run to the end: an on-demand backup listed with its requester, a restore to staging
/// from that backup (also seen with gcloud), and a tenant restore approved by a second user after
/// the requester's own approval was refused. Every call is one audit record, none holds a token.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed partial class DataManagementRehearsalTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"dmr-{Guid.NewGuid():N}"[..12]);
    private readonly WatchedWriter _upOut = new();
    private readonly StringWriter _upErr = new();
    private readonly CancellationTokenSource _interrupt = new();
    private readonly TestTokens _tokens = new();
    private readonly List<string> _minted = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(2) };
    private Uri _functions = null!;
    private int _calls;

    [GcloudFact]
    public async Task Backup_staging_restore_and_a_two_person_tenant_restore_run_to_the_end_through_local_up()
    {
        var prefix = LocalCloudFixture.NextAddressPrefix();
        Assert.Equal(0, await DrillCommand.RunAsync(["--state", _state, "--port", "0", "--address-prefix", prefix]));
        using var cliOut = new StringWriter();
        var cli = new CommandContext(cliOut, cliOut, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
        const string Password = "staging-app-pw-7e21";
        Assert.Equal(0, await SecretsPutCommand.RunAsync(["staging-app-password", "--state", _state], cli, new MemoryStream(Encoding.UTF8.GetBytes(Password)), null));

        var (up, executions) = await LocalUpAsync(prefix);
        var cloudPort = new Uri(CloudPattern().Match(_upOut.ToString()).Groups["url"].Value).Port;
        await using var stack = new LocalStack(_state, cloudPort, prefix);
        await stack.StartCloudAsync();
        string prod;
        using (var sql = stack.CloudSql())
        {
            var created = await sql.InsertInstanceAsync(new Commissable.Backup.Core.CloudSql.DatabaseInstance
            {
                Name = "staging",
                DatabaseVersion = "POSTGRES_15",
                RootPassword = stack.RootPassword(),
                Settings = new Commissable.Backup.Core.CloudSql.Settings { Tier = "db-custom-1-3840", UserLabels = new Dictionary<string, string> { ["env"] = "staging" } },
            });
            Assert.Null((await sql.WaitForOperationAsync(created, TimeSpan.FromMinutes(3))).Error);
            var instance = await sql.GetInstanceAsync(LocalStack.ProdInstance);
            prod = new NpgsqlConnectionStringBuilder
            {
                Host = instance.IpAddresses![0].IpAddress, Port = 5432, Database = "crm", Username = "postgres", Password = stack.RootPassword(), Pooling = false,
            }.ConnectionString;
        }

        // 1. An on-demand backup, listed with its requester.
        var clock = Stopwatch.StartNew();
        var (status, backupJob) = await SendAsync("ada", ["admin.backup"], HttpMethod.Post, "backups", """{"reason":"before the Q4 price import"}""");
        Assert.True(status == HttpStatusCode.Accepted, backupJob.ToJsonString());
        var backupDone = await UntilAsync((string)backupJob["id"]!, "ada", ["admin.backup"], j => (string?)j["state"] != "running");
        output.WriteLine($"backup job: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True((string?)backupDone["state"] == "succeeded", backupDone.ToJsonString());
        var backupId = (string)backupDone["result"]!["backupId"]!;
        var (_, list) = await SendAsync("rita", ["admin.restore"], HttpMethod.Get, "backups");
        var listed = list["backups"]!.AsArray().Single(b => (string?)b!["id"] == backupId)!;
        Assert.Equal("ada@example.com (ada)", (string?)listed["requestedBy"]);
        Assert.Equal("pre-deploy-export", (string?)listed["kind"]);

        // 2. That backup restored to staging through clone-prod-to-staging; gcloud shows the execution.
        clock.Restart();
        (status, var stagingJob) = await SendAsync("rita", ["admin.restore"], HttpMethod.Post, "restores/staging", $$"""{"backup":"{{backupId}}"}""");
        Assert.True(status == HttpStatusCode.Accepted, stagingJob.ToJsonString());
        var stagingDone = await UntilAsync((string)stagingJob["id"]!, "rita", ["admin.restore"], j => (string?)j["state"] != "running");
        output.WriteLine($"staging job: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True((string?)stagingDone["state"] == "succeeded", stagingDone.ToJsonString() + "\n" + _upOut);
        Assert.False((bool)stagingDone["result"]!["exported"]!);
        Assert.All(stagingDone["result"]!["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        var execution = (string)JsonNode.Parse(await File.ReadAllTextAsync(JobRecord((string)stagingJob["id"]!)))!["execution"]!;
        var described = JsonNode.Parse(await GcloudAsync(executions, "workflows", "executions", "describe", execution, "--format=json"))!;
        Assert.Equal("SUCCEEDED", (string?)described["state"]);
        Assert.Equal((string?)JsonNode.Parse((string)described["argument"]!)!["backup"], (string?)JsonNode.Parse((string)described["result"]!)!["backupUri"]);

        // 3. One tenant's rows lost, restored with a second user's approval of the plan.
        var tenant = await TextAsync(prod, """SELECT "tenantId" FROM "Activity" ORDER BY "id" LIMIT 1""");
        var before = await TextAsync(prod, $"""SELECT count(*)::text FROM "Activity" WHERE "tenantId" = '{tenant}'""");
        var pointInTime = await TextAsync(prod, """SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""");
        await TextAsync(prod, $"""WITH gone AS (DELETE FROM "Activity" WHERE "id" IN (SELECT "id" FROM "Activity" WHERE "tenantId" = '{tenant}' ORDER BY "id" LIMIT 3) RETURNING 1) SELECT count(*)::text FROM gone""");
        clock.Restart();
        (status, var tenantJob) = await SendAsync("rita", ["admin.restore"], HttpMethod.Post, "restores/tenant", $$"""{"tenantId":"{{tenant}}","pointInTime":"{{pointInTime}}"}""");
        Assert.True(status == HttpStatusCode.Accepted, tenantJob.ToJsonString());
        var jobId = (string)tenantJob["id"]!;
        var waiting = await UntilAsync(jobId, "sam", ["admin.restore"], j => (string?)j["state"] != "running");
        output.WriteLine($"tenant job to its plan: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True((string?)waiting["state"] == "awaiting-approval", waiting.ToJsonString() + "\n" + _upOut);
        Assert.Equal(3L, (long)waiting["plan"]!["missing"]!);
        var digest = (string)waiting["plan"]!["digest"]!;

        var (own, ownBody) = await SendAsync("rita", ["admin.restore"], HttpMethod.Post, $"jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        Assert.Equal(HttpStatusCode.Forbidden, own);
        Assert.Equal("TWO_PERSON_RULE", (string?)ownBody["error"]!["status"]);
        var (approved, approvedBody) = await SendAsync("sam", ["admin.restore"], HttpMethod.Post, $"jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        Assert.True(approved == HttpStatusCode.OK, approvedBody.ToJsonString());
        var tenantDone = await UntilAsync(jobId, "sam", ["admin.restore"], j => (string?)j["state"] is not ("running" or "awaiting-approval"));
        output.WriteLine($"tenant job in all: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True((string?)tenantDone["state"] == "succeeded", tenantDone.ToJsonString() + "\n" + _upOut);
        Assert.Equal("applied", (string?)tenantDone["result"]!["outcome"]);
        Assert.True((bool)tenantDone["result"]!["proven"]!);
        Assert.Equal("sam@example.com (sam)", (string?)tenantDone["result"]!["approvedBy"]);
        Assert.Equal("rita", (string?)tenantDone["requestedBy"]!["id"]);
        Assert.Equal("sam", (string?)tenantDone["approvals"]![0]!["approvedBy"]!["id"]);
        Assert.Equal(before, await TextAsync(prod, $"""SELECT count(*)::text FROM "Activity" WHERE "tenantId" = '{tenant}'"""));

        // The audit trail: one record per call (this last one is written after it answers), none with a token.
        var calls = _calls;
        var (_, audit) = await SendAsync("rita", ["admin.restore"], HttpMethod.Get, "audit?limit=1000");
        var records = audit["records"]!.AsArray();
        Assert.Equal(calls, records.Count);
        Assert.Contains(records, r => (string?)r!["action"] == "restores.tenant" && (string?)r["user"]!["id"] == "rita" && (string?)r["jobId"] == jobId);
        Assert.Contains(records, r => (string?)r!["action"] == "jobs.approve" && (string?)r["user"]!["id"] == "sam" && (int)r["outcome"]!["status"]! == 200);
        Assert.Contains(records, r => (string?)r!["action"] == "jobs.approve" && (string?)r["user"]!["id"] == "rita" && (string?)r["outcome"]!["code"] == "TWO_PERSON_RULE");
        var everything = audit.ToJsonString() + _upOut + _upErr;
        foreach (var token in _minted) Assert.DoesNotContain(token, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, everything, StringComparison.Ordinal);

        await _interrupt.CancelAsync();
        Assert.Equal(0, await up.WaitAsync(TimeSpan.FromMinutes(2)));

    }

    /// <summary>Sends one call as <paramref name="user"/> with a fresh token; returns the status and the JSON answer.</summary>
    private async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(string user, string[] permissions, HttpMethod method, string path, string? body = null)
    {
        var claims = TestTokens.Claims(DateTimeOffset.UtcNow, permissions);
        claims["sub"] = user;
        claims["email"] = user + "@example.com";
        var token = _tokens.Mint(claims);
        _minted.Add(token);
        using var request = new HttpRequestMessage(method, new Uri(_functions, "data-management/" + path));
        request.Headers.Add("X-Acting-User-Token", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        _calls++;
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>Asks for the job until <paramref name="done"/> holds (a bounded poll of a workflow that runs for minutes).</summary>
    private async Task<JsonObject> UntilAsync(string jobId, string user, string[] permissions, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow.AddMinutes(8);
        while (true)
        {
            var (status, job) = await SendAsync(user, permissions, HttpMethod.Get, $"jobs/{jobId}");
            Assert.True(status == HttpStatusCode.OK, job.ToJsonString());
            if (done(job) || DateTime.UtcNow > deadline) return job;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private string JobRecord(string jobId) => Path.Combine(_state, "buckets", LocalStack.Bucket, "backups", ".data-management", "jobs", jobId + ".json");

    private static async Task<string> TextAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Starts <c>local up</c> with the CRM's token settings in its environment; returns it and the executions endpoint.</summary>
    private async Task<(Task<int> Up, string Endpoint)> LocalUpAsync(string prefix)
    {
        var variables = _tokens.Variables();
        var upContext = new CommandContext(_upOut, _upErr, TimeProvider.System, (d, t) => Task.Delay(d, t), _interrupt.Token)
        {
            Environment = name => variables.TryGetValue(name, out var value) ? value : null,
        };
        var up = LocalUpCommand.RunAsync(["--state", _state, "--port", "0", "--address-prefix", prefix,
            "--workflows", Path.Combine(Repository(), "workflows"), "--executions-port", "0"], upContext);
        var ready = _upOut.WhenMatches(ReadyPattern());
        if (await Task.WhenAny(ready, up).WaitAsync(TimeSpan.FromMinutes(3)) != ready)
        {
            Assert.Fail($"local up ended before it was ready: exit {await up}\n{_upOut}\n{_upErr}");
        }
        _functions = new Uri(FunctionsPattern().Match(_upOut.ToString()).Groups["url"].Value);
        return (up, (await ready).Groups["url"].Value);
    }

    /// <summary>gcloud with a private config, the workflowexecutions endpoint overridden and the state's token.</summary>
    private async Task<string> GcloudAsync(string endpoint, params string[] arguments)
    {
        var start = new ProcessStartInfo(GcloudFactAttribute.Executable ?? throw new InvalidOperationException("gcloud is not on PATH"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments.Concat(["--quiet", $"--access-token-file={Path.Combine(_state, "token")}", "--project=drill-project"]))
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("CLOUDSDK_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment["CLOUDSDK_CONFIG"] = Path.Combine(_state, "gcloud-test");
        start.Environment["CLOUDSDK_API_ENDPOINT_OVERRIDES_WORKFLOWEXECUTIONS"] = endpoint;
        start.Environment["CLOUDSDK_CORE_CHECK_GCE_METADATA"] = "false";
        start.Environment["CLOUDSDK_METRICS_ENVIRONMENT"] = "localcloud-tests";
        start.Environment["CLOUDSDK_CORE_DISABLE_USAGE_REPORTING"] = "true";
        start.Environment["CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK"] = "true";
        start.Environment["CLOUDSDK_SURVEY_DISABLE_PROMPTS"] = "true";
        start.Environment["NO_PROXY"] = start.Environment["no_proxy"] = "127.0.0.1,localhost";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        Assert.True(process.ExitCode == 0, $"gcloud {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await stderr}\n{await stdout}");
        return await stdout;
    }

    [GeneratedRegex(@"^local cloud: (?<url>http://127\.0\.0\.1:\d+/)", RegexOptions.Multiline)]
    private static partial Regex CloudPattern();

    [GeneratedRegex(@"^functions:\s+(?<url>http://127\.0\.0\.1:\d+/)", RegexOptions.Multiline)]
    private static partial Regex FunctionsPattern();

    [GeneratedRegex(@"^workflow executions: (?<url>http://127\.0\.0\.1:\d+/) ", RegexOptions.Multiline)]
    private static partial Regex ReadyPattern();

    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "workflows", "disaster-recovery.yaml"))) return dir.FullName;
        }
        throw new InvalidOperationException("workflows/disaster-recovery.yaml not found above the test binaries");
    }

    public void Dispose()
    {
        _interrupt.Cancel();
        _interrupt.Dispose();
        _upOut.Dispose();
        _upErr.Dispose();
        _http.Dispose();
        _tokens.Dispose();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
