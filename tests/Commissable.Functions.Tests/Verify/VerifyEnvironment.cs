using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Commissable.Functions.Tests.Verify;

/// <summary>
/// The functions in local mode, in memory, against a real local cloud: the source instance
/// <c>prod</c> (the Tiny demo in <c>crm</c>, backups and PITR on), the scratch instance
/// <c>verify-target</c> (<c>VERIFY_INSTANCE</c>, no labels), and <c>labelled</c>, labelled
/// <c>env=prod</c>. <c>PRODUCTION_INSTANCES</c> is <c>prod,prod-replica</c>. One environment serves
/// every class of <see cref="Collection"/>: starting three clusters and exporting a demo is the
/// expensive part.
/// </summary>
public sealed class VerifyEnvironment : LocalFunctionsEnvironment
{
    /// <summary>The collection of the test classes that share one environment (and so run one after another).</summary>
    public const string Collection = "verify-environment";

    public const string Target = "verify-target";
    public const string Labelled = "labelled";
    private readonly Lock _backupGate = new();
    private Task<string>? _backup;

    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["PRODUCTION_INSTANCES"] = "prod,prod-replica", ["VERIFY_INSTANCE"] = Target, ["EXPORT_WAIT_SECONDS"] = "300",
    };

    protected override Task PrepareAsync() =>
        Task.WhenAll(CreateSourceAsync("prod"), Cloud.CreateInstanceAsync(Target, pitr: false), PrepareLabelledAsync());

    private async Task PrepareLabelledAsync()
    {
        await Cloud.CreateInstanceAsync(Labelled, pitr: false);
        await Cloud.RunAsync(HttpMethod.Patch, Cloud.Api($"instances/{Labelled}"), """{"settings":{"userLabels":{"team":"crm","env":"prod"}}}""");
    }

    /// <summary>A pre-deploy export of <c>prod/</c><paramref name="database"/> under <paramref name="change"/>; returns its backup URI.</summary>
    public async Task<string> ExportAsync(string change, string database = "crm")
    {
        using var response = await Client.PostAsync("/pre-deploy-export",
            new StringContent($$"""{"instance":"prod","database":"{{database}}","change":"{{change}}"}""", Encoding.UTF8, "application/json"));
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        return (string)body["backupUri"]!;
    }

    /// <summary>One good backup shared by the tests that only need some backup (made on first use).</summary>
    public Task<string> SharedBackupAsync()
    {
        lock (_backupGate)
        {
            return _backup ??= ExportAsync("verify-fresh");
        }
    }

    /// <summary>
    /// A new database <paramref name="database"/> on <paramref name="instance"/> restored from the
    /// shared backup through the Cloud SQL import (as <c>postgres</c>, as the workflows import):
    /// a live database for live verification and grants to work on. Returns the backup's URI.
    /// </summary>
    public async Task<string> RestoredDatabaseAsync(string instance, string database) =>
        await RestoredDatabaseAsync(instance, database, await SharedBackupAsync());

    /// <summary>As <see cref="RestoredDatabaseAsync(string, string)"/>, from the backup at <paramref name="uri"/>.</summary>
    public async Task<string> RestoredDatabaseAsync(string instance, string database, string uri)
    {
        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api($"instances/{instance}/databases"), $$"""{"name":"{{database}}"}""");
        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api($"instances/{instance}/import"),
            new JsonObject
            {
                ["importContext"] = new JsonObject
                {
                    ["kind"] = "sql#importContext", ["uri"] = uri, ["database"] = database, ["fileType"] = "SQL", ["importUser"] = "postgres",
                },
            }.ToJsonString());
        return uri;
    }

    /// <summary>The local file behind a <c>gs://</c> URI.</summary>
    public string LocalPath(string uri) => Path.Combine(Cloud.StateDirectory, "buckets", uri["gs://".Length..]);

    /// <summary>
    /// What a careless or hostile writer does to a backup in the bucket: one byte in the middle
    /// changed in place, its modification time put back, so size and time say nothing changed.
    /// </summary>
    public void TamperKeepingSizeAndTime(string uri)
    {
        var file = LocalPath(uri);
        var modified = File.GetLastWriteTimeUtc(file);
        var size = new FileInfo(file).Length;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = size / 2;
            var original = stream.ReadByte();
            stream.Position = size / 2;
            stream.WriteByte((byte)(original ^ 0x5A));
        }
        File.SetLastWriteTimeUtc(file, modified);
        Assert.Equal((size, modified), (new FileInfo(file).Length, File.GetLastWriteTimeUtc(file)));
    }

    /// <summary>The databases of an instance, as the Cloud SQL API lists them.</summary>
    public async Task<IReadOnlyList<string>> DatabasesAsync(string instance)
    {
        var (status, body) = await Cloud.SendAsync(HttpMethod.Get, Cloud.Api($"instances/{instance}/databases"));
        Assert.Equal(200, status);
        return body["items"]?.AsArray().Select(d => (string)d!["name"]!).ToList() ?? [];
    }
}

/// <summary>The test classes that share one <see cref="VerifyEnvironment"/>.</summary>
[CollectionDefinition(VerifyEnvironment.Collection)]
public sealed class VerifyCollection : ICollectionFixture<VerifyEnvironment>;
