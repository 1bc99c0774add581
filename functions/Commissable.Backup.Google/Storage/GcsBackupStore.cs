using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Commissable.Backup.Core.Storage;
using Google;
using Google.Cloud.Storage.V1;
using GcsObject = Google.Apis.Storage.v1.Data.Object;

namespace Commissable.Backup.Google.Storage;

/// <summary>
/// <see cref="IBackupStore"/> over Cloud Storage through <c>Google.Cloud.Storage.V1</c>.
/// </summary>
/// <remarks>
/// <para>
/// Takes a <see cref="StorageClient"/> (thread-safe; build one per process, for example with
/// <see cref="StorageClient.CreateAsync"/> for Application Default Credentials) and does not dispose it.
/// </para>
/// <para>
/// Writes stream through the library's resumable upload: a JSON initiation that carries the
/// precondition, then the bytes in chunks to the session URI, the last with the CRC32C of the
/// whole (the server rejects a mismatch). A non-seekable source (a pg_dump pipe) costs one chunk
/// of memory (10 MiB), never the object. Preconditions go to the server as
/// <c>ifGenerationMatch</c>, which is atomic there. A 412 becomes <see cref="StorePreconditionFailedException"/>, a 404
/// <see cref="StoredObjectNotFoundException"/> (null from <see cref="GetAsync"/>).
/// </para>
/// <para>
/// <see cref="OpenReadAsync"/> reads the metadata first (so an absent object throws there, not on
/// the first read), then downloads that exact generation in the background into a bounded pipe
/// whose reading end is the returned stream. Memory stays at the library's read buffer (256 KiB,
/// down from its 10 MiB default) plus the pipe's threshold (1 MiB) whatever the object's size; the
/// reader applies back-pressure to the download; bytes flow at once. A temp file would cost a
/// second copy on disk and make the caller wait for the whole object. A download failure
/// (including the library's hash check at the end) surfaces from the stream's next read; disposing
/// the stream early stops the download.
/// </para>
/// </remarks>
public sealed class GcsBackupStore : IBackupStore
{
    // The library fills a buffer of this size from the response before it writes anything on
    // (10 MiB by default); smaller, the first bytes reach the reader sooner and memory stays low.
    private const int DownloadChunkSize = 256 * 1024;

    // Enough to keep the download flowing while the reader works; the pipe pauses the writer above it.
    private const long PauseDownloadAt = 1024 * 1024;
    private const long ResumeDownloadAt = 512 * 1024;

    private readonly StorageClient _client;

    /// <param name="client">The Cloud Storage client; the caller owns it.</param>
    /// <param name="bucket">The bucket's name, without <c>gs://</c>.</param>
    public GcsBackupStore(StorageClient client, string bucket)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        if (bucket.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{bucket}' is not a bucket name: give the bucket alone, without gs:// or a path.", nameof(bucket));
        }

