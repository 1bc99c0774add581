using Commissable.Backup.Core.Files;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Tests.Dumps;

/// <summary>
/// A backup object's bytes become the same SQL text in every format, streamed; a damaged object
/// fails the read, leaving no file and no program behind.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BackupObjectTextTests(TestPostgres postgres)
{
    public static TheoryData<string, string?> EveryFormat => new()
    {
        { DumpExports.Plain, "SQL" },
        { DumpExports.Plain, null },
        { DumpExports.Gzip, "SQL_GZIP" },
        { DumpExports.Gzip, null },
        { DumpExports.Custom, "CUSTOM" },
        { DumpExports.Custom, null },
        { DumpExports.DirectoryExport, "DIRECTORY" },
        { DumpExports.DirectoryExport, null },
        { DumpExports.DirectoryExport + "/", null },
    };

    [Theory]
    [MemberData(nameof(EveryFormat))]
    public async Task Every_format_reads_as_the_plain_dump_of_the_same_database(string objectName, string? format)
    {
        var exports = await DumpExports.GetAsync(postgres);
        var plain = DumpText.Parse(await File.ReadAllTextAsync(exports.PathOf(DumpExports.Plain)));
        var before = ScratchDirectories();

        DumpText text;
        await using (var stream = await BackupObjectText.OpenAsync(exports.Store, objectName, format, exports.Tools))
        {
            text = await DumpText.ReadAsync(stream);
        }

        // Something to compare: every kind of content the source holds is in the plain dump.
        Assert.Equal(DumpExports.BigRows, plain.RowsOf("COPY public.big "));
        Assert.Equal(500, plain.RowsOf("COPY public.\"Ticket\" "));
        Assert.Equal(3, plain.RowsOf("COPY public.\"Odd \"\"name\"\" here\" "));
        Assert.Equal(0, plain.RowsOf("COPY public.nothing_here "));
        Assert.True(plain.RowsOf("COPY public.\"Measurement_2026a\" ") + plain.RowsOf("COPY public.\"Measurement_2026b\" ") == 2000);
        Assert.Contains(plain.Statements, s => s.StartsWith("SELECT pg_catalog.lo_open(", StringComparison.Ordinal));
        Assert.Contains("REFRESH MATERIALIZED VIEW public.ticket_count;", plain.Statements);
        Assert.Contains("COMMENT ON TABLE public.\"Ticket\" IS 'support tickets';", plain.Statements);
        text.AssertSameAs(plain);
        Assert.Equal(before, ScratchDirectories());
    }

    [Fact]
    public async Task A_format_the_bytes_contradict_is_refused()
    {
        var exports = await DumpExports.GetAsync(postgres);

        var error = await Assert.ThrowsAsync<DumpStreamException>(() => BackupObjectText.OpenAsync(exports.Store, DumpExports.Gzip, "SQL", exports.Tools));
        Assert.Contains("recorded as SQL, but its first bytes are those of SQL_GZIP", error.Message, StringComparison.Ordinal);
        error = await Assert.ThrowsAsync<DumpStreamException>(() => BackupObjectText.OpenAsync(exports.Store, DumpExports.Plain, "CUSTOM", exports.Tools));
        Assert.Contains("recorded as CUSTOM, but its first bytes are those of SQL", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => BackupObjectText.OpenAsync(exports.Store, DumpExports.Plain, "BASE_BACKUP", exports.Tools));
    }

    [Fact]
    public async Task An_object_that_does_not_exist_is_not_found()
    {
        var exports = await DumpExports.GetAsync(postgres);

        await Assert.ThrowsAsync<Core.Storage.StoredObjectNotFoundException>(() => BackupObjectText.OpenAsync(exports.Store, "backups/nothing.sql.gz", null, exports.Tools));
        var error = await Assert.ThrowsAsync<DumpStreamException>(() => BackupObjectText.OpenAsync(exports.Store, "backups/nothing/", null, exports.Tools));
        Assert.Contains("has no toc.dat", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_off_gzip_fails_the_read_at_its_end()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var damaged = CopyObject(exports, DumpExports.Gzip, "backups/cut.sql.gz", keep: 0.6);

        var error = await ReadExpectingFailureAsync(exports, damaged, "SQL_GZIP");

        Assert.Contains("gzip exited with code 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected end of file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_off_custom_archive_fails_the_read_at_its_end()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var damaged = CopyObject(exports, DumpExports.Custom, "backups/cut.dump", keep: 0.6);

        var error = await ReadExpectingFailureAsync(exports, damaged, null);

        Assert.Contains("pg_restore exited with code 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_export_missing_a_data_file_fails_the_read_naming_it()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var damaged = CopyObject(exports, DumpExports.DirectoryExport, "backups/missing", keep: 1);
        var victim = Directory.GetFiles(exports.PathOf(damaged), "*.dat.gz").Order(StringComparer.Ordinal).Last();
        File.Delete(victim);

        var error = await ReadExpectingFailureAsync(exports, damaged, "DIRECTORY");

        Assert.Contains($"its data file {Path.GetFileNameWithoutExtension(victim)}.gz", error.Message, StringComparison.Ordinal);
        Assert.Contains("is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_export_with_a_cut_off_data_file_fails_the_read()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var damaged = CopyObject(exports, DumpExports.DirectoryExport, "backups/cut", keep: 1);
        var victim = Directory.GetFiles(exports.PathOf(damaged), "*.dat.gz").MaxBy(f => new FileInfo(f).Length)!;
        var bytes = await File.ReadAllBytesAsync(victim);
        await File.WriteAllBytesAsync(victim, bytes[..(bytes.Length / 2)]);

        var error = await ReadExpectingFailureAsync(exports, damaged, null);

        Assert.Contains("pg_restore exited with code 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DumpExports.Gzip)]
    [InlineData(DumpExports.Custom)]
    [InlineData(DumpExports.DirectoryExport)]
    public async Task Disposing_before_the_end_kills_the_program_and_removes_its_files(string objectName)
    {
        var exports = await DumpExports.GetAsync(postgres);
        var before = ScratchDirectories();
        var stream = await BackupObjectText.OpenAsync(exports.Store, objectName, null, exports.Tools);
        var program = ((ToolOutputStream)stream).ProcessId;

        var buffer = new byte[4096];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        Assert.NotEmpty(ChildProcesses.GroupMembers(program));
        await stream.DisposeAsync();

        Assert.Empty(ChildProcesses.GroupMembers(program));
        Assert.Equal(before, ScratchDirectories());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => _ = await stream.ReadAsync(buffer));
    }

    /// <summary>Reads the object to its end, expecting the read that reaches it to fail, and checks nothing is left behind.</summary>
    private static async Task<DumpStreamException> ReadExpectingFailureAsync(DumpExports.Exports exports, string objectName, string? format)
    {
        var before = ScratchDirectories();
        DumpStreamException error;
        int program;
        await using (var stream = await BackupObjectText.OpenAsync(exports.Store, objectName, format, exports.Tools))
        {
            program = ((ToolOutputStream)stream).ProcessId;
            error = await Assert.ThrowsAsync<DumpStreamException>(() => stream.CopyToAsync(Stream.Null));
            // Once failed, it stays failed: a retried read cannot look like a clean end.
            await Assert.ThrowsAsync<DumpStreamException>(async () => _ = await stream.ReadAsync(new byte[16]));
        }
        Assert.Contains($"gs://{DumpExports.Bucket}/{objectName}", error.Message, StringComparison.Ordinal);
        Assert.Empty(ChildProcesses.GroupMembers(program));
        Assert.Equal(before, ScratchDirectories());
        return error;
    }

    /// <summary>Copies an object (a file, or a directory export) under a new name, keeping a share of a file's bytes.</summary>
    private static string CopyObject(DumpExports.Exports exports, string objectName, string copyName, double keep)
    {
        var source = exports.PathOf(objectName);
        var target = exports.PathOf(copyName);
        if (Directory.Exists(target) || File.Exists(target))
        {
            throw new InvalidOperationException($"{copyName} exists: each test damages its own copy.");
        }
        if (Directory.Exists(source))
        {
            Directory.CreateDirectory(target, OwnerOnly.DirectoryMode);
            foreach (var file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }
            return copyName;
        }
        var bytes = File.ReadAllBytes(source);
        File.WriteAllBytes(target, bytes[..(int)(bytes.Length * keep)]);
        return copyName;
    }

    /// <summary>The scratch directories of dump reads that exist now (none is left once a read is over).</summary>
    private static SortedSet<string> ScratchDirectories() =>
        new(Directory.GetDirectories(Path.GetTempPath(), "commissable-*dump-*"), StringComparer.Ordinal);
}
