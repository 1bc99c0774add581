using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Storage;
using Microsoft.Win32.SafeHandles;

namespace Commissable.Backup.FileStore;

/// <summary>
/// <see cref="IBackupStore"/> over the local cloud's bucket directory <c>&lt;state&gt;/buckets/&lt;bucket&gt;/</c>:
/// an object is a file, its name the path below the bucket with <c>/</c> (so a directory-format
/// export appears as its files, as objects under a prefix do in Cloud Storage).
/// </summary>
/// <remarks>
/// <para>
/// <b>Private.</b> Objects are created 0600 and directories 0700: a bucket holds every tenant's
/// backups, which no other local account may read.
/// </para>
/// <para>
/// <b>Atomic writes.</b> Content streams into <c>.tmp-*</c> beside the target, is fsynced, and is
/// renamed into place, so an object is absent or whole; a crash leaves only a temp file, which no
/// listing returns (nor <c>*.partial-*</c>, the local Cloud SQL export's unfinished output).
/// </para>
/// <para>
/// <b>Generation</b> is the file's modification time in microseconds since the Unix epoch, as
/// Cloud Storage's generations are. A write sets it on the temp file before the rename, to
/// <c>max(now, current + 1)</c>, so every version this store writes has a new one; because it is a
/// property of the inode, it moves with the rename atomically and needs no sidecar. A file placed by
/// someone else (an export) has its own modification time as generation: stable for every read of
/// that version, new when it is replaced. It needs a file system with sub-microsecond timestamps
/// (ext4, xfs, btrfs, tmpfs).
/// </para>
/// <para>
/// <b>Preconditions.</b> Compare-then-rename would race, so every mutation (write, delete, a
/// remembered checksum) of a bucket runs under an exclusive <c>flock</c> on
/// <c>&lt;state&gt;/buckets/.store/&lt;bucket&gt;/lock</c>, shared by every thread and process that
/// uses this class; content is streamed to the temp file before the lock is taken, so the lock is
/// held only for the check, the rename and the bookkeeping. A create-only write also puts the file
/// in place with link(2), which fails if the target exists (<c>File.Move(overwrite: false)</c> does
/// not: .NET checks, then renames), so it stays create-only even against a writer that ignores
/// the lock (such as an export).
/// </para>
/// <para>
/// <b>Checksums.</b> MD5 and CRC32C describe the bytes of the file as it is, never what someone
/// says it holds. The size and modification time do not identify that content: a writer that
/// ignores the store can change a file in place or replace it, keep its size, and set its
/// modification time back. So the checksums are computed by streaming the file, and remembered in
/// <c>&lt;state&gt;/buckets/.store/&lt;bucket&gt;/meta/</c> for that exact file: its device and
/// inode, its change time (ctime, which the kernel sets on every change and no writer can set
/// back), size and modification time (<see cref="FileIdentity"/>). An entry for anything else is
/// ignored and the file hashed again. Checksums are remembered only when the file did not change
/// while it was hashed and the kernel's coarse clock had already passed its change time
/// (<see cref="ChangeClock"/>), since a change in the same clock tick could carry the same change
/// time. A write's own checksums are those of the bytes it streamed, returned to the writer; the
/// first read after it hashes the placed file once (the file could change in the tick it was
/// placed in), and later reads of an unchanged file read nothing. Where statx(2) is missing,
/// every read hashes.
/// </para>
/// <para>
/// Local limits: an object name cannot also be a "directory" of other objects (<c>a</c> and
/// <c>a/b</c>), names with empty segments are refused, and names with a segment starting with
/// <c>.tmp-</c> or containing <c>.partial-</c> are reserved for unfinished writes.
/// </para>
/// </remarks>
public sealed class LocalBackupStore : IBackupStore
{
    private const string TempPrefix = ".tmp-";
    private const string PartialMarker = ".partial-";
    private const int CopyBufferSize = 256 * 1024;
    private const string DefaultContentType = "application/octet-stream";

