using System.Diagnostics;
using System.Text;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;

namespace Commissable.Backup.FileStore.Tests;

/// <summary>The local store over real temporary directories.</summary>
public sealed class LocalBackupStoreTests : IDisposable
{
    private const string Bucket = "backups-test";
    private readonly string _state = Directory.CreateTempSubdirectory("lbs-").FullName;
    private readonly BucketPaths _paths;
    private readonly LocalBackupStore _store;

    public LocalBackupStoreTests()
    {
        _paths = new BucketPaths(_state);
        _store = new LocalBackupStore(_paths, Bucket);
    }

    private string BucketDirectory => _paths.BucketDirectory(Bucket);

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static MemoryStream Content(string text) => new(Encoding.UTF8.GetBytes(text));

    private async Task<string> ReadAsync(string name)
    {
        await using var stream = await _store.OpenReadAsync(name);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private string Place(string name, string text)
    {
        var path = Path.Combine(BucketDirectory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<List<string>> NamesAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var item in _store.ListAsync(prefix))
        {
            names.Add(item.Name);
        }

        return names;
    }

    [Fact]
    public async Task A_written_object_reads_back_whole_with_the_metadata_the_write_returned()
    {
        var written = await _store.WriteAsync("backups/prod/a.sql.gz", Content("dump"), "application/gzip", ifGenerationMatch: 0);

        Assert.Equal(Bucket, written.Bucket);
        Assert.Equal("backups/prod/a.sql.gz", written.Name);
        Assert.Equal("gs://backups-test/backups/prod/a.sql.gz", written.Uri);
        Assert.Equal(4, written.Size);
        Assert.True(written.Generation > 0);
        Assert.Equal("application/gzip", written.ContentType);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(written.Generation * TimeSpan.TicksPerMicrosecond), written.Updated);
        Assert.InRange(written.Updated, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        Assert.Equal(written, await _store.GetAsync("backups/prod/a.sql.gz"));
        Assert.Equal("dump", await ReadAsync("backups/prod/a.sql.gz"));
        Assert.Equal("dump", File.ReadAllText(Path.Combine(BucketDirectory, "backups", "prod", "a.sql.gz")));
    }

    [Fact]
    public async Task An_absent_object_is_null_to_get_and_not_found_to_read_and_delete()
    {
        Assert.Null(await _store.GetAsync("nothing/here"));
        var read = await Assert.ThrowsAsync<StoredObjectNotFoundException>(() => _store.OpenReadAsync("nothing/here"));
        Assert.Equal("nothing/here", read.Name);
        await Assert.ThrowsAsync<StoredObjectNotFoundException>(() => _store.DeleteAsync("nothing/here", null));
        Assert.Empty(await NamesAsync(""));
    }

    [Fact]
    public async Task A_second_create_only_write_fails_and_leaves_the_first_untouched()
    {
        var first = await _store.WriteAsync("lease", Content("first"), "text/plain", 0);

        var failure = await Assert.ThrowsAsync<StorePreconditionFailedException>(() => _store.WriteAsync("lease", Content("second"), "text/plain", 0));

        Assert.Equal("lease", failure.Name);
        Assert.Equal(first, await _store.GetAsync("lease"));
        Assert.Equal("first", await ReadAsync("lease"));
        Assert.Equal(["lease"], Directory.GetFileSystemEntries(BucketDirectory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Of_twenty_concurrent_create_only_writers_exactly_one_wins()
    {
        // Each writer has its own store, so its own lock handle, as separate processes would.
        using var start = new ManualResetEventSlim();
        var writers = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            var store = new LocalBackupStore(_paths, Bucket);
            start.Wait();
            try
            {
                await store.WriteAsync("locks/instance-a", Content($"writer {i}"), "text/plain", 0);
                return (Writer: i, Won: true);
            }
            catch (StorePreconditionFailedException)
            {
                return (Writer: i, Won: false);
            }
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(writers);

        var winner = Assert.Single(results, r => r.Won);
        Assert.Equal($"writer {winner.Writer}", await ReadAsync("locks/instance-a"));
        // The losers' temp files are gone.
        Assert.Equal(["instance-a"], Directory.GetFileSystemEntries(Path.Combine(BucketDirectory, "locks")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_replace_with_the_current_generation_succeeds_with_a_new_generation()
    {
        var first = await _store.WriteAsync("manifest.json", Content("v1"), "application/json", 0);

        var second = await _store.WriteAsync("manifest.json", Content("v2"), "application/json", first.Generation);

        Assert.True(second.Generation > first.Generation);
        Assert.Equal(second, await _store.GetAsync("manifest.json"));
        Assert.Equal("v2", await ReadAsync("manifest.json"));
    }

    [Fact]
    public async Task A_replace_with_a_stale_generation_fails_and_changes_nothing()
    {
        var first = await _store.WriteAsync("manifest.json", Content("v1"), "application/json", 0);
        var second = await _store.WriteAsync("manifest.json", Content("v2"), "application/json", first.Generation);

        await Assert.ThrowsAsync<StorePreconditionFailedException>(() => _store.WriteAsync("manifest.json", Content("v3"), "application/json", first.Generation));
        await Assert.ThrowsAsync<StorePreconditionFailedException>(() => _store.WriteAsync("absent.json", Content("v1"), "application/json", first.Generation));

        Assert.Equal(second, await _store.GetAsync("manifest.json"));
        Assert.Equal("v2", await ReadAsync("manifest.json"));
        Assert.Null(await _store.GetAsync("absent.json"));
    }

    [Fact]
    public async Task An_unconditional_write_creates_or_replaces()
    {
        var first = await _store.WriteAsync("a", Content("1"), "text/plain", null);
        var second = await _store.WriteAsync("a", Content("22"), "", null);

        Assert.True(second.Generation > first.Generation);
        Assert.Equal(2, second.Size);
        Assert.Equal("application/octet-stream", second.ContentType);
        Assert.Equal("22", await ReadAsync("a"));
    }

    [Fact]
    public async Task Generations_stay_unique_when_the_clock_stands_still()
    {
        var store = new LocalBackupStore(_paths, Bucket, new FixedClock(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)));

        var first = await store.WriteAsync("a", Content("1"), "text/plain", 0);
        var second = await store.WriteAsync("a", Content("2"), "text/plain", first.Generation);
        var third = await store.WriteAsync("a", Content("3"), "text/plain", null);

        Assert.Equal([first.Generation + 1, first.Generation + 2], [second.Generation, third.Generation]);
        Assert.Equal(third.Generation, (await store.GetAsync("a"))!.Generation);
    }

    [Fact]
    public async Task The_generation_is_the_same_for_every_read_of_one_version()
    {
        var written = await _store.WriteAsync("x/y", Content("same"), "text/plain", 0);

        var listed = Assert.Single(await _store.ListAsync("x/").ToListAsync());
        Assert.Equal(written, listed);
        Assert.Equal(written, await _store.GetAsync("x/y"));
        Assert.Equal(written, await new LocalBackupStore(_paths, Bucket).GetAsync("x/y"));
    }

    [Fact]
    public async Task A_reader_keeps_the_version_it_opened_when_the_object_is_replaced()
    {
        var first = await _store.WriteAsync("a", Content("old"), "text/plain", 0);
        await using var reader = await _store.OpenReadAsync("a");

        await _store.WriteAsync("a", Content("new"), "text/plain", first.Generation);

        Assert.Equal("old", await new StreamReader(reader).ReadToEndAsync());
        Assert.Equal("new", await ReadAsync("a"));
    }

    [Fact]
    public async Task A_delete_with_a_wrong_generation_deletes_nothing()
    {
        var written = await _store.WriteAsync("backups/a", Content("keep"), "text/plain", 0);

        await Assert.ThrowsAsync<StorePreconditionFailedException>(() => _store.DeleteAsync("backups/a", written.Generation + 1));
        await Assert.ThrowsAsync<StorePreconditionFailedException>(() => _store.DeleteAsync("backups/a", 0));

        Assert.Equal(written, await _store.GetAsync("backups/a"));
        Assert.Equal("keep", await ReadAsync("backups/a"));
    }

    [Fact]
    public async Task A_delete_removes_the_object_and_its_empty_directories_up_to_the_bucket()
    {
        var written = await _store.WriteAsync("backups/prod/inst/a.sql.gz", Content("a"), "application/gzip", 0);
        await _store.WriteAsync("backups/other", Content("b"), "text/plain", 0);

        await _store.DeleteAsync("backups/prod/inst/a.sql.gz", written.Generation);

        Assert.Null(await _store.GetAsync("backups/prod/inst/a.sql.gz"));
        Assert.False(Directory.Exists(Path.Combine(BucketDirectory, "backups", "prod")));
        Assert.True(File.Exists(Path.Combine(BucketDirectory, "backups", "other")));

        await _store.DeleteAsync("backups/other", null);
        Assert.True(Directory.Exists(BucketDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(BucketDirectory));
        await Assert.ThrowsAsync<StoredObjectNotFoundException>(() => _store.DeleteAsync("backups/other", null));
    }

    [Fact]
    public async Task A_deleted_then_recreated_object_does_not_reuse_stale_checksums()
    {
        await _store.WriteAsync("a", Content("first"), "text/plain", 0);
        await _store.DeleteAsync("a", null);
        var again = await _store.WriteAsync("a", Content("123456789"), "text/plain", 0);

        Assert.Equal(again, await _store.GetAsync("a"));
        Assert.Equal("4waSgw==", again.Crc32c);
    }

    [Fact]
    public async Task Listing_returns_names_in_ordinal_order_below_the_prefix()
    {
        string[] names = ["b", "a/b", "a-c", "a0", "a/a/x", "a/a-", "backups/prod/x", "backups/production/y", "backups/prod/inst/z", "Z"];
        foreach (var name in names)
        {
            await _store.WriteAsync(name, Content(name), "text/plain", 0);
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), await NamesAsync(""));
        Assert.Equal(["backups/prod/inst/z", "backups/prod/x", "backups/production/y"], await NamesAsync("backups/prod"));
        Assert.Equal(["backups/prod/inst/z", "backups/prod/x"], await NamesAsync("backups/prod/"));
        Assert.Equal(["a-c", "a/a-", "a/a/x", "a/b", "a0"], await NamesAsync("a"));
        Assert.Equal(["a/a-", "a/a/x"], await NamesAsync("a/a"));
        Assert.Empty(await NamesAsync("backups/staging/"));
        Assert.Empty(await NamesAsync("b/"));
    }

    [Fact]
    public async Task Listed_objects_carry_the_same_metadata_as_get()
    {
        await _store.WriteAsync("p/one", Content("1"), "text/plain", 0);
        await _store.WriteAsync("p/two", Content("22"), "application/json", 0);

        await foreach (var item in _store.ListAsync("p/"))
        {
            Assert.Equal(await _store.GetAsync(item.Name), item);
        }
    }

    [Fact]
    public async Task Temp_and_partial_files_are_never_listed_nor_visible()
    {
        await _store.WriteAsync("backups/real.sql.gz", Content("real"), "application/gzip", 0);
        Place(".tmp-0123", "crashed write");
        Place("backups/.tmp-4567", "crashed write");
        Place("backups/next.sql.gz.partial-op-1", "unfinished export");
        Place("backups/dir.partial-op-2/toc.dat", "unfinished parallel export");

        Assert.Equal(["backups/real.sql.gz"], await NamesAsync(""));
        Assert.Equal(["backups/real.sql.gz"], await NamesAsync("backups/"));
        Assert.Null(await _store.GetAsync("backups/next.sql.gz"));
        Assert.Null(await _store.GetAsync("backups/dir/toc.dat"));
    }

    [Fact]
    public async Task A_directory_format_export_appears_as_its_files()
    {
        Place("exports/db.dir/toc.dat", "toc");
        Place("exports/db.dir/3001.dat.gz", "data");

        Assert.Equal(["exports/db.dir/3001.dat.gz", "exports/db.dir/toc.dat"], await NamesAsync("exports/"));
        Assert.Null(await _store.GetAsync("exports/db.dir"));
        await Assert.ThrowsAsync<StoredObjectNotFoundException>(() => _store.OpenReadAsync("exports/db.dir"));
        Assert.Equal("toc", await ReadAsync("exports/db.dir/toc.dat"));
    }

    [Fact]
    public async Task A_write_that_dies_midway_leaves_no_visible_object()
    {
        // A crashed process leaves its temp file behind...
        Place("backups/.tmp-crashed", "half a dump");
        Assert.Null(await _store.GetAsync("backups/a.sql.gz"));
        Assert.Empty(await NamesAsync(""));

        // ...and a write whose source fails leaves nothing at all.
        await Assert.ThrowsAsync<IOException>(() => _store.WriteAsync("backups/a.sql.gz", new FailingStream(1000), "application/gzip", 0));
        Assert.Null(await _store.GetAsync("backups/a.sql.gz"));
        Assert.Equal([".tmp-crashed"], Directory.GetFileSystemEntries(Path.Combine(BucketDirectory, "backups")).Select(Path.GetFileName));

        // The name is still free for a create-only write.
        await _store.WriteAsync("backups/a.sql.gz", Content("whole"), "application/gzip", 0);
        Assert.Equal("whole", await ReadAsync("backups/a.sql.gz"));
    }

    [Fact]
    public async Task A_cancelled_write_leaves_no_object()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.WriteAsync("a", Content("x"), "text/plain", 0, cancelled.Token));

        Assert.Null(await _store.GetAsync("a"));
        Assert.Empty(Directory.GetFileSystemEntries(BucketDirectory));
    }

    [Theory]
    [InlineData("123456789", "JfnnlDI7RTiF9RgfG2JNCw==", "4waSgw==")]
    [InlineData("", "1B2M2Y8AsgTpgAmY7PhCfg==", "AAAAAA==")]
    [InlineData("Hello, World!", "ZajifYh5KDgxtmS9i38K1A==", "TVUQaA==")]
    public async Task Checksums_are_those_Cloud_Storage_reports(string text, string md5, string crc32c)
    {
        var written = await _store.WriteAsync("sum", Content(text), "text/plain", 0);

        Assert.Equal((md5, crc32c), (written.Md5Hash, written.Crc32c));
        var read = await _store.GetAsync("sum");
        Assert.Equal((md5, crc32c), (read!.Md5Hash, read.Crc32c));
    }

    [Fact]
    public async Task A_file_placed_by_an_export_gets_checksums_and_a_generation_that_is_stable_until_it_changes()
    {
        var path = Place("exports/e.sql", "123456789");

        var first = await _store.GetAsync("exports/e.sql");
        Assert.NotNull(first);
        Assert.Equal(("JfnnlDI7RTiF9RgfG2JNCw==", "4waSgw==", 9L), (first.Md5Hash, first.Crc32c, first.Size));
        Assert.Null(first.ContentType);
        Assert.Equal(first, await _store.GetAsync("exports/e.sql"));
        Assert.Equal(first, await new LocalBackupStore(_paths, Bucket).GetAsync("exports/e.sql"));

        File.WriteAllText(path, "Hello, World!");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(1));
        var second = await _store.GetAsync("exports/e.sql");
        Assert.NotEqual(first.Generation, second!.Generation);
        Assert.Equal("TVUQaA==", second.Crc32c);

        // Its generation is honoured like any other.
        await Assert.ThrowsAsync<StorePreconditionFailedException>(() => _store.DeleteAsync("exports/e.sql", first.Generation));
        await _store.DeleteAsync("exports/e.sql", second.Generation);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("a/..")]
    [InlineData("a/./b")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    [InlineData("")]
    [InlineData(".tmp-sneaky")]
    [InlineData("a/b.partial-op")]
    public async Task A_name_that_is_not_a_plain_path_inside_the_bucket_is_refused(string name)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.GetAsync(name));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.OpenReadAsync(name));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.WriteAsync(name, Content("x"), "text/plain", null));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.DeleteAsync(name, null));
        Assert.False(File.Exists(Path.Combine(_state, "buckets", "escape")));
        Assert.False(File.Exists(Path.Combine(_state, "escape")));
    }

    [Theory]
    [InlineData("../")]
    [InlineData("a/../../")]
    [InlineData("a//")]
    public async Task A_prefix_that_leaves_the_bucket_is_refused(string prefix)
        => await Assert.ThrowsAnyAsync<ArgumentException>(async () => await _store.ListAsync(prefix).ToListAsync());

    [Theory]
    [InlineData("UPPER")]
    [InlineData("a")]
    [InlineData("../x")]
    public void An_invalid_bucket_is_refused(string bucket)
        => Assert.ThrowsAny<ArgumentException>(() => new LocalBackupStore(_paths, bucket));

    [Fact]
    public async Task An_object_cannot_sit_where_a_directory_of_objects_is_and_says_so()
    {
        await _store.WriteAsync("a/b", Content("x"), "text/plain", 0);
        await _store.WriteAsync("c", Content("x"), "text/plain", 0);

        var over = await Assert.ThrowsAsync<IOException>(() => _store.WriteAsync("a", Content("y"), "text/plain", null));
        Assert.Contains("objects below 'a/' exist", over.Message, StringComparison.Ordinal);
        var under = await Assert.ThrowsAsync<IOException>(() => _store.WriteAsync("c/d", Content("y"), "text/plain", null));
        Assert.Contains("the object 'c' exists", under.Message, StringComparison.Ordinal);
        Assert.Equal(["a/b", "c"], await NamesAsync(""));
    }

    [Fact]
    public async Task A_writer_in_another_process_holding_the_bucket_lock_makes_a_write_wait_until_it_releases_it()
    {
        var store = new LocalBackupStore(_paths, Bucket, null, TimeSpan.FromSeconds(2));
        var lockFile = Path.Combine(_state, "buckets", ".store", Bucket, "lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        // The other process holds the lock until the test closes its standard input: however slow
        // the machine, the lock is still held when the test looks, and released only when it says.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-x", lockFile, "-c", "read _"]) { UseShellExecute = false, RedirectStandardInput = true })!;
        await WaitUntilLockedAsync(lockFile);

        // The write waits for the lock for as long as its limit allows, and then gives up: it never goes ahead.
        var error = await Assert.ThrowsAsync<TimeoutException>(() => store.WriteAsync("a", Content("x"), "text/plain", 0));
        Assert.Contains(lockFile, error.Message, StringComparison.Ordinal);

        holder.StandardInput.Close();
        await holder.WaitForExitAsync();
        Assert.Null(await store.GetAsync("a"));
        await store.WriteAsync("a", Content("x"), "text/plain", 0);
        Assert.Equal("x", await ReadAsync("a"));
    }

    [Fact]
    public async Task A_lock_held_too_long_times_out_and_names_the_lock_file()
    {
        var store = new LocalBackupStore(_paths, Bucket, null, TimeSpan.FromMilliseconds(200));
        var lockFile = Path.Combine(_state, "buckets", ".store", Bucket, "lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        using (new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var error = await Assert.ThrowsAsync<TimeoutException>(() => store.WriteAsync("a", Content("x"), "text/plain", 0));
            Assert.Contains(lockFile, error.Message, StringComparison.Ordinal);
        }

        Assert.Null(await store.GetAsync("a"));
        Assert.Empty(Directory.GetFileSystemEntries(BucketDirectory));
    }

    /// <summary>Polls until the other process has started and taken the lock: bounded by a deadline, not a count, as starting a process on a loaded machine can take a while.</summary>
    private static async Task WaitUntilLockedAsync(string lockFile)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using (new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
                {
                }
            }
            catch (IOException)
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail("flock never took the lock");
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Yields some bytes, then fails as a broken upload or a dying pg_dump pipe would.</summary>
    private sealed class FailingStream(int bytesBeforeFailure) : Stream
    {
        private int _sent;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= bytesBeforeFailure)
            {
                throw new IOException("the source broke");
            }

            var n = Math.Min(count, bytesBeforeFailure - _sent);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            _sent += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
