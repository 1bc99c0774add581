using Npgsql;

namespace Commissable.LocalCloud.Tests;

/// <summary>
/// A database or user name can never reach an instance-level route or become a connection string:
/// '.', '..' and their encodings are refused before routing, and names Google refuses are refused
/// at request time. The instance and its data survive every attempt.
/// </summary>
public sealed class NameTraversalTests(NameTraversalTests.KeptInstance kept) : IClassFixture<NameTraversalTests.KeptInstance>
{
    private LocalCloudFixture cloud => kept.Cloud;

    /// <summary>One local cloud with an instance <c>keep</c> whose database <c>crm</c> holds a row.</summary>
    public sealed class KeptInstance : IAsyncLifetime
    {
        public LocalCloudFixture Cloud { get; } = new();

        public async Task InitializeAsync()
        {
            await Cloud.InitializeAsync();
            await Cloud.CreateInstanceAsync("keep", pitr: false);
            await Cloud.RunAsync(HttpMethod.Post, Cloud.Api("instances/keep/databases"), """{"name":"crm"}""");
            await using var connection = new NpgsqlConnection(await Cloud.ConnectionStringAsync("keep", "crm"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("CREATE TABLE account (id int); INSERT INTO account VALUES (42);", connection);
            await command.ExecuteNonQueryAsync();
        }

        public Task DisposeAsync() => Cloud.DisposeAsync();
    }

    [Theory]
    [InlineData("DELETE", "instances/keep/databases/..")]
    [InlineData("DELETE", "instances/keep/databases/%2e%2e")]
    [InlineData("DELETE", "instances/keep/databases/%2E%2E")]
    [InlineData("DELETE", "instances/keep/databases/.")]
    [InlineData("DELETE", "instances/keep/databases/%2e")]
    [InlineData("DELETE", "instances/keep/databases/.%2e")]
    [InlineData("DELETE", "instances/keep/databases/crm%2F..%2F..")]
    [InlineData("DELETE", "instances/keep/databases/crm%2f%2e%2e")]
    [InlineData("DELETE", "instances/keep/databases/..%5C..")]
    [InlineData("DELETE", "instances/keep/databases/x/../..")]
    [InlineData("DELETE", "instances/keep/users/..")]
    [InlineData("DELETE", "instances/keep/backupRuns/..")]
    [InlineData("GET", "instances/keep/databases/..")]
    [InlineData("POST", "instances/keep/databases/../export")]
    [InlineData("DELETE", "instances/keep/databases//")]
    public async Task A_dot_segment_or_an_encoded_separator_is_400_and_the_instance_keeps_its_data(string method, string path)
    {
        var (status, body, text) = await RawRequests.SendAsync(cloud, method, cloud.Api(path));

        Assert.True(status == 400, $"{method} {path} answered {status}: {text}");
        Assert.Equal("INVALID_ARGUMENT", (string?)body!["error"]!["status"]);
        Assert.Matches("segment|encodes", (string?)body["error"]!["message"]);
        await AssertTheInstanceAndItsDataAreThereAsync();
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("host=127.0.0.1 port=1 dbname=crm")]
    [InlineData("dbname=crm")]
    [InlineData("postgresql://127.0.0.1:1/crm")]
    [InlineData("crm\n")]
    [InlineData("a'b")]
    [InlineData("a\"b")]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task A_database_name_Google_refuses_is_400_at_insert_naming_the_field(string name)
    {
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/keep/databases"),
            new System.Text.Json.Nodes.JsonObject { ["name"] = name }.ToJsonString());

        Assert.Equal(400, status);
        Assert.Contains("'name' must be a database name", (string?)body["error"]!["message"], StringComparison.Ordinal);
        await AssertTheInstanceAndItsDataAreThereAsync();
    }

    [Theory]
    [InlineData("export", """{"exportContext":{"fileType":"SQL","uri":"gs://names/x.sql","databases":["host=127.0.0.1 port=1 dbname=crm"]}}""", "exportContext.databases[0]")]
    [InlineData("export", """{"exportContext":{"fileType":"SQL","uri":"gs://names/x.sql","databases":[".."]}}""", "exportContext.databases[0]")]
    [InlineData("import", """{"importContext":{"fileType":"SQL","uri":"gs://names/x.sql","database":"host=127.0.0.1 port=1 dbname=crm"}}""", "importContext.database")]
    [InlineData("import", """{"importContext":{"fileType":"SQL","uri":"gs://names/x.sql","database":"crm","importUser":"x' -c role=cloudsqladmin"}}""", "importContext.importUser")]
    [InlineData("clone", """{"cloneContext":{"destinationInstanceName":".."}}""", "cloneContext.destinationInstanceName")]
    [InlineData("clone", """{"cloneContext":{"destinationInstanceName":"ok-name","databaseNames":["dbname=crm host=x"]}}""", "cloneContext.databaseNames[0]")]
    [InlineData("restoreBackup", """{"restoreBackupContext":{"backupRunId":"1","instanceId":"../keep"}}""", "restoreBackupContext.instanceId")]
    public async Task A_name_in_a_request_body_is_checked_wherever_a_database_or_instance_is_named(string method, string body, string field)
    {
        var (status, answer) = await cloud.SendAsync(HttpMethod.Post, cloud.Api($"instances/keep/{method}"), body);

        Assert.Equal(400, status);
        Assert.Contains($"'{field}'", (string?)answer["error"]!["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cloudsqladmin")]
    [InlineData("cloudsqlsuperuser")]
    [InlineData("cloudsqlimportexport")]
    [InlineData("pg_execute_server_program")]
    [InlineData("pg_read_server_files")]
    public async Task An_internal_role_as_import_user_is_400(string user)
    {
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/keep/import"),
            $$$"""{"importContext":{"fileType":"SQL","uri":"gs://names/x.sql","database":"crm","importUser":"{{{user}}}"}}""");

        Assert.Equal(400, status);
        var message = (string?)body["error"]!["message"];
        Assert.Contains("importContext.importUser", message, StringComparison.Ordinal);
        Assert.Contains("reserved", message, StringComparison.Ordinal);
    }

    private async Task AssertTheInstanceAndItsDataAreThereAsync()
    {
        var (status, instance) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/keep"));
        Assert.Equal(200, status);
        Assert.Equal("RUNNABLE", (string?)instance["state"]);
        var (listed, databases) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/keep/databases"));
        Assert.Equal(200, listed);
        Assert.Contains(databases["items"]!.AsArray(), d => (string?)d!["name"] == "crm");
        await using var connection = new NpgsqlConnection(await cloud.ConnectionStringAsync("keep", "crm"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id FROM account", connection);
        Assert.Equal(42, (int)(await command.ExecuteScalarAsync())!);
    }
}
