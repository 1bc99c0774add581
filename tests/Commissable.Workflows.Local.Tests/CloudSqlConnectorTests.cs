using System.Text.Json.Nodes;
using Commissable.Workflows.Local;
using Commissable.Workflows.Local.CloudSql;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.LocalCloud;
using Commissable.Testing;

namespace Commissable.Workflows.Local.Tests;

/// <summary>The Cloud SQL connector against a real local cloud: it creates, clones and patches, and raises what the real one raises.</summary>
public sealed class CloudSqlConnectorTests(LocalCloudFixture cloud) : IClassFixture<LocalCloudFixture>
{
    private const string Prefix = SqlAdminMethods.Prefix;
    /// <summary>The production client against the local cloud, polling often so the test does not idle.</summary>
    private CloudSqlAdminClient Client(string project) => new CloudSqlAdminClientBuilder
    {
        ProjectId = project,
        BaseUri = cloud.BaseUrl,
        TokenSource = new FileTokenSource(LocalCloudHost.TokenFile(cloud.StateDirectory)),
        HttpClient = cloud.Http,
        PollSettings = new CloudSqlPollSettings { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(300) },
    }.Build();

    private CloudSqlConnector Connector() => new(Client);

    private JsonObject Args(params (string Key, JsonNode? Value)[] extra)
    {
        var args = new JsonObject { ["project"] = cloud.Project };
        foreach (var (key, value) in extra) args[key] = value;
        return args;
    }

