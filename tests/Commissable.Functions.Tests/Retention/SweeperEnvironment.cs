using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Tests.Hosting;
using Commissable.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Functions.Tests.Retention;

/// <summary>
/// One real local cloud shared by a test class; each test asks for its own host on its own bucket
/// (<see cref="CreateHostAsync"/>), so sweeps of one test never see another's backups.
/// </summary>
public sealed class SweeperEnvironment : IAsyncLifetime
{
    public LocalCloudFixture Cloud { get; } = new();

    public Task InitializeAsync() => Cloud.InitializeAsync();

    /// <summary>
    /// The functions in local mode, in memory, on a new empty bucket; with <paramref name="clock"/>
    /// the functions' time (the local cloud keeps the real one), with <paramref name="productionInstances"/>
    /// their <c>PRODUCTION_INSTANCES</c>. Overrides that relax the policy are allowed unless
    /// <paramref name="allowRelaxedOverrides"/> is false: most tests shrink the policy to fit a catalog
    /// of a dozen backups, which the strategy's defaults would rightly refuse to thin.
    /// </summary>
    public async Task<SweeperHost> CreateHostAsync(
        Func<IBackupStore, IBackupStore>? wrapStore = null, TimeProvider? clock = null, string productionInstances = "prod", bool allowRelaxedOverrides = true)
    {
        var bucket = $"bk-{Guid.NewGuid():N}"[..20];
        var paths = new BucketPaths(Cloud.StateDirectory);
        var functions = await LocalFunctions.StartAsync(Cloud, bucket, new Dictionary<string, string?>
        {
            ["PRODUCTION_INSTANCES"] = productionInstances,
            ["RETENTION_ALLOW_RELAXED_OVERRIDES"] = allowRelaxedOverrides ? "true" : null,
        }, clock, services =>
        {
            if (wrapStore is not null)
            {
                // The last registration wins: the catalog and the sweeper see the wrapped store.
                services.AddSingleton(sp => wrapStore(new LocalBackupStore(paths, bucket, sp.GetRequiredService<TimeProvider>())));
            }
        });
        // Built now, so the test holds the wrapper before its first request.
        _ = functions.Services.GetRequiredService<IBackupStore>();
        return new SweeperHost(functions, paths);
    }

    public Task DisposeAsync() => Cloud.DisposeAsync();
}

/// <summary>A host on its own bucket, and a writer that puts backups into that bucket as if they had been taken in the past.</summary>
public sealed class SweeperHost(LocalFunctions functions, BucketPaths paths) : IAsyncDisposable
{
    public const string Prefix = "backups";

    /// <summary>A client whose answers the secret scan sees.</summary>
    public HttpClient Client => functions.Client;
    public TestLogSink Logs => functions.Logs;
    public string Bucket => functions.Bucket;

    /// <summary>POSTs <paramref name="json"/> (no body when null) to retention-sweeper; the status and the answer.</summary>
    public async Task<(HttpStatusCode Status, JsonObject Body)> SweepAsync(string? json)
    {
        using var content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/retention-sweeper", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>The answer's deletions: name to reason code.</summary>
    public static Dictionary<string, string> Deleted(JsonObject body) =>
        body["deleted"]!.AsArray().ToDictionary(d => (string)d!["name"]!, d => (string)d!["reason"]!["code"]!);

    /// <summary>The reason code the answer keeps <paramref name="name"/> for.</summary>
    public static string Kept(JsonObject body, string name) =>
        (string)body["kept"]!.AsArray().Single(k => (string?)k!["name"] == name)!["reason"]!["code"]!;

    /// <summary>A store whose clock stands at <paramref name="at"/>, so generations and update times are that old.</summary>
    public LocalBackupStore StoreAt(DateTimeOffset at) => new(paths, Bucket, new FakeTimeProvider(at));

    public static DateTimeOffset Ago(TimeSpan age)
    {
        var t = DateTimeOffset.UtcNow - age;
        return new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero);
    }

