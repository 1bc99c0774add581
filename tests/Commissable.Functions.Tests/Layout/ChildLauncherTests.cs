using System.Text.RegularExpressions;

namespace Commissable.Functions.Tests.Layout;

/// <summary>
/// Every program the product runs is started in one place, <c>ChildLauncher</c> in
/// <c>ChildProcesses.cs</c>, reached through <c>ExternalProcess.Start</c>: its own process group
/// (<c>setsid</c>) and death with its parent (<c>setpriv --pdeathsig</c>). A <c>Process.Start</c>
/// anywhere else under <c>functions/</c> starts a child that outlives a crash.
/// </summary>
public sealed partial class ChildLauncherTests
{
    [Fact]
    public void No_source_file_under_functions_starts_a_process_except_the_child_launcher()
    {
        var functions = Path.Combine(RepositoryFiles.Root, "functions");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(functions, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepositoryFiles.Root, file).Replace('\\', '/');
            if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal)
                || relative == "functions/Commissable.Backup.Postgres/Processes/ChildProcesses.cs")
            {
                continue;
            }
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (StartsAProcess().IsMatch(lines[i]))
                {
                    offenders.Add($"{relative}:{i + 1}");
                }
            }
        }

        Assert.True(offenders.Count == 0,
            $"Process.Start outside ChildProcesses.cs (run the program through ExternalProcess instead): {string.Join(", ", offenders)}");
    }

    [GeneratedRegex(@"(?<![\w.])(?:System\.Diagnostics\.)?Process\.Start\s*\(|\bnew\s+(?:System\.Diagnostics\.)?Process\s*[({]", RegexOptions.CultureInvariant)]
    private static partial Regex StartsAProcess();
}