    [Fact]
    public async Task Insert_clone_and_patch_wait_for_their_operations_and_really_change_the_instances()
    {
        var sql = Connector();
        var inserted = (await sql.CallAsync(Prefix + "instances.insert", Args(("body", new JsonObject
        {
            ["name"] = "wf-src",
            ["databaseVersion"] = cloud.Binaries.DatabaseVersion,
            ["rootPassword"] = "root-pw",
            ["settings"] = new JsonObject { ["tier"] = "db-custom-1-3840", ["backupConfiguration"] = new JsonObject { ["enabled"] = false } },
        }))))!.AsObject();
        Assert.Equal("DONE", (string?)inserted["status"]);
        Assert.Equal("CREATE", (string?)inserted["operationType"]);

        var database = await sql.CallAsync(Prefix + "databases.insert", Args(("instance", "wf-src"), ("body", new JsonObject { ["name"] = "crm" })));
        Assert.Equal("DONE", (string?)database!["status"]);
        Assert.Equal("crm", (string?)(await sql.CallAsync(Prefix + "databases.get", Args(("instance", "wf-src"), ("database", "crm"))))!["name"]);

        var cloned = await sql.CallAsync(Prefix + "instances.clone", Args(("instance", "wf-src"), ("body", new JsonObject
        {
            ["cloneContext"] = new JsonObject { ["destinationInstanceName"] = "wf-clone" },
        })));
        Assert.Equal("DONE", (string?)cloned!["status"]);
        var clone = await sql.CallAsync(Prefix + "instances.get", Args(("instance", "wf-clone")));
        Assert.Equal("RUNNABLE", (string?)clone!["state"]);
        var databases = await sql.CallAsync(Prefix + "databases.list", Args(("instance", "wf-clone")));
        Assert.Contains("crm", databases!["items"]!.AsArray().Select(d => (string?)d!["name"]));

        var patched = await sql.CallAsync(Prefix + "instances.patch", Args(("instance", "wf-clone"), ("body", new JsonObject
        {
            ["settings"] = new JsonObject { ["userLabels"] = new JsonObject { ["role"] = "dr-candidate" } },
        })));
        Assert.Equal("DONE", (string?)patched!["status"]);
        var after = await sql.CallAsync(Prefix + "instances.get", Args(("instance", "wf-clone")));
        Assert.Equal("dr-candidate", (string?)after!["settings"]!["userLabels"]!["role"]);

        // users.update takes name (and host) as query arguments, as the connector does.
        await sql.CallAsync(Prefix + "users.insert", Args(("instance", "wf-clone"), ("body", new JsonObject { ["name"] = "app", ["password"] = "first" })));
        var updated = await sql.CallAsync(Prefix + "users.update", Args(("instance", "wf-clone"), ("name", "app"), ("host", ""), ("body", new JsonObject { ["password"] = "second" })));
        Assert.Equal("DONE", (string?)updated!["status"]);
        var users = await sql.CallAsync(Prefix + "users.list", Args(("instance", "wf-clone")));
        Assert.Contains("app", users!["items"]!.AsArray().Select(u => (string?)u!["name"]));

        // An operation that fails raises OperationError with the failed operation.
        var bucket = Path.Combine(cloud.StateDirectory, "buckets", "wf-bucket");
        Directory.CreateDirectory(bucket);
        await File.WriteAllTextAsync(Path.Combine(bucket, "broken.sql"), "THIS IS NOT SQL;\n");
        var failed = await sql.RaisesAsync("OperationError", Prefix + "instances.import", Args(("instance", "wf-clone"), ("body", new JsonObject
        {
            ["importContext"] = new JsonObject { ["fileType"] = "SQL", ["uri"] = "gs://wf-bucket/broken.sql", ["database"] = "crm" },
        })));
        Assert.Equal("DONE", (string?)failed["operation"]!["status"]);
        Assert.NotNull(failed["operation"]!["error"]);

        // skip_polling hands back the operation as started; a tiny timeout raises TimeoutError.
        var started = await sql.CallAsync(Prefix + "databases.insert", Args(("instance", "wf-src"), ("body", new JsonObject { ["name"] = "other" }),
            ("connector_params", new JsonObject { ["skip_polling"] = true })));
        Assert.Equal("sql#operation", (string?)started!["kind"]);
        Assert.NotNull(started["name"]);
        // (on the other instance: wf-src is busy with the insert, a 409 the workflow would retry)
        var timedOut = await sql.RaisesAsync("TimeoutError", Prefix + "databases.delete", Args(("instance", "wf-clone"), ("database", "crm"),
            ("connector_params", new JsonObject { ["timeout"] = 0.001 })));
        Assert.Contains("connector_params.timeout", (string?)timedOut["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_answer_is_an_HttpError_with_code_message_and_parsed_body()
    {
        var error = await Connector().RaisesAsync("HttpError", Prefix + "instances.get", Args(("instance", "does-not-exist")));
        Assert.Equal(404, (int)error["code"]!);
        Assert.Equal(404, (int)error["body"]!["error"]!["code"]!);
        Assert.Contains("does-not-exist", (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_and_unknown_arguments_are_refused_before_any_request()
    {
        await Connector().RaisesAsync("ValueError", Prefix + "instances.get", Args());
        await Connector().RaisesAsync("TypeError", Prefix + "instances.get", Args(("instance", "x"), ("instanceId", "x")));
        await Connector().RaisesAsync("ValueError", Prefix + "instances.clone", Args(("instance", "x")));
    }

    [Theory]
    [InlineData("instances.get", "instance", "..")]
    [InlineData("instances.get", "instance", "Prod")]
    [InlineData("databases.get", "database", "../other")]
    [InlineData("backupRuns.get", "id", "1/../../x")]
    [InlineData("instances.list", "project", "../p")]
    public async Task A_path_parameter_that_is_not_a_name_is_a_400_before_any_request(string method, string parameter, string value)
    {
        var asked = 0;
        var connector = new CloudSqlConnector(project => { asked++; return Client(project); });
        var args = Args(("instance", "prod"), ("database", "crm"), ("id", "1"));
        if (method == "instances.list") { args.Remove("instance"); args.Remove("database"); args.Remove("id"); }
        if (method == "instances.get") { args.Remove("database"); args.Remove("id"); }
        if (method == "databases.get") args.Remove("id");
        if (method == "backupRuns.get") args.Remove("database");
        args[parameter] = value;

        var error = await connector.RaisesAsync("HttpError", Prefix + method, args);

        Assert.Equal(400, (int)error["code"]!);
        Assert.Contains($"'{parameter}'", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal(0, asked);
    }

    [Fact]
    public async Task Each_project_a_workflow_names_gets_its_own_client_once()
    {
        var projects = new List<string>();
        var connector = new CloudSqlConnector(project => { projects.Add(project); return Client(project); });

        await connector.CallAsync(Prefix + "instances.list", Args());
        await connector.CallAsync(Prefix + "instances.list", Args());
        await connector.CallAsync(Prefix + "instances.list", new JsonObject { ["project"] = "other-project" });

        Assert.Equal([cloud.Project, "other-project"], projects);
    }
}
