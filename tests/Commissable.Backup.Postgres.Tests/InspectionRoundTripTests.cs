using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using Xunit.Abstractions;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// The property the product rests on: a database dumped with the real pg_dump and restored with the
/// real psql or pg_restore inspects exactly like its source.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class InspectionRoundTripTests(TestPostgres postgres, ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("inspection-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_plain_pg_dump_restored_with_psql_into_a_fresh_database_inspects_exactly_like_its_source()
    {
        var source = await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny);
        var dump = Path.Combine(_directory, "demo.sql");
        await Tool("pg_dump", source, "--format=plain", "--no-owner", "--no-privileges", "--file", dump).RunAsync();
        var restored = await postgres.CreateDatabaseAsync("restored");
        await Tool("psql", restored, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--file", dump).RunAsync();

        await AssertSameAsync(source, restored);
    }

    [Fact]
    public async Task A_custom_format_pg_dump_restored_with_pg_restore_inspects_exactly_like_its_source()
    {
        var source = await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny with { Seed = 7 });
        var dump = Path.Combine(_directory, "demo.dump");
        await Tool("pg_dump", source, "--format=custom", "--no-owner", "--no-privileges", "--file", dump).RunAsync();
        var restored = await postgres.CreateDatabaseAsync("restored");
        await Tool("pg_restore", restored, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", DatabaseName(restored), dump).RunAsync();

        await AssertSameAsync(source, restored);
    }

    [Fact]
    public async Task A_restore_that_loses_the_sequence_positions_keeps_its_rows_but_fails_the_sequence_check()
    {
        var source = await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny);
        var dump = Path.Combine(_directory, "demo.sql");
        await Tool("pg_dump", source, "--format=plain", "--no-owner", "--no-privileges", "--file", dump).RunAsync();
        var withoutSetval = Path.Combine(_directory, "demo-without-setval.sql");
        await File.WriteAllLinesAsync(withoutSetval,
            (await File.ReadAllLinesAsync(dump)).Where(l => !l.StartsWith("SELECT pg_catalog.setval(", StringComparison.Ordinal)));
        var restored = await postgres.CreateDatabaseAsync("restored");
        await Tool("psql", restored, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--file", withoutSetval).RunAsync();

        await using var before = NpgsqlDataSource.Create(source);
        await using var after = NpgsqlDataSource.Create(restored);
        Assert.Empty((await TableHashes.ComputeAsync(before)).Differences(await TableHashes.ComputeAsync(after)));
        var check = await SequenceCheck.RunAsync(after);
        Assert.False(check.Passed);
        Assert.Equal(7, check.Behind.Count);
    }

    private async Task AssertSameAsync(string source, string restored)
    {
        await using var before = NpgsqlDataSource.Create(source);
        await using var after = NpgsqlDataSource.Create(restored);

        var fingerprint = await SchemaFingerprint.CaptureAsync(before);
        var restoredFingerprint = await SchemaFingerprint.CaptureAsync(after);
        Assert.Empty(fingerprint.Differences(restoredFingerprint));
        Assert.Equal(fingerprint.Sha256, restoredFingerprint.Sha256);

        var hashes = await TableHashes.ComputeAsync(before);
        var restoredHashes = await TableHashes.ComputeAsync(after);
        Assert.Empty(hashes.Differences(restoredHashes));
        Assert.Equal(hashes.Combined, restoredHashes.Combined);
        Assert.Equal(DemoDatabase.TableNames.Count, restoredHashes.Tables.Count);

        var sequences = await SequenceCheck.RunAsync(after);
        Assert.True(sequences.Passed, string.Join("; ", sequences.Behind));
        Assert.Equal(
            (await SequenceCheck.RunAsync(before)).Sequences.Select(s => (s.Sequence, s.LastValue, s.IsCalled)),
            sequences.Sequences.Select(s => (s.Sequence, s.LastValue, s.IsCalled)));

        Assert.Equal((await TenantCensus.TakeAsync(before)).TenantIds, (await TenantCensus.TakeAsync(after)).TenantIds);
        var head = await MigrationHead.ReadAsync(after);
        Assert.Equal(DemoDatabase.LatestMigration, head.Latest);
        Assert.True(head.IsClean);
        output.WriteLine($"fingerprint {restoredFingerprint.Sha256}, contents {restoredHashes.Combined}, {restoredHashes.TotalRows} rows");
    }

    /// <summary>A client program aimed at one database; the password travels in PGPASSWORD only.</summary>
    private ExternalProcess Tool(string program, string connectionString, params string[] arguments)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return new ExternalProcess
        {
            FileName = postgres.Binaries.Path(program),
            Arguments = arguments,
            Environment = new Dictionary<string, string>
            {
                ["PGHOST"] = builder.Host!,
                ["PGPORT"] = builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PGUSER"] = builder.Username!,
                ["PGDATABASE"] = builder.Database!,
                ["PGPASSWORD"] = builder.Password!,
            },
        };
    }

    private static string DatabaseName(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;
}
