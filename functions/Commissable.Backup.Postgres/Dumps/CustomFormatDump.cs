using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>How <see cref="CustomFormatDump"/> writes a dump.</summary>
public sealed record CustomFormatDumpOptions
{
    /// <summary>The tenant column the content manifest counts rows per tenant by (unquoted).</summary>
    public string TenantColumn { get; init; } = "tenantId";

    /// <summary>Told how many bytes of the dump are written so far (every few MB and at the end).</summary>
    public IProgress<long>? BytesWritten { get; init; }

    /// <summary>Told about each program started (pg_dump, then pg_restore), so a caller can follow or stop them.</summary>
    public IChildProcessObserver? Observer { get; init; }
}

/// <summary>A custom-format dump on disk and what it holds, read from exactly the bytes written.</summary>
/// <param name="Path">The file written.</param>
/// <param name="SizeBytes">Its size.</param>
/// <param name="Md5Hash">Base64 MD5 of its bytes, as Cloud Storage reports it.</param>
/// <param name="Crc32c">Base64 big-endian CRC32C of its bytes, as Cloud Storage reports it.</param>
/// <param name="Content">Its content manifest.</param>
public sealed record DumpedFile(string Path, long SizeBytes, string Md5Hash, string Crc32c, BackupContent Content);

/// <summary>
/// The strategy's logical backup from an operator's machine: <c>pg_dump --format=custom --no-owner
/// --no-privileges</c> of one database into a new file (0600), with its size, MD5, CRC32C and
/// content manifest computed from the same bytes as they are written, in one pass.
/// </summary>
/// <remarks>
/// <para>
/// pg_dump writes the archive to a pipe; this process writes each block to the file, hashes it and
/// passes the same block to <c>pg_restore -f -</c>, whose plain text <see cref="DumpContentReader"/>
/// reads. So the manifest describes exactly the bytes on disk and costs no second read of the file;
/// the price is the one pg_dump pays for any non-seekable output: the archive's table of contents
/// records no data offsets, and pg_restore finds each table's data by skipping block headers
/// (it does so on any seekable file, in parallel too).
/// </para>
/// <para>
/// The password reaches pg_dump in a password file (0600, in a private directory removed at the
/// end), never an argument; the program sees none of this process's <c>PG*</c> variables and runs
/// with <c>PGTZ=UTC</c> (<see cref="TimeZone"/>, recorded in the manifest), so timestamps print
/// the same whatever the server's zone. Every program dies with this process. Anything that fails
/// (pg_dump, pg_restore, the manifest, the disk, cancellation) removes the file and throws.
/// </para>
/// </remarks>
public static class CustomFormatDump
{
    /// <summary>The session time zone the dump is written in, and that its manifest records.</summary>
    public const string TimeZone = "UTC";

    /// <summary>The application name pg_dump connects with (<c>pg_stat_activity.application_name</c>).</summary>
    public const string ApplicationName = "commissable-dump";

    private const int BufferSize = 1 << 20;
    private const int ChunkSize = 256 << 10;
    private const long ProgressStep = 8 << 20;

    /// <summary>
    /// Dumps <paramref name="database"/> of <paramref name="endpoint"/> into the new file
    /// <paramref name="path"/> (which must not exist), fsynced before this returns.
    /// </summary>
    /// <exception cref="DumpStreamException">pg_dump or pg_restore failed; the message ends with the program's last error lines.</exception>
    /// <exception cref="InvalidDataException">The dump's text is not a complete dump.</exception>
    /// <exception cref="IOException"><paramref name="path"/> exists, or the disk failed.</exception>
    public static async Task<DumpedFile> WriteAsync(DatabaseEndpoint endpoint, string database, string path, CustomFormatDumpOptions options, PostgresBinaries tools,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.TenantColumn, nameof(options));

        var full = System.IO.Path.GetFullPath(path);
        using var scratch = PrivateDirectory.Create("commissable-customdump-");
        var passwordFile = System.IO.Path.Combine(scratch.Path, "pgpass");
        endpoint.WritePasswordFile(passwordFile);
        var description = $"database '{database}' on {endpoint}";

