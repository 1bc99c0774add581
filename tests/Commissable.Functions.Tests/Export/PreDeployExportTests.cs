using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Postgres.Demo;
using Commissable.Testing;

namespace Commissable.Functions.Tests.Export;

/// <summary>pre-deploy-export through the real host, against the local cloud.</summary>
public sealed class PreDeployExportTests(PreDeployEnvironment env) : IClassFixture<PreDeployEnvironment>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> PostAsync(string json, string? key = null, string query = "") =>
        PostAsync(env.Client, json, key, query);

    private static async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> PostAsync(HttpClient client, string json, string? key = null, string query = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/pre-deploy-export" + query) { Content = Json(json) };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject(), response);
    }

    [Fact]
    public async Task An_export_answers_200_with_the_backup_its_manifest_and_timings()
    {
        var (status, body, _) = await PostAsync("""{"instance":"prod","database":"crm","change":"add-deposit-index","commitSha":"abc123","pipelineRunId":"run-7","requestedBy":"ci@example.com"}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal("succeeded", (string?)body["status"]);
        var uri = (string)body["backupUri"]!;
        Assert.Matches(@"^gs://crm-backups/backups/prod/prod/backup_\d{8}_\d{4}_prod_before_add-deposit-index\.sql\.gz$", uri);
        Assert.Equal(uri + ".manifest.json", (string?)body["manifestUri"]);
        var file = Path.Combine(env.Cloud.StateDirectory, "buckets", uri["gs://".Length..]);
        Assert.Equal(new FileInfo(file).Length, (long)body["sizeBytes"]!);
        Assert.Equal(["lease", "export", "check", "content", "manifest"], body["stages"]!.AsArray().Select(s => (string)s!["stage"]!));

        var manifest = body["manifest"]!;
        Assert.Equal("pre-deploy-export", (string?)manifest["kind"]);
        Assert.Equal("abc123", (string?)manifest["trigger"]!["commitSha"]);
        // The content manifest, read from the object just written: no pre-export snapshot any more.
        Assert.Null(manifest["snapshot"]);
        var content = manifest["content"]!;
        Assert.Equal(DemoDatabase.LatestMigration, (string?)content["migrations"]!["head"]);
        var expected = DemoDatabase.ExpectedRowCounts(DemoDatabaseOptions.Tiny);
        foreach (var (table, rows) in expected)
        {
            // As pg_dump prints it: quoted only where the name needs it.
            var key = table.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') ? $"public.{table}" : $"public.\"{table}\"";
            Assert.Equal(rows, (long)content["tables"]![key]!["rows"]!);
            Assert.Matches("^[0-9a-f]{32}$", (string?)content["tables"]![key]!["digest"]);
        }
        var tenants = content["tables"]!.AsObject().Select(t => t.Value!["tenants"]).OfType<JsonObject>().SelectMany(t => t.Select(p => p.Key)).Distinct().Count();
        Assert.Equal(DemoDatabaseOptions.Tiny.Tenants, tenants);
        Assert.Equal("UTC", (string?)content["timeZone"]);
        Assert.Equal("tenantId", (string?)content["tenantColumn"]);
        Assert.NotNull((string?)manifest["md5Hash"]);

        // Operators alert on the event field: the start and the completion each carry theirs, with the path.
        Assert.Single(env.Logs.WithEvent("backup.export.started"), l => l.GetProperty("backupUri").GetString() == uri);
        var completed = Assert.Single(env.Logs.WithEvent("backup.export.completed"), l => l.GetProperty("backupUri").GetString() == uri);
        Assert.Equal("succeeded", completed.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Twenty_concurrent_calls_with_one_idempotency_key_make_one_export_and_get_the_same_answer()
    {
        var key = "deploy-" + Guid.NewGuid();
        var calls = Enumerable.Range(0, 20).Select(_ => PostAsync("""{"instance":"prod","database":"crm","change":"concurrent-change"}""", key));
        var answers = await Task.WhenAll(calls);

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, a.Body.ToJsonString()));
        var uris = answers.Select(a => (string)a.Body["backupUri"]!).Distinct().ToList();
        Assert.Single(uris);
        Assert.Single(answers.Select(a => (string)a.Body["id"]!).Distinct());
        Assert.Single(answers.Select(a => (string?)a.Body["manifestUri"]).Distinct());
        var (_, operations) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api("operations?instance=prod"));
        var exports = operations["items"]!.AsArray().Count(o => (string?)o!["exportContext"]?["uri"] == uris[0]);
        Assert.Equal(1, exports);

        // Asked again later with the same key: the same backup, no new export.
        var (status, again, _) = await PostAsync("""{"instance":"prod","database":"crm","change":"concurrent-change"}""", key);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(uris[0], (string?)again["backupUri"]);
    }

    [Fact]
    public Task The_same_request_after_its_backup_was_swept_is_409_not_the_old_answer() =>
        // The retention sweep deletes the manifest first.
        RepeatedAfterAsync("swept-later", body => File.Delete(BucketFile(body, "manifestUri")), "send a new Idempotency-Key");

    [Fact]
    public Task The_same_request_after_its_dump_was_removed_is_409_not_the_old_answer() =>
        // Removed by hand (or a lifecycle rule): the manifest stays.
        RepeatedAfterAsync("dump-removed", body => File.Delete(BucketFile(body, "backupUri")), "is gone from the bucket (its manifest is still there)");

    [Fact]
    public Task The_same_request_after_its_dump_was_replaced_is_409_not_the_old_answer() =>
        RepeatedAfterAsync("dump-replaced", body =>
        {
            // Another file under the same name: another size.
            var dump = BucketFile(body, "backupUri");
            File.Delete(dump);
            File.WriteAllBytes(dump, [0x1f, 0x8b]);
        }, "changed after the export (it is 2 bytes");

    /// <summary>Makes a backup, does <paramref name="damage"/> to it, and asks again with the same key: 409 BACKUP_GONE saying <paramref name="says"/>.</summary>
    private async Task RepeatedAfterAsync(string change, Action<JsonObject> damage, string says)
    {
        var key = "deploy-" + Guid.NewGuid();
        var request = $$"""{"instance":"prod","database":"crm","change":"{{change}}"}""";
        var (first, body, _) = await PostAsync(request, key);
        Assert.True(first == HttpStatusCode.OK, body.ToJsonString());
        damage(body);

        var (status, again, _) = await PostAsync(request, key);

        Assert.True(status == HttpStatusCode.Conflict, again.ToJsonString());
        Assert.Equal("BACKUP_GONE", (string?)again["error"]!["status"]);
        Assert.Contains(says, (string?)again["error"]!["message"], StringComparison.Ordinal);
    }

    private string BucketFile(JsonObject body, string uriField) =>
        Path.Combine(env.Cloud.StateDirectory, "buckets", ((string)body[uriField]!)["gs://".Length..]);

    [Fact]
    public async Task A_second_export_of_the_same_change_in_the_same_minute_is_409_until_a_new_name_exists()
    {
        // Two different keys for one change within a minute would need the same backup name. The
        // functions' clock stands still, so both calls fall in one minute however slow the machine.
        await using var functions = await env.StartFunctionsAsync(StoppedClock.AtNow());
        var (first, body, _) = await PostAsync(functions.Client, """{"instance":"prod","database":"crm","change":"same-minute"}""", "key-one-" + Guid.NewGuid());
        Assert.True(first == HttpStatusCode.OK, body.ToJsonString());

        var (second, refused, response) = await PostAsync(functions.Client, """{"instance":"prod","database":"crm","change":"same-minute"}""", "key-two-" + Guid.NewGuid());

        Assert.True(second == HttpStatusCode.Conflict, refused.ToJsonString());
        Assert.Contains((string)body["backupUri"]!, (string)refused["error"]!["message"]!, StringComparison.Ordinal);
        Assert.Equal("BACKUP_NAME_TAKEN", (string?)refused["error"]!["status"]);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 61);
    }

    [Fact]
    public async Task Ten_concurrent_calls_for_one_change_with_different_keys_start_one_export_and_the_others_get_409_with_retry_after()
    {
        // Ten keys for one change need one backup name: all ten calls must fall within one minute,
        // which the functions' clock, standing still, guarantees however slow the machine.
        await using var functions = await env.StartFunctionsAsync(StoppedClock.AtNow());
        const string body = """{"instance":"prod","database":"crm","change":"ten-at-once"}""";
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => PostAsync(functions.Client, body, $"key-{i}-" + Guid.NewGuid())));

        var exported = Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        var uri = (string)exported.Body["backupUri"]!;
        var refused = answers.Where(a => a.Status != HttpStatusCode.OK).ToList();
        Assert.Equal(9, refused.Count);
        Assert.All(refused, a =>
        {
            Assert.True(a.Status == HttpStatusCode.Conflict, a.Body.ToJsonString());
            Assert.Equal("BACKUP_NAME_TAKEN", (string?)a.Body["error"]!["status"]);
            Assert.Contains(uri, (string)a.Body["error"]!["message"]!, StringComparison.Ordinal);
            Assert.InRange(a.Response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 61);
        });
        var (_, operations) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api("operations?instance=prod"));
        Assert.Equal(1, operations["items"]!.AsArray().Count(o => (string?)o!["exportContext"]?["uri"] == uri));
    }

    [Theory]
    [InlineData("""{"instance":"prod","database":"crm","change":"other-change"}""", "change")]
    [InlineData("""{"instance":"prod","database":"crm","change":"CHANGE","commitSha":"beef"}""", "commitSha")]
    [InlineData("""{"instance":"prod","database":"crm","change":"CHANGE","requestedBy":"someone-else"}""", "pipelineRunId or requestedBy")]
    public async Task A_key_reused_with_a_different_body_is_422_naming_the_key_and_what_differs(string second, string differs)
    {
        var key = "build-" + Guid.NewGuid();
        // A change of its own per case: two keys for one change in one minute would be refused for the name.
        var change = "keyed-" + Guid.NewGuid().ToString("N")[..8];
        var (first, body, _) = await PostAsync($$"""{"instance":"prod","database":"crm","change":"{{change}}"}""", key, "?wait=false");
        Assert.True(first == HttpStatusCode.Accepted, body.ToJsonString());

        var (status, refused, _) = await PostAsync(second.Replace("CHANGE", change, StringComparison.Ordinal), key);

        Assert.True((int)status == 422, refused.ToJsonString());
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", (string?)refused["error"]!["status"]);
        Assert.Contains(key, (string?)refused["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains(differs, (string?)refused["error"]!["message"], StringComparison.Ordinal);
        // The same body, however it is written, still follows the first request.
        var (again, same, _) = await PostAsync($$"""{ "change":"{{change}}", "databases":["crm"], "instance":"prod" }""", key);
        Assert.True(again == HttpStatusCode.OK, same.ToJsonString());
        Assert.Equal((string?)body["backupUri"], (string?)same["backupUri"]);
    }

    [Fact]
    public async Task Without_waiting_the_answer_is_202_with_a_status_url_that_reaches_the_result()
    {
        var (status, body, response) = await PostAsync("""{"instance":"prod","databases":["crm"],"change":"no-wait","commitSha":"def"}""", query: "?wait=false");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var statusUrl = (string)body["statusUrl"]!;
        Assert.Equal(statusUrl, response.Headers.Location?.ToString());
        JsonObject result;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        do
        {
            await Task.Delay(200);
            using var poll = await env.Client.GetAsync(statusUrl);
            result = JsonNode.Parse(await poll.Content.ReadAsStringAsync())!.AsObject();
        }
        while ((string?)result["status"] == "running" && DateTime.UtcNow < deadline);
        Assert.Equal("succeeded", (string?)result["status"]);
        Assert.Equal((string?)body["backupUri"], (string?)result["backupUri"]);
    }

    [Theory]
    [InlineData("{\"instance\": \"prod\",", HttpStatusCode.BadRequest, "line")]
    [InlineData("""{"database":"crm","change":"x"}""", HttpStatusCode.BadRequest, "'instance' is required")]
    [InlineData("""{"instance":"prod","change":"x"}""", HttpStatusCode.BadRequest, "'database' is required")]
    [InlineData("""{"instance":"prod","database":"crm"}""", HttpStatusCode.BadRequest, "'change' is required")]
    [InlineData("""{"instance":"prod","database":"crm","change":"a/b"}""", HttpStatusCode.BadRequest, "may contain only lowercase letters")]
    [InlineData("""{"instance":"prod","database":"crm","change":".."}""", HttpStatusCode.BadRequest, "may contain only lowercase letters")]
    [InlineData("""{"instance":"prod","database":"crm","change":"has space"}""", HttpStatusCode.BadRequest, "may contain only lowercase letters")]
    [InlineData("""{"instance":"prod","database":"crm","change":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""", HttpStatusCode.BadRequest, "200 characters")]
    [InlineData("""{"instance":"prod","databases":["crm","other"],"change":"x"}""", HttpStatusCode.BadRequest, "exactly one database")]
    [InlineData("""{"instance":"Not_An_Instance","database":"crm","change":"x"}""", HttpStatusCode.BadRequest, "must be a Cloud SQL instance ID")]
    [InlineData("""{"instance":"nowhere","database":"crm","change":"x"}""", HttpStatusCode.NotFound, "'nowhere' does not exist")]
    public async Task A_bad_request_answers_its_status_with_a_message_naming_the_problem(string json, HttpStatusCode expected, string message)
    {
        var (status, body, _) = await PostAsync(json);
        Assert.Equal(expected, status);
        Assert.Contains(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_precondition_switched_off_in_the_local_cloud_gives_412_naming_it()
    {
        await env.Cloud.CreateInstanceAsync("guarded");
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/guarded/databases"), """{"name":"crm"}""");
        const string request = """{"instance":"guarded","database":"crm","change":"guarded-change"}""";

        await AssertRefusedAsync(request, "backups.recent");
        await env.TakeAutomatedBackupAsync("guarded");

        await env.Cloud.RunAsync(HttpMethod.Patch, env.Cloud.Api("instances/guarded"), """{"settings":{"backupConfiguration":{"pointInTimeRecoveryEnabled":false}}}""");
        await AssertRefusedAsync(request, "pitr.enabled");

        await env.Cloud.RunAsync(HttpMethod.Patch, env.Cloud.Api("instances/guarded"), """{"settings":{"backupConfiguration":{"enabled":false}}}""");
        await AssertRefusedAsync(request, "backups.enabled");

        await env.Cloud.RunAsync(HttpMethod.Patch, env.Cloud.Api("instances/guarded"), """{"settings":{"activationPolicy":"NEVER"}}""");
        await AssertRefusedAsync(request, "instance.runnable");
    }

    private async Task AssertRefusedAsync(string request, string precondition)
    {
        var (status, body, _) = await PostAsync(request);
        Assert.True(status == HttpStatusCode.PreconditionFailed, body.ToJsonString());
        var names = body["error"]!["preconditions"]!.AsArray().Select(p => (string)p!["name"]!).ToList();
        Assert.Contains(precondition, names);
        Assert.Contains($"[{precondition}]", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }
}
