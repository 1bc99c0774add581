using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.FileStore;

namespace Commissable.Backup.FileStore.Tests;

/// <summary>
/// The store's MD5 and CRC32C belong to the bytes of the file as it is: a writer that changes or
/// replaces an object behind the store's back, keeping its size and putting its modification time
/// back, gets the real checksums reported, never the ones remembered for the earlier content.
/// </summary>
public sealed class ChecksumTrustTests : IDisposable
{
    private const string Bucket = "checksum-trust";
    private const string Original = "the backup as it was taken, 0001";
    private const string Tampered = "the backup as a writer left it..";

    private readonly string _state = Directory.CreateTempSubdirectory("lbs-trust-").FullName;
    private readonly BucketPaths _paths;

    public ChecksumTrustTests() => _paths = new BucketPaths(_state);

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private string PathOf(string name) => Path.Combine(_paths.BucketDirectory(Bucket), name);

    private static MemoryStream Content(string text) => new(Encoding.UTF8.GetBytes(text));

#pragma warning disable CA5351 // MD5 is what Cloud Storage reports, the value under test.
    private static string Md5Of(string text) => Convert.ToBase64String(MD5.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351

    /// <summary>Changes the file as a writer that ignores the store would: same size, modification time put back.</summary>
    private static void Tamper(string path, string how)
    {
        Assert.Equal(Encoding.UTF8.GetByteCount(Original), Encoding.UTF8.GetByteCount(Tampered));
        var modified = File.GetLastWriteTimeUtc(path);
        switch (how)
        {
            case "in place":
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
                {
                    file.Write(Encoding.UTF8.GetBytes(Tampered));
                }
                break;
            case "replaced":
                var other = path + "-replacement";
                File.WriteAllText(other, Tampered);
                File.SetLastWriteTimeUtc(other, modified);
                File.Move(other, path, overwrite: true);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(how), how, null);
        }

        File.SetLastWriteTimeUtc(path, modified);
        Assert.Equal(modified, File.GetLastWriteTimeUtc(path));
    }

    [Theory]
    [InlineData("in place")]
    [InlineData("replaced")]
    public async Task An_object_the_store_wrote_then_changed_with_size_and_time_kept_reports_its_real_checksums(string how)
    {
        var store = new LocalBackupStore(_paths, Bucket);
        var written = await store.WriteAsync("backups/a.sql", Content(Original), "application/sql", 0);
        Assert.Equal(written, await store.GetAsync("backups/a.sql"));

        Tamper(PathOf("backups/a.sql"), how);
        var read = await store.GetAsync("backups/a.sql");

        Assert.Equal((written.Size, written.Generation), (read!.Size, read.Generation));
        Assert.Equal(Md5Of(Tampered), read.Md5Hash);
        Assert.NotEqual(written.Crc32c, read.Crc32c);
        // A second store (only what is on disk) is not fooled either.
        Assert.Equal(Md5Of(Tampered), (await new LocalBackupStore(_paths, Bucket).GetAsync("backups/a.sql"))!.Md5Hash);
    }

    [Theory]
    [InlineData("in place")]
    [InlineData("replaced")]
    public async Task A_file_placed_by_an_export_then_changed_with_size_and_time_kept_reports_its_real_checksums(string how)
    {
        var path = PathOf("exports/e.sql");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Original);
        // The clock has moved on since the export, so the first read may remember what it computed.
        var store = new LocalBackupStore(_paths, Bucket, null, TimeSpan.FromSeconds(30), () => ChangeClock.NowNanoseconds() + 1_000_000_000);
        var first = await store.GetAsync("exports/e.sql");
        Assert.Equal(Md5Of(Original), first!.Md5Hash);

        Tamper(path, how);
        var read = await new LocalBackupStore(_paths, Bucket).GetAsync("exports/e.sql");

        Assert.Equal(first.Generation, read!.Generation);
        Assert.Equal(Md5Of(Tampered), read.Md5Hash);
        Assert.NotEqual(first.Crc32c, read.Crc32c);
    }

    [Fact]
    public async Task Checksums_remembered_for_an_unchanged_file_are_answered_without_reading_it_again()
    {
        var path = PathOf("exports/big.sql");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Original);
        var store = new LocalBackupStore(_paths, Bucket, null, TimeSpan.FromSeconds(30), () => ChangeClock.NowNanoseconds() + 1_000_000_000);

        var first = await store.GetAsync("exports/big.sql");
        var hashed = store.BytesHashed;
        var second = await store.GetAsync("exports/big.sql");

        Assert.Equal(first, second);
        Assert.Equal(Original.Length, hashed);
        Assert.Equal(hashed, store.BytesHashed);
    }

    [Fact]
    public async Task Checksums_of_a_file_changed_in_the_clock_tick_they_were_computed_in_are_computed_again()
    {
        var path = PathOf("exports/racy.sql");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Original);
        // A clock that never passes the file's change time: a change after hashing could carry the same time.
        var store = new LocalBackupStore(_paths, Bucket, null, TimeSpan.FromSeconds(30), () => 0);

        await store.GetAsync("exports/racy.sql");
        await store.GetAsync("exports/racy.sql");

        Assert.Equal(2L * Original.Length, store.BytesHashed);
    }

    [Fact]
    public async Task Checksums_the_store_computed_while_writing_are_checked_against_the_bytes_on_the_first_read()
    {
        // The write's own checksums stand for the bytes it streamed; the file could change in the
        // same clock tick as the store placed it, so the first read hashes what is there.
        var store = new LocalBackupStore(_paths, Bucket, null, TimeSpan.FromSeconds(30), () => ChangeClock.NowNanoseconds() + 1_000_000_000);
        var written = await store.WriteAsync("backups/w.sql", Content(Original), "application/sql", 0);
        Assert.Equal(0, store.BytesHashed);

        Assert.Equal(written, await store.GetAsync("backups/w.sql"));
        Assert.Equal(written, await store.GetAsync("backups/w.sql"));
        Assert.Equal(Original.Length, store.BytesHashed);
    }
}
