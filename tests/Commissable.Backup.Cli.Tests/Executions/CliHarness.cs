using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Google.Tests.Executions;
using Commissable.Testing;

namespace Commissable.Backup.Cli.Tests.Executions;

/// <summary>
/// Runs the executions commands against the loopback Executions API with a token file, captured
/// output, a fixed clock and waits that are recorded instead of slept.
/// </summary>
public abstract class CliHarness : IDisposable
{
    public static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _tokenFile = Path.Combine(Path.GetTempPath(), $"exec-token-{Guid.NewGuid():N}");

    protected CliHarness()
    {
        File.WriteAllText(_tokenFile, FakeExecutionsApi.Token + "\n");
    }

    internal FakeExecutionsApi Api { get; } = new();
    internal StringWriter Out { get; private set; } = new();
    internal StringWriter Error { get; private set; } = new();
    internal List<TimeSpan> Waits { get; } = [];
    internal CancellationTokenSource Interrupt { get; } = new();

    /// <summary>Cancels <see cref="Interrupt"/> when the watcher starts its n-th wait (Ctrl-C while waiting).</summary>
    internal int? InterruptAtWait { get; set; }

    internal string[] Connection => ["--endpoint", Api.BaseUri.AbsoluteUri, "--access-token-file", _tokenFile];

    internal CommandContext Context() => new(Out, Error, new StoppedClock(Now), WaitAsync, Interrupt.Token);

    internal JsonObject SentArgument()
    {
        var create = Assert.Single(Api.Requests, r => r.MethodId?.EndsWith(".create", StringComparison.Ordinal) == true);
        return JsonNode.Parse((string)JsonNode.Parse(create.Body!)!["argument"]!)!.AsObject();
    }

    /// <summary>A command line without <paramref name="option"/> and its value.</summary>
    internal static string[] Without(string[] args, string option)
    {
        var i = Array.IndexOf(args, option);
        return [.. args[..i], .. args[(i + 2)..]];
    }

    /// <summary>A command line with <paramref name="option"/>'s value replaced.</summary>
    internal static string[] With(string[] args, string option, string value)
    {
        var copy = (string[])args.Clone();
        copy[Array.IndexOf(copy, option) + 1] = value;
        return copy;
    }

    internal void AssertNoSecretsPrinted()
    {
        Assert.DoesNotContain(FakeExecutionsApi.Token, Out.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeExecutionsApi.Token, Error.ToString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Api.Dispose();
        Interrupt.Dispose();
        File.Delete(_tokenFile);
        GC.SuppressFinalize(this);
    }

    private Task WaitAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        Waits.Add(wait);
        if (InterruptAtWait == Waits.Count)
        {
            Interrupt.Cancel();
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }
}
