using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;

namespace Commissable.LocalCloud.Tests;

/// <summary>
/// The property the product rests on: what the local cloud exports, it imports back the same:
/// same schema fingerprint, same rows (a hash per table), sequences at or past their columns.
/// </summary>
public sealed class ExportImportTests(ExportImportTests.DemoInstance demo) : IClassFixture<ExportImportTests.DemoInstance>
{
    private LocalCloudFixture cloud => demo.Cloud;
    private CloudSqlAdminClient _client => demo.Client;

    /// <summary>One local cloud with an instance <c>crm</c> holding the Tiny demo database in <c>crm</c>.</summary>
    public sealed class DemoInstance : IAsyncLifetime
    {
        public LocalCloudFixture Cloud { get; } = new();
        public CloudSqlAdminClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Cloud.InitializeAsync();
            Client = new CloudSqlAdminClientBuilder
            {
                ProjectId = Cloud.Project,
                BaseUri = Cloud.BaseUrl,
                TokenSource = new FileTokenSource(LocalCloudHost.TokenFile(Cloud.StateDirectory)),
                PollSettings = CloudSqlPollSettings.Default with { InitialDelay = TimeSpan.FromMilliseconds(100), Multiplier = 1.0, MaxDelay = TimeSpan.FromMilliseconds(100) },
            }.Build();
            await Cloud.CreateInstanceAsync("crm", pitr: false);
            await Client.WaitForOperationAsync(await Client.InsertDatabaseAsync("crm", new Database { Name = "crm" }));
            await DemoDatabase.CreateAsync(await Cloud.ConnectionStringAsync("crm", "crm"), DemoDatabaseOptions.Tiny);
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await Cloud.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("gs://round-trip/backups/crm.sql.gz", false)]
    [InlineData("gs://round-trip/backups/crm.sql", false)]
    [InlineData("gs://round-trip/backups/crm-parallel", true)]
    public async Task An_export_imported_into_a_fresh_database_has_the_same_schema_rows_and_sequences(string uri, bool parallel)
    {
        var target = "restored_" + Guid.NewGuid().ToString("N")[..8];
        await _client.WaitForOperationAsync(await _client.ExportAsync("crm", new ExportContext
        {
            FileType = "SQL",
            Uri = uri,
            Databases = ["crm"],
            SqlExportOptions = parallel ? new SqlExportOptions { Parallel = true, Threads = 2 } : null,
        }));
        await _client.WaitForOperationAsync(await _client.InsertDatabaseAsync("crm", new Database { Name = target }));
        await _client.WaitForOperationAsync(await _client.ImportAsync("crm", new ImportContext
        {
            FileType = "SQL",
            Uri = uri,
            Database = target,
            ImportUser = "postgres",
            SqlImportOptions = parallel ? new SqlImportOptions { Parallel = true, Threads = 2 } : null,
        }));

        await using var source = NpgsqlDataSource.Create(await cloud.ConnectionStringAsync("crm", "crm"));
        await using var restored = NpgsqlDataSource.Create(await cloud.ConnectionStringAsync("crm", target));
        var sourceSchema = await SchemaFingerprint.CaptureAsync(source);
        var restoredSchema = await SchemaFingerprint.CaptureAsync(restored);
        Assert.Empty(sourceSchema.Differences(restoredSchema));
        Assert.Equal(sourceSchema.Sha256, restoredSchema.Sha256);
        var sourceRows = await TableHashes.ComputeAsync(source);
        var restoredRows = await TableHashes.ComputeAsync(restored);
        Assert.Empty(sourceRows.Differences(restoredRows));
        Assert.True(sourceRows.TotalRows > 1000, $"the demo database has only {sourceRows.TotalRows} rows");
        var sequences = await SequenceCheck.RunAsync(restored);
        Assert.NotEmpty(sequences.Sequences);
        Assert.True(sequences.Passed, string.Join("; ", sequences.Behind));
    }

    [Fact]
    public async Task A_schema_only_export_of_chosen_tables_holds_their_definitions_and_no_rows()
    {
        await _client.WaitForOperationAsync(await _client.ExportAsync("crm", new ExportContext
        {
            FileType = "SQL",
            Uri = "gs://round-trip/schema/account.sql",
            Databases = ["crm"],
            SqlExportOptions = new SqlExportOptions { SchemaOnly = true, Tables = ["Account"] },
        }));
        var text = await File.ReadAllTextAsync(Path.Combine(cloud.StateDirectory, "buckets", "round-trip", "schema", "account.sql"));
        Assert.Contains("CREATE TABLE public.\"Account\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE TABLE public.\"Contact\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("COPY public.\"Account\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_gzip_export_fails_its_import_instead_of_loading_half_a_dump()
    {
        await _client.WaitForOperationAsync(await _client.ExportAsync("crm", new ExportContext { FileType = "SQL", Uri = "gs://round-trip/cut/crm.sql.gz", Databases = ["crm"] }));
        var path = Path.Combine(cloud.StateDirectory, "buckets", "round-trip", "cut", "crm.sql.gz");
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
        var target = "cut_" + Guid.NewGuid().ToString("N")[..8];
        await _client.WaitForOperationAsync(await _client.InsertDatabaseAsync("crm", new Database { Name = target }));

        var operation = await _client.ImportAsync("crm", new ImportContext { FileType = "SQL", Uri = "gs://round-trip/cut/crm.sql.gz", Database = target });
        var failure = await Assert.ThrowsAsync<CloudSqlOperationFailedException>(() => _client.WaitForOperationAsync(operation));
        Assert.Contains("gzip", failure.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected end of file", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_import_ends_its_operation_with_the_error_text_of_psql()
    {
        var bucket = Path.Combine(cloud.StateDirectory, "buckets", "round-trip", "broken");
        Directory.CreateDirectory(bucket);
        await File.WriteAllTextAsync(Path.Combine(bucket, "bad.sql"), "CREATE TABLE ok_table (id int);\nTHIS IS NOT SQL;\n");
        var operation = await _client.ImportAsync("crm", new ImportContext { FileType = "SQL", Uri = "gs://round-trip/broken/bad.sql", Database = "postgres" });
        var failure = await Assert.ThrowsAsync<CloudSqlOperationFailedException>(() => _client.WaitForOperationAsync(operation));
        Assert.Contains("syntax error", failure.Message, StringComparison.Ordinal);
        Assert.Equal("ERROR_RDBMS", failure.Operation.Error!.Errors![0].Code);
    }
}
