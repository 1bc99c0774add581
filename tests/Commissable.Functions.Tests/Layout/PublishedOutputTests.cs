using System.Text.Json.Nodes;

namespace Commissable.Functions.Tests.Layout;

/// <summary>
/// What the functions host ships: its <c>Commissable.Functions.deps.json</c> (the SDK copies it
/// beside the test binaries) lists every assembly <c>dotnet publish</c> puts in the image.
/// </summary>
public sealed class PublishedOutputTests
{
    [Fact]
    public void The_functions_host_ships_no_local_cloud_cluster_driver_demo_cli_or_workflow_runner()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Commissable.Functions.deps.json");
        Assert.True(File.Exists(path), $"{path} is missing: the build no longer copies the host's dependency manifest beside the tests.");
        var libraries = JsonNode.Parse(File.ReadAllText(path))!["libraries"]!.AsObject();
        var projects = libraries
            .Where(l => (string?)l.Value!["type"] == "project")
            .Select(l => l.Key.Split('/')[0])
            .Order(StringComparer.Ordinal)
            .ToList();

        // The adapters it does ship: proof that this is the host's manifest and that it was read.
        Assert.Contains("Commissable.Backup.FileStore", projects);
        Assert.Contains("Commissable.Backup.Postgres", projects);
        Assert.DoesNotContain("Commissable.LocalCloud", projects);
        Assert.DoesNotContain("Commissable.Backup.Postgres.Local", projects);
        Assert.DoesNotContain("Commissable.Backup.Cli", projects);
        Assert.DoesNotContain("Commissable.Workflows", projects);
        Assert.DoesNotContain(libraries, l => l.Key.StartsWith("Commissable.LocalCloud", StringComparison.Ordinal));
    }
}
