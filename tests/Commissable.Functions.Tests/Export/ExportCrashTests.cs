using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;

namespace Commissable.Functions.Tests.Export;

/// <summary>
/// <c>kill -9</c> of the functions host (its own <c>dotnet Commissable.Functions.dll</c> process)
/// while a pre-deploy export runs, held running by a table lock; then a restart. Liveness is set
/// short by the host's own variables, so nothing here follows a fake clock.
/// </summary>
public sealed partial class ExportCrashTests(PreDeployEnvironment env) : IClassFixture<PreDeployEnvironment>
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task After_a_kill_9_mid_export_the_cut_export_ends_failed_nothing_is_listed_and_a_same_key_retry_and_the_next_export_succeed()
    {
        var prefix = "crash-" + Guid.NewGuid().ToString("N")[..8];
        var passwordFile = LocalFunctions.WritePasswordFile();
        var body = $$"""{"instance":"prod","database":"crm","change":"crash-{{Guid.NewGuid().ToString("N")[..6]}}"}""";
        var key = "build-" + Guid.NewGuid();
        Process? first = null, second = null;
        try
        {
            var tenants = await HoldTenantTableAsync();
            (first, var firstUrl) = await StartHostAsync(prefix, passwordFile);
            using var firstClient = new HttpClient { BaseAddress = firstUrl, Timeout = Bound };
            var (accepted, started) = await PostAsync(firstClient, body, key, "?wait=false");
            Assert.True(accepted == HttpStatusCode.Accepted, started.ToJsonString());
            var id = (string)started["id"]!;
            var deadUri = (string)started["backupUri"]!;
            var objects = Path.Combine(env.Cloud.StateDirectory, "buckets", PreDeployEnvironment.Bucket, prefix);
            var lease = Path.Combine(objects, ".leases", "prod.json");
            await EventuallyAsync(() => Task.FromResult(File.Exists(lease)), "the export to take its lease");

            first.Kill();
            await first.WaitForExitAsync();
            // What a kill -9 leaves behind, and the restart below must cope with: nothing released the
            // lease, and the ticket still says running. (The host starts no programs of its own here:
            // pg_dump runs in the local cloud, in this test's process.)
            Assert.Equal(id, (string?)JsonNode.Parse(await File.ReadAllTextAsync(lease))!["ticket"]);
            Assert.Equal("running", (string?)JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(objects, ".requests", id + ".json")))!["status"]);

            (second, var secondUrl) = await StartHostAsync(prefix, passwordFile);
            using var client = new HttpClient { BaseAddress = secondUrl, Timeout = Bound };

            // The cut export ends with an error once its heartbeat is stale, not at some later limit
            // (EXPORT_WAIT_SECONDS is longer than the wait's Bound).
            JsonObject status = [];
            await EventuallyAsync(async () =>
            {
                using var response = await client.GetAsync($"pre-deploy-export/status/{id}");
                status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                return response.StatusCode == HttpStatusCode.BadGateway;
            }, "the cut export to be reported failed");
            Assert.Equal("EXPORT_FAILED", (string?)status["error"]!["status"]);
            Assert.Contains("stopped", (string?)status["error"]!["message"], StringComparison.Ordinal);

            await tenants.DisposeAsync();
            // The dead host's Cloud SQL export (if it had begun) runs on without it; the retry below
            // starts once the instance is free, as a pipeline's would after Cloud SQL's 409.
            await EventuallyAsync(async () =>
            {
                var (_, operations) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api("operations?instance=prod"));
                return operations["items"]?.AsArray().All(o => (string?)o!["status"] == "DONE") ?? true;
            }, "the instance's operations to end");
            using (var catalog = await client.GetAsync("catalog?instance=prod"))
            {
                Assert.Equal(HttpStatusCode.OK, catalog.StatusCode);
                Assert.DoesNotContain(deadUri, await catalog.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            var (retried, retry) = await PostAsync(client, body, key);
            Assert.True(retried == HttpStatusCode.OK, retry.ToJsonString());
            Assert.Equal(id, (string?)retry["id"]);
            Assert.Equal("succeeded", (string?)retry["status"]);
            var (next, other) = await PostAsync(client, $$"""{"instance":"prod","database":"crm","change":"after-crash-{{Guid.NewGuid().ToString("N")[..6]}}"}""", "build-" + Guid.NewGuid());
            Assert.True(next == HttpStatusCode.OK, other.ToJsonString());
        }
        finally
        {
            foreach (var host in new[] { first, second })
            {
                if (host is { HasExited: false }) host.Kill();
                host?.Dispose();
            }
            File.Delete(passwordFile);
        }
    }

    private async Task<(Process Host, Uri Url)> StartHostAsync(string prefix, string passwordFile)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Commissable.Functions.dll"));
        var variables = LocalFunctions.Variables(env.Cloud, PreDeployEnvironment.Bucket, passwordFile);
        variables["PORT"] = "0";
        variables["BACKUP_PREFIX"] = prefix;
        variables["EXPORT_WAIT_SECONDS"] = "300";
        // Dead after 10 s without a beat, so the test needs no fake clock; five beats fit in that,
        // so a live export of the second host is not taken for dead when one beat is late on a loaded machine.
        variables["EXPORT_HEARTBEAT_SECONDS"] = "2";
        variables["EXPORT_STALE_AFTER_SECONDS"] = "10";
        foreach (var (name, value) in variables)
        {
            info.Environment[name] = value;
        }
        var host = Process.Start(info)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        _ = Task.Run(async () =>
        {
            while (await host.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (output) output.AppendLine(line);
                if (line.Contains("function.host.started", StringComparison.Ordinal) && Address().Match(line) is { Success: true } address)
                {
                    listening.TrySetResult(new Uri(address.Value + "/"));
                }
            }
            listening.TrySetException(new InvalidOperationException("The functions host exited before serving."));
        });
        _ = Task.Run(async () => await host.StandardError.ReadToEndAsync());
        try
        {
            return (host, await listening.Task.WaitAsync(Bound));
        }
        catch (Exception error) when (error is TimeoutException or InvalidOperationException)
        {
            lock (output) throw new InvalidOperationException("The functions host did not start: " + output, error);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(HttpClient client, string json, string key, string query = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "pre-deploy-export" + query) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private async Task<NpgsqlConnection> HoldTenantTableAsync()
    {
        var connection = new NpgsqlConnection(await env.Cloud.ConnectionStringAsync("prod", "crm"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""BEGIN; LOCK TABLE "Tenant" IN ACCESS EXCLUSIVE MODE""", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex Address();
}
