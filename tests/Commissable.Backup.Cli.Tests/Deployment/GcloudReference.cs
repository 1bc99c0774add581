using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Commissable.Backup.Cli.Tests.Deployment;

/// <summary>One gcloud invocation as written in a script: the words after <c>gcloud</c>.</summary>
internal sealed record GcloudInvocation(IReadOnlyList<string> Words, string Source)
{
    /// <summary>The <c>--flag</c> names used (without <c>=value</c>).</summary>
    public IEnumerable<string> Flags => Words.Where(w => w.StartsWith("--", StringComparison.Ordinal) && w.Length > 2)
        .Select(w => w.Split('=', 2)[0]);

    public override string ToString() => "gcloud " + string.Join(' ', Words);
}

/// <summary>
/// The installed gcloud as the reference for the commands the deploy scripts run: the command
/// tree gcloud ships for completion splits a command's groups from its positional arguments, and
/// <c>gcloud GROUP... COMMAND --help</c> (run once per distinct command, cached) says which flags
/// exist.
/// </summary>
internal sealed partial class GcloudReference
{
    private readonly string _gcloud;
    private readonly JsonElement _tree;
    private readonly string _cacheDirectory;
    private readonly ConcurrentDictionary<string, Lazy<Task<(int ExitCode, string Text)>>> _help = new(StringComparer.Ordinal);

    private GcloudReference(string gcloud, JsonElement tree, string version)
    {
        _gcloud = gcloud;
        _tree = tree;

        // Help text only changes with the SDK, so it is kept across runs, per SDK version.
        _cacheDirectory = Path.Combine(Path.GetTempPath(), "commissable-gcloud-help", version);
    }

    /// <summary>The installed gcloud, or null when it is not on PATH.</summary>
    public static GcloudReference? Find()
    {
        var gcloud = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "gcloud"))
            .FirstOrDefault(File.Exists);
        if (gcloud is null)
        {
            return null;
        }

        // bin/gcloud is usually a symbolic link into the SDK root; the tree is <root>/data/cli.
        var real = new FileInfo(gcloud).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? gcloud;
        var root = Path.GetDirectoryName(Path.GetDirectoryName(real))!;
        var treeFile = Path.Combine(root, "data", "cli", "gcloud_completions.py");
        if (!File.Exists(treeFile))
        {
            throw new InvalidOperationException($"gcloud is at {real} but its command tree {treeFile} is missing.");
        }

        var text = File.ReadAllText(treeFile);
        using var document = JsonDocument.Parse(text.AsMemory(text.IndexOf('{', StringComparison.Ordinal)));
        var versionFile = Path.Combine(root, "VERSION");
        var version = File.Exists(versionFile) ? File.ReadAllText(versionFile).Trim() : new FileInfo(treeFile).LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new GcloudReference(real, document.RootElement.Clone(), version);
    }

    /// <summary>The command path of <paramref name="invocation"/> (e.g. <c>run services describe</c>), or null when a group names no known command.</summary>
    public IReadOnlyList<string>? CommandPath(GcloudInvocation invocation)
    {
        var path = new List<string>();
        var node = _tree;
        foreach (var word in invocation.Words)
        {
            if (word.StartsWith('-') || !node.TryGetProperty("commands", out var commands) || !commands.TryGetProperty(word, out var next))
            {
                break;
            }

            path.Add(word);
            node = next;
        }

        // A path must end at a command (no subcommands left), not at a group.
        return path.Count > 0 && (!node.TryGetProperty("commands", out var rest) || !rest.EnumerateObject().Any()) ? path : null;
    }

    /// <summary>Every problem with the invocations: unknown commands and flags their help does not list.</summary>
    public async Task<IReadOnlyList<string>> CheckAsync(IEnumerable<GcloudInvocation> invocations)
    {
        var list = invocations.ToList();
        var problems = new List<string>();
        var byCommand = new Dictionary<string, List<GcloudInvocation>>(StringComparer.Ordinal);
        foreach (var invocation in list)
        {
            var path = CommandPath(invocation);
            if (path is null)
            {
                problems.Add($"not a gcloud command: {invocation} ({invocation.Source})");
                continue;
            }

            var key = string.Join(' ', path);
            if (!byCommand.TryGetValue(key, out var group))
            {
                byCommand[key] = group = [];
            }

            group.Add(invocation);
        }

        // Each help call is a Python start-up (~1 s): a few at a time, not one per core's worth more.
        using var gate = new SemaphoreSlim(Math.Clamp(Environment.ProcessorCount, 2, 4));
        var helps = await Task.WhenAll(byCommand.Keys.Select(async key =>
        {
            await gate.WaitAsync();
            try
            {
                return (Key: key, Help: await HelpAsync(key));
            }
            finally
            {
                gate.Release();
            }
        }));

        foreach (var (key, help) in helps.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (help.ExitCode != 0)
            {
                problems.Add($"gcloud {key} --help failed ({help.ExitCode}): {FirstLine(help.Text)}");
                continue;
            }

            foreach (var invocation in byCommand[key])
            {
                foreach (var flag in invocation.Flags.Distinct(StringComparer.Ordinal))
                {
                    if (!HelpListsFlag(help.Text, flag))
                    {
                        problems.Add($"gcloud {key}: {flag} is not in its --help ({invocation.Source})");
                    }
                }
            }
        }

        return problems;
    }

    /// <summary>The distinct command paths among <paramref name="invocations"/>.</summary>
    public IReadOnlySet<string> Commands(IEnumerable<GcloudInvocation> invocations) =>
        invocations.Select(CommandPath).Where(p => p is not null).Select(p => string.Join(' ', p!)).ToHashSet(StringComparer.Ordinal);

    internal static bool HelpListsFlag(string help, string flag)
    {
        var name = flag[2..];
        var forms = new List<string> { Regex.Escape(flag), Regex.Escape("--[no-]" + name) };
        if (name.StartsWith("no-", StringComparison.Ordinal))
        {
            forms.Add(Regex.Escape("--[no-]" + name[3..]));
        }

        return Regex.IsMatch(help, $"(?<![A-Za-z0-9-])(?:{string.Join('|', forms)})(?![A-Za-z0-9-])");
    }

    private Task<(int ExitCode, string Text)> HelpAsync(string command) =>
        _help.GetOrAdd(command, c => new Lazy<Task<(int, string)>>(() => RunHelpAsync(c))).Value;

    private async Task<(int, string)> RunHelpAsync(string command)
    {
        var cached = Path.Combine(_cacheDirectory, command.Replace(' ', '_') + ".txt");
        if (File.Exists(cached))
        {
            return (0, await File.ReadAllTextAsync(cached));
        }

        var (code, text) = await RenderHelpAsync(command);
        if (code == 0)
        {
            Directory.CreateDirectory(_cacheDirectory);
            var partial = cached + "." + Guid.NewGuid().ToString("N");
            await File.WriteAllTextAsync(partial, text);
            File.Move(partial, cached, overwrite: true);
        }

        return (code, text);
    }

    private async Task<(int, string)> RenderHelpAsync(string command)
    {
        var start = new ProcessStartInfo(_gcloud)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var word in command.Split(' '))
        {
            start.ArgumentList.Add(word);
        }

        start.ArgumentList.Add("--help");

        // Offline and quiet: no metadata server probe, no usage reporting, no pager, no prompts.
        start.Environment["CLOUDSDK_CORE_CHECK_GCE_METADATA"] = "false";
        start.Environment["CLOUDSDK_METRICS_ENVIRONMENT"] = "commissable-tests";
        start.Environment["CLOUDSDK_CORE_DISABLE_USAGE_REPORTING"] = "true";
        start.Environment["CLOUDSDK_CORE_DISABLE_PROMPTS"] = "1";
        start.Environment["CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK"] = "true";
        start.Environment["PAGER"] = "cat";
        start.Environment["TERM"] = "dumb";
        var (code, output, error) = await ProcessRunner.RunAsync(start, TimeSpan.FromSeconds(60));
        return (code, AnsiEscape().Replace(output + error, string.Empty));
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? string.Empty;

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}

