using System.Globalization;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// Shows work that can take a while (starting clusters, hosting the functions). On a terminal one
/// live line counts the seconds and is replaced by the outcome; elsewhere (a log, a pipe, a test)
/// one line when the work starts and one when it ends, so nothing is redrawn.
/// </summary>
internal static class Progress
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>Runs <paramref name="work"/> as the step <paramref name="what"/>; its result is the detail printed after "ok".</summary>
    public static async Task<string> StepAsync(CommandContext context, string what, Func<Task<string>> work)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(work);
        var started = context.Time.GetTimestamp();
        var gate = new Lock();
        var done = false;
        ITimer? timer = null;
        if (context.OutputIsTerminal)
        {
            await context.Out.WriteAsync($"-> {what} ...");
            await context.Out.FlushAsync();
            timer = context.Time.CreateTimer(_ =>
            {
                lock (gate)
                {
                    if (!done)
                    {
                        context.Out.Write(string.Create(CultureInfo.InvariantCulture, $"\r-> {what} ... {context.Time.GetElapsedTime(started).TotalSeconds:F0} s"));
                        context.Out.Flush();
                    }
                }
            }, null, Tick, Tick);
        }
        else
        {
            await context.Out.WriteLineAsync($"-> {what} ...");
        }

        string Outcome(string text)
        {
            lock (gate)
            {
                done = true;
            }

            var seconds = context.Time.GetElapsedTime(started).TotalSeconds;
            return context.OutputIsTerminal
                ? string.Create(CultureInfo.InvariantCulture, $"\r-> {what}: {text} ({seconds:F1} s)\u001b[K")
                : string.Create(CultureInfo.InvariantCulture, $"   {text} ({seconds:F1} s)");
        }

        try
        {
            var detail = await work();
            if (timer is not null) await timer.DisposeAsync();
            await context.Out.WriteLineAsync(Outcome($"ok, {detail}"));
            return detail;
        }
        catch
        {
            if (timer is not null) await timer.DisposeAsync();
            await context.Out.WriteLineAsync(Outcome("FAILED"));
            throw;
        }
    }
}
