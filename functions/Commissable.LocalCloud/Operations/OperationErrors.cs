using System.Text;
using System.Text.RegularExpressions;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud.Api;
using Npgsql;

namespace Commissable.LocalCloud.Operations;

/// <summary>
/// Turns what an operation's work threw into the <c>OperationError</c> a caller sees: Google-shaped
/// messages that keep what an operator needs (the PostgreSQL error message and SQLSTATE, the line
/// of the file that failed, the gs:// object) and nothing of the machine: no absolute path, no
/// server log line, no .NET exception type or stack text, no line echoed from an imported file
/// (psql's <c>LINE n:</c> and pg_restore's <c>Command was:</c> quote the file). The full text
/// goes to the local cloud's log.
/// </summary>
internal static partial class OperationErrors
{
    private const int MaxLines = 8;
    private const int MaxLength = 1000;

    /// <summary>The generic answer for a failure whose text is the runtime's, not the local cloud's.</summary>
    public const string Internal = "An internal error occurred in the local cloud; its log has the details.";

    /// <summary>The code and caller-facing message for <paramref name="error"/>.</summary>
    public static (string Code, string Message) Describe(Exception error, string stateDirectory) => error switch
    {
        OperationFailedException failed => (failed.Code, Clean(failed.Message, stateDirectory)),
        ApiException api => (api.Reason, Clean(api.Message, stateDirectory)),
        PostgresException postgres => ("ERROR_RDBMS", Clean($"{postgres.Severity}: {postgres.MessageText} (SQLSTATE {postgres.SqlState})", stateDirectory)),
        NpgsqlException => ("INTERNAL_ERROR", "The instance's database server could not be reached; it may be stopping or restarting. Retry the request."),
        ExternalProcessException process => ("INTERNAL_ERROR", Clean($"{process.Program} failed: {process.ErrorOutput}", stateDirectory)),
        IOException or UnauthorizedAccessException => ("INTERNAL_ERROR", Clean(error.Message, stateDirectory)),
        InvalidOperationException or ArgumentException when ThrownByTheLocalCloud(error) => ("INTERNAL_ERROR", Clean(error.Message, stateDirectory)),
        _ => ("INTERNAL_ERROR", Internal),
    };

    /// <summary>The full text for the log, on one line.</summary>
    public static string ForLog(Exception error)
    {
        var text = error is ExternalProcessException process ? $"{error.GetType().Name}: {process.Program} exited with {process.ExitCode}: {process.ErrorOutput}" : error.ToString();
        return text.ReplaceLineEndings(" | ");
    }

    /// <summary>Removes paths, log lines, exception names and echoed file lines from <paramref name="message"/>.</summary>
    internal static string Clean(string message, string stateDirectory)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(stateDirectory));
        var buckets = Path.Combine(root, "buckets") + "/";
        var kept = new List<string>();
        var quoting = false;
        foreach (var raw in message.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.TrimEnd();
            if (CommandWas().IsMatch(line))
            {
                // pg_restore follows with the statement, which is the file's content, up to its next message.
                quoting = true;
                continue;
            }
            if (quoting && !ToolMessage().IsMatch(line)) continue;
            quoting = false;
            if (line.Length == 0 || EchoedOrDetail().IsMatch(line) || ServerLogLine().IsMatch(line) || StackFrame().IsMatch(line)) continue;
            line = PsqlPosition().Replace(line, m => $"{m.Groups["level"].Value} at line {m.Groups["line"].Value} of the file: ");
            line = line.Replace(buckets, "gs://", StringComparison.Ordinal);
            line = line.Replace(root, "", StringComparison.Ordinal);
            line = AbsolutePath().Replace(line, m => Path.GetFileName(m.Value));
            line = ExceptionName().Replace(line, "");
            line = DoubleSpace().Replace(line, " ").Trim();
            if (line.Length > 0) kept.Add(line);
            if (kept.Count == MaxLines) break;
        }
        var text = new StringBuilder(string.Join('\n', kept));
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]) && text[i] != '\n') text[i] = ' ';
        }
        var result = text.ToString().Trim();
        if (result.Length > MaxLength) result = result[..MaxLength] + "…";
        return result.Length == 0 ? Internal : result;
    }

    private static bool ThrownByTheLocalCloud(Exception error) =>
        error.TargetSite?.DeclaringType?.FullName?.StartsWith("Commissable.", StringComparison.Ordinal) ?? false;

    [GeneratedRegex(@"\A\s*Command was:", RegexOptions.CultureInvariant)]
    private static partial Regex CommandWas();

    [GeneratedRegex(@"\A(?:pg_restore|pg_dump|psql|gzip|pg_basebackup|pg_ctl|initdb)\b|\A(?:ERROR|FATAL|PANIC|WARNING):", RegexOptions.CultureInvariant)]
    private static partial Regex ToolMessage();

    /// <summary>psql's echo of the failing line and its caret, and the server's detail lines (they quote rows and statements).</summary>
    [GeneratedRegex(@"\A\s*(?:LINE \d+:|\^\s*\z|(?:DETAIL|CONTEXT|HINT|QUERY|STATEMENT|LOCATION|WHERE):)", RegexOptions.CultureInvariant)]
    private static partial Regex EchoedOrDetail();

    /// <summary>A line of the server's own log (log_line_prefix starts with the time).</summary>
    [GeneratedRegex(@"\A\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", RegexOptions.CultureInvariant)]
    private static partial Regex ServerLogLine();

    [GeneratedRegex(@"\A\s+at \S+\(|\A\s*--- End of", RegexOptions.CultureInvariant)]
    private static partial Regex StackFrame();

    /// <summary><c>psql:/path/file.sql:12: ERROR:  text</c>: the file's path goes, its line number stays.</summary>
    [GeneratedRegex(@"psql:[^\n]*?:(?<line>\d+): (?<level>ERROR|FATAL|WARNING|PANIC):\s+", RegexOptions.CultureInvariant)]
    private static partial Regex PsqlPosition();

    [GeneratedRegex(@"(?<![\w/:.])/(?:[\w.@+-]+/)*[\w.@+-]+", RegexOptions.CultureInvariant)]
    private static partial Regex AbsolutePath();

    [GeneratedRegex(@"\b(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*Exception\b:?\s*", RegexOptions.CultureInvariant)]
    private static partial Regex ExceptionName();

    [GeneratedRegex(@"[ \t]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex DoubleSpace();
}