    public static BackupObjectName PreDeploy(string change, TimeSpan age, string environment = "prod", string instance = "prod") =>
        BackupObjectName.PreDeploy(Prefix, environment, instance, Ago(age), change);

    public static BackupObjectName Scheduled(TimeSpan age, string environment = "prod", string instance = "prod") => new()
    {
        Prefix = Prefix, Environment = environment, Instance = instance, Time = Ago(age), Label = "scheduled", Extension = ".sql.gz",
    };

    /// <summary>Writes a small dump and, unless <paramref name="withManifest"/> is false, its manifest, both stamped with the backup's time.</summary>
    public async Task<BackupManifest?> WriteBackupAsync(BackupObjectName name, string kind, bool withManifest = true, string? requestedBy = "ci@example.com")
    {
        var store = StoreAt(name.Time);
        var dump = await WriteObjectAsync(store, name.Name, "-- pg_dump of " + name.Name);
        if (!withManifest) return null;
        var manifest = new BackupManifest
        {
            Uri = dump.Uri,
            Kind = kind,
            Environment = name.Environment,
            SourceInstance = name.Instance,
            Databases = ["crm"],
            DatabaseVersion = "POSTGRES_16",
            Format = "SQL_GZIP",
            Trigger = new BackupTrigger { Change = name.Change, CommitSha = "abc123", PipelineRunId = "run-7", RequestedBy = requestedBy, IdempotencyKey = "secret-ish-key" },
            StartTime = name.Time,
            EndTime = name.Time.AddMinutes(3),
            SizeBytes = dump.Size,
            Md5Hash = dump.Md5Hash,
            Generation = dump.Generation,
            Snapshot = new DatabaseSnapshot
            {
                MigrationHead = "20250101000000_init",
                AppliedMigrations = 12,
                RowCounts = new Dictionary<string, long> { ["Account"] = 42 },
                TenantIds = ["tenant-a", "tenant-b"],
            },
        };
        await new BackupCatalog(store, Prefix, new FakeTimeProvider(name.Time.AddMinutes(4))).RecordAsync(name, manifest);
        return manifest;
    }

    public Task<BackupManifest?> WritePreDeployAsync(BackupObjectName name, bool withManifest = true) => WriteBackupAsync(name, BackupKinds.PreDeployExport, withManifest);

    public async Task VerifyAsync(BackupObjectName name, bool passed, DateTimeOffset at, params string[] failedChecks)
    {
        var store = StoreAt(at);
        var record = new VerificationRecord
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            BackupUri = $"gs://{Bucket}/{name.Name}",
            VerificationInstance = "verify",
            Passed = passed,
            StartTime = at,
            EndTime = at.AddMinutes(2),
            Checks = [new CheckResult("migrations", true, "ok"), .. failedChecks.Select(c => new CheckResult(c, false, "failed"))],
        };
        await new BackupCatalog(store, Prefix, new FakeTimeProvider(at)).AddVerificationAsync(name, record);
    }

    public Task<Hold> HoldAsync(BackupObjectName name, DateTimeOffset at) =>
        new BackupCatalog(StoreAt(at), Prefix, new FakeTimeProvider(at)).PlaceHoldAsync(name, "incident INC-42", "sre@example.com");

    public static async Task<StoredObject> WriteObjectAsync(LocalBackupStore store, string name, string content)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        return await store.WriteAsync(name, stream, "application/octet-stream", ifGenerationMatch: 0);
    }

    /// <summary>Every object of the bucket, by name (the whole bucket, not only the prefix).</summary>
    public async Task<SortedSet<string>> ListBucketAsync()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var item in StoreAt(DateTimeOffset.UtcNow).ListAsync(""))
        {
            names.Add(item.Name);
        }
        return names;
    }

    // Nothing the sweeper or the catalog logged or answered may hold the password or the local cloud's API token.
    public ValueTask DisposeAsync() => functions.DisposeAsync();
}