    private readonly BucketPaths _paths;
    private readonly string _bucketDirectory;
    private readonly string _metadataDirectory;
    private readonly BucketLock _lock;
    private readonly TimeProvider _clock;
    private readonly Func<long> _changeClock;
    private long _bytesHashed;

    /// <param name="paths">The local cloud's bucket layout (and naming rules).</param>
    /// <param name="bucket">The bucket; its directory need not exist yet.</param>
    /// <param name="clock">The source of new generations; the system clock when null.</param>
    public LocalBackupStore(BucketPaths paths, string bucket, TimeProvider? clock = null)
        : this(paths, bucket, clock, TimeSpan.FromSeconds(30))
    {
    }

    /// <param name="changeClock">The clock file change times are stamped from (<see cref="ChangeClock"/>), in nanoseconds since the Unix epoch.</param>
    internal LocalBackupStore(BucketPaths paths, string bucket, TimeProvider? clock, TimeSpan lockTimeout, Func<long>? changeClock = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        // BucketPaths owns the naming rules: resolving an object in the bucket validates its name.
        _ = paths.Resolve($"gs://{bucket}/object");
        _paths = paths;
        _clock = clock ?? TimeProvider.System;
        _changeClock = changeClock ?? ChangeClock.NowNanoseconds;
        Bucket = bucket;
        _bucketDirectory = Path.GetFullPath(paths.BucketDirectory(bucket));
        // ".store" is not a valid bucket name, so it never collides with a bucket.
        var storeDirectory = Path.Combine(Path.GetFullPath(paths.Root), ".store", bucket);
        _metadataDirectory = Path.Combine(storeDirectory, "meta");
        _lock = new BucketLock(Path.Combine(storeDirectory, "lock"), lockTimeout);
    }

    public string Bucket { get; }

    /// <summary>The bytes this instance has read to compute checksums.</summary>
    internal long BytesHashed => Interlocked.Read(ref _bytesHashed);