        var file = OwnerOnly.CreateFile(full, bufferSize: 0);
        var completed = false;
        try
        {
            var tee = new Tee(file, options.BytesWritten);
            using var pgDump = Command(endpoint, database, passwordFile, tools, options.Observer).Start(redirectStdout: true);
            var dumpErrors = ExternalProcess.ReadTailAsync(pgDump.StandardError, CancellationToken.None);
            try
            {
                var restore = new ExternalProcess
                {
                    FileName = tools.Path("pg_restore"),
                    Arguments = ["--file=-"],
                    InheritPostgresVariables = false,
                    Observer = options.Observer,
                };
                // The feed runs under the caller's token, not the one that stops when pg_restore
                // ends: pg_restore may leave once it has what it needs, and the file must still get
                // every byte pg_dump writes. The read below ends only once the feed has.
                var content = await ReadContentAsync(restore, $"the dump of {description}", options.TenantColumn,
                    (stdin, _) => tee.FeedAsync(pgDump, dumpErrors, description, stdin, cancellationToken), cancellationToken).ConfigureAwait(false);
                if (!tee.Completed)
                {
                    throw new InvalidOperationException($"The dump of {description} was read before it was written whole.");
                }
                file.Flush(flushToDisk: true);
                completed = true;
                return new DumpedFile(full, tee.Size, tee.Md5, tee.Crc32c, content);
            }
            catch (Exception error) when (tee.Failure is { } dumpFailure && error is not OperationCanceledException && !ReferenceEquals(error, dumpFailure))
            {
                // pg_dump's own reason, not what its cut-off output made the reader say.
                throw dumpFailure;
            }
            finally
            {
                ExternalProcess.TryKill(pgDump);
                await pgDump.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                _ = await dumpErrors.ConfigureAwait(false);
            }
        }
        finally
        {
            await file.DisposeAsync().ConfigureAwait(false);
            if (!completed)
            {
                File.Delete(full);
            }
        }
    }

    /// <summary>The pg_dump command (custom format to standard output), its password in <paramref name="passwordFile"/>.</summary>
    internal static ExternalProcess Command(DatabaseEndpoint endpoint, string database, string passwordFile, PostgresBinaries tools, IChildProcessObserver? observer = null) => new()
    {
        FileName = tools.Path("pg_dump"),
        Arguments = ["--no-password", "--dbname=" + endpoint.Conninfo(database), "--format=custom", "--no-owner", "--no-privileges"],
        InheritPostgresVariables = false,
        Environment = new Dictionary<string, string>(DatabaseEndpoint.ToolEnvironment(passwordFile, ApplicationName)) { ["PGTZ"] = TimeZone },
        Observer = observer,
    };

    /// <summary>
    /// Runs <paramref name="restore"/> fed by <paramref name="feed"/> and reads its text to the very
    /// end (only that proves it whole), on a thread of its own with blocking reads.
    /// </summary>
    /// <remarks>
    /// pg_restore writes its text in stdio's 4 KB pieces as the archive arrives, slower than the
    /// reader takes it, so nearly every read finds one piece: as asynchronous reads of the pipe that
    /// cost about as much CPU as the parse itself (measured: 7.1 to 8.6 s of client CPU for a 46 MB
    /// dump against 5.2 to 5.7 s with blocking reads, pg_dump alone 4.0 to 4.6 s).
    /// </remarks>
    private static async Task<BackupContent> ReadContentAsync(ExternalProcess restore, string description, string tenantColumn,
        Func<Stream, CancellationToken, Task> feed, CancellationToken cancellationToken)
    {
        var text = ToolOutputStream.Start(restore, description, feed, scratch: null, cancellationToken);
        await using (text.ConfigureAwait(false))
        {
            var reading = new DumpReadOptions { TenantColumn = tenantColumn, TimeZone = TimeZone };
            return await Task.Factory.StartNew(() =>
            {
                var blocking = new BlockingReads(text);
                // Every read completes before it returns, so the reader runs to its end on this thread.
                var content = DumpContentReader.ReadAsync(blocking, reading, cancellationToken).GetAwaiter().GetResult();
                return blocking.Read(new byte[1], 0, 1) == 0 ? content
                    : throw new InvalidDataException("The dump's text went on after the reader had finished with it.");
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>A program's output read with blocking reads, also where an asynchronous read is asked for.</summary>
    private sealed class BlockingReads(Stream inner) : ReadOnlyStream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(inner.Read(buffer.Span));
        }
    }

    /// <summary>pg_dump's output into the file, the hashes and pg_restore, block by block.</summary>
    private sealed class Tee(FileStream file, IProgress<long>? progress)
    {
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private Crc32C _crc;

        public long Size { get; private set; }
        public string Md5 { get; private set; } = "";
        public string Crc32c { get; private set; } = "";

        /// <summary>Every byte pg_dump wrote is in the file and hashed, and pg_dump exited 0.</summary>
        public bool Completed { get; private set; }

        /// <summary>pg_dump's failure, once it is known (it exited non-zero).</summary>
        public DumpStreamException? Failure { get; private set; }

        public async Task FeedAsync(Process pgDump, Task<string> dumpErrors, string description, Stream stdin, CancellationToken cancellationToken)
        {
            try
            {
                // Blocking reads and writes on a thread of their own: pg_dump's output arrives in
                // stdio's few-KB pieces, and each asynchronous read of a pipe costs far more than a
                // blocking one. Ctrl-C kills pg_dump, which ends the copy.
                using (cancellationToken.Register(() => ExternalProcess.TryKill(pgDump)))
                {
                    await Task.Factory.StartNew(() => Copy(pgDump.StandardOutput.BaseStream, stdin), CancellationToken.None,
                        TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
                }
                cancellationToken.ThrowIfCancellationRequested();
                // The output ended; only pg_dump's exit status says whether it was whole.
                await pgDump.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                if (pgDump.ExitCode != 0)
                {
                    var program = new ExternalProcessException("pg_dump", pgDump.ExitCode, await dumpErrors.ConfigureAwait(false));
                    Failure = new DumpStreamException($"Dumping {description} failed: {program.Message}", program);
                    throw Failure;
                }
                Md5 = Convert.ToBase64String(_md5.GetHashAndReset());
                Crc32c = _crc.ToBase64();
                Completed = true;
                progress?.Report(Size);
            }
            finally
            {
                _md5.Dispose();
                try
                {
                    await stdin.DisposeAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // pg_restore already left; its exit status tells.
                }
            }
        }

        /// <summary>Copies pg_dump's output to its end: each chunk to the file, the hashes, then pg_restore.</summary>
        private void Copy(Stream source, Stream stdin)
        {
            PipeCapacity.Widen(source);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                long reported = 0;
                var reading = true;
                var filled = 0;
                while (true)
                {
                    // Pieces are gathered to at least ChunkSize, so the file, the hashes and
                    // pg_restore are called per chunk, not per piece.
                    var got = source.Read(buffer, filled, BufferSize - filled);
                    filled += got;
                    if (got > 0 && filled < ChunkSize)
                    {
                        continue;
                    }
                    if (filled > 0)
                    {
                        // The file first: what pg_restore reads is what is on disk.
                        file.Write(buffer, 0, filled);
                        _md5.AppendData(buffer, 0, filled);
                        _crc.Append(buffer.AsSpan(0, filled));
                        Size += filled;
                        if (progress is not null && Size - reported >= ProgressStep)
                        {
                            progress.Report(Size);
                            reported = Size;
                        }
                        if (reading)
                        {
                            try
                            {
                                stdin.Write(buffer, 0, filled);
                            }
                            catch (IOException)
                            {
                                // pg_restore left (its exit status says whether it had all it needed); the file still gets the rest.
                                reading = false;
                            }
                        }
                        filled = 0;
                    }
                    if (got == 0)
                    {
                        return;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
