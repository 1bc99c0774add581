using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Commissable.LocalCloud.Tests;

/// <summary>Bad requests get Google's error shape with a status and a message that says what is wrong.</summary>
public sealed class BadInputTests(LocalCloudFixture cloud) : IClassFixture<LocalCloudFixture>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        if ((await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/src"))).Status == 404)
        {
            await cloud.CreateInstanceAsync("src", pitr: false);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("GET", "instances/nope", null, 404, "notFound", "'nope' does not exist")]
    [InlineData("POST", "instances/nope/export", """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/x.sql","databases":["postgres"]}}""", 404, "notFound", "'nope' does not exist")]
    [InlineData("POST", "instances", "{\"name\": \"broken\",", 400, "parseError", "Invalid JSON payload")]
    [InlineData("POST", "instances", "[1,2]", 400, "parseError", "expected a JSON object")]
    [InlineData("POST", "instances", """{"name":"v14","databaseVersion":"POSTGRES_9_6"}""", 400, "invalid", "available: POSTGRES_")]
    [InlineData("POST", "instances", """{"name":"Bad_Name","databaseVersion":"POSTGRES_15"}""", 400, "invalid", "'name' must be a Cloud SQL instance ID")]
    [InlineData("POST", "instances/src/export", """{"exportContext":{"fileType":"CSV","uri":"gs://bkt1/x.csv","databases":["postgres"]}}""", 400, "invalid", "fileType 'CSV' is not supported")]
    [InlineData("POST", "instances/src/export", """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/../escape.sql","databases":["postgres"]}}""", 400, "invalid", "'..' segment")]
    [InlineData("POST", "instances/src/export", """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/a/../../escape.sql","databases":["postgres"]}}""", 400, "invalid", "'..' segment")]
    [InlineData("POST", "instances/src/export", """{"exportContext":{"fileType":"SQL","uri":"/etc/passwd","databases":["postgres"]}}""", 400, "invalid", "not a Cloud Storage object URI")]
    [InlineData("POST", "instances/src/export", """{"exportContext":{"fileType":"SQL","uri":"gs://bkt1/x.sql"}}""", 400, "invalid", "exactly one database")]
    [InlineData("POST", "instances/src/export", "{}", 400, "invalid", "exportContext is required")]
    [InlineData("POST", "instances/src/import", """{"importContext":{"fileType":"SQL","uri":"gs://bkt1/missing.sql","database":"postgres"}}""", 400, "notFound", "does not exist")]
    [InlineData("POST", "instances/src/clone", """{"cloneContext":{"destinationInstanceName":"src"}}""", 409, "alreadyExists", "already exists")]
    [InlineData("POST", "instances/src/clone", """{"cloneContext":{"destinationInstanceName":"c1","pointInTime":"2020-01-01T00:00:00Z"}}""", 400, "invalid", "Point-in-time recovery is not enabled")]
    [InlineData("POST", "instances/src/restoreBackup", """{"restoreBackupContext":{"backupRunId":"12345"}}""", 404, "notFound", "backup run 12345 does not exist")]
    [InlineData("GET", "instances/src/backupRuns/abc", null, 400, "invalid", "not a backup run id")]
    [InlineData("GET", "instances/src/databases/nodb", null, 404, "notFound", "'nodb' does not exist")]
    [InlineData("GET", "operations/no-such-op", null, 404, "notFound", "'no-such-op' does not exist")]
    [InlineData("GET", "instances/src/nothing", null, 404, "notFound", "is not a method")]
    public async Task A_bad_request_answers_its_status_with_a_reason_and_a_message_naming_the_problem(
        string method, string path, string? body, int status, string reason, string message)
    {
        var (actual, json) = await cloud.SendAsync(new HttpMethod(method), cloud.Api(path), body);
        Assert.Equal(status, actual);
        var error = json["error"]!;
        Assert.Equal(status, (int)error["code"]!);
        Assert.Equal(reason, (string?)error["errors"]![0]!["reason"]);
        Assert.Contains(message, (string?)error["message"], StringComparison.Ordinal);
        Assert.NotNull((string?)error["status"]);
    }

    public static TheoryData<BadInputTables.BadRequest> Cases()
    {
        var data = new TheoryData<BadInputTables.BadRequest>();
        foreach (var item in BadInputTables.All()) data.Add(item);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_malformed_request_to_any_method_is_a_4xx_naming_the_problem_never_a_5xx(BadInputTables.BadRequest bad)
    {
        var path = bad.Path.StartsWith('/') ? bad.Path[1..] : cloud.Api(bad.Path);
        var (status, body, text) = await RawRequests.SendAsync(cloud, bad.Method, path, bad.Body, bad.ContentType);

        Assert.True(status == bad.Status, $"{bad} answered {status}: {text}");
        var error = body?["error"];
        Assert.True(error is not null, $"{bad} answered without Google's error shape: {text}");
        Assert.Equal(status, (int)error["code"]!);
        Assert.Equal(status switch { 400 => "INVALID_ARGUMENT", 404 => "NOT_FOUND", 409 => "ALREADY_EXISTS", _ => (string?)error["status"] }, (string?)error["status"]);
        Assert.False(string.IsNullOrEmpty((string?)error["errors"]![0]!["reason"]));
        var message = (string?)error["message"] ?? "";
        Assert.True(message.Contains(bad.Message, StringComparison.Ordinal), $"{bad} answered '{message}', which does not say '{bad.Message}'");
    }

    [Theory]
    [InlineData("POST", "instances/src/users", """{"name":"app","password":12345678}""", "'password'")]
    [InlineData("PUT", "instances/src/users?name=postgres", """{"password":12345678}""", "'password'")]
    [InlineData("PUT", "instances/src/users?name=postgres", """{"password":{"value":"12345678"}}""", "'password'")]
    [InlineData("POST", "instances", """{"name":"typed","databaseVersion":"POSTGRES_15","rootPassword":12345678}""", "'rootPassword'")]
    [InlineData("POST", "instances", """{"name":"typed","databaseVersion":"POSTGRES_15","rootPassword":[12345678]}""", "'rootPassword'")]
    public async Task A_mistyped_password_is_refused_naming_the_field_without_repeating_its_value(string method, string path, string body, string field)
    {
        var (status, _, text) = await RawRequests.SendAsync(cloud, method, cloud.Api(path), body, "application/json");

        Assert.Equal(400, status);
        Assert.Contains($"Invalid value at {field}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("12345678", text, StringComparison.Ordinal);
        Assert.Contains("[redacted]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_method_has_at_least_15_malformed_requests()
    {
        var counts = BadInputTables.All().GroupBy(c => c.Endpoint).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(17, counts.Count);
        Assert.All(counts, c => Assert.True(c.Value >= 15, $"{c.Key} has {c.Value} cases"));
    }

    [Fact]
    public async Task The_instance_is_still_there_after_every_malformed_request()
    {
        foreach (var bad in BadInputTables.All())
        {
            var path = bad.Path.StartsWith('/') ? bad.Path[1..] : cloud.Api(bad.Path);
            var (status, _, text) = await RawRequests.SendAsync(cloud, bad.Method, path, bad.Body, bad.ContentType);
            Assert.True(status < 500, $"{bad} answered {status}: {text}");
        }
        var (found, instance) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/src"));
        Assert.Equal(200, found);
        Assert.Equal("RUNNABLE", (string?)instance["state"]);
        var (_, operations) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("operations?instance=src"));
        Assert.All(operations["items"]!.AsArray(), o => Assert.Equal("CREATE", (string?)o!["operationType"]));
    }

    [Fact]
    public async Task A_patch_keeps_the_region_it_was_given_back_and_refuses_a_null_or_other_one()
    {
        // Its own instance: a successful PATCH is an UPDATE operation, which src must not have.
        await cloud.CreateInstanceAsync("regionkept", pitr: false);
        var (_, before) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/regionkept"));
        var region = (string)before["region"]!;
        var connectionName = (string)before["connectionName"]!;

        // The resource as GET gave it, region and all, sent back with a label changed: no change of region.
        var resent = before.DeepClone().AsObject();
        resent["settings"]!["userLabels"] = new JsonObject { ["team"] = "crm" };
        await cloud.RunAsync(HttpMethod.Patch, cloud.Api("instances/regionkept"), resent.ToJsonString());
        await cloud.RunAsync(HttpMethod.Patch, cloud.Api("instances/regionkept"), $$"""{"region":"{{region}}"}""");

        foreach (var body in new[] { """{"region":null}""", """{"region":"europe-west1"}""" })
        {
            var (status, error) = await cloud.SendAsync(HttpMethod.Patch, cloud.Api("instances/regionkept"), body);
            Assert.Equal(400, status);
            Assert.Contains("region of an instance cannot be changed", (string?)error["error"]!["message"], StringComparison.Ordinal);
        }

        var (_, after) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/regionkept"));
        Assert.Equal(region, (string?)after["region"]);
        Assert.Equal(connectionName, (string?)after["connectionName"]);
        Assert.Equal("crm", (string?)after["settings"]!["userLabels"]!["team"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-token")]
    public async Task A_request_without_the_token_is_401_as_Google_answers(string? token)
    {
        using var http = new HttpClient { BaseAddress = cloud.BaseUrl };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.GetAsync(cloud.Api("instances"));
        Assert.Equal(401, (int)response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("UNAUTHENTICATED", text, StringComparison.Ordinal);
        Assert.Contains("authentication credential", text, StringComparison.Ordinal);
        Assert.DoesNotContain(cloud.Token, text, StringComparison.Ordinal);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_file_is_readable_by_its_owner_only()
    {
        var mode = File.GetUnixFileMode(LocalCloudHost.TokenFile(cloud.StateDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        await Task.CompletedTask;
    }

    [Fact]
    public void The_instances_admin_secret_is_readable_by_its_owner_only()
    {
        var mode = File.GetUnixFileMode(Path.Combine(cloud.StateDirectory, "instances", "src", "admin.secret"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        Assert.Empty(Directory.GetFiles(cloud.StateDirectory, "token.tmp*"));
    }
}
