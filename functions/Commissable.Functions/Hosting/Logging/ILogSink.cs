using System.Text;

namespace Commissable.Functions.Hosting.Logging;

/// <summary>
/// Where finished log lines go: one JSON object per call, never containing a line break. Cloud
/// Run sends standard output to Cloud Logging; tests pass a sink that keeps every line.
/// </summary>
public interface ILogSink
{
    /// <summary>Writes one complete line (without its terminating newline). Must be thread-safe.</summary>
    void Write(string line);
}

/// <summary>Standard output, where Cloud Run's logging agent reads structured entries.</summary>
public sealed class ConsoleLogSink : ILogSink
{
    private readonly Lock _gate = new();
    private readonly Stream _stdout = Console.OpenStandardOutput();

    /// <summary>The one instance: standard output is one stream.</summary>
    public static ConsoleLogSink Instance { get; } = new();

    private ConsoleLogSink()
    {
    }

    /// <inheritdoc />
    public void Write(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_gate)
        {
            try
            {
                _stdout.Write(bytes);
                _stdout.Flush();
            }
            catch (IOException)
            {
                // Standard output is gone (the container is stopping): there is nowhere left to log to.
            }
        }
    }
}
