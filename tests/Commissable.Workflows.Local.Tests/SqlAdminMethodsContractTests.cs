using System.Text.Json.Nodes;
using Commissable.Workflows.Local.CloudSql;

namespace Commissable.Workflows.Local.Tests;

/// <summary>The connector's method table says what the official discovery document says.</summary>
public sealed class SqlAdminMethodsContractTests
{
    private static readonly Lazy<Dictionary<string, JsonObject>> Discovery = new(() =>
    {
        var root = JsonNode.Parse(File.ReadAllText(Calls.Contract("sqladmin.v1beta4.json")))!.AsObject();
        var methods = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        void Walk(JsonObject resources, string prefix)
        {
            foreach (var (name, resource) in resources)
            {
                foreach (var (method, value) in resource!["methods"]?.AsObject() ?? [])
                {
                    methods[prefix + name + "." + method] = value!.AsObject();
                }
                if (resource["resources"] is JsonObject nested) Walk(nested, prefix + name + ".");
            }
        }
        Walk(root["resources"]!.AsObject(), "");
        return methods;
    });

    public static TheoryData<string> Methods() => [.. SqlAdminMethods.All.Keys];

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_has_the_discovery_documents_http_method_path_query_and_body(string name)
    {
        var method = SqlAdminMethods.All[name];
        Assert.True(Discovery.Value.TryGetValue(name, out var official), $"{name} is not in the discovery document");
        Assert.Equal((string)official["httpMethod"]!, method.HttpMethod);
        Assert.Equal((string)official["path"]!, method.Path);
        var parameters = official["parameters"]!.AsObject();
        Assert.Equal(official["parameterOrder"]!.AsArray().Select(p => (string)p!), method.PathParameters);
        var query = parameters.Where(p => (string?)p.Value!["location"] == "query").Select(p => p.Key).Order();
        Assert.Equal(query, method.Query.Order());
        // operations.get answers an Operation too, but it is the poll, not something to wait on.
        Assert.Equal((string?)official["response"]?["$ref"] == "Operation" && name != "operations.get", method.ReturnsOperation);
        Assert.Equal(official["request"] is not null, method.TakesBody);
    }

    [Fact]
    public void The_methods_the_workflows_use_are_all_served()
    {
        var connector = new CloudSqlConnector(_ => throw new InvalidOperationException("Serves asks no client"));
        foreach (var name in new[]
        {
            "instances.get", "instances.insert", "instances.clone", "instances.restoreBackup", "instances.patch", "instances.import",
            "instances.export", "backupRuns.list", "backupRuns.get", "databases.get", "databases.insert", "databases.delete",
            "databases.list", "users.list", "users.insert", "users.update", "operations.get",
        })
        {
            Assert.True(connector.Serves(SqlAdminMethods.Prefix + name), name);
        }
        Assert.False(connector.Serves(SqlAdminMethods.Prefix + "instances.failover"));
        Assert.False(connector.Serves("googleapis.sqladmin.v1.instances.get"));
    }
}
