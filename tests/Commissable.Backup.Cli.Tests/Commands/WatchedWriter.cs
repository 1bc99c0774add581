using System.Text;
using System.Text.RegularExpressions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>Collects what <c>local up</c> prints (from several threads) and tells when a pattern first appears.</summary>
internal sealed class WatchedWriter : StringWriter
{
    private readonly Lock _lock = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _waits = [];

    public override Encoding Encoding => Encoding.UTF8;

    public Task<Match> WhenMatches(Regex pattern)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waits.Add((pattern, found));
        }
        Check();
        return found.Task;
    }

    public override void Write(char value)
    {
        lock (_lock) base.Write(value);
        Check();
    }

    public override void Write(string? value)
    {
        lock (_lock) base.Write(value);
        Check();
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock) base.Write(buffer, index, count);
        Check();
    }

    public override void WriteLine(string? value)
    {
        lock (_lock) base.WriteLine(value);
        Check();
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override string ToString()
    {
        lock (_lock) return base.ToString();
    }

    private void Check()
    {
        List<(Regex Pattern, TaskCompletionSource<Match> Found)> waits;
        lock (_lock)
        {
            waits = [.. _waits];
        }
        var text = ToString();
        foreach (var (pattern, found) in waits)
        {
            if (pattern.Match(text) is { Success: true } match)
            {
                found.TrySetResult(match);
            }
        }
    }
}
