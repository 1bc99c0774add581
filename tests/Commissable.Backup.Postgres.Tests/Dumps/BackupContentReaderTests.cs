using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Dumps;

namespace Commissable.Backup.Postgres.Tests.Dumps;

/// <summary>
/// The content manifest of one database is the same whether read from its plain, gzip, custom or
/// directory export, from the database itself, or from a restore of it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BackupContentReaderTests(TestPostgres postgres) : IDisposable
{
    private static readonly DumpReadOptions Options = new() { TenantColumn = "tenantId", TimeZone = "UTC" };
    private readonly string _directory = postgres.CreateScratchDirectory("reader");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_manifest_is_identical_whatever_the_format()
    {
        var reader = await ReaderAsync();

        var plain = await reader.ReadBackupAsync(DumpExports.Plain, "SQL", Options);
        var read = new Dictionary<string, BackupContent>
        {
            ["gzip"] = await reader.ReadBackupAsync(DumpExports.Gzip, "SQL_GZIP", Options),
            ["gzip, detected"] = await reader.ReadBackupAsync(DumpExports.Gzip, null, Options),
            ["custom"] = await reader.ReadBackupAsync(DumpExports.Custom, "CUSTOM", Options),
            ["custom, detected"] = await reader.ReadBackupAsync(DumpExports.Custom, null, Options),
            ["directory"] = await reader.ReadBackupAsync(DumpExports.DirectoryExport, "DIRECTORY", Options),
            ["directory, detected"] = await reader.ReadBackupAsync(DumpExports.DirectoryExport, null, Options),
        };

        AssertHoldsTheSource(plain);
        foreach (var (format, content) in read)
        {
            AssertSame(plain, content, format);
        }
    }

    [Fact]
    public async Task A_database_has_the_manifest_of_its_own_dump()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var reader = await ReaderAsync();

        var backup = await reader.ReadBackupAsync(DumpExports.Plain, null, Options);
        var database = await reader.ReadDatabaseAsync(DumpExports.Instance(postgres), DumpExports.DatabaseOf(exports.SourceConnection), Options);

        AssertHoldsTheSource(database);
        AssertSame(backup, database, "the source database");
    }

    [Fact]
    public async Task A_restore_has_the_manifest_of_its_backup()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var reader = await ReaderAsync();
        var restored = await postgres.CreateDatabaseAsync("restored");
        await DumpExports.Tool(postgres, "pg_restore", restored, "--exit-on-error", "--dbname", DumpExports.DatabaseOf(restored), exports.PathOf(DumpExports.DirectoryExport)).RunAsync();

        var backup = await reader.ReadBackupAsync(DumpExports.DirectoryExport, "DIRECTORY", Options);
        var database = await reader.ReadDatabaseAsync(DumpExports.Instance(postgres), DumpExports.DatabaseOf(restored), Options);

        AssertSame(backup, database, "the restore");
        // And the comparison sees a change made after the restore.
        await DumpExports.ExecuteAsync(restored, "UPDATE \"Ticket\" SET note = 'changed' WHERE id = 7;");
        var changed = await reader.ReadDatabaseAsync(DumpExports.Instance(postgres), DumpExports.DatabaseOf(restored), Options);
        var tables = ContentComparison.Compare(backup, changed).Single(c => c.Name == ContentComparison.Tables);
        Assert.False(tables.Passed);
        Assert.Contains("public.\"Ticket\"", tables.Detail, StringComparison.Ordinal);
        // And a large object whose bytes changed, its size kept.
        await DumpExports.ExecuteAsync(restored, "SELECT lo_put(oid, 3, '\\x00'::bytea) FROM pg_largeobject_metadata;");
        var lost = await reader.ReadDatabaseAsync(DumpExports.Instance(postgres), DumpExports.DatabaseOf(restored), Options);
        var schema = ContentComparison.Compare(backup, lost).Single(c => c.Name == ContentComparison.Schema);
        Assert.False(schema.Passed);
        Assert.Contains("LARGE OBJECT ", schema.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_off_backup_gets_no_manifest()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var reader = await ReaderAsync();
        var bytes = await File.ReadAllBytesAsync(exports.PathOf(DumpExports.Custom));
        await File.WriteAllBytesAsync(exports.PathOf("backups/reader-cut.dump"), bytes[..(bytes.Length * 3 / 4)]);

        var error = await Assert.ThrowsAsync<DumpStreamException>(() => reader.ReadBackupAsync("backups/reader-cut.dump", "CUSTOM", Options));

        Assert.Contains("pg_restore exited with code 1", error.Message, StringComparison.Ordinal);
    }

    private async Task<PostgresBackupContentReader> ReaderAsync()
    {
        var exports = await DumpExports.GetAsync(postgres);
        return new PostgresBackupContentReader(DumpExports.Login(postgres, _directory), exports.Store, exports.Tools);
    }

    /// <summary>The manifest holds what the source holds, so an equality of manifests compares something.</summary>
    private static void AssertHoldsTheSource(BackupContent content)
    {
        Assert.Equal(DumpExports.BigRows, content.Tables["public.big"].Rows);
        Assert.Equal(500, content.Tables["public.\"Ticket\""].Rows);
        Assert.Equal(2000, content.Tables["public.\"Measurement\""].Rows);
        Assert.True(content.Tables["public.\"Measurement\""].Partitioned);
        Assert.Equal(3, content.Tables["public.\"Measurement\""].Tenants!.Count);
        Assert.Contains(content.Tables.Values, t => t.Tenants is { Count: 3 } && !t.Partitioned && t.PartitionOf is null);
        Assert.True(content.MaterializedViews["public.ticket_count"]);
        Assert.False(content.MaterializedViews["public.ticket_later"]);
        Assert.Contains("public.plain_counter", content.Sequences.Keys);
        Assert.NotEmpty(content.Comments);
        Assert.NotEmpty(content.SchemaObjects);
        Assert.NotNull(content.Migrations?.Head);
    }

    private static void AssertSame(BackupContent expected, BackupContent actual, string what)
    {
        var failed = ContentComparison.Compare(expected, actual).Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}").ToList();
        Assert.True(failed.Count == 0, $"{what}: {string.Join("; ", failed)}");
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));
    }
}
