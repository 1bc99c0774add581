using System.Globalization;
using System.Text.Json.Nodes;
using NJsonSchema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Commissable.Workflows.Tests;

/// <summary>The project's workflow files against the official Workflows YAML schema.</summary>
public class WorkflowFilesTests
{
    public static TheoryData<string> Files() => new(RepositoryPaths.WorkflowFiles().Select(Path.GetFileName)!);

    [Fact]
    public void The_four_workflows_exist()
    {
        var names = RepositoryPaths.WorkflowFiles().Select(Path.GetFileName).ToList();
        Assert.Contains("disaster-recovery.yaml", names);
        Assert.Contains("on-demand-backup.yaml", names);
        Assert.Contains("clone-prod-to-staging.yaml", names);
        Assert.Contains("tenant-restore.yaml", names);
    }

    /// <summary>
    /// A value a workflow reads is a variable, and an execution's call logging (which any execution
    /// may turn on) writes variables to Cloud Logging: secret values are the functions' business.
    /// </summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void The_workflow_never_reads_or_writes_a_secret_value(string file)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Workflows(), file));

        // The connector, its methods, and the REST API reached by hand through http.get/post.
        Assert.DoesNotContain("googleapis.secretmanager", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("accessString", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secretmanager.googleapis.com", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(":access", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(":addVersion", text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task The_workflow_validates_against_the_workflows_schema(string file)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepositoryPaths.Contracts(), "workflows.schema.json"));
        var document = YamlAsJson.LoadDocument(File.ReadAllText(Path.Combine(RepositoryPaths.Workflows(), file)));

        var errors = schema.Validate(document.ToJsonString());

        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind} {e}")));
    }

    [Fact]
    public async Task The_schema_check_rejects_a_step_the_schema_does_not_know()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepositoryPaths.Contracts(), "workflows.schema.json"));
        var document = YamlAsJson.LoadDocument("""
            main:
              steps:
                - first:
                    asign:
                      - x: 1
            """);

        Assert.NotEmpty(schema.Validate(document.ToJsonString()));
    }
}

/// <summary>YAML to JSON with YAML 1.2 core-schema typing of plain scalars (quoted ones stay strings).</summary>
internal static class YamlAsJson
{
    public static JsonNode LoadDocument(string yaml) =>
        Convert(LoadStream(yaml)) ?? throw new InvalidOperationException("an empty YAML document");

    private static YamlNode LoadStream(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents[0].RootNode;
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p =>
            KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, Convert(p.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(text);
        return text switch
        {
            "" or "null" or "~" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
            _ => JsonValue.Create(text),
        };
    }
}

/// <summary>Where the repository's workflows and its copy of the contracts are, seen from the test binaries.</summary>
internal static class RepositoryPaths
{
    public static string Workflows() => Path.Combine(Root(), "workflows");

    public static IEnumerable<string> WorkflowFiles() => Directory.GetFiles(Workflows(), "*.yaml").Order(StringComparer.Ordinal);

    public static string Contracts()
    {
        var contracts = Path.Combine(Root(), "tests", "contracts");
        return Directory.Exists(contracts)
            ? contracts
            : throw new InvalidOperationException($"{contracts} not found.");
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Commissable.Functions.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"Commissable.Functions.sln not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>The project's workflow files through the local runner's parser.</summary>
public class WorkflowFilesParseTests
{
    [Theory]
    [MemberData(nameof(WorkflowFilesTests.Files), MemberType = typeof(WorkflowFilesTests))]
    public void The_workflow_uses_only_the_subset_the_local_runner_interprets(string file)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Workflows(), file));

        var exception = Record.Exception(() => WorkflowProgram.Parse(text, file));

        Assert.True(exception is null, exception is WorkflowSyntaxException syntax ? string.Join("\n", syntax.Problems) : exception?.ToString());
    }
}
