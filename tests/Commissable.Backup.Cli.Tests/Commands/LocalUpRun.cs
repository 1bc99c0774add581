using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// <c>local up</c> run by a rehearsal on its own state directory (after a drill): started with the
/// repository's workflows and the executions API on a free port, its output watched, stopped by
/// the interrupt it would get from Ctrl-C; the state directory is deleted on dispose.
/// </summary>
internal sealed partial class LocalUpRun : IDisposable
{
    private readonly CancellationTokenSource _interrupt = new();
    private Task<int>? _up;

    /// <summary>The state directory the drill and <c>local up</c> use.</summary>
    public string State { get; } = Path.Combine(Path.GetTempPath(), $"lur-{Guid.NewGuid():N}"[..12]);

    /// <summary>What <c>local up</c> printed (the banner, each execution's log lines).</summary>
    public WatchedWriter Out { get; } = new();

    public StringWriter Error { get; } = new();

    /// <summary>The Workflow Executions API's root <c>local up</c> printed.</summary>
    public string Executions { get; private set; } = "";

    /// <summary>The functions' base URL <c>local up</c> printed.</summary>
    public Uri Functions { get; private set; } = null!;

    /// <summary>The local cloud's port <c>local up</c> printed.</summary>
    public int CloudPort { get; private set; }

    public string TokenFile => Path.Combine(State, "token");

    /// <summary>Starts <c>local up</c> and waits until it printed where everything is.</summary>
    /// <param name="prefix">The drill's address prefix (the local cloud's instances live there).</param>
    /// <param name="environment">The variables <c>local up</c> sees (null: none).</param>
    public async Task StartAsync(string prefix, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var context = new CommandContext(Out, Error, TimeProvider.System, (d, t) => Task.Delay(d, t), _interrupt.Token)
        {
            Environment = name => environment is not null && environment.TryGetValue(name, out var value) ? value : null,
        };
        _up = LocalUpCommand.RunAsync(["--state", State, "--port", "0", "--address-prefix", prefix,
            "--workflows", Path.Combine(Repository(), "workflows"), "--executions-port", "0"], context);
        var ready = Out.WhenMatches(ReadyPattern());
        if (await Task.WhenAny(ready, _up).WaitAsync(TimeSpan.FromMinutes(3)) != ready)
        {
            Assert.Fail($"local up ended before it was ready: exit {await _up}\n{Out}\n{Error}");
        }
        Executions = (await ready).Groups["url"].Value;
        var printed = Out.ToString();
        Functions = new Uri(FunctionsPattern().Match(printed).Groups["url"].Value);
        CloudPort = new Uri(CloudPattern().Match(printed).Groups["url"].Value).Port;
    }

    /// <summary>Interrupts <c>local up</c> as Ctrl-C does and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _interrupt.CancelAsync();
        return await (_up ?? Task.FromResult(0)).WaitAsync(TimeSpan.FromMinutes(2));
    }

    /// <summary>The repository root (where <c>workflows/</c> is), found above the test binaries.</summary>
    public static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "workflows", "disaster-recovery.yaml"))) return dir.FullName;
        }
        throw new InvalidOperationException("workflows/disaster-recovery.yaml not found above the test binaries");
    }

    [GeneratedRegex(@"^local cloud: (?<url>http://127\.0\.0\.1:\d+/)", RegexOptions.Multiline)]
    private static partial Regex CloudPattern();

    [GeneratedRegex(@"^functions:\s+(?<url>http://127\.0\.0\.1:\d+/)", RegexOptions.Multiline)]
    private static partial Regex FunctionsPattern();

    [GeneratedRegex(@"^workflow executions: (?<url>http://127\.0\.0\.1:\d+/) ", RegexOptions.Multiline)]
    private static partial Regex ReadyPattern();

    public void Dispose()
    {
        _interrupt.Cancel();
        _interrupt.Dispose();
        Out.Dispose();
        Error.Dispose();
        try
        {
            Directory.Delete(State, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
