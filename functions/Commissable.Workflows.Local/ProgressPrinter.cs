using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local;

/// <summary>Prints a local run as it goes: one line per step (time, path, line) and per <c>sys.log</c>.</summary>
internal sealed class ProgressPrinter(TextWriter output, TimeProvider time) : IWorkflowObserver
{
    private readonly Lock _lock = new();

    public void StepStarted(string path, int line) =>
        Write(string.Create(CultureInfo.InvariantCulture, $"{Now()}  step  {path} (line {line})"));

    public void Logged(string severity, JsonNode? data) =>
        Write($"{Now()}  {severity,-6} {(data is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : data?.ToJsonString() ?? "null")}");

    private string Now() => time.GetUtcNow().UtcDateTime.ToString("HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private void Write(string line)
    {
        lock (_lock)
        {
            // One entry, one line: a multi-line log text must not break the layout.
            output.WriteLine(line.ReplaceLineEndings(" "));
        }
    }
}
