using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Testing;
using Commissable.Workflows;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary><c>workflows run</c>: refuses what it cannot run before starting anything, then runs on the local cloud.</summary>
public sealed class WorkflowsRunCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"wfrun-{Guid.NewGuid():N}"[..14]);
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    public WorkflowsRunCommandTests() => Directory.CreateDirectory(_dir);

    private string State => Path.Combine(_dir, "state");

    private CommandContext Context() => new(_out, _err, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);

    private Task<int> RunAsync(params string[] args) => WorkflowsRunCommand.RunAsync(args, Context(), TextReader.Null, inputIsTerminal: false);

    private string File(string name, string yaml)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task Bad_usage_exits_64_and_says_what_is_wrong()
    {
        var ok = File("ok.yaml", "main:\n  steps:\n    - a:\n        return: 1\n");
        Assert.Equal(64, await RunAsync());
        Assert.Equal(64, await RunAsync(Path.Combine(_dir, "missing.yaml")));
        Assert.Equal(64, await RunAsync(ok, "--args", "{not json"));
        Assert.Equal(64, await RunAsync(ok, "--port", "99999"));
        Assert.Equal(64, await RunAsync(ok, "--nope"));
        Assert.Equal(64, await RunAsync(ok, "--project", "Bad_Project"));
        Assert.Contains("--args is not valid JSON", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("does not exist", _err.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await RunAsync("--help"));
    }

    [Fact]
    public async Task A_construct_outside_the_subset_or_an_unserved_call_is_refused_with_its_line_before_anything_starts()
    {
        var outside = File("outside.yaml", "main:\n  steps:\n    - a:\n        parallel:\n          branches: []\n");
        Assert.Equal(64, await RunAsync(outside, "--state", State));
        Assert.Contains("outside.yaml:4:", _err.ToString(), StringComparison.Ordinal);

        var unserved = File("unserved.yaml", "main:\n  steps:\n    - ok:\n        call: sys.log\n        args:\n          text: hi\n    - publish:\n        call: googleapis.pubsub.v1.projects.topics.publish\n        args:\n          topic: t\n");
        Assert.Equal(64, await RunAsync(unserved, "--state", State));
        Assert.Contains("unserved.yaml:8:", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("googleapis.pubsub.v1.projects.topics.publish", _err.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(State));
    }

    [Theory]
    [InlineData("10.0.0")]
    [InlineData("127.0.256")]
    [InlineData("127.0")]
    [InlineData("127.0.1\n")]
    public async Task An_address_prefix_outside_loopback_is_a_usage_error_and_nothing_starts(string prefix)
    {
        var workflow = File("smoke.yaml", Smoke);
        Assert.Equal(64, await RunAsync(workflow, "--state", State, "--address-prefix", prefix));
        Assert.Contains("--address-prefix", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("127.0.0.0/8", _err.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(State));
    }

    [Fact]
    public void Every_call_in_the_projects_workflows_is_served_locally()
    {
        var workflows = Workflows();
        Assert.NotEmpty(workflows);
        foreach (var file in workflows)
        {
            var program = WorkflowProgram.Parse(System.IO.File.ReadAllText(file), file);
            var request = WorkflowsRunCommand.RunRequest.Read([file, "--state", State]);
            var run = new WorkflowsRunCommand.LocalRun(request, Context(), TextReader.Null, false);
            Assert.Empty(new WorkflowInterpreter(run.Options(new Dictionary<string, string>())).Check(program));
        }
    }

    [Fact]
    public async Task A_run_serves_secrets_sql_run_callbacks_and_functions_and_without_approval_fails_with_TimeoutError()
    {
        Assert.Equal(0, await SecretsPutCommand.RunAsync(["db-url", "--state", State], Context(), new MemoryStream("postgresql://u:p@h/crm\n"u8.ToArray()), null));
        var workflow = File("smoke.yaml", Smoke);
        // Each run's local cloud binds a port of its own on the one state directory.
        const string port = "0";

        var prefix = LocalCloudFixture.NextAddressPrefix();
        var exit = await RunAsync(workflow, "--args", """{"newInstance":"crm-dr"}""", "--approve", "--approver", "tester", "--state", State, "--port", port, "--address-prefix", prefix);
        var output = _out.ToString();
        Assert.True(exit == 0, output + _err);
        Assert.Contains("step  main/secret (line 9)", output, StringComparison.Ordinal);
        Assert.Contains("NOTICE rehearsing for crm-dr", output, StringComparison.Ordinal);
        Assert.DoesNotContain("postgresql://", output, StringComparison.Ordinal);
        var result = JsonNode.Parse(output[(output.IndexOf("result:", StringComparison.Ordinal) + "result:".Length)..])!;
        Assert.Equal(22, (int)result["secretLength"]!);
        Assert.Matches("/services/crm-app/revisions/crm-app-00002-[a-z]{3}$", (string?)result["revision"]);
        Assert.Equal("tester", (string?)result["approvedBy"]);
        Assert.Equal(405, (int)result["verifyGetCode"]!);
        Assert.StartsWith(prefix + ".", (string?)result["address"], StringComparison.Ordinal);
        var approval = JsonNode.Parse(System.IO.File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(State, "approvals"), "*-wait.json"))))!;
        Assert.Equal("tester", (string?)approval["approvedBy"]);
        Assert.Equal(workflow, (string?)approval["workflow"]);

        _out.GetStringBuilder().Clear();
        Assert.Equal(1, await RunAsync(workflow, "--args", """{"newInstance":"crm-dr"}""", "--state", State, "--port", port, "--address-prefix", prefix));
        Assert.Contains("workflow failed in step main/wait (line 38)", _out.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"TimeoutError\"", _out.ToString(), StringComparison.Ordinal);
    }

    private const string Smoke = """
        main:
          params: [input]
          steps:
            - hello:
                call: sys.log
                args:
                  severity: NOTICE
                  text: ${"rehearsing for " + input.newInstance}
            - secret:
                call: googleapis.secretmanager.v1.projects.secrets.versions.accessString
                args:
                  secret_id: db-url
                result: url
            - instances:
                call: googleapis.sqladmin.v1beta4.instances.list
                args:
                  project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
                result: listed
            - app:
                call: googleapis.run.v2.projects.locations.services.get
                args:
                  name: ${sys.get_env("APP_SERVICE")}
                result: app
            - mark:
                assign:
                  - app.template.labels["rolled"]: "yes"
            - roll:
                call: googleapis.run.v2.projects.locations.services.patch
                args:
                  name: ${sys.get_env("APP_SERVICE")}
                  body: ${app}
                result: rolled
            - open:
                call: events.create_callback_endpoint
                args:
                  http_callback_method: POST
                result: callback
            - wait:
                call: events.await_callback
                args:
                  callback: ${callback}
                  timeout: 300
                result: answer
            # After the approval, so only the approved run creates it.
            - scratch:
                call: googleapis.sqladmin.v1beta4.instances.insert
                args:
                  project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
                  body:
                    name: smoke-scratch
                    databaseVersion: POSTGRES_15
                    rootPassword: smoke-root-pw
            - scratch_get:
                call: googleapis.sqladmin.v1beta4.instances.get
                args:
                  project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
                  instance: smoke-scratch
                result: scratch
            - verify_get:
                try:
                  call: http.get
                  args:
                    url: ${sys.get_env("RESTORE_VERIFY_URL")}
                    auth:
                      type: OIDC
                except:
                  as: e
                  steps:
                    - noted:
                        assign:
                          - code: ${e.code}
            - done:
                return:
                  secretLength: ${len(url)}
                  revision: ${rolled.latestReadyRevision}
                  approvedBy: ${answer.http_request.body.approvedBy}
                  verifyGetCode: ${code}
                  address: ${scratch.ipAddresses[0].ipAddress}
        """;

    private static List<string> Workflows()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "workflows");
            if (System.IO.File.Exists(Path.Combine(candidate, "disaster-recovery.yaml")))
            {
                return [.. Directory.GetFiles(candidate, "*.yaml")];
            }
        }
        return [];
    }

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