    public async Task<StoredObject?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = Resolve(name);
        return await DescribeAsync(name, path, cancellationToken).ConfigureAwait(false);
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = Resolve(name);
        cancellationToken.ThrowIfCancellationRequested();
        // The open handle pins this version: a concurrent replace or delete does not disturb the reader.
        var handle = OpenExisting(path) ?? throw new StoredObjectNotFoundException(Bucket, name);
        // A FileStream allocates its buffer on every open: a small object (a ticket, a manifest,
        // read every half second while an export runs) gets a buffer its size, not 256 KiB.
        var bufferSize = (int)Math.Clamp(RandomAccess.GetLength(handle), 4096, CopyBufferSize);
        return Task.FromResult<Stream>(new FileStream(handle, FileAccess.Read, bufferSize, isAsync: false));
    }

    public async Task<StoredObject> WriteAsync(string name, Stream content, string contentType, long? ifGenerationMatch, CancellationToken cancellationToken = default)
    {
        var target = Resolve(name);
        ArgumentNullException.ThrowIfNull(content);
        if (ifGenerationMatch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ifGenerationMatch), ifGenerationMatch, "A generation is positive; 0 means create only, null means unconditional.");
        }

        var directory = Path.GetDirectoryName(target)!;
        var temp = Path.Combine(directory, TempPrefix + Guid.NewGuid().ToString("N"));
        var file = CreateTemp(name, directory, temp);
        try
        {
            var (size, md5, crc32c) = await CopyHashingAsync(content, file, cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);

            using (await _lock.AcquireAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Directory.Exists(target))
                {
                    throw new IOException($"gs://{Bucket}/{name} cannot be written: objects below '{name}/' exist, and the local cloud stores objects as files.");
                }

                var current = CurrentGeneration(target);
                var holds = ifGenerationMatch switch
                {
                    null => true,
                    0 => current is null,
                    var expected => current == expected,
                };
                if (!holds)
                {
                    throw new StorePreconditionFailedException(Bucket, name, ifGenerationMatch);
                }

                var generation = Math.Max(NowAsGeneration(), (current ?? 0) + 1);
                File.SetLastWriteTimeUtc(file.SafeFileHandle, TimeOf(generation));
                file.Flush(flushToDisk: true);
                await file.DisposeAsync().ConfigureAwait(false);

                var metadata = new ObjectMetadata(name, generation, size, md5, crc32c, string.IsNullOrEmpty(contentType) ? DefaultContentType : contentType);
                WriteMetadata(metadata);
                if (ifGenerationMatch != 0)
                {
                    File.Move(temp, target, overwrite: true);
                }
                else if (!CreateOnlyRename.TryPlace(temp, target))
                {
                    // A writer that ignores the lock (an export) got there first.
                    throw new StorePreconditionFailedException(Bucket, name, ifGenerationMatch);
                }

                return ToStoredObject(metadata);
            }
        }
        finally
        {
            await file.DisposeAsync().ConfigureAwait(false);
            TryDelete(temp);
        }
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var slash = prefix.LastIndexOf('/');
        var directoryPart = prefix[..(slash + 1)];
        var leaf = prefix[(slash + 1)..];
        var start = _bucketDirectory;
        if (directoryPart.Length > 0)
        {
            var segments = directoryPart[..^1].Split('/');
            if (segments.Any(s => s is "" or "." or "..") || prefix.Contains('\\', StringComparison.Ordinal) || prefix.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"The prefix '{prefix}' has an empty, '.' or '..' segment; object names have none.", nameof(prefix));
            }

            start = Path.GetFullPath(Path.Combine(_bucketDirectory, directoryPart[..^1]));
            if (!start.StartsWith(_bucketDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new ArgumentException($"The prefix '{prefix}' escapes bucket '{Bucket}'.", nameof(prefix));
            }
        }

        foreach (var (name, path) in Walk(start, directoryPart, leaf))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A file deleted since the directory was read is simply not listed.
            var item = await DescribeAsync(name, path, cancellationToken).ConfigureAwait(false);
            if (item is not null)
            {
                yield return item;
            }
        }
    }

    public async Task DeleteAsync(string name, long? ifGenerationMatch, CancellationToken cancellationToken = default)
    {
        var path = Resolve(name);
        using (await _lock.AcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            var current = CurrentGeneration(path) ?? throw new StoredObjectNotFoundException(Bucket, name);
            if (ifGenerationMatch is { } expected && expected != current)
            {
                throw new StorePreconditionFailedException(Bucket, name, ifGenerationMatch);
            }

            File.Delete(path);
            TryDelete(MetadataPath(name));
            PruneEmptyDirectories(Path.GetDirectoryName(path)!);
        }
    }

    private string Resolve(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var segments = name.Split('/');
        if (segments.Any(s => s.Length == 0))
        {
            throw new ArgumentException($"The object name '{name}' has an empty segment (a leading, trailing or doubled '/'); the local cloud stores objects as files and cannot represent it.", nameof(name));
        }

        if (segments.Any(IsReserved))
        {
            throw new ArgumentException($"The object name '{name}' has a segment starting with '{TempPrefix}' or containing '{PartialMarker}'; the local cloud reserves those for unfinished writes.", nameof(name));
        }

        return _paths.Resolve($"gs://{Bucket}/{name}");
    }

    private static bool IsReserved(string segment)
        => segment.StartsWith(TempPrefix, StringComparison.Ordinal) || segment.Contains(PartialMarker, StringComparison.Ordinal);

    /// <summary>The metadata of the file at <paramref name="path"/>, or null when no object is there.</summary>
    private async Task<StoredObject?> DescribeAsync(string name, string path, CancellationToken cancellationToken)
    {
        using var handle = OpenExisting(path);
        if (handle is null)
        {
            return null;
        }

        var size = RandomAccess.GetLength(handle);
        var generation = GenerationOf(File.GetLastWriteTimeUtc(handle));
        var cached = ReadMetadata(name);
        // Read before the identity: a change after this moment is stamped at or after it.
        var checkedAt = _changeClock();
        var identity = FileIdentity.Of(handle);
        if (cached is { Identity: not null } && cached.Identity == identity && cached.Generation == generation && cached.Size == size)
        {
            return ToStoredObject(cached);
        }

        // Placed by someone else (an export), written by this store and not read since, or changed:
        // hash this version (the handle pins it even if the name is replaced meanwhile).
        var (md5, crc32c) = await HashAsync(handle, cancellationToken).ConfigureAwait(false);
        var computed = new ObjectMetadata(name, generation, size, md5, crc32c, cached?.Generation == generation ? cached.ContentType : null);
        if (identity is { } hashed && hashed.ChangedNs < checkedAt && FileIdentity.Of(handle) == hashed)
        {
            // It did not change while it was hashed, and any later change is stamped with a later
            // change time: remember the checksums for this file, if the name still points to it.
            using (await _lock.AcquireAsync(cancellationToken).ConfigureAwait(false))
            {
                using var current = OpenExisting(path);
                if (current is not null && FileIdentity.Of(current) == hashed)
                {
                    WriteMetadata(computed with { Identity = hashed });
                }
            }
        }

        return ToStoredObject(computed);
    }

    /// <summary>A read handle on the object's file; null when absent, a directory or a symbolic link.</summary>
    private static SafeFileHandle? OpenExisting(string path)
    {
        try
        {
            if (new FileInfo(path).LinkTarget is not null)
            {
                // A link could point outside the bucket; the store never makes one.
                return null;
            }

            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            return null;
        }
    }

    /// <summary>The generation of the object file at <paramref name="path"/>, or null when there is none.</summary>
    private static long? CurrentGeneration(string path)
    {
        var info = new FileInfo(path);
        return info.Exists && info.LinkTarget is null ? GenerationOf(info.LastWriteTimeUtc) : null;
    }

    private long NowAsGeneration() => GenerationOf(_clock.GetUtcNow().UtcDateTime);

    private static long GenerationOf(DateTime utc) => Math.Max(1, (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond);

    private static DateTime TimeOf(long generation) => new(DateTime.UnixEpoch.Ticks + (generation * TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);

    private StoredObject ToStoredObject(ObjectMetadata metadata) => new()
    {
        Bucket = Bucket,
        Name = metadata.Name,
        Size = metadata.Size,
        Generation = metadata.Generation,
        Updated = new DateTimeOffset(TimeOf(metadata.Generation)),
        ContentType = metadata.ContentType,
        Md5Hash = metadata.Md5Hash,
        Crc32c = metadata.Crc32c,
    };

    private FileStream CreateTemp(string name, string directory, string temp)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                _paths.CreatePrivateDirectory(directory);
                // The copy writes whole buffers; a second buffer would only copy them again.
                return OwnerOnly.CreateFile(temp, bufferSize: 0);
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
                // A concurrent delete pruned the (then empty) directory between the two calls.
            }
            catch (IOException e) when (e is not DirectoryNotFoundException && ObjectAbove(directory) is { } above)
            {
                throw new IOException($"gs://{Bucket}/{name} cannot be written: the object '{above}' exists, and the local cloud stores objects as files.", e);
            }
        }
    }

    /// <summary>The name of an object file that stands where a directory of <paramref name="directory"/>'s path should be.</summary>
    private string? ObjectAbove(string directory)
    {
        for (var current = directory; current.Length > _bucketDirectory.Length; current = Path.GetDirectoryName(current)!)
        {
            if (File.Exists(current))
            {
                return Path.GetRelativePath(_bucketDirectory, current).Replace(Path.DirectorySeparatorChar, '/');
            }
        }

        return null;
    }

    private static async Task<(long Size, string Md5, string Crc32c)> CopyHashingAsync(Stream source, FileStream destination, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using var md5 = CreateMd5();
            var crc = new Crc32C();
            long size = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                md5.AppendData(buffer, 0, read);
                crc.Append(buffer.AsSpan(0, read));
                size += read;
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            return (size, Convert.ToBase64String(md5.GetHashAndReset()), crc.ToBase64());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<(string Md5, string Crc32c)> HashAsync(SafeFileHandle handle, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using var md5 = CreateMd5();
            var crc = new Crc32C();
            long offset = 0;
            int read;
            while ((read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, CopyBufferSize), offset, cancellationToken).ConfigureAwait(false)) > 0)
            {
                md5.AppendData(buffer, 0, read);
                crc.Append(buffer.AsSpan(0, read));
                offset += read;
            }

            Interlocked.Add(ref _bytesHashed, offset);

            return (Convert.ToBase64String(md5.GetHashAndReset()), crc.ToBase64());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // MD5 is what Cloud Storage reports (md5Hash): an integrity checksum here, not a security measure.
