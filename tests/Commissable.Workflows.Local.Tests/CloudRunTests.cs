using System.Text.Json.Nodes;
using Commissable.Workflows.Local.CloudRun;

namespace Commissable.Workflows.Local.Tests;

/// <summary>The local Cloud Run stand-in rolls a new revision when, and only when, the template changes.</summary>
public sealed class CloudRunTests : IDisposable
{
    private const string Name = "projects/p/locations/local/services/crm-app";
    private const string Get = "googleapis.run.v2.projects.locations.services.get";
    private const string Patch = "googleapis.run.v2.projects.locations.services.patch";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"run-{Guid.NewGuid():N}"[..12]);

    [Fact]
    public async Task A_patch_that_changes_the_template_creates_a_ready_revision()
    {
        var services = new LocalRunServices(_directory);
        var created = services.Ensure(Name, Template("v1"));
        Assert.Matches("^projects/p/locations/local/services/crm-app/revisions/crm-app-00001-[a-z]{3}$", (string?)created["latestReadyRevision"]);
        var connector = new CloudRunConnector(services);

        var service = (await connector.CallAsync(Get, new JsonObject { ["name"] = Name }))!.AsObject();
        service["template"] = Template("v2");
        var patched = (await connector.CallAsync(Patch, new JsonObject { ["name"] = Name, ["body"] = service }))!.AsObject();

        Assert.Matches("/revisions/crm-app-00002-[a-z]{3}$", (string?)patched["latestCreatedRevision"]);
        Assert.Equal((string?)patched["latestCreatedRevision"], (string?)patched["latestReadyRevision"]);
        Assert.Equal("2", (string?)patched["generation"]);
        Assert.Equal("CONDITION_SUCCEEDED", (string?)patched["terminalCondition"]!["state"]);
        Assert.True(DateTimeOffset.Parse((string)patched["updateTime"]!, System.Globalization.CultureInfo.InvariantCulture) >= DateTimeOffset.Parse((string)created["updateTime"]!, System.Globalization.CultureInfo.InvariantCulture));

        // The same template again: the service is updated, no revision is made.
        var again = (await connector.CallAsync(Patch, new JsonObject { ["name"] = Name, ["body"] = patched.DeepClone() }))!.AsObject();
        Assert.Equal((string?)patched["latestReadyRevision"], (string?)again["latestReadyRevision"]);
        Assert.Equal(2, services.Revisions(Name).Count);
        Assert.Equal("v2", (string?)services.Revisions(Name)[1]["template"]!["labels"]!["build"]);
    }

    [Fact]
    public async Task A_missing_service_is_a_404_unless_allowMissing()
    {
        var connector = new CloudRunConnector(new LocalRunServices(_directory));
        var error = await connector.RaisesAsync("HttpError", Get, new JsonObject { ["name"] = Name });
        Assert.Equal(404, (int)error["code"]!);
        await connector.RaisesAsync("HttpError", Patch, new JsonObject { ["name"] = Name, ["body"] = new JsonObject { ["template"] = Template("v1") } });
        var created = await connector.CallAsync(Patch, new JsonObject { ["name"] = Name, ["allowMissing"] = true, ["body"] = new JsonObject { ["template"] = Template("v1") } });
        Assert.Matches("crm-app-00001-", (string?)created!["latestReadyRevision"]);
        var bad = await connector.RaisesAsync("HttpError", Get, new JsonObject { ["name"] = "projects/p/../../x" });
        Assert.Equal(400, (int)bad["code"]!);
    }

    private static JsonObject Template(string build) => new()
    {
        ["labels"] = new JsonObject { ["build"] = build },
        ["containers"] = new JsonArray(new JsonObject { ["image"] = "local/crm-app:latest" }),
    };

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
