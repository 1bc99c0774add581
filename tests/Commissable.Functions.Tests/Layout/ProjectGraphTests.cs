using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Commissable.Functions.Tests.Layout;

/// <summary>
/// The dependency graph drawn at the top of the README's Layout section is the one the project
/// files declare: every project under <c>functions/</c>, every <c>ProjectReference</c>, nothing more.
/// </summary>
public sealed partial class ProjectGraphTests
{
    [Fact]
    public void The_README_graph_is_the_graph_of_the_project_files()
    {
        var (drawnProjects, drawnEdges) = ReadmeGraph();
        var (projects, edges) = ProjectFileGraph();

        Assert.Equal(projects.Order(StringComparer.Ordinal), drawnProjects.Order(StringComparer.Ordinal));
        var missing = edges.Except(drawnEdges).Select(e => $"{e.From} -> {e.To}").Order(StringComparer.Ordinal).ToList();
        var extra = drawnEdges.Except(edges).Select(e => $"{e.From} -> {e.To}").Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"README's graph differs from the csproj files. Missing from the README: [{string.Join("; ", missing)}]. Not in any csproj: [{string.Join("; ", extra)}].");
    }

    [Fact]
    public void Dependencies_point_one_way_and_the_functions_host_reaches_no_emulator_cluster_driver_or_demo()
    {
        var (projects, edges) = ProjectFileGraph();
        var reach = projects.ToDictionary(p => p, p => Reachable(p, edges), StringComparer.Ordinal);

        Assert.All(projects, p => Assert.DoesNotContain(p, reach[p]));
        Assert.DoesNotContain(edges, e => e.From == "Commissable.Backup.Core");
        Assert.DoesNotContain("Commissable.LocalCloud", reach["Commissable.Functions"]);
        Assert.DoesNotContain("Commissable.Backup.Postgres.Local", reach["Commissable.Functions"]);
        Assert.DoesNotContain("Commissable.Backup.Cli", reach["Commissable.Functions"]);
        Assert.DoesNotContain("Commissable.Workflows", reach["Commissable.Functions"]);
        Assert.Equal(["Commissable.Backup.Core"], reach["Commissable.Backup.FileStore"]);
    }

    private static HashSet<string> Reachable(string project, HashSet<(string From, string To)> edges)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            foreach (var edge in edges.Where(e => e.From == current && seen.Add(e.To)))
            {
                pending.Push(edge.To);
            }
        }

        return seen;
    }

    /// <summary>The first fenced block of the README's <c>## Layout</c> section: lines <c>A -> B</c>, or a lone <c>A</c> for a project that references none.</summary>
    private static (HashSet<string> Projects, HashSet<(string From, string To)> Edges) ReadmeGraph()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryFiles.Root, "README.md"));
        var section = Array.IndexOf(lines, "## Layout");
        Assert.True(section >= 0, "README.md has no '## Layout' section.");
        var open = Array.FindIndex(lines, section + 1, l => l.StartsWith("```", StringComparison.Ordinal) || l.StartsWith("## ", StringComparison.Ordinal));
        Assert.True(open >= 0 && lines[open].StartsWith("```", StringComparison.Ordinal), "The '## Layout' section of README.md does not start with the fenced project graph.");
        var close = Array.FindIndex(lines, open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        Assert.True(close > open, "The project graph's fenced block in README.md is not closed.");

        var projects = new HashSet<string>(StringComparer.Ordinal);
        var edges = new HashSet<(string, string)>();
        foreach (var line in lines[(open + 1)..close].Where(l => l.Trim().Length > 0))
        {
            var match = GraphLine().Match(line.Trim());
            Assert.True(match.Success, $"'{line}' in the README's project graph is neither 'A -> B' nor 'A'.");
            projects.Add(match.Groups["from"].Value);
            if (match.Groups["to"].Success)
            {
                projects.Add(match.Groups["to"].Value);
                edges.Add((match.Groups["from"].Value, match.Groups["to"].Value));
            }
        }

        return (projects, edges);
    }

    /// <summary>Every project under <c>functions/</c> and its <c>ProjectReference</c>s, by project name.</summary>
    private static (HashSet<string> Projects, HashSet<(string From, string To)> Edges) ProjectFileGraph()
    {
        var projects = new HashSet<string>(StringComparer.Ordinal);
        var edges = new HashSet<(string, string)>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryFiles.Root, "functions"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            projects.Add(name);
            foreach (var reference in XDocument.Load(file).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")?.Value ?? "";
                edges.Add((name, Path.GetFileNameWithoutExtension(include.Replace('\\', '/'))));
            }
        }

        return (projects, edges);
    }

    [GeneratedRegex(@"\A(?<from>[A-Za-z][A-Za-z0-9.]*)(?: -> (?<to>[A-Za-z][A-Za-z0-9.]*))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex GraphLine();
}
