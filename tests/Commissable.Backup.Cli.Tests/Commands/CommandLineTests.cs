using System.CommandLine;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>The command line as a whole: help everywhere, one shape of usage error, the same names for the same options.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"cli-{Guid.NewGuid():N}"[..12]);

    private CommandContext Context() => new(_out, _err, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);

    private Task<int> RunAsync(params string[] args) => CommandTree.InvokeAsync(args, Context());

    /// <summary>Every command and group of the tree, as the words that reach it.</summary>
    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        void Walk(Command command, string path)
        {
            data.Add(path);
            foreach (var subcommand in command.Subcommands)
            {
                Walk(subcommand, (path + " " + subcommand.Name).Trim());
            }
        }

        Walk(CommandTree.Build(new CommandContext(TextWriter.Null, TextWriter.Null, TimeProvider.System, (d, t) => Task.CompletedTask, CancellationToken.None)), "");
        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_on_every_command_prints_its_usage_and_exits_0(string path)
    {
        string[] words = path.Length == 0 ? [] : path.Split(' ');
        foreach (var help in new[] { "--help", "-h" })
        {
            _out.GetStringBuilder().Clear();
            Assert.Equal(0, await RunAsync([.. words, help]));
            Assert.StartsWith("usage: commissable-backup", _out.ToString(), StringComparison.Ordinal);
            Assert.Contains(path, _out.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal("", _err.ToString());
    }

    [Fact]
    public async Task Help_lists_every_option_a_command_declares_with_its_default()
    {
        Assert.Equal(0, await RunAsync("drill", "--help"));
        var help = _out.ToString();
        Assert.Contains("--size tiny|small", help, StringComparison.Ordinal);
        Assert.Contains("(default 8123)", help, StringComparison.Ordinal);
        Assert.Contains("--address-prefix A.B.C", help, StringComparison.Ordinal);
        Assert.Contains("-h, --help", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_command_the_overview_is_printed_with_every_command()
    {
        Assert.Equal(0, await RunAsync());
        foreach (var command in new[] { "drill [", "local up [", "workflows run <", "secrets put <", "dr start --", "clone-staging start --", "tenant-restore start --", "executions watch " })
        {
            Assert.Contains("  " + command, _out.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(new[] { "nope" }, "commissable-backup: unknown command 'nope'; the commands are: drill, local, ")]
    [InlineData(new[] { "dr" }, "dr: a command is required; 'dr' has: start")]
    [InlineData(new[] { "dr", "stop" }, "dr: unknown command 'stop'; 'dr' has: start")]
    [InlineData(new[] { "drill", "--size", "huge" }, "drill: --size 'huge' is not one of tiny, small")]
    [InlineData(new[] { "drill", "--sise", "tiny" }, "drill: unknown option --sise (did you mean --size?)")]
    [InlineData(new[] { "drill", "--port", "http" }, "drill: --port 'http' is not a port number: 0 to 65535")]
    [InlineData(new[] { "drill", "--state", "a", "--state", "b" }, "drill: --state is given twice")]
    [InlineData(new[] { "drill", "--state" }, "drill: --state needs a value")]
    [InlineData(new[] { "drill", "--state", "--port", "1" }, "drill: --state needs a value")]
    [InlineData(new[] { "drill", "now" }, "drill: unexpected argument 'now'")]
    [InlineData(new[] { "drill", "--frobnicate" }, "drill: unknown option --frobnicate; drill takes --state, --port, --address-prefix, --size, --help")]
    [InlineData(new[] { "local", "up", "--state", "" }, "local up: --state '' is not a directory path")]
    [InlineData(new[] { "secrets", "put" }, "secrets put: the secret name is required: secrets put <name>")]
    [InlineData(new[] { "workflows", "run" }, "workflows run: the workflow file is required: workflows run <file.yaml>")]
    [InlineData(new[] { "dr", "start", "--watch", "--watch" }, "dr start: --watch is given twice")]
    public async Task A_usage_error_names_what_was_wrong_and_what_is_accepted_on_stderr_with_exit_64(string[] args, string expected)
    {
        Assert.Equal(64, await RunAsync(args));

        var lines = _err.ToString().Split('\n');
        Assert.StartsWith(expected, lines[0], StringComparison.Ordinal);
        Assert.StartsWith("run 'commissable-backup ", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(" --help' for usage", lines[1], StringComparison.Ordinal);
        Assert.Equal("", _out.ToString());
    }

    [Fact]
    public void An_at_sign_value_is_the_commands_own_not_a_response_file()
    {
        Directory.CreateDirectory(_dir);
        var workflow = Path.Combine(_dir, "w.yaml");
        File.WriteAllText(workflow, "main:\n  steps:\n    - a:\n        return: 1\n");
        var arguments = Path.Combine(_dir, "args.json");
        File.WriteAllText(arguments, """{"newInstance":"from-file"}""");

        var request = WorkflowsRunCommand.RunRequest.Read([workflow, "--args", "@" + arguments, "--state", Path.Combine(_dir, "state"), "--port", "0"]);

        Assert.Equal("from-file", (string?)request.Arguments["newInstance"]);
        Assert.Equal(0, request.Port);
    }

    [Fact]
    public void The_options_shared_by_commands_have_one_name_value_name_and_meaning()
    {
        var root = CommandTree.Build(new CommandContext(TextWriter.Null, TextWriter.Null, TimeProvider.System, (d, t) => Task.CompletedTask, CancellationToken.None));
        var options = new List<Option>();
        void Walk(Command command)
        {
            options.AddRange(command.Options);
            foreach (var subcommand in command.Subcommands) Walk(subcommand);
        }

        Walk(root);
        foreach (var name in new[] { "--state", "--port", "--address-prefix", "--endpoint", "--access-token-file", "--watch" })
        {
            var same = options.Where(o => o.Name == name).ToList();
            Assert.True(same.Count >= 2, $"{name} is declared {same.Count} time(s)");
            Assert.Single(same.Select(o => (o.HelpName, o.Description)).Distinct());
        }
    }

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
