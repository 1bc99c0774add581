using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.FileStore;
using Commissable.Testing;

namespace Commissable.Backup.Cli.Tests;

/// <summary>The README's main command: the drill passes from a clean state directory, and again on what it left.</summary>
[Collection(DrillCollection.Name)]
public sealed class DrillTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"drill-{Guid.NewGuid():N}"[..14]);

    [Fact]
    public async Task The_drill_passes_from_a_clean_state_directory_twice_in_a_row()
    {
        // The local cloud on a port it binds itself (each drill its own), and the drill's clock at
        // noon of today, running: both drills name their scheduled export for the same day even
        // when the real ones straddle midnight.
        var now = TimeProvider.System.GetUtcNow();
        var clock = new ShiftedClock(new DateTimeOffset(now.UtcDateTime.Date.AddHours(12), TimeSpan.Zero) - now);
        string[] args = ["drill", "--state", _state, "--port", "0", "--address-prefix", LocalCloudFixture.NextAddressPrefix()];

        using var output = new StringWriter();
        var context = new CommandContext(output, output, clock, (d, t) => Task.Delay(d, t), CancellationToken.None);
        Assert.True(await CommandTree.InvokeAsync(args, context) == 0, output.ToString());
        Assert.True(await CommandTree.InvokeAsync(args, context) == 0, output.ToString());

        // Two pre-deploy exports and one scheduled export recorded, and two verifications.
        var backups = Path.Combine(_state, "buckets", "drill-backups", "backups", "prod", "prod");
        Assert.Equal(2, Directory.EnumerateFiles(backups, "*_before_drill-*.sql.gz.manifest.json").Count());
        Assert.Single(Directory.EnumerateFiles(backups, "*_scheduled.sql.gz.manifest.json"));
        Assert.Equal(2, Directory.EnumerateFiles(backups, "*.json", SearchOption.AllDirectories).Count(f => f.Contains(".verifications", StringComparison.Ordinal)));

        // The completion event carried the object's own generation (microseconds since the Unix epoch), and the manifest kept it.
        var scheduled = Path.GetFileName(Directory.EnumerateFiles(backups, "*_scheduled.sql.gz").Single());
        var stored = await new LocalBackupStore(new BucketPaths(_state), "drill-backups").GetAsync($"backups/prod/prod/{scheduled}");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(backups, scheduled + ".manifest.json")))!;
        Assert.Equal(stored!.Generation.ToString(CultureInfo.InvariantCulture), manifest["generation"]!.ToString());

        // What both drills' functions logged holds neither the instances' password nor the local cloud's token.
        var drill = Path.Combine(_state, "drill");
        string[] secrets = [File.ReadAllText(Path.Combine(drill, "root-password")).Trim(), File.ReadAllText(Commissable.LocalCloud.LocalCloudHost.TokenFile(_state)).Trim()];
        SecretScan.AssertClean(File.ReadLines(Path.Combine(drill, "functions.log")).Select(l => ("functions log line", l)), secrets, SecretScan.CredentialShapes);
    }

    [Fact]
    public async Task Ctrl_C_stops_the_drill_at_its_step_exit_2_and_the_local_cloud_it_started_is_stopped()
    {
        string[] args = ["drill", "--state", _state, "--port", "0", "--address-prefix", LocalCloudFixture.NextAddressPrefix()];
        using var interrupt = new CancellationTokenSource();
        // Ctrl-C as the drill announces its second step: the local cloud is up, nothing else yet.
        using var output = new InterruptingWriter("-> prod instance (backups, PITR) ...", interrupt);
        var context = new CommandContext(output, output, TimeProvider.System, (d, t) => Task.Delay(d, t), interrupt.Token);

        var exit = await CommandTree.InvokeAsync(args, context);

        var text = output.ToString();
        Assert.True(exit == 2, text);
        Assert.Contains("   interrupted (Ctrl-C)", text, StringComparison.Ordinal);
        Assert.Matches(@"prod instance \(backups, PITR\) +stopped +[0-9.]+s  interrupted \(Ctrl-C\)", text);
        Assert.Contains("drill interrupted in ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("-> verification instance", text, StringComparison.Ordinal);
        Assert.DoesNotContain("FAILED", text, StringComparison.Ordinal);
        // The drill stopped the local cloud it had started: its port no longer answers.
        var started = Regex.Match(text, @"started on 127\.0\.0\.1:(\d+)");
        Assert.True(started.Success, text);
        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, int.Parse(started.Groups[1].Value, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task A_bad_option_is_a_usage_error()
    {
        Assert.Equal(64, await DrillCommand.RunAsync(["--size", "huge"]));
        Assert.Equal(64, await DrillCommand.RunAsync(["--nope"]));
        Assert.Equal(64, await DrillCommand.RunAsync(["--address-prefix", "192.168.1"]));
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

/// <summary>
/// Tests that run a drill each use their own block of loopback addresses, so they never meet
/// another test process's instances; they still run one by one, as each starts several clusters
/// and the functions.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DrillCollection
{
    public const string Name = "drills, one at a time";
}

/// <summary>Output that presses Ctrl-C (cancels <paramref name="interrupt"/>) as the line holding <paramref name="marker"/> is written.</summary>
internal sealed class InterruptingWriter(string marker, CancellationTokenSource interrupt) : StringWriter(CultureInfo.InvariantCulture)
{
    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        if (value?.Contains(marker, StringComparison.Ordinal) == true)
        {
            interrupt.Cancel();
        }
    }
}
