using System.Buffers;
using Commissable.Backup.FileStore;

namespace Commissable.Backup.FileStore.Tests;

[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

/// <summary>
/// Streams a 100 MB object in and out. It runs alone, because it measures the bytes the whole
/// process allocates while it runs.
/// </summary>
[Collection(nameof(AllocationMeasurements))]
public sealed class LargeObjectTests : IDisposable
{
    private const long ObjectSize = 100L * 1024 * 1024;
    // Buffers and bookkeeping, far below the object: holding it whole would cost 100 MB at least.
    private const long AllocationBudget = 8L * 1024 * 1024;

    private readonly string _state = Directory.CreateTempSubdirectory("lbs-large-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task A_100_MB_object_is_written_and_read_back_with_bounded_memory()
    {
        var store = new LocalBackupStore(new BucketPaths(_state), "large-objects");
        // Warm up first, so JIT and first-use allocations are not counted.
        await store.WriteAsync("warm-up", new GeneratedStream(1024), "application/octet-stream", 0);
        await using (var warm = await store.OpenReadAsync("warm-up"))
        {
            await warm.CopyToAsync(Stream.Null);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var written = await store.WriteAsync("backups/big.dump", new GeneratedStream(ObjectSize), "application/octet-stream", 0);
        var afterWrite = GC.GetTotalAllocatedBytes(precise: true);

        Assert.Equal(ObjectSize, written.Size);
        Assert.True(afterWrite - before < AllocationBudget, $"writing allocated {afterWrite - before:N0} bytes");

        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long offset = 0;
        var mismatches = 0;
        await using (var read = await store.OpenReadAsync("backups/big.dump"))
        {
            int n;
            while ((n = await read.ReadAsync(buffer.AsMemory(0, 64 * 1024))) > 0)
            {
                for (var i = 0; i < n; i++)
                {
                    if (buffer[i] != GeneratedStream.ByteAt(offset + i))
                    {
                        mismatches++;
                    }
                }

                offset += n;
            }
        }

        ArrayPool<byte>.Shared.Return(buffer);
        var afterRead = GC.GetTotalAllocatedBytes(precise: true);

        Assert.Equal(ObjectSize, offset);
        Assert.Equal(0, mismatches);
        Assert.True(afterRead - afterWrite < AllocationBudget, $"reading allocated {afterRead - afterWrite:N0} bytes");

        // A second store (no cached checksums in memory, only on disk) agrees without reading it all into memory.
        var described = await new LocalBackupStore(new BucketPaths(_state), "large-objects").GetAsync("backups/big.dump");
        Assert.Equal(written, described);
    }

    [Fact]
    public async Task Checksums_of_a_large_file_placed_by_an_export_are_computed_by_streaming()
    {
        var paths = new BucketPaths(_state);
        var path = Path.Combine(paths.BucketDirectory("large-objects"), "exports", "big.sql");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var file = File.Create(path))
        {
            await new GeneratedStream(32L * 1024 * 1024).CopyToAsync(file);
        }

        var store = new LocalBackupStore(paths, "large-objects");
        var reference = await store.WriteAsync("reference", new GeneratedStream(32L * 1024 * 1024), "application/octet-stream", 0);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var described = await store.GetAsync("exports/big.sql");
        var after = GC.GetTotalAllocatedBytes(precise: true);

        Assert.Equal((reference.Md5Hash, reference.Crc32c, reference.Size), (described!.Md5Hash, described.Crc32c, described.Size));
        Assert.True(after - before < AllocationBudget, $"hashing allocated {after - before:N0} bytes");
    }
}
