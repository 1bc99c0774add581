namespace Commissable.Backup.Cli.Commands.Executions;

/// <summary>
/// What a command needs from its surroundings: where to write, the clock, how to wait, and the
/// operator's Ctrl-C. Tests pass writers, fake waits and their own cancellation.
/// </summary>
internal sealed record CommandContext(
    TextWriter Out,
    TextWriter Error,
    TimeProvider Time,
    Func<TimeSpan, CancellationToken, Task> Delay,
    CancellationToken Interrupted)
{
    /// <summary>The real console; the first Ctrl-C cancels <see cref="Interrupted"/>, a second one ends the process.</summary>
    public static CommandContext Console(CancellationTokenSource interrupt)
    {
        ArgumentNullException.ThrowIfNull(interrupt);
        System.Console.CancelKeyPress += (_, e) =>
        {
            if (!interrupt.IsCancellationRequested)
            {
                e.Cancel = true;
                interrupt.Cancel();
            }
        };
        return new CommandContext(System.Console.Out, System.Console.Error, TimeProvider.System,
            (delay, token) => Task.Delay(delay, token), interrupt.Token);
    }

    /// <summary>Runs a command on the real console.</summary>
    public static async Task<int> RunOnConsoleAsync(Func<CommandContext, Task<int>> command)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var interrupt = new CancellationTokenSource();
        return await command(Console(interrupt));
    }
}

/// <summary>Bad input on the command line: exit 64 with this message.</summary>
internal sealed class UsageException(string message) : Exception(message);
