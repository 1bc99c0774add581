using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// The README's rehearsal: after a drill, workflows/disaster-recovery.yaml runs on the local cloud,
/// restores into a new instance, and only after the approval points both secrets at it and rolls the app.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class DisasterRecoveryRehearsalTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"drr-{Guid.NewGuid():N}"[..12]);

    [Fact]
    public async Task The_disaster_recovery_workflow_restores_swaps_the_secrets_and_then_rolls_the_app()
    {
        // Each command's local cloud binds a port of its own (0) on the one state directory.
        const string port = "0";
        Assert.Equal(0, await DrillCommand.RunAsync(["--state", _state, "--port", port, "--address-prefix", Commissable.Testing.LocalCloudFixture.NextAddressPrefix()]));
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var context = new CommandContext(output, errors, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
        const string Url = "postgresql://crm_app:pw@localhost/crm?host=/cloudsql/drill-project:us-central1:prod";
        foreach (var secret in new[] { "crm-database-url", "crm-direct-url" })
        {
            Assert.Equal(0, await SecretsPutCommand.RunAsync([secret, "--state", _state], context, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Url)), null));
        }
        await Task.Delay(1100);
        var pointInTime = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var workflow = Path.Combine(Repository(), "workflows", "disaster-recovery.yaml");
        var args = new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["pointInTime"] = pointInTime,
            ["newInstance"] = "prod-restored-1",
            ["databaseUrlSecret"] = "crm-database-url",
            ["directUrlSecret"] = "crm-direct-url",
        };

        // Typed at the terminal: the wrong word first, then the new instance's name.
        var exit = await WorkflowsRunCommand.RunAsync([workflow, "--args", args.ToJsonString(), "--approver", "sre-on-call", "--state", _state, "--port", port],
            context, new StringReader("yes\nprod-restored-1\n"), inputIsTerminal: true);

        Assert.True(exit == 0, output.ToString() + errors);
        // The terminal prompt follows the approval request, which carries the evidence table.
        var text = output.ToString();
        var evidenceAt = text.IndexOf("evidence for the restore to ", StringComparison.Ordinal);
        var tableAt = text.IndexOf("difference", evidenceAt < 0 ? 0 : evidenceAt, StringComparison.Ordinal);
        Assert.True(evidenceAt >= 0 && tableAt > evidenceAt && tableAt < text.IndexOf("Type 'prod-restored-1' to approve", StringComparison.Ordinal), text);
        var secrets = Path.Combine(_state, "secrets", "drill-project");
        foreach (var secret in new[] { "crm-database-url", "crm-direct-url" })
        {
            Assert.Contains("drill-project:us-central1:prod-restored-1", await File.ReadAllTextAsync(Path.Combine(secrets, secret, "2")), StringComparison.Ordinal);
        }
        var revisions = Directory.GetFiles(Path.Combine(_state, "run", "services", "drill-project", "local", "crm-app.revisions")).Order().ToList();
        Assert.Equal(2, revisions.Count);
        var rolledAt = DateTime.Parse((string)JsonNode.Parse(await File.ReadAllTextAsync(revisions[1]))!["createTime"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.True(rolledAt >= File.GetLastWriteTimeUtc(Path.Combine(secrets, "crm-direct-url", "2")).AddSeconds(-1), "the app rolled before the secrets changed");
        var approval = JsonNode.Parse(await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(Path.Combine(_state, "approvals")))))!;
        Assert.Equal("sre-on-call", (string?)approval["approvedBy"]);
        Assert.DoesNotContain("crm_app:pw", output.ToString(), StringComparison.Ordinal);
    }

    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "workflows", "disaster-recovery.yaml"))) return dir.FullName;
        }
        throw new InvalidOperationException("workflows/disaster-recovery.yaml not found above the test binaries");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