        _client = client;
        Bucket = bucket;
    }

    public string Bucket { get; }

    public async Task<StoredObject?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        try
        {
            var found = await _client.GetObjectAsync(Bucket, name, options: null, cancellationToken).ConfigureAwait(false);
            return ToStoredObject(found);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        var metadata = await GetAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new StoredObjectNotFoundException(Bucket, name);
        return DownloadStream.Start(_client, metadata, new PipeOptions(
            pauseWriterThreshold: PauseDownloadAt,
            resumeWriterThreshold: ResumeDownloadAt,
            useSynchronizationContext: false));
    }

    public async Task<StoredObject> WriteAsync(string name, Stream content, string contentType, long? ifGenerationMatch, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(content);
        if (ifGenerationMatch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ifGenerationMatch), ifGenerationMatch, "A generation is positive; 0 means create only, null means unconditional.");
        }

        try
        {
            var uploaded = await _client.UploadObjectAsync(
                Bucket,
                name,
                string.IsNullOrEmpty(contentType) ? null : contentType,
                content,
                new UploadObjectOptions { IfGenerationMatch = ifGenerationMatch },
                cancellationToken).ConfigureAwait(false);
            return ToStoredObject(uploaded);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new StorePreconditionFailedException(Bucket, name, ifGenerationMatch);
        }
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        // Cloud Storage lists in lexicographic (UTF-8 byte) order of names, page after page.
        var objects = _client.ListObjectsAsync(Bucket, prefix.Length == 0 ? null : prefix);
        await foreach (var item in objects.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return ToStoredObject(item);
        }
    }

    public async Task DeleteAsync(string name, long? ifGenerationMatch, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        try
        {
            await _client.DeleteObjectAsync(Bucket, name, new DeleteObjectOptions { IfGenerationMatch = ifGenerationMatch }, cancellationToken).ConfigureAwait(false);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new StorePreconditionFailedException(Bucket, name, ifGenerationMatch);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            throw new StoredObjectNotFoundException(Bucket, name);
        }
    }

    /// <summary>
    /// The library's object as the port's. Size (uint64) and generation (int64) travel as JSON
    /// strings and arrive parsed; a missing or out-of-range value is a broken response, not zero.
    /// </summary>
    internal StoredObject ToStoredObject(GcsObject item)
    {
        var name = item.Name ?? throw new InvalidDataException($"Cloud Storage returned an object of bucket {Bucket} without a name.");
        var size = item.Size ?? throw new InvalidDataException($"Cloud Storage returned gs://{Bucket}/{name} without a size.");
        var generation = item.Generation ?? throw new InvalidDataException($"Cloud Storage returned gs://{Bucket}/{name} without a generation.");
        if (size > long.MaxValue)
        {
            throw new InvalidDataException($"Cloud Storage returned gs://{Bucket}/{name} with a size of {size} bytes, beyond int64.");
        }

        if (generation <= 0)
        {
            throw new InvalidDataException($"Cloud Storage returned gs://{Bucket}/{name} with generation {generation}; generations are positive.");
        }

        return new StoredObject
        {
            Bucket = item.Bucket ?? Bucket,
            Name = name,
            Size = (long)size,
            Generation = generation,
            Updated = item.UpdatedDateTimeOffset
                ?? throw new InvalidDataException($"Cloud Storage returned gs://{Bucket}/{name} without an update time."),
            ContentType = item.ContentType,
            Md5Hash = item.Md5Hash,
            Crc32c = item.Crc32c,
        };
    }

    /// <summary>The reading end of a pipe that a background download of one generation fills.</summary>
    private sealed class DownloadStream : Stream
    {
        private readonly Stream _reader;
        private readonly CancellationTokenSource _stop = new();
        private int _disposed;
        // The reader and the download both use _stop; the last of them to finish disposes it.
        private int _users = 2;

        private DownloadStream(Stream reader)
        {
            _reader = reader;
        }

        public static DownloadStream Start(StorageClient client, StoredObject metadata, PipeOptions options)
        {
            var pipe = new Pipe(options);
            var stream = new DownloadStream(pipe.Reader.AsStream());
            var token = stream._stop.Token;
            _ = Task.Run(async () =>
            {
                await FillAsync(client, metadata, pipe.Writer, token).ConfigureAwait(false);
                stream.ReleaseStop();
            });
            return stream;
        }

        private void ReleaseStop()
        {
            if (Interlocked.Decrement(ref _users) == 0)
            {
                _stop.Dispose();
            }
        }

        /// <summary>Runs the download into the pipe; never throws: a failure completes the pipe for the reader to see.</summary>
        private static async Task FillAsync(StorageClient client, StoredObject metadata, PipeWriter writer, CancellationToken cancellationToken)
        {
            Exception? failure = null;
            try
            {
                // The generation read by OpenReadAsync: a replace meanwhile does not mix versions.
                var options = new DownloadObjectOptions { Generation = metadata.Generation, ChunkSize = DownloadChunkSize };
                await client.DownloadObjectAsync(metadata.Bucket, metadata.Name, new PipeSink(writer), options, cancellationToken).ConfigureAwait(false);
            }
            catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
            {
                failure = new StoredObjectNotFoundException(metadata.Bucket, metadata.Name);
            }
#pragma warning disable CA1031 // Not swallowed: the reader rethrows it on its next read.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }

            await writer.CompleteAsync(failure).ConfigureAwait(false);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _reader.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _reader.Read(buffer);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => _reader.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => _reader.ReadAsync(buffer, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                // Stops a download the reader no longer wants, without waiting for it: the library
                // may be blocked reading the network, and its next write into the pipe fails anyway.
                _stop.Cancel();
                ReleaseStop();
                _reader.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// The writing end of the pipe as the stream the library downloads into. A write fails once
    /// the reader has gone, which ends the download (the library does not pass its cancellation
    /// token to the response's reads, so cancelling alone may not reach it).
    /// </summary>
    private sealed class PipeSink(PipeWriter writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var result = await writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new OperationCanceledException("The reader closed the download stream.");
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
            => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
