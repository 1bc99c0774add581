using System.Collections.Concurrent;
using System.Text.Json;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Testing;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// Two instances of a local cloud, as an operator meets them: <c>src</c> (production: the Tiny
/// demo in <c>crm</c>, with a materialized view, as a non-superuser <c>postgres</c> made it) and
/// <c>staging</c> (another cluster, the restore's target). One <c>pg_dump -Fc</c> of <c>crm</c>
/// made here (not by the dump command), with its content manifest beside it.
/// </summary>
public sealed class RestoreEnvironment : IAsyncLifetime
{
    public const string SourcePassword = "src-root-pw-8e21f4";
    public const string StagingPassword = "staging-root-pw-5b7c0d";

    private readonly string _files = Path.Combine(Path.GetTempPath(), $"restore-test-{Guid.NewGuid():N}"[..24]);

    public LocalCloudFixture Cloud { get; } = new();
    public string SourceAddress { get; private set; } = "";
    public string StagingAddress { get; private set; } = "";

    /// <summary>The custom-format dump of <c>src/crm</c>; <see cref="DumpSource"/>'s manifest is beside it.</summary>
    public string Dump { get; private set; } = "";

    /// <summary>The content manifest's content section (read from the dump's own bytes).</summary>
    public BackupContent Content { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_files, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await Cloud.InitializeAsync();
        await Task.WhenAll(
            Cloud.CreateInstanceAsync("src", pitr: false, rootPassword: SourcePassword),
            Cloud.CreateInstanceAsync("staging", pitr: false, rootPassword: StagingPassword));
        SourceAddress = await Cloud.AddressOfAsync("src");
        StagingAddress = await Cloud.AddressOfAsync("staging");

        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api("instances/src/databases"), """{"name":"crm"}""");
        var crm = await Cloud.ConnectionStringAsync("src", "crm", SourcePassword);
        await DemoDatabase.CreateAsync(crm, DemoDatabaseOptions.Tiny);
        await Sql.ExecuteAsync(crm, """CREATE MATERIALIZED VIEW "AccountsPerTenant" AS SELECT "tenantId", count(*) AS accounts FROM "Account" GROUP BY "tenantId" """);

        Dump = Path.Combine(_files, "backup_20260301_0930_prod_before_restore-test.dump");
        await DumpAsync(Dump);
        Content = await PostgresBackupContentReader.ReadFileAsync(Dump, new DumpReadOptions(), Cloud.Binaries);
        await WriteManifestAsync(Dump, Content);
    }

    public async Task DisposeAsync()
    {
        await Cloud.DisposeAsync();
        Directory.Delete(_files, recursive: true);
    }

    /// <summary>The strategy's dump: <c>pg_dump --format=custom --no-owner --no-privileges</c>, the password in the environment, the time zone pinned.</summary>
    public async Task DumpAsync(string file) => await new ExternalProcess
    {
        FileName = Cloud.Binaries.Path("pg_dump"),
        Arguments = ["--format=custom", "--no-owner", "--no-privileges", "--file=" + file,
            "--dbname=" + LibpqConnection.Build(SourceAddress, 5432, "postgres", "crm"), "--no-password"],
        Environment = new Dictionary<string, string> { ["PGPASSWORD"] = SourcePassword, ["PGTZ"] = "UTC" },
        InheritPostgresVariables = false,
    }.RunAsync();

    /// <summary>A manifest as the functions write one, holding <paramref name="content"/>, beside <paramref name="dump"/>.</summary>
    public static async Task WriteManifestAsync(string dump, BackupContent content)
    {
        var manifest = new BackupManifest
        {
            Uri = new Uri(dump).AbsoluteUri,
            Kind = "pre-deploy-export",
            Environment = "prod",
            SourceInstance = "src",
            Databases = ["crm"],
            Format = "CUSTOM",
            StartTime = DateTimeOffset.UtcNow,
            EndTime = DateTimeOffset.UtcNow,
            SizeBytes = new FileInfo(dump).Length,
            Content = content,
        };
        await File.WriteAllTextAsync(dump + BackupObjectName.ManifestSuffix, JsonSerializer.Serialize(manifest, CatalogJson.Options));
    }

    /// <summary>A copy of the dump in a directory of its own, without the manifest.</summary>
    public string CopyWithoutManifest()
    {
        var directory = Path.Combine(_files, Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var copy = Path.Combine(directory, Path.GetFileName(Dump));
        File.Copy(Dump, copy);
        return copy;
    }

    public string StagingAdminUrl(string? database = null) => $"postgresql://postgres:{StagingPassword}@{StagingAddress}:5432/{database}";

    public Task<string> StagingAsync(string database) => Cloud.ConnectionStringAsync("staging", database, StagingPassword);

    public Task<string> SourceAsync(string database = "crm") => Cloud.ConnectionStringAsync("src", database, SourcePassword);

    public DatabaseEndpoint StagingEndpoint => new(StagingAddress, 5432, "postgres", StagingPassword);

    public DatabaseEndpoint SourceEndpoint => new(SourceAddress, 5432, "postgres", SourcePassword);
}

/// <summary>One <c>restore</c> run: its output, its exit code, and the command lines of the programs it started.</summary>
internal sealed record RestoreRun(int Exit, string Out, string Error, IReadOnlyList<(string CommandLine, string Environment)> Children)
{
    public string Output => Out + Error;
}

/// <summary>Keeps each started program's command line and environment exactly as they were handed to it.</summary>
internal sealed class ChildProcessRecorder : IChildProcessObserver
{
    public ConcurrentQueue<(string CommandLine, string Environment)> Seen { get; } = new();

    public void Started(ChildProcess child)
    {
    }

    public void Starting(System.Diagnostics.ProcessStartInfo program)
    {
        ArgumentNullException.ThrowIfNull(program);
        Seen.Enqueue((string.Join(' ', program.ArgumentList.Prepend(program.FileName)),
            string.Join('\n', program.Environment.Select(e => $"{e.Key}={e.Value}"))));
    }

    /// <summary>Runs <c>restore</c> with these arguments and environment variables (the admin URL among them).</summary>
    public static async Task<RestoreRun> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, StandardInput? input = null)
    {
        var recorder = new ChildProcessRecorder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new CommandContext(output, error, new StoppedClock(DateTimeOffset.UtcNow), (_, _) => Task.CompletedTask, CancellationToken.None)
        {
            Environment = name => environment.TryGetValue(name, out var value) ? value : null,
            Input = input ?? StandardInput.None,
            ChildProcesses = recorder,
        };
        var exit = await CommandTree.InvokeAsync(["restore", .. args], context);
        return new RestoreRun(exit, output.ToString(), error.ToString(), [.. recorder.Seen]);
    }
}