/// <summary>Finds gcloud invocations in script text and splits them into words as a POSIX shell would.</summary>
internal static class ShellText
{
    /// <summary>
    /// Every <c>gcloud ...</c> in <paramref name="text"/> outside comments, with backslash line
    /// continuations joined; a command ends at an unquoted <c>; | &amp; )</c>, a comment or the line's end.
    /// </summary>
    public static IReadOnlyList<GcloudInvocation> FindGcloud(string text, string source)
    {
        var found = new List<GcloudInvocation>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNumber = i + 1;
            var line = lines[i];
            while (line.EndsWith('\\') && i + 1 < lines.Length)
            {
                line = line[..^1] + " " + lines[++i].TrimStart();
            }

            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            foreach (Match match in Regex.Matches(line, @"(?:^|[\s(""'`+])gcloud\s"))
            {
                var at = match.Index + match.Value.IndexOf("gcloud", StringComparison.Ordinal);
                var words = Split(line[at..]);
                if (words.Count > 1 && words[0] == "gcloud")
                {
                    found.Add(new GcloudInvocation(words.Skip(1).ToList(), $"{source}:{lineNumber}"));
                }
            }
        }

        return found;
    }

    /// <summary>The words of one command: quotes removed, escapes resolved, stopping at a control operator.</summary>
    public static List<string> Split(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (c is ' ' or '\t')
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }

                continue;
            }

            if (!inWord && c == '#')
            {
                break;
            }

            if (c is ';' or '|' or '&' or ')' or '>' or '<')
            {
                break;
            }

            inWord = true;
            switch (c)
            {
                case '\\' when i + 1 < command.Length:
                    word.Append(command[++i]);
                    break;
                case '\'':
                    var close = command.IndexOf('\'', i + 1);
                    close = close < 0 ? command.Length : close;
                    word.Append(command, i + 1, close - i - 1);
                    i = close;
                    break;
                case '$' when i + 1 < command.Length && command[i + 1] == '\'':
                    // $'...' (printf %q's form for control characters): backslash escapes inside.
                    i += 2;
                    for (; i < command.Length && command[i] != '\''; i++)
                    {
                        word.Append(command[i] == '\\' && i + 1 < command.Length ? Unescape(command[++i]) : command[i]);
                    }

                    break;
                case '"':
                    for (i++; i < command.Length && command[i] != '"'; i++)
                    {
                        if (command[i] == '\\' && i + 1 < command.Length && command[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            i++;
                        }

                        word.Append(command[i]);
                    }

                    break;
                default:
                    word.Append(c);
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private static char Unescape(char c) => c switch
    {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        _ => c,
    };
}

/// <summary>Runs a process to its end, collecting its output, killing it after a timeout.</summary>
internal static class ProcessRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await output, await error);
    }
}
