using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Functions.Completion;
using Commissable.Functions.Hosting;
using Commissable.Functions.Tests.Completion;
using Commissable.Testing;

namespace Commissable.Functions.Tests.Hosting;

/// <summary>
/// Every HTTP endpoint of the functions, in local mode against a real local cloud, given malformed
/// and hostile requests: missing, extra, wrongly typed, duplicate and oversized fields; control
/// characters; traversal in names and gs:// URIs; injection-shaped names; wrong methods and
/// content types. None may answer 5xx; every 4xx names the problem. A well-formed CloudEvent about
/// something that is no backup is acknowledged (200, so Eventarc does not retry it) and logged.
/// </summary>
public sealed class BadInputTableTests(CompletionEnvironment env) : IClassFixture<CompletionEnvironment>
{
    private const string Bucket = CompletionEnvironment.Bucket;

    /// <summary>One malformed request: how to build it, the status it must get, and the text its answer (or, for a 200, the log) must hold.</summary>
    public sealed record BadRequest(string Endpoint, Func<HttpRequestMessage> Request, int Status, string Expected, string? Action = null);

    private static readonly string Oversized = new('x', HttpContextJsonExtensions.MaxBodyBytes + 1);

    private static readonly Dictionary<string, BadRequest> Cases = Build();

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Fact]
    public void Every_endpoint_has_at_least_15_malformed_requests()
    {
        var counts = Cases.Values.GroupBy(c => c.Endpoint).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(FunctionNames.All.Order(StringComparer.Ordinal), counts.Keys.Order(StringComparer.Ordinal));
        Assert.All(counts, pair => Assert.True(pair.Value >= 15, $"{pair.Key} has {pair.Value} cases"));
    }

    [Fact]
    public void Every_data_management_action_has_at_least_15_malformed_requests()
    {
        var counts = Cases.Values.Where(c => c.Action is not null).GroupBy(c => c.Action!).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(DataManagementActions.Order(StringComparer.Ordinal), counts.Keys.Order(StringComparer.Ordinal));
        Assert.All(counts, pair => Assert.True(pair.Value >= 15, $"{pair.Key} has {pair.Value} cases"));
    }

    private static readonly string[] DataManagementActions =
        ["GET /backups", "POST /backups", "POST /restores/staging", "POST /restores/tenant", "GET /jobs", "GET /jobs/{id}", "POST /jobs/{id}/approve", "POST /jobs/{id}/reject", "GET /audit"];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task A_malformed_request_is_never_a_5xx_and_every_4xx_names_the_problem(string name)
    {
        var bad = Cases[name];
        using var request = bad.Request();

        using var response = await env.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode} {body}");
        Assert.True((int)response.StatusCode == bad.Status, $"{name}: expected {bad.Status}, got {(int)response.StatusCode} {body}");
        if (bad.Status >= 400)
        {
            var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
            Assert.Equal(bad.Status, error.GetProperty("code").GetInt32());
            var message = error.GetProperty("message").GetString()!;
            Assert.Contains(bad.Expected, message, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
        }
        else
        {
            // Acknowledged: the log says why nothing was recorded.
            Assert.Contains(env.Logs.Lines, line => line.Contains(bad.Expected, StringComparison.Ordinal));
        }
        Assert.Empty(env.Logs.WithEvent("function.request.failed"));
    }

    private static Dictionary<string, BadRequest> Build()
    {
        var cases = new Dictionary<string, BadRequest>(StringComparer.Ordinal);
        void Add(string endpoint, string what, Func<HttpRequestMessage> request, int status, string expected) =>
            cases.Add($"{endpoint}: {what}", new BadRequest(endpoint, request, status, expected));

        // ---- pre-deploy-export ------------------------------------------------------------------
        const string Export = FunctionNames.PreDeployExport;
        void ExportCase(string what, string body, string expected, int status = 400) => Add(Export, what, () => Post(Export, body), status, expected);
        ExportCase("empty body", "", "The request body is empty");
        ExportCase("JSON null", "null", "The request body is null");
        ExportCase("not JSON", "instance=prod&database=crm", "is not a valid JSON PreDeployRequest");
        ExportCase("missing fields", "{}", "'instance' is required");
        ExportCase("extra field", """{"instance":"prod","database":"crm","change":"x","force":true}""", "'force' could not be mapped");
        ExportCase("instance as a number", """{"instance":5,"database":"crm","change":"x"}""", "$.instance");
        ExportCase("databases as a string", """{"instance":"prod","databases":"crm","change":"x"}""", "$.databases");
        ExportCase("instance twice", """{"instance":"nope","instance":"prod","database":"crm","change":"x"}""", "Duplicate property 'instance'");
        ExportCase("instance with a trailing newline", """{"instance":"prod\n","database":"crm","change":"x"}""", "'instance' must be a Cloud SQL instance ID");
        ExportCase("change with a trailing newline", """{"instance":"prod","database":"crm","change":"x\n"}""", "'change' may contain only lowercase letters");
        ExportCase("database '..'", """{"instance":"prod","database":"..","change":"x"}""", "'database' must be a database name");
        ExportCase("database as a connection string", """{"instance":"prod","database":"host=127.0.0.1 port=1 dbname=crm","change":"x"}""", "'database' must be a database name");
        ExportCase("instance shaped as a command", """{"instance":"prod; rm -rf /","database":"crm","change":"x"}""", "'instance' must be a Cloud SQL instance ID");
        ExportCase("instance with traversal", """{"instance":"../prod","database":"crm","change":"x"}""", "'instance' must be a Cloud SQL instance ID");
        ExportCase("oversized change", $$"""{"instance":"prod","database":"crm","change":"{{new string('a', 5000)}}"}""", "'change' is 5000 characters long");
        ExportCase("control character in commitSha", """{"instance":"prod","database":"crm","change":"x","commitSha":"ab\u0000cd"}""", "'commitSha' must be at most 200 characters without control characters");
        ExportCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(Export, "a form", () => Post(Export, "instance=prod", "application/x-www-form-urlencoded"), 415, "is a form");
        Add(Export, "PUT", () => Send(HttpMethod.Put, Export, """{"instance":"prod","database":"crm","change":"x"}"""), 405, "POST a JSON request");
        Add(Export, "Idempotency-Key of 300 characters", () =>
        {
            var request = Post(Export, """{"instance":"prod","database":"crm","change":"x"}""");
            request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 300));
            return request;
        }, 400, "The Idempotency-Key header must be at most 200 printable characters");
        Add(Export, "status id with traversal", () => new HttpRequestMessage(HttpMethod.Get, $"/{Export}/status/..%2F..%2Fleases"), 404, "No pre-deploy export has the id");

        // ---- restore-verify ---------------------------------------------------------------------
        const string Verify = FunctionNames.RestoreVerify;
        void VerifyCase(string what, string body, string expected, int status = 400) => Add(Verify, what, () => Post(Verify, body), status, expected);
        VerifyCase("empty body", "", "The request body is empty");
        VerifyCase("missing backup", "{}", "'backup' is required");
        VerifyCase("extra field", """{"backup":"latest","instance":"prod","skipChecks":true}""", "'skipChecks' could not be mapped");
        VerifyCase("tolerance as a word", """{"backup":"latest","instance":"prod","rowCountTolerance":"lots"}""", "$.rowCountTolerance");
        VerifyCase("criticalTables as a string", """{"backup":"latest","instance":"prod","criticalTables":"Account"}""", "$.criticalTables");
        VerifyCase("backup twice", """{"backup":"gs://other/x.sql.gz","backup":"latest","instance":"prod"}""", "Duplicate property 'backup'");
        VerifyCase("backup URI with a trailing newline", $$"""{"backup":"gs://{{Bucket}}/backups/prod/prod/backup_20261125_0200_prod_scheduled.sql.gz\n"}""", "holds a control character");
        VerifyCase("instance with a trailing newline", """{"backup":"latest","instance":"prod\n"}""", "'instance' must be a Cloud SQL instance ID");
        VerifyCase("verificationInstance shaped as SQL", """{"backup":"latest","instance":"prod","verificationInstance":"verify'; DROP DATABASE crm; --"}""", "'verificationInstance' must be a Cloud SQL instance ID");
        VerifyCase("backup URI with traversal", $$"""{"backup":"gs://{{Bucket}}/backups/../../etc/passwd"}""", "has an empty, '.' or '..' segment");
        VerifyCase("backup URI with a traversal bucket", """{"backup":"gs://../backups/x.sql.gz"}""", "is not a bucket name");
        VerifyCase("backup URI of a file", """{"backup":"file:///etc/passwd"}""", "does not start with gs://");
        VerifyCase("oversized backup URI", $$"""{"backup":"gs://{{Bucket}}/{{new string('a', 2000)}}"}""", "longer than 1024 characters");
        VerifyCase("live database '..'", """{"mode":"live","instance":"prod","verificationInstance":"verify","database":".."}""", "'database' must be a database name");
        VerifyCase("live database as a connection string", """{"mode":"live","instance":"prod","verificationInstance":"verify","database":"dbname=crm host=evil"}""", "'database' must be a database name");
        VerifyCase("unknown mode", """{"mode":"import; live","backup":"latest","instance":"prod"}""", "'mode' must be");
        VerifyCase("201 critical tables", $$"""{"backup":"latest","instance":"prod","criticalTables":[{{string.Join(",", Enumerable.Repeat("\"t\"", 201))}}]}""", "'criticalTables' must list at most 200");
        VerifyCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(Verify, "GET", () => new HttpRequestMessage(HttpMethod.Get, "/" + Verify), 405, "POST a JSON request");
        Add(Verify, "a multipart form", () => Post(Verify, "--x--", "multipart/form-data; boundary=x"), 415, "is a form");

        // ---- retention-sweeper ------------------------------------------------------------------
        const string Sweep = FunctionNames.RetentionSweeper;
        void SweepCase(string what, string body, string expected, int status = 400) => Add(Sweep, what, () => Post(Sweep, body), status, expected);
        SweepCase("not JSON", "apply=true", "is not a valid retention request");
        SweepCase("JSON null", "null", "The request body is null");
        SweepCase("extra field", """{"force":true}""", "'force' could not be mapped");
        SweepCase("misspelt policy field", """{"policy":{"maxAgeDayz":3}}""", "'maxAgeDayz' could not be mapped");
        SweepCase("apply as a word", """{"apply":"yes"}""", "$.apply");
        SweepCase("policy as an array", """{"policy":[]}""", "$.policy");
        SweepCase("apply twice", """{"apply":false,"apply":true}""", "Duplicate property 'apply'");
        SweepCase("minimumAgeHours 0", """{"apply":true,"policy":{"minimumAgeHours":0}}""", "policy.minimumAgeHours is 0; this deployment accepts 24 hours or more", 403);
        SweepCase("maxDeleteShare 1", """{"apply":true,"policy":{"maxDeleteShare":1}}""", "policy.maxDeleteShare is 1; this deployment accepts at most 0.25", 403);
        SweepCase("maxDeleteShare NaN", """{"policy":{"maxDeleteShare":"NaN"}}""", "policy.maxDeleteShare is NaN; a number from 0 to 1");
        SweepCase("maxAgeDays huge", """{"policy":{"maxAgeDays":1e308}}""", "policy.maxAgeDays is");
        SweepCase("keepWeekly beyond int", """{"policy":{"keepWeekly":99999999999}}""", "$.policy.keepWeekly");
        SweepCase("deleteOrphans as a string with a newline", """{"policy":{"deleteOrphans":"true\n"}}""", "$.policy.deleteOrphans");
        SweepCase("control character in a key", """{"ap\u0000ply":true}""", "could not be mapped");
        SweepCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(Sweep, "a form", () => Post(Sweep, "apply=true", "application/x-www-form-urlencoded"), 415, "is a form");
        Add(Sweep, "GET", () => new HttpRequestMessage(HttpMethod.Get, "/" + Sweep), 405, "POST to run the sweeper");

        // ---- data-management ----------------------------------------------------------------------
        const string Dm = FunctionNames.DataManagement;
        static JsonObject Claims(params string[] permissions) => Commissable.Testing.TestTokens.Claims(DateTimeOffset.UtcNow, permissions);
        static JsonObject With(JsonObject claims, string name, JsonNode? value) { claims[name] = value; return claims; }
        static string Mint(JsonObject claims, string kid = "key-1", string alg = "ES256") => Commissable.Testing.TestTokens.Shared.Mint(claims, kid, alg);
        static HttpRequestMessage DmRequest(string? token, string path = "backups", HttpMethod? method = null, params string[] more)
        {
            var request = new HttpRequestMessage(method ?? HttpMethod.Get, $"/{Dm}/{path}");
            if (token is not null) request.Headers.Add("X-Acting-User-Token", [token, .. more]);
            return request;
        }
        void DmCase(string what, Func<HttpRequestMessage> request, int status, string expected) =>
            cases.Add($"{Dm}: {what}", new BadRequest(Dm, request, status, expected, "GET /backups"));
        DmCase("no token", () => DmRequest(null), 401, "No acting-user token was sent");
        DmCase("token not a JWS", () => DmRequest("not-a-token"), 401, "is not a compact JWS");
        DmCase("token of garbage parts", () => DmRequest("eyJhbGciOiJFUzI1NiJ9.%%%.###"), 401, "acting-user token");
        DmCase("oversized token", () => DmRequest(new string('a', 9000) + ".b.c"), 401, "is longer than 8192 characters");
        DmCase("two token headers", () => DmRequest(Mint(Claims("admin.backup")), "backups", null, Mint(Claims("admin.backup"))), 401, "Send one X-Acting-User-Token header");
        DmCase("alg none", () => DmRequest(Mint(Claims("admin.backup"), alg: "none")), 401, "not signed with ES256");
        DmCase("alg HS256", () => DmRequest(Mint(Claims("admin.backup"), alg: "HS256")), 401, "not signed with ES256");
        DmCase("expired", () => DmRequest(Mint(With(With(Claims("admin.backup"), "iat", DateTimeOffset.UtcNow.AddMinutes(-4).ToUnixTimeSeconds()), "exp", DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds()))), 401, "has expired");
        DmCase("exp too far ahead", () => DmRequest(Mint(With(Claims("admin.backup"), "exp", DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds()))), 401, "more than 5 minutes after its iat");
        DmCase("wrong audience", () => DmRequest(Mint(With(Claims("admin.backup"), "aud", "https://other.example.com"))), 401, "another audience");
        DmCase("wrong issuer", () => DmRequest(Mint(With(Claims("admin.backup"), "iss", "https://evil.example.com"))), 401, "another issuer");
        DmCase("unknown kid", () => DmRequest(Commissable.Testing.TestTokens.Shared.Mint(Claims("admin.backup"), "key-404", "ES256", "key-1")), 401, "kid");
        DmCase("permissions a string", () => DmRequest(Mint(With(Claims(), "permissions", "admin.backup"))), 401, "permissions claim must be an array");
        DmCase("iat as text", () => DmRequest(Mint(With(Claims("admin.backup"), "iat", "yesterday"))), 401, "(exp, iat, nbf) is not a NumericDate");
        DmCase("without the permission", () => DmRequest(Mint(Claims("contacts.read"))), 403, "needs the permission admin.backup or admin.restore");
        DmCase("unknown action", () => DmRequest(Mint(Claims("admin.backup")), "restores/production", HttpMethod.Post), 404, "has no action at '/restores/production'");
        DmCase("encoded traversal", () => DmRequest(Mint(Claims("admin.backup")), "backups%2F..%2Faudit"), 404, "has no action at");
        DmCase("PUT /backups", () => DmRequest(Mint(Claims("admin.backup")), "backups", HttpMethod.Put), 405, "/backups accepts GET, POST; not PUT");
        DmCase("DELETE /backups", () => DmRequest(Mint(Claims("admin.backup")), "backups", HttpMethod.Delete), 405, "/backups accepts GET, POST; not DELETE");
        DmCase("limit 0", () => DmRequest(Mint(Claims("admin.backup")), "backups?limit=0"), 400, "?limit= must be given once, as a whole number from 1 to 1000");
        DmCase("limit twice", () => DmRequest(Mint(Claims("admin.restore")), "backups?limit=1&limit=2"), 400, "?limit= must be given once");
        DmCase("unknown query parameter", () => DmRequest(Mint(Claims("admin.backup")), "backups?url=gs%3A%2F%2Fx"), 400, "Unknown query parameter 'url'");

        // The job actions: each refuses every bad token, a user without its permission, and its own
        // malformed queries and bodies. None gets as far as starting a workflow.
        static HttpRequestMessage DmSend(HttpMethod method, string path, string? token, string? body, string contentType = "application/json", params string[] more)
        {
            var request = body is null ? new HttpRequestMessage(method, $"/{Dm}{path}") : Send(method, Dm + path, body, contentType);
            if (token is not null) request.Headers.Add("X-Acting-User-Token", [token, .. more]);
            return request;
        }
        const string NoJob = "/jobs/job-0123456789abcdef0123456789abcdef";
        const string Digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        void Action(string action, HttpMethod method, string path, string? validBody, string permission, string otherPermission)
        {
            void Case(string what, Func<HttpRequestMessage> request, int status, string expected) =>
                cases.Add($"{Dm} {action}: {what}", new BadRequest(Dm, request, status, expected, action));
            Case("no token", () => DmSend(method, path, null, validBody), 401, "No acting-user token was sent");
            Case("token not a JWS", () => DmSend(method, path, "not-a-token", validBody), 401, "is not a compact JWS");
            Case("alg none", () => DmSend(method, path, Mint(Claims(permission), alg: "none"), validBody), 401, "not signed with ES256");
            Case("expired", () => DmSend(method, path, Mint(With(With(Claims(permission), "iat", DateTimeOffset.UtcNow.AddMinutes(-4).ToUnixTimeSeconds()), "exp", DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds())), validBody), 401, "has expired");
            Case("wrong audience", () => DmSend(method, path, Mint(With(Claims(permission), "aud", "https://other.example.com")), validBody), 401, "another audience");
            Case("wrong issuer", () => DmSend(method, path, Mint(With(Claims(permission), "iss", "https://evil.example.com")), validBody), 401, "another issuer");
            Case("two token headers", () => DmSend(method, path, Mint(Claims(permission)), validBody, "application/json", Mint(Claims(permission))), 401, "Send one X-Acting-User-Token header");
            Case("without the permission", () => DmSend(method, path, Mint(Claims(otherPermission)), validBody), 403, "needs the permission");
        }

        Action("POST /backups", HttpMethod.Post, "/backups", """{"reason":"x"}""", "admin.backup", "admin.restore");
        void PostBackups(string what, string body, string expected, int status = 400, string contentType = "application/json") =>
            cases.Add($"{Dm} POST /backups: {what}", new BadRequest(Dm, () => DmSend(HttpMethod.Post, "/backups", Mint(Claims("admin.backup")), body, contentType), status, expected, "POST /backups"));
        PostBackups("empty body", "", "The request body is empty");
        PostBackups("null body", "null", "The request body is null");
        PostBackups("an array", "[]", "is not a valid JSON BackupJobBody");
        PostBackups("no reason", "{}", "'reason' is required");
        PostBackups("empty reason", """{"reason":""}""", "'reason' must not be empty");
        PostBackups("blank reason", """{"reason":"   "}""", "'reason' must not be empty");
        PostBackups("reason too long", $$"""{"reason":"{{new string('r', 501)}}"}""", "'reason' must be at most 500 characters");
        PostBackups("reason with a control character", """{"reason":"a\u0007b"}""", "'reason' must not contain control characters");
        PostBackups("reason a number", """{"reason":5}""", "$.reason");
        PostBackups("the instance named", """{"reason":"x","instance":"staging"}""", "could not be mapped");
        PostBackups("a key twice", """{"reason":"x","reason":"y"}""", "reason");
        PostBackups("a form", "reason=x", "is a form", 415, "application/x-www-form-urlencoded");
        PostBackups("oversized body", Oversized, "larger than 1024 KiB", 413);
        cases.Add($"{Dm} POST /backups: a query parameter", new BadRequest(Dm, () => DmSend(HttpMethod.Post, "/backups?instance=prod", Mint(Claims("admin.backup")), """{"reason":"x"}"""), 400, "takes no query parameters", "POST /backups"));

        Action("POST /restores/staging", HttpMethod.Post, "/restores/staging", """{"backup":"bk-0123456789abcdef0123"}""", "admin.restore", "admin.backup");
        void PostStaging(string what, string body, string expected, int status = 400, string contentType = "application/json") =>
            cases.Add($"{Dm} POST /restores/staging: {what}", new BadRequest(Dm, () => DmSend(HttpMethod.Post, "/restores/staging", Mint(Claims("admin.restore")), body, contentType), status, expected, "POST /restores/staging"));
        PostStaging("a gs:// URI as backup", """{"backup":"gs://bucket/prod.sql.gz"}""", "'backup' must be a backup id from GET /backups");
        PostStaging("traversal as backup", """{"backup":"../../etc/passwd"}""", "'backup' must be a backup id");
        PostStaging("upper-case id", """{"backup":"bk-0123456789ABCDEF0123"}""", "'backup' must be a backup id");
        PostStaging("id with a final newline", """{"backup":"bk-0123456789abcdef0123\n"}""", "'backup' must be a backup id");
        PostStaging("empty backup", """{"backup":""}""", "'backup' must be a backup id");
        PostStaging("backup a number", """{"backup":5}""", "$.backup");
        PostStaging("an unknown backup", """{"backup":"bk-0123456789abcdef0123"}""", "No complete backup has the id", 404);
        PostStaging("the staging instance named", """{"stagingInstance":"prod"}""", "could not be mapped");
        PostStaging("null body", "null", "The request body is null");
        PostStaging("a string body", "\"x\"", "is not a valid JSON object");
        PostStaging("a form", "backup=x", "is a form", 415, "application/x-www-form-urlencoded");
        PostStaging("oversized body", Oversized, "larger than 1024 KiB", 413);
        cases.Add($"{Dm} POST /restores/staging: a query parameter", new BadRequest(Dm, () => DmSend(HttpMethod.Post, "/restores/staging?backup=x", Mint(Claims("admin.restore")), "{}"), 400, "takes no query parameters", "POST /restores/staging"));
        cases.Add($"{Dm} POST /restores/staging: GET", new BadRequest(Dm, () => DmSend(HttpMethod.Get, "/restores/staging", Mint(Claims("admin.restore")), null), 405, "/restores/staging accepts POST", "POST /restores/staging"));

        Action("POST /restores/tenant", HttpMethod.Post, "/restores/tenant", """{"tenantId":"t1","backup":"bk-0123456789abcdef0123"}""", "admin.restore", "admin.backup");
        void PostTenant(string what, string body, string expected, int status = 400) =>
            cases.Add($"{Dm} POST /restores/tenant: {what}", new BadRequest(Dm, () => DmSend(HttpMethod.Post, "/restores/tenant", Mint(Claims("admin.restore")), body), status, expected, "POST /restores/tenant"));
        PostTenant("empty body", "", "The request body is empty");
        PostTenant("no tenant", """{"pointInTime":"2026-12-01T08:00:00Z"}""", "'tenantId' is required");
        PostTenant("empty tenant", """{"tenantId":"","pointInTime":"2026-12-01T08:00:00Z"}""", "'tenantId' must not be empty");
        PostTenant("tenant with spaces around", """{"tenantId":" t1 ","pointInTime":"2026-12-01T08:00:00Z"}""", "'tenantId' must not start or end with white space");
        PostTenant("tenant too long", $$"""{"tenantId":"{{new string('t', 201)}}","pointInTime":"2026-12-01T08:00:00Z"}""", "'tenantId' must be at most 200 characters");
        PostTenant("tenant with a newline", """{"tenantId":"t1\nt2","pointInTime":"2026-12-01T08:00:00Z"}""", "'tenantId' must not contain control characters");
        PostTenant("tenant a number", """{"tenantId":7,"pointInTime":"2026-12-01T08:00:00Z"}""", "$.tenantId");
        PostTenant("neither point in time nor backup", """{"tenantId":"t1"}""", "Give exactly one of 'pointInTime'");
        PostTenant("both point in time and backup", """{"tenantId":"t1","pointInTime":"2026-12-01T08:00:00Z","backup":"bk-0123456789abcdef0123"}""", "Give exactly one of 'pointInTime'");
        PostTenant("point in time without offset", """{"tenantId":"t1","pointInTime":"2026-12-07T08:00:00"}""", "'pointInTime' must be an RFC 3339 time with its offset");
        PostTenant("point in time a word", """{"tenantId":"t1","pointInTime":"yesterday"}""", "'pointInTime' must be an RFC 3339 time");
        PostTenant("point in time in the future", """{"tenantId":"t1","pointInTime":"2999-01-01T00:00:00Z"}""", "is in the future");
        PostTenant("unknown mode", """{"tenantId":"t1","pointInTime":"2026-12-01T08:00:00Z","mode":"all"}""", "'mode' must be one of missing-only, exact, report");
        PostTenant("backup a URI", """{"tenantId":"t1","backup":"gs://b/x.sql.gz"}""", "'backup' must be a backup id");
        PostTenant("backup with a final newline", """{"tenantId":"t1","backup":"bk-0123456789abcdef0123\n"}""", "'backup' must be a backup id");
        PostTenant("point in time with a final newline", """{"tenantId":"t1","pointInTime":"2026-12-01T08:00:00+01:00\n"}""", "'pointInTime' must be an RFC 3339 time");
        PostTenant("the source instance named", """{"tenantId":"t1","pointInTime":"2026-12-01T08:00:00Z","sourceInstance":"staging"}""", "could not be mapped");

        Action("GET /jobs", HttpMethod.Get, "/jobs", null, "admin.backup", "contacts.read");
        void GetJobs(string query, string expected, int status = 400) =>
            cases.Add($"{Dm} GET /jobs: {query}", new BadRequest(Dm, () => DmSend(HttpMethod.Get, "/jobs?" + query, Mint(Claims("admin.restore")), null), status, expected, "GET /jobs"));
        GetJobs("limit=0", "?limit= must be given once, as a whole number from 1 to 100");
        GetJobs("limit=101", "?limit= must be given once, as a whole number from 1 to 100");
        GetJobs("limit=-1", "?limit= must be given once");
        GetJobs("limit=all", "?limit= must be given once");
        GetJobs("limit=1&limit=2", "?limit= must be given once");
        GetJobs("limit=99999999999999999999", "?limit= must be given once");
        GetJobs("kind=backup", "Unknown query parameter 'kind'");
        cases.Add($"{Dm} GET /jobs: POST", new BadRequest(Dm, () => DmSend(HttpMethod.Post, "/jobs", Mint(Claims("admin.restore")), "{}"), 405, "/jobs accepts GET", "GET /jobs"));

        Action("GET /jobs/{id}", HttpMethod.Get, NoJob, null, "admin.backup", "contacts.read");
        void GetJob(string what, string path, string expected, int status = 400, HttpMethod? method = null) =>
            cases.Add($"{Dm} GET /jobs/{{id}}: {what}", new BadRequest(Dm, () => DmSend(method ?? HttpMethod.Get, path, Mint(Claims("admin.restore")), method == HttpMethod.Post ? "{}" : null), status, expected, "GET /jobs/{id}"));
        GetJob("an unknown job", NoJob, "There is no job job-0123456789abcdef0123456789abcdef", 404);
        GetJob("upper-case id", "/jobs/job-0123456789ABCDEF0123456789ABCDEF", "is not a job id");
        GetJob("short id", "/jobs/job-0123", "is not a job id");
        GetJob("id with a final newline", NoJob + "%0A", "is not a job id");
        GetJob("an execution name", "/jobs/exec-1", "is not a job id");
        GetJob("encoded traversal", "/jobs/..%2F..%2Faudit", "is not a job id");
        GetJob("SQL-shaped id", "/jobs/job-1'%20OR%20'1'='1", "is not a job id");
        GetJob("a query parameter", NoJob + "?view=full", "takes no query parameters");
        GetJob("DELETE", NoJob, "accepts GET", 405, HttpMethod.Delete);
        GetJob("POST", NoJob, "accepts GET", 405, HttpMethod.Post);

        Action("POST /jobs/{id}/approve", HttpMethod.Post, NoJob + "/approve", $$"""{"digest":"{{Digest}}"}""", "admin.restore", "admin.backup");
        void Approve(string what, string path, string body, string expected, int status = 400) =>
            cases.Add($"{Dm} POST /jobs/{{id}}/approve: {what}", new BadRequest(Dm, () => DmSend(HttpMethod.Post, path, Mint(Claims("admin.restore")), body), status, expected, "POST /jobs/{id}/approve"));
        Approve("an unknown job", NoJob + "/approve", $$"""{"digest":"{{Digest}}"}""", "There is no job", 404);
        Approve("a bad job id", "/jobs/job-xyz/approve", $$"""{"digest":"{{Digest}}"}""", "is not a job id");
        Approve("no digest", NoJob + "/approve", "{}", "'digest' is required");
        Approve("empty body", NoJob + "/approve", "", "The request body is empty");
        Approve("upper-case digest", NoJob + "/approve", $$"""{"digest":"{{Digest.ToUpperInvariant()}}"}""", "'digest' must be a plan digest");
        Approve("short digest", NoJob + "/approve", """{"digest":"abc"}""", "'digest' must be a plan digest");
        Approve("id with a final newline", NoJob + "%0A/approve", $$"""{"digest":"{{Digest}}"}""", "is not a job id");
        Approve("digest with a final newline", NoJob + "/approve", $$"""{"digest":"{{Digest}}\n"}""", "'digest' must be a plan digest");
        Approve("digest a number", NoJob + "/approve", """{"digest":5}""", "$.digest");
        Approve("approvedBy given", NoJob + "/approve", $$"""{"digest":"{{Digest}}","approvedBy":"someone else"}""", "could not be mapped");
        cases.Add($"{Dm} POST /jobs/{{id}}/approve: GET", new BadRequest(Dm, () => DmSend(HttpMethod.Get, NoJob + "/approve", Mint(Claims("admin.restore")), null), 405, "accepts POST", "POST /jobs/{id}/approve"));

        Action("POST /jobs/{id}/reject", HttpMethod.Post, NoJob + "/reject", $$"""{"digest":"{{Digest}}"}""", "admin.restore", "admin.backup");
        void Reject(string what, string path, string body, string expected, int status = 400) =>
            cases.Add($"{Dm} POST /jobs/{{id}}/reject: {what}", new BadRequest(Dm, () => DmSend(HttpMethod.Post, path, Mint(Claims("admin.restore")), body), status, expected, "POST /jobs/{id}/reject"));
        Reject("an unknown job", NoJob + "/reject", $$"""{"digest":"{{Digest}}"}""", "There is no job", 404);
        Reject("a bad job id", "/jobs/job-0123/reject", $$"""{"digest":"{{Digest}}"}""", "is not a job id");
        Reject("no digest", NoJob + "/reject", "{}", "'digest' is required");
        Reject("null body", NoJob + "/reject", "null", "The request body is null");
        Reject("digest with a newline", NoJob + "/reject", """{"digest":"abc\n"}""", "'digest' must be a plan digest");
        Reject("a reason given", NoJob + "/reject", $$"""{"digest":"{{Digest}}","why":"no"}""", "could not be mapped");
        Reject("a key twice", NoJob + "/reject", $$"""{"digest":"{{Digest}}","digest":"{{Digest}}"}""", "digest");
        cases.Add($"{Dm} POST /jobs/{{id}}/reject: a query parameter", new BadRequest(Dm, () => DmSend(HttpMethod.Post, NoJob + "/reject?force=true", Mint(Claims("admin.restore")), $$"""{"digest":"{{Digest}}"}"""), 400, "takes no query parameters", "POST /jobs/{id}/reject"));
        cases.Add($"{Dm} POST /jobs/{{id}}/reject: DELETE", new BadRequest(Dm, () => DmSend(HttpMethod.Delete, NoJob + "/reject", Mint(Claims("admin.restore")), null), 405, "accepts POST", "POST /jobs/{id}/reject"));

        Action("GET /audit", HttpMethod.Get, "/audit", null, "admin.restore", "admin.backup");
        void GetAudit(string query, string expected, int status = 400) =>
            cases.Add($"{Dm} GET /audit: {query}", new BadRequest(Dm, () => DmSend(HttpMethod.Get, "/audit?" + query, Mint(Claims("admin.restore")), null), status, expected, "GET /audit"));
        GetAudit("limit=0", "?limit= must be given once, as a whole number from 1 to 1000");
        GetAudit("limit=1001", "?limit= must be given once, as a whole number from 1 to 1000");
        GetAudit("since=yesterday", "?since= must be given once, as an RFC 3339 time");
        GetAudit("since=2026-12-07T00:00:00", "?since= must be given once, as an RFC 3339 time");
        GetAudit("since=2026-12-07T00:00:00%2B01:00%0A", "?since= must be given once, as an RFC 3339 time");
        GetAudit("since=2026-12-07T00:00:00Z&since=2026-12-08T00:00:00Z", "?since= must be given once");
        GetAudit("user=ada", "Unknown query parameter 'user'; GET /audit accepts limit and since");
        cases.Add($"{Dm} GET /audit: DELETE", new BadRequest(Dm, () => DmSend(HttpMethod.Delete, "/audit", Mint(Claims("admin.restore")), null), 405, "/audit accepts GET", "GET /audit"));

        // ---- catalog ----------------------------------------------------------------------------
        const string Catalog = FunctionNames.Catalog;
        void CatalogCase(string what, string query, string expected) => Add(Catalog, what, () => new HttpRequestMessage(HttpMethod.Get, $"/{Catalog}?{query}"), 400, expected);
        CatalogCase("unknown parameter", "bucket=other", "Unknown query parameter 'bucket'");
        CatalogCase("instance with a trailing newline", "instance=prod%0A", "?instance= must be given once");
        CatalogCase("instance with traversal", "instance=..%2Fprod", "?instance= must be given once");
        CatalogCase("instance twice", "instance=prod&instance=staging", "?instance= must be given once");
        CatalogCase("instance empty", "instance=", "?instance= must be given once");
        CatalogCase("oversized instance", "instance=" + new string('a', 2000), "?instance= must be given once");
        CatalogCase("instance shaped as SQL", "instance=prod'%20OR%201=1", "?instance= must be given once");
        CatalogCase("environment in capitals", "environment=PROD", "?environment= must be given once");
        CatalogCase("environment with a NUL", "environment=prod%00", "?environment= must be given once");
        CatalogCase("limit 0", "limit=0", "?limit= must be a whole number from 1 to 1000");
        CatalogCase("limit a word", "limit=all", "?limit= must be a whole number");
        CatalogCase("limit beyond int", "limit=99999999999999999999", "?limit= must be a whole number");
        CatalogCase("limit negative", "limit=-1", "?limit= must be a whole number");
        CatalogCase("limit in exponent form", "limit=1e3", "?limit= must be a whole number");
        CatalogCase("unknown parameter with a newline", "%0Aevil=1", "Unknown query parameter '?evil'");
        Add(Catalog, "POST", () => Post(Catalog, "{}"), 405, "GET the catalog");
        Add(Catalog, "DELETE", () => new HttpRequestMessage(HttpMethod.Delete, $"/{Catalog}?instance=prod"), 405, "GET the catalog");

        // ---- grant-app-user ---------------------------------------------------------------------
        const string Grant = FunctionNames.GrantAppUser;
        void GrantCase(string what, string body, string expected, int status = 400) => Add(Grant, what, () => Post(Grant, body), status, expected);
        GrantCase("empty body", "", "The request body is empty");
        GrantCase("missing fields", "{}", "'instance' is required");
        GrantCase("extra field", """{"instance":"verify","database":"crm","user":"crm_app","superuser":true}""", "'superuser' could not be mapped");
        GrantCase("user as a number", """{"instance":"verify","database":"crm","user":5}""", "$.user");
        GrantCase("user twice", """{"instance":"verify","database":"crm","user":"crm_app","user":"postgres"}""", "Duplicate property 'user'");
        GrantCase("instance with a trailing newline", """{"instance":"verify\n","database":"crm","user":"crm_app"}""", "'instance' must be a Cloud SQL instance ID");
        GrantCase("database with a trailing newline", """{"instance":"verify","database":"crm\n","user":"crm_app"}""", "'database' must be a PostgreSQL name");
        GrantCase("user shaped as SQL", """{"instance":"verify","database":"crm","user":"app; DROP TABLE \"Tenant\""}""", "'user' must be a PostgreSQL name");
        GrantCase("user postgres", """{"instance":"verify","database":"crm","user":"postgres"}""", "not the reserved role 'postgres'");
        GrantCase("user cloudsqlsuperuser", """{"instance":"verify","database":"crm","user":"cloudsqlsuperuser"}""", "not the reserved role 'cloudsqlsuperuser'");
        GrantCase("database '..'", """{"instance":"verify","database":"..","user":"crm_app"}""", "'database' must be a PostgreSQL name");
        GrantCase("user an IAM account", """{"instance":"verify","database":"crm","user":"app@project.iam"}""", "'user' must be a PostgreSQL name");
        GrantCase("user of 64 characters", $$"""{"instance":"verify","database":"crm","user":"{{new string('a', 64)}}"}""", "'user' must be a PostgreSQL name");
        GrantCase("instance with traversal", """{"instance":"../prod","database":"crm","user":"crm_app"}""", "'instance' must be a Cloud SQL instance ID");
        GrantCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(Grant, "a form", () => Post(Grant, "user=postgres", "application/x-www-form-urlencoded"), 415, "is a form");
        Add(Grant, "GET", () => new HttpRequestMessage(HttpMethod.Get, "/" + Grant), 405, "POST a JSON request");

        // ---- secret-check and secret-repoint -------------------------------------------------------
        const string Check = FunctionNames.SecretCheck;
        void CheckCase(string what, string body, string expected, int status = 400) => Add(Check, what, () => Post(Check, body), status, expected);
        CheckCase("empty body", "", "The request body is empty");
        CheckCase("JSON null", "null", "The request body is null");
        CheckCase("missing fields", "{}", "'secret' is required");
        CheckCase("extra field", """{"secret":"crm-url","instance":"prod","value":"x"}""", "'value' could not be mapped");
        CheckCase("secret twice", """{"secret":"crm-url","secret":"other","instance":"prod"}""", "Duplicate property 'secret'");
        CheckCase("secret as a number", """{"secret":5,"instance":"prod"}""", "$.secret");
        CheckCase("secret with traversal", """{"secret":"../inspector","instance":"prod"}""", "'secret' must be a Secret Manager secret id");
        CheckCase("secret as a resource name", """{"secret":"projects/p/secrets/crm-url","instance":"prod"}""", "'secret' must be a Secret Manager secret id");
        CheckCase("secret with a trailing newline", """{"secret":"crm-url\n","instance":"prod"}""", "'secret' must be a Secret Manager secret id");
        CheckCase("secret of 256 characters", $$"""{"secret":"{{new string('s', 256)}}","instance":"prod"}""", "'secret' must be a Secret Manager secret id");
        CheckCase("instance with traversal", """{"secret":"crm-url","instance":"../prod"}""", "'instance' must be a Cloud SQL instance ID");
        CheckCase("instance shaped as a command", """{"secret":"crm-url","instance":"prod; rm -rf /"}""", "'instance' must be a Cloud SQL instance ID");
        CheckCase("unknown instance", """{"secret":"crm-url","instance":"no-such-instance"}""", "The instance 'no-such-instance' does not exist", 404);
        CheckCase("unknown secret", """{"secret":"no-such-secret","instance":"prod"}""", "secret no-such-secret does not exist", 404);
        CheckCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(Check, "a form", () => Post(Check, "secret=crm-url", "application/x-www-form-urlencoded"), 415, "is a form");
        Add(Check, "GET", () => new HttpRequestMessage(HttpMethod.Get, "/" + Check), 405, "POST a JSON request");

        const string Repoint = FunctionNames.SecretRepoint;
        void RepointCase(string what, string body, string expected, int status = 400) => Add(Repoint, what, () => Post(Repoint, body), status, expected);
        RepointCase("empty body", "", "The request body is empty");
        RepointCase("JSON null", "null", "The request body is null");
        RepointCase("missing fields", "{}", "'secret' is required");
        RepointCase("missing to", """{"secret":"crm-url","from":"prod","approvedBy":"sre@example.com"}""", "'to' is required");
        RepointCase("extra field", """{"secret":"crm-url","from":"prod","to":"prod-new","value":"x","approvedBy":"sre@example.com"}""", "'value' could not be mapped");
        RepointCase("to twice", """{"secret":"crm-url","from":"prod","to":"prod-new","to":"evil","approvedBy":"sre@example.com"}""", "Duplicate property 'to'");
        RepointCase("from as a list", """{"secret":"crm-url","from":["prod"],"to":"prod-new","approvedBy":"sre@example.com"}""", "$.from");
        RepointCase("secret with traversal", """{"secret":"../../etc/passwd","from":"prod","to":"prod-new","approvedBy":"sre@example.com"}""", "'secret' must be a Secret Manager secret id");
        RepointCase("secret with a colon method", """{"secret":"crm-url:addVersion","from":"prod","to":"prod-new","approvedBy":"sre@example.com"}""", "'secret' must be a Secret Manager secret id");
        RepointCase("from with a trailing newline", """{"secret":"crm-url","from":"prod\n","to":"prod-new","approvedBy":"sre@example.com"}""", "'from' must be a Cloud SQL instance ID");
        RepointCase("to with traversal", """{"secret":"crm-url","from":"prod","to":"../verify","approvedBy":"sre@example.com"}""", "'to' must be a Cloud SQL instance ID");
        RepointCase("from equals to", """{"secret":"crm-url","from":"prod","to":"prod","approvedBy":"sre@example.com"}""", "'from' and 'to' must be two different instances");
        RepointCase("no approver", """{"secret":"crm-url","from":"prod","to":"prod-new"}""", "'approvedBy' is required");
        RepointCase("approver only spaces", """{"secret":"crm-url","from":"prod","to":"prod-new","approvedBy":"   "}""", "'approvedBy' must name who approved the swap");
        RepointCase("approver with a line break", """{"secret":"crm-url","from":"prod","to":"prod-new","approvedBy":"sre\nforged log line"}""", "'approvedBy' must name who approved the swap");
        RepointCase("approver of 257 characters", $$"""{"secret":"crm-url","from":"prod","to":"prod-new","approvedBy":"{{new string('a', 257)}}"}""", "'approvedBy' must name who approved the swap");
        RepointCase("unknown to", """{"secret":"crm-url","from":"prod","to":"no-such-instance","approvedBy":"sre@example.com"}""", "The instance 'no-such-instance' does not exist", 404);
        RepointCase("unknown from", """{"secret":"crm-url","from":"no-such-instance","to":"prod","approvedBy":"sre@example.com"}""", "The instance 'no-such-instance' does not exist", 404);
        RepointCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(Repoint, "a form", () => Post(Repoint, "secret=crm-url", "application/x-www-form-urlencoded"), 415, "is a form");
        Add(Repoint, "PUT", () => Send(HttpMethod.Put, Repoint, """{"secret":"crm-url","from":"prod","to":"prod-new","approvedBy":"sre@example.com"}"""), 405, "POST a JSON request");

        // ---- staging-app-user ------------------------------------------------------------------------
        const string AppUser = FunctionNames.StagingAppUser;
        void AppUserCase(string what, string body, string expected, int status = 400) => Add(AppUser, what, () => Post(AppUser, body), status, expected);
        AppUserCase("empty body", "", "The request body is empty");
        AppUserCase("JSON null", "null", "The request body is null");
        AppUserCase("missing fields", "{}", "'instance' is required");
        AppUserCase("missing passwordSecret", """{"instance":"staging","user":"crm_app"}""", "'passwordSecret' is required");
        AppUserCase("a password instead of a secret", """{"instance":"staging","user":"crm_app","passwordSecret":"pw","password":"hunter2"}""", "'password' could not be mapped");
        AppUserCase("user twice", """{"instance":"staging","user":"crm_app","user":"postgres","passwordSecret":"pw"}""", "Duplicate property 'user'");
        AppUserCase("user as a number", """{"instance":"staging","user":5,"passwordSecret":"pw"}""", "$.user");
        AppUserCase("user postgres", """{"instance":"staging","user":"postgres","passwordSecret":"pw"}""", "not the reserved role 'postgres'");
        AppUserCase("user shaped as SQL", """{"instance":"staging","user":"app; DROP ROLE x","passwordSecret":"pw"}""", "'user' must be a PostgreSQL name");
        AppUserCase("passwordSecret with traversal", """{"instance":"staging","user":"crm_app","passwordSecret":"../inspector"}""", "'passwordSecret' must be a Secret Manager secret id");
        AppUserCase("passwordSecret as a resource name", """{"instance":"staging","user":"crm_app","passwordSecret":"projects/p/secrets/pw/versions/1"}""", "'passwordSecret' must be a Secret Manager secret id");
        AppUserCase("instance with a trailing newline", """{"instance":"staging\n","user":"crm_app","passwordSecret":"pw"}""", "'instance' must be a Cloud SQL instance ID");
        AppUserCase("instance with traversal", """{"instance":"../staging","user":"crm_app","passwordSecret":"pw"}""", "'instance' must be a Cloud SQL instance ID");
        AppUserCase("production instance", """{"instance":"prod","user":"crm_app","passwordSecret":"pw"}""", "Refusing to create a user on 'prod'", 412);
        AppUserCase("unknown instance", """{"instance":"no-such-instance","user":"crm_app","passwordSecret":"pw"}""", "The instance 'no-such-instance' does not exist", 404);
        AppUserCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(AppUser, "a form", () => Post(AppUser, "user=postgres", "application/x-www-form-urlencoded"), 415, "is a form");
        Add(AppUser, "GET", () => new HttpRequestMessage(HttpMethod.Get, "/" + AppUser), 405, "POST a JSON request");

        // ---- tenant-restore -----------------------------------------------------------------------
        const string Tenant = FunctionNames.TenantRestore;
        void TenantCase(string what, string body, string expected, int status = 400) => Add(Tenant, what, () => Post(Tenant, body), status, expected);
        const string Plan = "\"action\":\"plan\",\"runId\":\"run-1\",\"sourceInstance\":\"prod\",\"stagedInstance\":\"prod-tr\",\"stagedDatabase\":\"crm\",\"tenantId\":\"t-1\",\"requestedBy\":\"a\",\"restorePoint\":\"p\"";
        TenantCase("empty body", "", "The request body is empty");
        TenantCase("JSON null", "null", "The request body is null");
        TenantCase("missing fields", "{}", "'action' is required");
        TenantCase("extra field", "{" + Plan + ""","superuser":true}""", "'superuser' could not be mapped");
        TenantCase("action twice", """{"action":"record","action":"apply"}""", "Duplicate property 'action'");
        TenantCase("runId with traversal", """{"action":"plan","runId":"../prod"}""", "'runId' must be 1 to 63 lowercase letters");
        TenantCase("tenantId as a number", """{"action":"plan","tenantId":42}""", "$.tenantId");
        TenantCase("tenantId with a newline", """{"action":"plan","tenantId":"t-1\nforged log line"}""", "'tenantId' must be the tenant's key");
        TenantCase("stagedInstance with traversal", """{"action":"plan","stagedInstance":"../prod"}""", "'stagedInstance' must be a Cloud SQL instance ID");
        TenantCase("stagedDatabase shaped as SQL", """{"action":"plan","stagedDatabase":"crm\"; DROP TABLE \"Tenant"}""", "'stagedDatabase' must be a database name");
        TenantCase("unknown mode", """{"action":"plan","mode":"everything"}""", "'mode' must be \"missing-only\"");
        TenantCase("apply in report mode", "{" + Plan.Replace("\"plan\"", "\"apply\"", StringComparison.Ordinal) + ""","mode":"report"}""", "'mode' \"report\" only plans");
        TenantCase("safetyBackup with traversal", """{"action":"apply","safetyBackup":"gs://crm-backups/a/../../b"}""", "'safetyBackup' must be");
        TenantCase("digest in capitals", """{"action":"apply","digest":"ABCDEF"}""", "'digest' must be the plan's digest");
        TenantCase("negative timing", """{"action":"record","outcome":"failed","timings":{"stage":-1}}""", "'timings' must map");
        TenantCase("unknown outcome", """{"action":"record","outcome":"ok","timings":{}}""", "'outcome' is required: one of");
        TenantCase("oversized body", Oversized, "larger than 1024 KiB", 413);
        Add(Tenant, "a form", () => Post(Tenant, "action=apply", "application/x-www-form-urlencoded"), 415, "is a form");
        Add(Tenant, "GET", () => new HttpRequestMessage(HttpMethod.Get, "/" + Tenant), 405, "POST a JSON request");

        // ---- on-backup-completed ----------------------------------------------------------------
        const string Completed = FunctionNames.OnBackupCompleted;
        void Storage(string what, Func<HttpRequestMessage> request, string expected, int status = 400) => Add(Completed, what, request, status, expected);
        var path = "/" + Completed;
        Storage("plain JSON, no CloudEvent", () => Post(Completed, StorageData("backups/prod/prod/backup_20261125_0300_prod_scheduled.sql.gz")), "the request is not a CloudEvent");
        Storage("no ce-id", () => CloudEventRequests.Binary(StorageData("x"), path, headers: new Dictionary<string, string?> { ["ce-id"] = null }), "missing required header ce-id");
        Storage("spec version 0.3", () => CloudEventRequests.Binary(StorageData("x"), path, headers: new Dictionary<string, string?> { ["ce-specversion"] = "0.3" }), "ce-specversion '0.3' is not supported");
        Storage("text data", () => CloudEventRequests.Binary("hello", path, contentType: "text/plain"), "is not JSON");
        Storage("size as a word", () => CloudEventRequests.Binary("""{"bucket":"crm-backups","name":"x","size":"big"}""", path), "$.size");
        Storage("generation beyond int64", () => CloudEventRequests.Binary("""{"bucket":"crm-backups","name":"x","generation":"99999999999999999999"}""", path), "$.generation");
        Storage("bucket twice", () => CloudEventRequests.Binary("""{"bucket":"elsewhere","bucket":"crm-backups","name":"x"}""", path), "Duplicate property 'bucket'");
        Storage("attribute twice in structured mode", () => CloudEventRequests.Structured(
            """{"specversion":"1.0","id":"1","source":"//storage.googleapis.com/projects/_/buckets/crm-backups","type":"x","type":"google.cloud.storage.object.v1.finalized","data":{}}""", path), "Duplicate property 'type'");
        Storage("empty body", () => CloudEventRequests.Binary("", path), "the event has no data");
        Storage("a batch", () => CloudEventRequests.Structured("[]", path, "application/cloudevents-batch+json"), "batched CloudEvents");
        Storage("oversized body", () => CloudEventRequests.Binary(Oversized, path), "larger than 1024 KiB", 413);
        Storage("GET without an event", () => new HttpRequestMessage(HttpMethod.Get, path), "the request is not a CloudEvent");
        Storage("an object the bucket does not hold", () => StorageEvent("backups/prod/prod/backup_20261125_0400_prod_table-missing.sql.gz"), "backups/prod/prod/backup_20261125_0400_prod_table-missing.sql.gz", 200);
        Storage("a name with traversal", () => StorageEvent("backups/prod/prod/../../../etc/backup_20261125_0200_prod_x.sql.gz"), "an empty, '.' or '..' segment", 200);
        Storage("a name with a newline", () => StorageEvent("backups/prod/prod/backup_20261125_0200_prod_x.sql.gz\n"), "not named as a backup", 200);
        Storage("another bucket", () => StorageEvent("backups/prod/prod/backup_20261125_0200_prod_x.sql.gz", bucket: "someone-elses"), "not the backup bucket", 200);

        // ---- on-backup-audited ------------------------------------------------------------------
        const string Audited = FunctionNames.OnBackupAudited;
        void Audit(string what, Func<HttpRequestMessage> request, string expected, int status = 400) => Add(Audited, what, request, status, expected);
        var auditPath = "/" + Audited;
        Audit("plain JSON, no CloudEvent", () => Post(Audited, AuditEntries.BackupRun("op-1", "1").ToJsonString()), "the request is not a CloudEvent");
        Audit("protoPayload as a string", () => AuditEvent("""{"protoPayload":"cloudsql"}"""), "$.protoPayload");
        Audit("methodName twice", () => AuditEvent("""{"protoPayload":{"methodName":"cloudsql.instances.restart","methodName":"cloudsql.backupRuns.create"}}"""), "Duplicate property 'methodName'");
        Audit("severity 999", () => AuditEvent("""{"severity":999}"""), "999 is not a LogSeverity");
        Audit("timestamp a word", () => AuditEvent("""{"timestamp":"yesterday"}"""), "$.timestamp");
        Audit("text data", () => CloudEventRequests.Binary("hello", auditPath, CompletionNames.AuditLogWritten, "text/plain"), "is not JSON");
        Audit("empty body", () => CloudEventRequests.Binary("", auditPath, CompletionNames.AuditLogWritten), "the event has no data");
        Audit("oversized body", () => CloudEventRequests.Binary(Oversized, auditPath, CompletionNames.AuditLogWritten), "larger than 1024 KiB", 413);
        Audit("attribute twice in structured mode", () => CloudEventRequests.Structured(
            """{"specversion":"1.0","id":"1","source":"//cloudaudit.googleapis.com","type":"x","type":"google.cloud.audit.log.v1.written","data":{}}""", auditPath), "Duplicate property 'type'");
        Audit("an unknown operation", () =>
        {
            var entry = AuditEntries.BackupRun("5d3c8a1e-0000-4000-8000-00000000bad1", "1");
            entry["protoPayload"]!["response"]!.AsObject().Remove("backupContext");
            return AuditEvent(entry.ToJsonString());
        }, "5d3c8a1e-0000-4000-8000-00000000bad1", 200);
        Audit("an operation with traversal", () =>
        {
            var entry = AuditEntries.BackupRun("../../instances/prod", "1");
            entry["protoPayload"]!["response"]!.AsObject().Remove("backupContext");
            return AuditEvent(entry.ToJsonString());
        }, "which is not an operation name", 200);
        Audit("a resource with traversal", () =>
        {
            var entry = AuditEntries.BackupRun("op-2", "2");
            entry["protoPayload"]!["resourceName"] = "projects/test-project/instances/..";
            return AuditEvent(entry.ToJsonString());
        }, "with a valid project and instance ID", 200);
        Audit("an export URI with traversal", () => AuditEvent(ExportEntry($"gs://{Bucket}/backups/../../etc/passwd")), "an empty, '.' or '..' segment", 200);
        Audit("an export URI in another bucket", () => AuditEvent(ExportEntry("gs://someone-elses/backups/prod/prod/backup_20261125_0200_prod_x.sql.gz")), "not the backup bucket", 200);
        Audit("another method", () =>
        {
            var entry = AuditEntries.BackupRun("op-3", "3");
            entry["protoPayload"]!["methodName"] = "cloudsql.instances.delete";
            return AuditEvent(entry.ToJsonString());
        }, "method 'cloudsql.instances.delete' records no backup", 200);
        Audit("another event type", () => CloudEventRequests.Binary(AuditEntries.BackupRun("op-4", "4").ToJsonString(), auditPath, "google.cloud.audit.log.v1.deleted"),
            "is not google.cloud.audit.log.v1.written", 200);

        return cases;
    }

    private static HttpRequestMessage Post(string function, string body, string contentType = "application/json") =>
        Send(HttpMethod.Post, function, body, contentType);

    private static HttpRequestMessage Send(HttpMethod method, string function, string body, string contentType = "application/json")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return new HttpRequestMessage(method, "/" + function) { Content = content };
    }

    private static string StorageData(string name, string bucket = Bucket) => CloudEventRequests.ObjectData(bucket, name);

    private static HttpRequestMessage StorageEvent(string name, string bucket = Bucket) =>
        CloudEventRequests.Binary(StorageData(name, bucket), "/" + FunctionNames.OnBackupCompleted, CompletionNames.StorageFinalized, headers: new Dictionary<string, string?>
        {
            ["ce-id"] = Guid.NewGuid().ToString(),
            ["ce-source"] = $"//storage.googleapis.com/projects/_/buckets/{bucket}",
            ["ce-subject"] = null,
        });

    private static HttpRequestMessage AuditEvent(string data) =>
        CloudEventRequests.Binary(data, "/" + FunctionNames.OnBackupAudited, CompletionNames.AuditLogWritten, headers: new Dictionary<string, string?>
        {
            ["ce-id"] = Guid.NewGuid().ToString(),
            ["ce-source"] = "//cloudaudit.googleapis.com/projects/test-project/logs/activity",
            ["ce-subject"] = null,
        });

    private static string ExportEntry(string uri) => AuditEntries.Create("cloudsql.instances.export", "op-export",
        new JsonObject
        {
            ["instance"] = "prod",
            ["project"] = "test-project",
            ["body"] = new JsonObject { ["exportContext"] = new JsonObject { ["uri"] = uri, ["databases"] = new JsonArray("crm"), ["fileType"] = "SQL" } },
        },
        new JsonObject { ["name"] = "op-export", ["operationType"] = "EXPORT", ["status"] = "DONE" }).ToJsonString();
}
