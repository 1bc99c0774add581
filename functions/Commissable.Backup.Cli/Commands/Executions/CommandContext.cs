using System.Runtime.InteropServices;
using System.Text;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Cli.Commands.Executions;

/// <summary>
/// What a command needs from its surroundings: where to write, the clock, how to wait, the
/// operator's Ctrl-C (or SIGTERM) and standard input. Tests pass writers, fake waits, their own
/// cancellation and input.
/// </summary>
internal sealed record CommandContext(
    TextWriter Out,
    TextWriter Error,
    TimeProvider Time,
    Func<TimeSpan, CancellationToken, Task> Delay,
    CancellationToken Interrupted)
{
    /// <summary>Standard input; none unless given.</summary>
    public StandardInput Input { get; init; } = StandardInput.None;

    /// <summary>Whether <see cref="Out"/> is a terminal, where progress is a live line rather than one line per change.</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>Told about each PostgreSQL program a command starts, as soon as it runs (tests read their argument lists); none by default.</summary>
    public IChildProcessObserver? ChildProcesses { get; init; }

    /// <summary>Reads an environment variable (null when unset); tests pass their own.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>
    /// Runs <paramref name="command"/> on the real console. The first Ctrl-C or SIGTERM cancels
    /// <see cref="Interrupted"/> so the command can stop what it started; a second one ends the process.
    /// </summary>
    public static async Task<int> RunOnConsoleAsync(Func<CommandContext, Task<int>> command)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var interrupt = new CancellationTokenSource();
        void Interrupt(PosixSignalContext signal)
        {
            if (!interrupt.IsCancellationRequested)
            {
                signal.Cancel = true;
                interrupt.Cancel();
            }
        }

        using var ctrlC = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        var context = new CommandContext(Console.Out, Console.Error, TimeProvider.System, (delay, token) => Task.Delay(delay, token), interrupt.Token)
        {
            Input = StandardInput.Console(),
            OutputIsTerminal = !Console.IsOutputRedirected,
        };
        return await command(context);
    }
}

/// <summary>A command's standard input: its bytes, its text, and whether an operator is typing it.</summary>
/// <param name="ReadHidden">Reads one line without echo (a secret typed at the terminal); null where input is not a terminal.</param>
internal sealed record StandardInput(Stream Bytes, TextReader Text, bool IsTerminal, Func<TextWriter, string?>? ReadHidden = null)
{
    public static StandardInput None { get; } = new(Stream.Null, TextReader.Null, IsTerminal: false);

    public static StandardInput Console() => System.Console.IsInputRedirected
        ? new(System.Console.OpenStandardInput(), System.Console.In, IsTerminal: false)
        : new(System.Console.OpenStandardInput(), System.Console.In, IsTerminal: true, ReadHiddenLine);

    private static string? ReadHiddenLine(TextWriter prompt)
    {
        var text = new StringBuilder();
        while (true)
        {
            var key = System.Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0) text.Length--;
                continue;
            }
            if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
        }
        prompt.WriteLine();
        return text.ToString();
    }
}

/// <summary>Bad input on the command line: exit 64 with this message.</summary>
internal sealed class UsageException(string message) : Exception(message);
