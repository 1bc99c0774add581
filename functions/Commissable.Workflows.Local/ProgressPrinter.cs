using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local;

/// <summary>Prints a local run as it goes: one line per step (time, path, line) and per <c>sys.log</c>.</summary>
/// <remarks>
/// A <c>sys.log</c> text of several lines (the disaster-recovery approval request carries a table)
/// is printed as one entry: its first line after the time and severity, the others indented under
/// it. So a line of a logged text can never pass for an entry of its own (it never starts with a
/// time), and a table stays a table.
/// </remarks>
internal sealed class ProgressPrinter(TextWriter output, TimeProvider time) : IWorkflowObserver
{
    private readonly Lock _lock = new();

    public void StepStarted(string path, int line) =>
        Write(string.Create(CultureInfo.InvariantCulture, $"{Now()}  step  {path} (line {line})"), "");

    public void Logged(string severity, JsonNode? data)
    {
        var prefix = $"{Now()}  {severity,-6} ";
        Write(prefix + (data is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : data?.ToJsonString() ?? "null"),
            new string(' ', prefix.Length));
    }

    private string Now() => time.GetUtcNow().UtcDateTime.ToString("HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private void Write(string entry, string indent)
    {
        var lines = entry.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        var text = new StringBuilder(lines[0]);
        foreach (var line in lines.Skip(1))
        {
            // Indented even when the line is empty, so the entry's end stays where the next entry's time is.
            text.Append(Environment.NewLine).Append(indent.Length > 0 ? indent : "  ").Append(line);
        }
        lock (_lock)
        {
            output.WriteLine(text.ToString());
        }
    }
}
