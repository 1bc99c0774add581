using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>Long work shows as it goes: a live line on a terminal, plain lines elsewhere.</summary>
public sealed class ProgressTests
{
    [Fact]
    public async Task On_a_terminal_one_line_counts_the_seconds_and_ends_with_the_outcome()
    {
        var time = new FakeTimeProvider();
        using var output = new StringWriter();
        var context = new CommandContext(output, TextWriter.Null, time, (d, t) => Task.CompletedTask, CancellationToken.None) { OutputIsTerminal = true };
        var work = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        var step = Progress.StepAsync(context, "local cloud", () => work.Task);
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromMilliseconds(500));
        work.SetResult("started");
        Assert.Equal("started", await step);

        Assert.Equal("-> local cloud ...\r-> local cloud ... 1 s\r-> local cloud ... 2 s\r-> local cloud: ok, started (2.5 s)\u001b[K\n", output.ToString());
    }

    [Fact]
    public async Task Elsewhere_a_line_when_it_starts_and_one_when_it_ends_even_when_it_fails()
    {
        var time = new FakeTimeProvider();
        using var output = new StringWriter();
        var context = new CommandContext(output, TextWriter.Null, time, (d, t) => Task.CompletedTask, CancellationToken.None);

        Assert.Equal("done", await Progress.StepAsync(context, "functions", () => { time.Advance(TimeSpan.FromSeconds(3)); return Task.FromResult("done"); }));
        await Assert.ThrowsAsync<IOException>(() => Progress.StepAsync(context, "again", () => Task.FromException<string>(new IOException("port taken"))));

        Assert.Equal("-> functions ...\n   ok, done (3.0 s)\n-> again ...\n   FAILED (0.0 s)\n", output.ToString());
    }
}