#pragma warning disable CA5351
    private static IncrementalHash CreateMd5() => IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351

    private string MetadataPath(string name)
        => Path.Combine(_metadataDirectory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name))) + ".json");

    private ObjectMetadata? ReadMetadata(string name)
    {
        try
        {
            var metadata = JsonSerializer.Deserialize<ObjectMetadata>(File.ReadAllBytes(MetadataPath(name)));
            return metadata?.Name == name ? metadata : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            // No entry, or a damaged one: the checksums are computed again.
            return null;
        }
    }

    /// <summary>Replaces the cache entry atomically; call with the bucket lock held.</summary>
    private void WriteMetadata(ObjectMetadata metadata)
    {
        Directory.CreateDirectory(_metadataDirectory, OwnerOnly.DirectoryMode);
        var path = MetadataPath(metadata.Name);
        var temp = Path.Combine(_metadataDirectory, TempPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            using (var file = OwnerOnly.CreateFile(temp))
            {
                JsonSerializer.Serialize(file, metadata);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    private void PruneEmptyDirectories(string directory)
    {
        for (var current = directory;
             current.Length > _bucketDirectory.Length && current.StartsWith(_bucketDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal);
             current = Path.GetDirectoryName(current)!)
        {
            try
            {
                Directory.Delete(current, recursive: false);
            }
            catch (IOException)
            {
                // Not empty (or already gone): the directories above are not empty either.
                return;
            }
        }
    }

    /// <summary>The objects below <paramref name="directory"/> in name order, filtered by <paramref name="leafPrefix"/> at this level.</summary>
    private static IEnumerable<(string Name, string Path)> Walk(string directory, string namePrefix, string leafPrefix)
    {
        List<FileSystemInfo> entries;
        try
        {
            entries = [.. new DirectoryInfo(directory).EnumerateFileSystemInfos()];
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }

        // A directory sorts as "name/": every object below it starts with that, so walking the
        // siblings in this order yields the names of the whole tree in ordinal order.
        var ordered = entries
            .Where(e => !IsReserved(e.Name) && e.LinkTarget is null)
            .Select(e => (Entry: e, Key: e is DirectoryInfo ? e.Name + "/" : e.Name))
            .Where(e => e.Key.StartsWith(leafPrefix, StringComparison.Ordinal))
            .OrderBy(e => e.Key, StringComparer.Ordinal);
        foreach (var (entry, key) in ordered)
        {
            if (entry is DirectoryInfo)
            {
                foreach (var nested in Walk(entry.FullName, namePrefix + key, ""))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return (namePrefix + key, entry.FullName);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is never listed.
        }
    }

    /// <summary>
    /// One cache entry. The checksums stand for the file's bytes only with <see cref="Identity"/>,
    /// the file they were computed from; a write's entry has none (it keeps the content type).
    /// </summary>
    internal sealed record ObjectMetadata(string Name, long Generation, long Size, string Md5Hash, string Crc32c, string? ContentType, FileIdentity? Identity = null);
}
