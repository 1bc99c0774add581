using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Verification;
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
public sealed class DataManagementRehearsalTests(ITestOutputHelper output) : IDisposable
{
    private readonly LocalUpRun _up = new();
    private readonly TestTokens _tokens = new();
    private readonly List<string> _minted = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(2) };
    private int _calls;

    [GcloudFact]
    public async Task Backup_staging_restore_and_a_two_person_tenant_restore_run_to_the_end_through_local_up()
    {
        var prefix = LocalCloudFixture.NextAddressPrefix();
        Assert.Equal(0, await DrillCommand.RunAsync(["--state", _up.State, "--port", "0", "--address-prefix", prefix]));
        using var cliOut = new StringWriter();
        var cli = new CommandContext(cliOut, cliOut, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
        const string Password = "staging-app-pw-7e21";
        Assert.Equal(0, await SecretsPutCommand.RunAsync(["staging-app-password", "--state", _up.State], cli, new MemoryStream(Encoding.UTF8.GetBytes(Password)), null));

        // The CRM's token settings in local up's environment; the jobs' settings are local up's own.
        await _up.StartAsync(prefix, _tokens.Variables());
        Assert.Contains($"data-management: acting-user tokens of {TestTokens.Issuer} checked with {_tokens.JwksFile}; jobs on prod/crm, staging staging/crm_staging", _up.Out.ToString(), StringComparison.Ordinal);
        await using var stack = new LocalStack(_up.State, _up.CloudPort, prefix);
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
        Assert.True((string?)stagingDone["state"] == "succeeded", stagingDone.ToJsonString() + "\n" + _up.Out);
        Assert.False((bool)stagingDone["result"]!["exported"]!);
        // The staging database was compared with the backup and checked on its own terms, and passed.
        Assert.Superset(new HashSet<string>([.. ContentComparison.All, .. RestoreChecks.All]), stagingDone["result"]!["checks"]!.AsArray().Select(c => (string)c!["name"]!).ToHashSet());
        Assert.All(stagingDone["result"]!["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        var execution = (string)JsonNode.Parse(await File.ReadAllTextAsync(JobRecord((string)stagingJob["id"]!)))!["execution"]!;
        var described = JsonNode.Parse(await GcloudAsync(_up.Executions, "workflows", "executions", "describe", execution, "--format=json"))!;
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
        Assert.True((string?)waiting["state"] == "awaiting-approval", waiting.ToJsonString() + "\n" + _up.Out);
        Assert.Equal(3L, (long)waiting["plan"]!["missing"]!);
        var digest = (string)waiting["plan"]!["digest"]!;

        var (own, ownBody) = await SendAsync("rita", ["admin.restore"], HttpMethod.Post, $"jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        Assert.Equal(HttpStatusCode.Forbidden, own);
        Assert.Equal("TWO_PERSON_RULE", (string?)ownBody["error"]!["status"]);
        var (approved, approvedBody) = await SendAsync("sam", ["admin.restore"], HttpMethod.Post, $"jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        Assert.True(approved == HttpStatusCode.OK, approvedBody.ToJsonString());
        var tenantDone = await UntilAsync(jobId, "sam", ["admin.restore"], j => (string?)j["state"] is not ("running" or "awaiting-approval"));
        output.WriteLine($"tenant job in all: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True((string?)tenantDone["state"] == "succeeded", tenantDone.ToJsonString() + "\n" + _up.Out);
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
        var everything = audit.ToJsonString() + _up.Out + _up.Error;
        foreach (var token in _minted) Assert.DoesNotContain(token, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, everything, StringComparison.Ordinal);

        Assert.Equal(0, await _up.StopAsync());

    }

    /// <summary>Sends one call as <paramref name="user"/> with a fresh token; returns the status and the JSON answer.</summary>
    private async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(string user, string[] permissions, HttpMethod method, string path, string? body = null)
    {
        var claims = TestTokens.Claims(DateTimeOffset.UtcNow, permissions);
        claims["sub"] = user;
        claims["email"] = user + "@example.com";
        var token = _tokens.Mint(claims);
        _minted.Add(token);
        using var request = new HttpRequestMessage(method, new Uri(_up.Functions, "data-management/" + path));
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

    private string JobRecord(string jobId) => Path.Combine(_up.State, "buckets", LocalStack.Bucket, "backups", ".data-management", "jobs", jobId + ".json");

    private static async Task<string> TextAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>gcloud with a private config, the workflowexecutions endpoint overridden and the state's token.</summary>
    private async Task<string> GcloudAsync(string endpoint, params string[] arguments)
    {
        var start = GcloudStart.Info([.. arguments, "--project=drill-project"], Path.Combine(_up.State, "gcloud-test"), _up.TokenFile,
            new Dictionary<string, Uri> { ["workflowexecutions"] = new Uri(endpoint) }, project: null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (exit, stdout, stderr) = await GcloudStart.RunAsync(start, timeout.Token);
        Assert.True(exit == 0, $"gcloud {string.Join(' ', arguments)} exited {exit}:\n{stderr}\n{stdout}");
        return stdout;
    }

    public void Dispose()
    {
        _up.Dispose();
        _http.Dispose();
        _tokens.Dispose();
    }
}
