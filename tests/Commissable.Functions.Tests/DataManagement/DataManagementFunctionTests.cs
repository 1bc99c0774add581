using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Tests.Retention;
using Commissable.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Functions.Tests.DataManagement;

/// <summary>data-management through the real host on a real local cloud and store: tokens, permissions, the audit, GET /backups.</summary>
public sealed class DataManagementFunctionTests(SweeperEnvironment env) : IClassFixture<SweeperEnvironment>
{
    private const string AuditPrefix = SweeperHost.Prefix + "/.audit/data-management/";
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 30, 0, TimeSpan.Zero);

    private sealed class Host(LocalFunctions functions, TestTokens tokens, FakeTimeProvider clock) : IAsyncDisposable
    {
        public LocalFunctions Functions => functions;
        public TestTokens Tokens => tokens;
        public FakeTimeProvider Clock => clock;
        public SweeperHost Writer { get; } = new(functions, new BucketPaths(functions.Services.GetRequiredService<FunctionSettings>().LocalStateDirectory!));
        public List<string> Minted { get; } = [];

        public string Mint(JsonObject claims, string kid = "key-1", string alg = "ES256", string? signWith = null)
        {
            var token = tokens.Mint(claims, kid, alg, signWith);
            Minted.Add(token);
            return token;
        }

        public async Task<(HttpStatusCode Status, string Text, string? RequestId)> SendAsync(string? token, string path = "/data-management/backups", HttpMethod? method = null)
        {
            using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
            if (token is not null) request.Headers.Add("X-Acting-User-Token", token);
            using var response = await functions.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text, response.Headers.TryGetValues("X-Request-Id", out var ids) ? ids.Single() : null);
        }

        public async Task<List<(string Name, JsonObject Record, string Text)>> AuditAsync()
        {
            var store = functions.Services.GetRequiredService<IBackupStore>();
            var records = new List<(string, JsonObject, string)>();
            await foreach (var item in store.ListAsync(AuditPrefix))
            {
                await using var stream = await store.OpenReadAsync(item.Name);
                var text = await new StreamReader(stream).ReadToEndAsync();
                records.Add((item.Name, JsonNode.Parse(text)!.AsObject(), text));
            }
            return records;
        }

        public async ValueTask DisposeAsync()
        {
            // Neither a token nor the JWKS's keys appear in any answer or log line.
            functions.Secrets.AssertClean(functions.Logs.Lines, Minted);
            await functions.DisposeAsync();
            tokens.Dispose();
        }
    }

    private async Task<Host> StartAsync(bool configured = true, bool relaxedRetention = false)
    {
        var tokens = new TestTokens();
        var clock = new FakeTimeProvider(Now);
        var bucket = $"dm-{Guid.NewGuid():N}"[..20];
        var variables = configured ? tokens.Variables() : [];
        if (relaxedRetention) variables["RETENTION_ALLOW_RELAXED_OVERRIDES"] = "true";
        var functions = await LocalFunctions.StartAsync(env.Cloud, bucket, variables, clock);
        return new Host(functions, tokens, clock);
    }

    [Fact]
    public async Task A_valid_token_with_admin_backup_lists_the_backups_newest_first_with_metadata_only_and_one_audit_record()
    {
        await using var host = await StartAsync();
        var older = BackupObjectName.PreDeploy(SweeperHost.Prefix, "prod", "prod", Now.AddDays(-3), "add-index");
        var newer = BackupObjectName.PreDeploy(SweeperHost.Prefix, "prod", "prod", Now.AddDays(-1), "drop-col");
        await host.Writer.WriteBackupAsync(older, BackupKinds.PreDeployExport, requestedBy: "ci@example.com");
        await host.Writer.WriteBackupAsync(newer, BackupKinds.PreDeployExport, requestedBy: "ada@example.com");
        var verifiedAt = Now.AddDays(-2);
        await new BackupCatalog(host.Writer.StoreAt(verifiedAt), SweeperHost.Prefix, new FakeTimeProvider(verifiedAt)).AddVerificationAsync(older, new VerificationRecord
        {
            Id = "v1", BackupUri = "gs://x/y", VerificationInstance = "verify", Passed = true, StartTime = verifiedAt, EndTime = verifiedAt.AddMinutes(4),
            Stages = [new StageTiming("create-db", 1000, true), new StageTiming("import", 20000, true), new StageTiming("checks", 3000, true), new StageTiming("cleanup", 500, true)],
        });

        var token = host.Mint(TestTokens.Claims(Now, "admin.backup"));
        var (status, text, requestId) = await host.SendAsync(token);

        Assert.True(status == HttpStatusCode.OK, text);
        var backups = JsonNode.Parse(text)!["backups"]!.AsArray();
        Assert.Equal(2, backups.Count);
        var first = backups[0]!;
        Assert.Equal("pre-deploy-export", (string?)first["kind"]);
        Assert.Equal(newer.Time, (DateTimeOffset)first["time"]!);
        Assert.True((long)first["sizeBytes"]! > 0);
        Assert.Equal("prod", (string?)first["sourceInstance"]);
        Assert.Equal("20250101000000_init", (string?)first["migrationHead"]);
        Assert.Equal("ada@example.com", (string?)first["requestedBy"]);
        Assert.Null(first["lastVerification"]);
        Assert.StartsWith("bk-", (string?)first["id"]);
        var last = backups[1]!["lastVerification"]!;
        Assert.True((bool)last["passed"]!);
        Assert.Equal(verifiedAt.AddMinutes(4), (DateTimeOffset)last["at"]!);
        Assert.Equal(24000, (long)last["recoveryTimeMs"]!);
        // Never a link, a URI or a name that leads to the data.
        foreach (var forbidden in new[] { "gs://", "http", older.Name, newer.Name, "manifest", ".sql", host.Functions.Bucket })
        {
            Assert.DoesNotContain(forbidden, text, StringComparison.OrdinalIgnoreCase);
        }

        var (name, record, recordText) = Assert.Single(await host.AuditAsync());
        Assert.EndsWith("-" + requestId + ".json", name);
        Assert.StartsWith(AuditPrefix + "2026/12/07/093000000Z-", name);
        Assert.Equal("backups.list", (string?)record["action"]);
        Assert.Equal("/backups", (string?)record["target"]);
        Assert.Equal("admin.backup or admin.restore", (string?)record["permission"]);
        Assert.Equal("user-42", (string?)record["user"]!["id"]);
        Assert.Equal("ada@example.com", (string?)record["user"]!["email"]);
        Assert.Equal(200, (int)record["outcome"]!["status"]!);
        Assert.True(record.ContainsKey("jobId") && record["jobId"] is null);
        Assert.Equal(Now, (DateTimeOffset)record["time"]!);
        Assert.DoesNotContain(token, recordText, StringComparison.Ordinal);
        var line = Assert.Single(host.Functions.Logs.WithEvent("datamanagement.backups.list")).GetRawText();
        Assert.Contains(requestId!, line, StringComparison.Ordinal);
        Assert.Contains("user-42", line, StringComparison.Ordinal);
    }

    public static TheoryData<string> RefusedTokens => ["missing", "not a JWS", "garbage parts", "expired", "exp too far ahead", "exp before iat", "wrong signature", "unknown kid",
        "wrong aud", "wrong iss", "alg none", "HS256", "RS256", "no jti", "no sub", "permissions not an array", "iat in the future"];

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_bad_token_is_a_401_with_a_reason_that_does_not_echo_it_and_is_audited_once(string what)
    {
        await using var host = await StartAsync();
        host.Tokens.AddKey("other");
        var claims = TestTokens.Claims(Now, "admin.backup", "admin.restore");
        string? token = what switch
        {
            "missing" => null,
            "not a JWS" => "abc.def",
            "garbage parts" => "eyJhbGciOiJFUzI1NiJ9.!!!.???",
            "expired" => host.Mint(With(TestTokens.Claims(Now.AddMinutes(-3)), "permissions", new JsonArray("admin.backup"))),
            "exp too far ahead" => host.Mint(With(claims, "exp", Now.AddMinutes(5).AddSeconds(1).ToUnixTimeSeconds())),
            "exp before iat" => host.Mint(With(claims, "exp", Now.AddSeconds(-1).ToUnixTimeSeconds())),
            "wrong signature" => host.Mint(claims, kid: "key-1", signWith: "other"),
            "unknown kid" => host.Mint(claims, kid: "key-9", signWith: "key-1"),
            "wrong aud" => host.Mint(With(claims, "aud", "https://elsewhere.example.com")),
            "wrong iss" => host.Mint(With(claims, "iss", "https://evil.example.com")),
            "alg none" => Unsigned(host.Mint(claims, alg: "none")),
            "HS256" => host.Mint(claims, alg: "HS256"),
            "RS256" => host.Mint(claims, alg: "RS256"),
            "no jti" => host.Mint(Without(claims, "jti")),
            "no sub" => host.Mint(Without(claims, "sub")),
            "permissions not an array" => host.Mint(With(claims, "permissions", "admin.backup")),
            "iat in the future" => host.Mint(With(With(claims, "iat", Now.AddMinutes(2).ToUnixTimeSeconds()), "exp", Now.AddMinutes(4).ToUnixTimeSeconds())),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        if (token is not null) host.Minted.Add(token);

        var (status, text, requestId) = await host.SendAsync(token);

        Assert.True(status == HttpStatusCode.Unauthorized, $"{what}: {(int)status} {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal("UNAUTHENTICATED", (string?)error["status"]);
        Assert.Contains("acting-user token", (string)error["message"]!, StringComparison.OrdinalIgnoreCase);
        if (token is not null)
        {
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            foreach (var part in token.Split('.').Where(p => p.Length >= 8)) Assert.DoesNotContain(part, text, StringComparison.Ordinal);
        }
        var (_, record, recordText) = Assert.Single(await host.AuditAsync());
        Assert.Equal(requestId, (string?)record["requestId"]);
        Assert.Equal(401, (int)record["outcome"]!["status"]!);
        Assert.Equal((string)error["message"]!, (string?)record["outcome"]!["reason"]);
        Assert.Null(record["user"]);
        if (token is not null)
        {
            foreach (var part in token.Split('.').Where(p => p.Length >= 8)) Assert.DoesNotContain(part, recordText, StringComparison.Ordinal);
        }
        Assert.Single(host.Functions.Logs.WithEvent("datamanagement.backups.list"));
    }

    [Fact]
    public async Task A_replayed_token_is_a_401_even_on_another_instance_and_each_call_is_audited()
    {
        await using var host = await StartAsync();
        var token = host.Mint(TestTokens.Claims(Now, "admin.restore"));
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(token)).Status);

        // Another instance of the function on the same bucket: the jti is recorded in the bucket, not in memory.
        await using var other = await LocalFunctions.StartAsync(env.Cloud, host.Functions.Bucket, host.Tokens.Variables(), host.Clock);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/data-management/backups");
        request.Headers.Add("X-Acting-User-Token", token);
        using var response = await other.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("used before", text, StringComparison.Ordinal);
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);

        var (again, _, _) = await host.SendAsync(token);
        Assert.Equal(HttpStatusCode.Unauthorized, again);
        Assert.Equal([200, 401, 401], (await host.AuditAsync()).Select(r => (int)r.Record["outcome"]!["status"]!).Order());
        other.Secrets.AssertClean(other.Logs.Lines, [token]);
    }

    [Fact]
    public async Task A_valid_token_without_the_permission_is_a_403_audited_with_the_user()
    {
        await using var host = await StartAsync();
        var (status, text, _) = await host.SendAsync(host.Mint(TestTokens.Claims(Now, "contacts.read", "admin.users")));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("admin.backup or admin.restore", text, StringComparison.Ordinal);
        var (_, record, _) = Assert.Single(await host.AuditAsync());
        Assert.Equal(403, (int)record["outcome"]!["status"]!);
        Assert.Equal("PERMISSION_DENIED", (string?)record["outcome"]!["code"]);
        Assert.Equal("user-42", (string?)record["user"]!["id"]);
        Assert.Equal("admin.backup or admin.restore", (string?)record["permission"]);
    }

    [Fact]
    public async Task Another_path_is_404_and_another_method_405_in_the_products_error_shape_each_audited()
    {
        await using var host = await StartAsync();
        var token = host.Mint(TestTokens.Claims(Now, "admin.backup", "admin.restore"));
        var (notFound, text404, _) = await host.SendAsync(token, "/data-management/restores/production", HttpMethod.Post);
        var (notAllowed, text405, _) = await host.SendAsync(host.Mint(TestTokens.Claims(Now, "admin.backup")), "/data-management/backups", HttpMethod.Delete);

        Assert.Equal(HttpStatusCode.NotFound, notFound);
        Assert.Equal("NOT_FOUND", (string?)JsonNode.Parse(text404)!["error"]!["status"]);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, notAllowed);
        Assert.Equal(405, (int)JsonNode.Parse(text405)!["error"]!["code"]!);
        var records = await host.AuditAsync();
        Assert.Equal([404, 405], records.Select(r => (int)r.Record["outcome"]!["status"]!).Order());
        Assert.Equal("/restores/production", (string?)records.Single(r => (int)r.Record["outcome"]!["status"]! == 404).Record["target"]);
    }

    [Fact]
    public async Task A_key_added_to_the_JWKS_file_is_accepted_without_a_restart_and_a_removed_one_is_refused()
    {
        await using var host = await StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(host.Mint(TestTokens.Claims(Now, "admin.backup")))).Status);

        host.Tokens.AddKey("key-2");
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(host.Mint(TestTokens.Claims(Now, "admin.backup"), kid: "key-2"))).Status);
        var stillOld = host.Mint(TestTokens.Claims(Now, "admin.backup"), kid: "key-1");
        host.Tokens.RemoveKey("key-1");
        var (status, text, _) = await host.SendAsync(stillOld);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("kid", text, StringComparison.Ordinal);
        Assert.Equal(3, (await host.AuditAsync()).Count);
    }

    [Fact]
    public async Task Without_the_variables_every_request_is_a_503_and_audited()
    {
        await using var host = await StartAsync(configured: false);
        var (status, text, _) = await host.SendAsync(host.Mint(TestTokens.Claims(Now, "admin.backup")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("DATA_MANAGEMENT_NOT_CONFIGURED", text, StringComparison.Ordinal);
        Assert.Equal(503, (int)Assert.Single(await host.AuditAsync()).Record["outcome"]!["status"]!);
    }

    [Fact]
    public async Task The_audit_records_and_token_ids_are_neither_backups_nor_sweeper_candidates_and_survive_a_sweep()
    {
        await using var host = await StartAsync(relaxedRetention: true);
        await host.Writer.WriteBackupAsync(BackupObjectName.PreDeploy(SweeperHost.Prefix, "prod", "prod", Now.AddDays(-1), "c1"), BackupKinds.PreDeployExport);
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(host.Mint(TestTokens.Claims(Now, "admin.backup")))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.SendAsync("x.y.z")).Status);
        var before = await host.Writer.ListBucketAsync();
        var own = before.Where(n => n.StartsWith(SweeperHost.Prefix + "/.", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, own.Count); // two audit records and one jti

        var listing = await host.Functions.Services.GetRequiredService<BackupCatalog>().ScanAsync();
        Assert.Single(listing.Entries);
        Assert.Empty(listing.Unknown);
        var (status, body) = await host.Writer.SweepAsync("""{"apply":true,"policy":{"maxDeleteShare":0.5}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(".audit", body.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(".data-management", body.ToJsonString(), StringComparison.Ordinal);
        Assert.Superset(own.ToHashSet(), (await host.Writer.ListBucketAsync()).ToHashSet());
    }

    [Theory]
    [InlineData(new[] { "DATA_MANAGEMENT_ISSUER" }, "DATA_MANAGEMENT_AUDIENCE and DATA_MANAGEMENT_JWKS_FILE must be set too")]
    [InlineData(new[] { "DATA_MANAGEMENT_ISSUER", "DATA_MANAGEMENT_AUDIENCE", "DATA_MANAGEMENT_JWKS_FILE", "bad-aud" }, "DATA_MANAGEMENT_AUDIENCE must be the function's URL")]
    [InlineData(new[] { "DATA_MANAGEMENT_ISSUER", "DATA_MANAGEMENT_AUDIENCE", "DATA_MANAGEMENT_JWKS_FILE", "missing-file" }, "the file does not exist")]
    [InlineData(new[] { "DATA_MANAGEMENT_ISSUER", "DATA_MANAGEMENT_AUDIENCE", "DATA_MANAGEMENT_JWKS_FILE", "private" }, "holds a private part")]
    [InlineData(new[] { "FUNCTION_TARGET" }, "must be set: data-management cannot check who is asking")]
    public void Missing_or_invalid_settings_stop_the_start_naming_the_variable(string[] set, string expected)
    {
        using var tokens = new TestTokens();
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in set.Where(s => s.StartsWith("DATA_", StringComparison.Ordinal) || s == "FUNCTION_TARGET")) variables[name] = tokens.Variables().GetValueOrDefault(name);
        if (set.Contains("FUNCTION_TARGET")) variables["FUNCTION_TARGET"] = FunctionNames.DataManagement;
        if (set.Contains("bad-aud")) variables["DATA_MANAGEMENT_AUDIENCE"] = "not a url";
        if (set.Contains("missing-file")) variables["DATA_MANAGEMENT_JWKS_FILE"] = tokens.JwksFile + ".gone";
        if (set.Contains("private"))
        {
            using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            var jwk = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(key));
            File.WriteAllText(tokens.JwksFile, $$"""{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"{{jwk.X}}","y":"{{jwk.Y}}","d":"{{jwk.D}}"}]}""");
        }

        var e = Assert.Throws<FunctionStartupException>(() => Commissable.Functions.DataManagement.DataManagementOptions.Read(new DictionaryEnvironment(variables)));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\"d\":\"", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("STAGING_DATABASE", "crm-staging")]
    [InlineData("STAGING_APP_USER", "crm.app")]
    public void A_staging_name_the_clone_workflow_refuses_stops_the_start(string variable, string value)
    {
        var variables = DataManagementJobsTests.JobVariables();
        variables["DATA_MANAGEMENT_" + variable] = value;

        var e = Assert.Throws<FunctionStartupException>(() => Commissable.Functions.DataManagement.DataManagementJobOptions.Read(new DictionaryEnvironment(variables), "crm-project"));

        Assert.Contains($"DATA_MANAGEMENT_{variable} must be letters, digits and underscores", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.0.0.5/", null, "DATA_MANAGEMENT_EXECUTIONS_ENDPOINT must be https, or plain http on a loopback address only")]
    [InlineData("https://executions-proxy.example.com/", null, "Application Default Credentials go to Google only")]
    [InlineData("http://127.0.0.1:8124/", null, "Application Default Credentials go to Google only")]
    [InlineData("https://admin:hunter2@executions.example.com/", "/var/lib/localcloud/token", "must not contain credentials")]
    [InlineData(null, "/var/lib/localcloud/token", "must be set when CLOUDSQL_TOKEN_FILE is")]
    public void The_executions_endpoint_gets_a_credential_only_it_is_for(string? endpoint, string? tokenFile, string expected)
    {
        var variables = DataManagementJobsTests.JobVariables();
        variables["DATA_MANAGEMENT_EXECUTIONS_ENDPOINT"] = endpoint;
        variables["CLOUDSQL_TOKEN_FILE"] = tokenFile;

        var e = Assert.Throws<FunctionStartupException>(() => Commissable.Functions.DataManagement.DataManagementJobOptions.Read(new DictionaryEnvironment(variables), "crm-project"));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal(["DATA_MANAGEMENT_EXECUTIONS_ENDPOINT"], e.Variables);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("https://workflowexecutions.googleapis.com/", null)]
    [InlineData("http://127.0.0.1:8124/", "/var/lib/localcloud/token")]
    public void Google_s_API_with_its_credentials_or_a_local_one_with_the_token_file_starts(string? endpoint, string? tokenFile)
    {
        var variables = DataManagementJobsTests.JobVariables();
        variables["DATA_MANAGEMENT_EXECUTIONS_ENDPOINT"] = endpoint;
        variables["CLOUDSQL_TOKEN_FILE"] = tokenFile;

        var options = Commissable.Functions.DataManagement.DataManagementJobOptions.Read(new DictionaryEnvironment(variables), "crm-project");

        Assert.Equal(endpoint is null ? null : new Uri(endpoint), options!.ExecutionsEndpoint);
    }

    [Theory]
    [InlineData("catalog", "false")]
    [InlineData("pre-deploy-export", "false")]
    [InlineData("data-management", "true")]
    public void Without_any_of_the_variables_other_hosts_and_local_mode_start(string target, string localMode)
    {
        var environment = new DictionaryEnvironment(new Dictionary<string, string?> { ["FUNCTION_TARGET"] = target, ["LOCAL_MODE"] = localMode });

        Assert.Null(Commissable.Functions.DataManagement.DataManagementOptions.Read(environment));
    }

    [Fact]
    public async Task A_bad_query_from_a_permitted_user_is_a_400_audited_once_with_the_user()
    {
        await using var host = await StartAsync();
        var (status, text, requestId) = await host.SendAsync(host.Mint(TestTokens.Claims(Now, "admin.restore")), "/data-management/backups?limit=0");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("?limit=", text, StringComparison.Ordinal);
        var (_, record, _) = Assert.Single(await host.AuditAsync());
        Assert.Equal(requestId, (string?)record["requestId"]);
        Assert.Equal(400, (int)record["outcome"]!["status"]!);
        Assert.Equal("INVALID_ARGUMENT", (string?)record["outcome"]!["code"]);
        Assert.Equal("user-42", (string?)record["user"]!["id"]);
    }

    private static JsonObject With(JsonObject claims, string name, JsonNode? value)
    {
        var copy = claims.DeepClone().AsObject();
        copy[name] = value;
        return copy;
    }

    private static JsonObject Without(JsonObject claims, string name)
    {
        var copy = claims.DeepClone().AsObject();
        copy.Remove(name);
        return copy;
    }

    // alg none: the header says none and the signature is empty.
    private static string Unsigned(string token) => token[..(token.LastIndexOf('.') + 1)];
}
