using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Core.Tenants;
using Commissable.Functions.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Commissable.Functions.Tests.TenantRestore;

/// <summary>
/// tenant-restore in local mode, in memory, against a real local cloud: the source instance
/// <c>prod</c> (listed in <c>PRODUCTION_INSTANCES</c>, database <c>crm</c>), the scratch instance
/// <c>staged</c> (database <c>tr_staged</c>, no labels) and <c>labelled</c> (labelled
/// <c>env=prod</c>, database <c>crm</c>). Three hosts share the cloud and the bucket:
/// <see cref="LocalFunctionsEnvironment.Client"/> composed as in production with
/// <c>TENANT_RESTORE_DB_*</c> set to the instances' <c>postgres</c> login;
/// <see cref="Scripted"/>, the same with <see cref="Restorer"/> in place of the Postgres one (for
/// the function's own logic); and <see cref="Unconfigured"/>, without <c>TENANT_RESTORE_DB_*</c>.
/// </summary>
public sealed class TenantRestoreEnvironment : LocalFunctionsEnvironment, IAsyncLifetime
{
    public const string Collection = "tenant-restore-environment";
    public const string Source = "prod";
    public const string Staged = "staged";
    public const string StagedDatabase = "tr_staged";
    public const string Labelled = "labelled";

    /// <summary>A recorded export of <c>prod</c>'s <c>crm</c> and <c>tr_e2e</c>, for the apply's <c>safetyBackup</c> (written at start).</summary>
    public const string SafetyBackupName = "backups/prod/prod/backup_20261125_0401_prod_before_tenant-restore-t.sql.gz";

    public static string SafetyBackup => $"gs://{Bucket}/{SafetyBackupName}";

    private string? _passwordFile;
    private LocalFunctions? _scripted;
    private LocalFunctions? _unconfigured;

    /// <summary>The restorer of <see cref="Scripted"/>: each test sets what it answers.</summary>
    public ScriptedTenantRestorer Restorer { get; } = new();

    /// <summary>The host whose <see cref="ITenantRestorer"/> is <see cref="Restorer"/>.</summary>
    public LocalFunctions Scripted => _scripted ?? throw new InvalidOperationException("Not started.");

    /// <summary>The host without <c>TENANT_RESTORE_DB_*</c>.</summary>
    public LocalFunctions Unconfigured => _unconfigured ?? throw new InvalidOperationException("Not started.");

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PRODUCTION_INSTANCES"] = "prod,prod-replica",
        ["TENANT_RESTORE_DB_USER"] = "postgres",
        ["TENANT_RESTORE_DB_PASSWORD_FILE"] = _passwordFile,
    };

    protected override async Task PrepareAsync()
    {
        _passwordFile = LocalFunctions.WritePasswordFile();
        await Task.WhenAll(CreateAsync(Source, "crm"), CreateAsync(Staged, StagedDatabase), PrepareLabelledAsync());
    }

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        await RecordSafetyBackupAsync();
        _scripted = await LocalFunctions.StartAsync(Cloud, Bucket, Settings, services: s => s.AddSingleton<ITenantRestorer>(Restorer));
        _unconfigured = await LocalFunctions.StartAsync(Cloud, Bucket, new Dictionary<string, string?> { ["PRODUCTION_INSTANCES"] = "prod,prod-replica" });
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (_scripted is not null) await _scripted.DisposeAsync();
        if (_unconfigured is not null) await _unconfigured.DisposeAsync();
        await DisposeAsync();
        if (_passwordFile is not null) File.Delete(_passwordFile);
    }

    private async Task RecordSafetyBackupAsync()
    {
        var store = Services.GetRequiredService<IBackupStore>();
        var catalog = Services.GetRequiredService<BackupCatalog>();
        using var bytes = new MemoryStream("-- a safety backup\n"u8.ToArray(), writable: false);
        var stored = await store.WriteAsync(SafetyBackupName, bytes, "application/gzip", ifGenerationMatch: 0);
        Assert.True(BackupObjectName.TryParse(SafetyBackupName, "backups", out var name), SafetyBackupName);
        await catalog.RecordAsync(name!, new BackupManifest
        {
            Uri = stored.Uri,
            Kind = "pre-deploy-export",
            Environment = "prod",
            SourceInstance = Source,
            // crm, and the end-to-end test's own database.
            Databases = ["crm", "tr_e2e"],
            Format = "SQL_GZIP",
            StartTime = stored.Updated.AddMinutes(-1),
            EndTime = stored.Updated,
            SizeBytes = stored.Size,
            Generation = stored.Generation,
        });
    }

    private async Task CreateAsync(string instance, string database)
    {
        await Cloud.CreateInstanceAsync(instance, pitr: false);
        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api($"instances/{instance}/databases"), $$"""{"name":"{{database}}"}""");
    }

    private async Task PrepareLabelledAsync()
    {
        await CreateAsync(Labelled, "crm");
        await Cloud.RunAsync(HttpMethod.Patch, Cloud.Api($"instances/{Labelled}"), """{"settings":{"userLabels":{"team":"crm","env":"prod"}}}""");
    }

    /// <summary>POSTs <paramref name="json"/> to <c>/tenant-restore</c> of <paramref name="client"/>.</summary>
    public static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/tenant-restore", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>The local file behind a <c>gs://</c> URI of the bucket.</summary>
    public string LocalPath(string uri) => Path.Combine(Cloud.StateDirectory, "buckets", uri["gs://".Length..]);

    /// <summary>The JSON object stored at <paramref name="uri"/>.</summary>
    public JsonObject Stored(string uri) => JsonNode.Parse(File.ReadAllText(LocalPath(uri)))!.AsObject();

    /// <summary>The URI of an object of run <paramref name="runId"/>.</summary>
    public static string RunObject(string runId, string file) => $"gs://{Bucket}/backups/tenant-restores/{runId}/{file}";

    /// <summary>A run id of its own for each test.</summary>
    public static string NewRunId(string name) => $"{name}-{Guid.NewGuid():N}"[..Math.Min(63, name.Length + 9)];

    /// <summary>The log lines of every host.</summary>
    public IEnumerable<string> AllLogLines => Logs.Lines.Concat(Scripted.Logs.Lines).Concat(Unconfigured.Logs.Lines);
}

/// <summary>The test classes that share one <see cref="TenantRestoreEnvironment"/>.</summary>
[CollectionDefinition(TenantRestoreEnvironment.Collection)]
public sealed class TenantRestoreCollection : ICollectionFixture<TenantRestoreEnvironment>;
