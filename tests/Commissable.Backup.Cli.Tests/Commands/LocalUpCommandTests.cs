using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.Workflows;
using Commissable.Testing;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary><c>local up</c>: the local cloud and the functions in the foreground, driven by what it printed, stopped by Ctrl-C.</summary>
public sealed partial class LocalUpCommandTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"lup-{Guid.NewGuid():N}"[..12]);
    private readonly WatchedWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly CancellationTokenSource _interrupt = new();

    [Fact]
    public async Task Local_up_serves_the_cloud_and_the_functions_on_loopback_prints_how_to_drive_them_and_stops_on_Ctrl_C()
    {
        var context = new CommandContext(_out, _err, TimeProvider.System, (d, t) => Task.Delay(d, t), _interrupt.Token);
        var workflows = Path.Combine(_state + "-workflows");
        Directory.CreateDirectory(workflows);
        await File.WriteAllTextAsync(Path.Combine(workflows, "hello.yaml"), """
            main:
              params: [args]
              steps:
                - greet:
                    return: ${"hello " + args.name + " from " + sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}
            """);
        var up = LocalUpCommand.RunAsync(["--state", _state, "--port", "0", "--address-prefix", LocalCloudFixture.NextAddressPrefix(),
            "--workflows", workflows, "--executions-port", "0"], context);

        // The banner's last line says it is up; waiting for it is waiting for the command, not for time.
        var banner = _out.WhenMatches(new Regex(@"Ctrl-C stops the functions and the local cloud\."));
        var ready = await Task.WhenAny(banner, up).WaitAsync(TimeSpan.FromMinutes(3));
        if (ready != banner)
        {
            Assert.Fail($"local up ended before it was ready: exit {await up}\n{_out}\n{_err}");
        }
        var printed = _out.ToString();
        var cloud = new Uri(Line(printed, "local cloud: "));
        var functions = new Uri(Line(printed, "functions:   "));
        var tokenFile = Line(printed, "token file:  ");
        var executions = new Uri(Line(printed, "workflow executions: ").Split(' ')[0]);
        Assert.Equal("127.0.0.1", executions.Host);
        Assert.Contains($"  gcloud config set api_endpoint_overrides/workflowexecutions {executions.AbsoluteUri}\n", printed, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1", cloud.Host);
        Assert.Equal("127.0.0.1", functions.Host);
        Assert.Equal(Path.Combine(_state, "token"), tokenFile);
        Assert.Contains($"  gcloud config set api_endpoint_overrides/sql {cloud.AbsoluteUri}\n", printed, StringComparison.Ordinal);
        Assert.Contains($"  export CLOUDSDK_AUTH_ACCESS_TOKEN_FILE={tokenFile}\n", printed, StringComparison.Ordinal);
        Assert.Contains($"  catalog ", printed, StringComparison.Ordinal);
        Assert.Contains($"{functions.AbsoluteUri}pre-deploy-export\n", printed, StringComparison.Ordinal);
        Assert.Contains("-> local cloud ...", printed, StringComparison.Ordinal);
        var token = (await File.ReadAllTextAsync(tokenFile)).Trim();
        Assert.DoesNotContain(token, printed + _err, StringComparison.Ordinal);

        using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) })
        {
            using var list = new HttpRequestMessage(HttpMethod.Get, new Uri(cloud, "sql/v1beta4/projects/drill-project/instances"));
            list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var listed = await http.SendAsync(list);
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            using var unauthorized = await http.GetAsync(new Uri(cloud, "sql/v1beta4/projects/drill-project/instances"));
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
            using var catalog = await http.GetAsync(new Uri(functions, "catalog"));
            Assert.True(catalog.StatusCode == HttpStatusCode.OK, await catalog.Content.ReadAsStringAsync());
        }

        // An execution through the printed endpoint, followed by the CLI's own watch command.
        using (var client = new WorkflowExecutionsClientBuilder { BaseUri = executions, TokenSource = new FileTokenSource(tokenFile) }.Build())
        {
            var created = await client.CreateExecutionAsync(new WorkflowName("drill-project", "local", "hello"), new System.Text.Json.Nodes.JsonObject { ["name"] = "operator" });
            using var watched = new StringWriter();
            using var watchErrors = new StringWriter();
            var watchContext = new CommandContext(watched, watchErrors, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
            var exit = await ExecutionsWatchCommand.RunAsync([created.Name!, "--endpoint", executions.AbsoluteUri, "--access-token-file", tokenFile], watchContext);
            Assert.True(exit == 0, $"{watched}\n{watchErrors}");
            Assert.Contains("\"hello operator from hello\"", watched.ToString(), StringComparison.Ordinal);
        }

        await _interrupt.CancelAsync();
        Assert.Equal(0, await up.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.False(await AcceptsAsync(executions), "the workflow executions API still listens after Ctrl-C");
        Assert.EndsWith("local up: stopped\n", _out.ToString(), StringComparison.Ordinal);
        Assert.False(await AcceptsAsync(cloud), "the local cloud still listens after Ctrl-C");
        Assert.False(await AcceptsAsync(functions), "the functions still listen after Ctrl-C");
    }

    [Theory]
    [InlineData(new[] { "--port", "70000" }, "--port '70000' is not a port number: 0 to 65535")]
    [InlineData(new[] { "--address-prefix", "10.0.0" }, "--address-prefix '10.0.0' must be three octets inside 127.0.0.0/8")]
    [InlineData(new[] { "--project", "Bad_Project" }, "--project 'Bad_Project' is not a Google Cloud project ID")]
    [InlineData(new[] { "--stat", "x" }, "unknown option --stat (did you mean --state?)")]
    public async Task Bad_input_is_a_usage_error_and_nothing_starts(string[] args, string expected)
    {
        var context = new CommandContext(_out, _err, TimeProvider.System, (d, t) => Task.Delay(d, t), _interrupt.Token);

        Assert.Equal(64, await LocalUpCommand.RunAsync([.. args, "--state", _state], context));

        Assert.StartsWith("local up: " + expected, _err.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(_state));
    }

    private static string Line(string printed, string prefix)
    {
        var match = Regex.Match(printed, "^" + Regex.Escape(prefix) + "(?<value>.+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no line '{prefix}...' in:\n{printed}");
        return match.Groups["value"].Value.Trim();
    }

    private static async Task<bool> AcceptsAsync(Uri url)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(url.Host, url.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _interrupt.Cancel();
        _interrupt.Dispose();
        _out.Dispose();
        _err.Dispose();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
        if (Directory.Exists(_state + "-workflows"))
        {
            Directory.Delete(_state + "-workflows", recursive: true);
        }
    }
}
