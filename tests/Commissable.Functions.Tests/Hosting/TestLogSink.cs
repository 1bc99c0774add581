using System.Collections.Concurrent;
using System.Text.Json;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Tests.Hosting;

/// <summary>
/// Keeps every line a host logs. Each sink keeps its own lines for its test, and every line of
/// every sink is also kept in <see cref="AllLines"/>, so a suite-wide test can scan everything the
/// suite logged (for secrets, for multi-line entries).
/// </summary>
public sealed class TestLogSink : ILogSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    /// <summary>Every line written to any sink during this test run.</summary>
    public static ConcurrentQueue<string> AllLines { get; } = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>The lines parsed; each must be one JSON object.</summary>
    public IReadOnlyList<JsonElement> Entries => [.. _lines.Select(Parse)];

    public void Write(string line)
    {
        _lines.Enqueue(line);
        AllLines.Enqueue(line);
    }

    /// <summary>The entries whose <c>event</c> is <paramref name="eventName"/>.</summary>
    public IReadOnlyList<JsonElement> WithEvent(string eventName) =>
        [.. Entries.Where(e => e.TryGetProperty("event", out var name) && name.GetString() == eventName)];

    /// <summary>The entries of <paramref name="severity"/>.</summary>
    public IReadOnlyList<JsonElement> WithSeverity(string severity) =>
        [.. Entries.Where(e => e.GetProperty("severity").GetString() == severity)];

    public static JsonElement Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }
}
