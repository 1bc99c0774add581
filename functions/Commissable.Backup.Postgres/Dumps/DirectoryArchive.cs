using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A pg_dump directory-format archive (a Cloud SQL parallel export) read where it lies in the
/// bucket, without copying its data to disk. Only the table of contents (<c>toc.dat</c>, and
/// <c>blobs.toc</c> when it has large objects) is downloaded, into a private directory;
/// <c>pg_restore -f - DIR</c> then reads each data file from a named pipe of that directory,
/// created just before pg_restore needs it and fed from the bucket.
/// </summary>
/// <remarks>
/// <para>
/// pg_restore opens the data files one at a time in the order of its table of contents
/// (<c>pg_restore -l</c>; a serial restore never reorders the data entries). The pipe of the next
/// file is created before the current one is closed, so it is there when pg_restore asks; no other
/// name exists, so a pg_restore that asked for another file would fail at once, never wait. It
/// opens <c>N.dat</c>, else <c>N.dat.gz</c>: the pipe carries the object's name and bytes as they
/// are, and pg_restore's own zlib inflates them and notices a cut-off file.
/// </para>
/// <para>
/// A data file missing from the bucket fails the read with its name before pg_restore could
/// print anything it lacks.
/// </para>
/// </remarks>
internal sealed partial class DirectoryArchive
{
    public const string TableOfContents = "toc.dat";
    private const string LargeObjectsTableOfContents = "blobs.toc";

    private readonly IBackupStore _store;
    private readonly string _prefix;
    private readonly string _directory;
    private readonly IReadOnlyList<string> _files;

    private DirectoryArchive(IBackupStore store, string prefix, string directory, IReadOnlyList<string> files)
    {
        _store = store;
        _prefix = prefix;
        _directory = directory;
        _files = files;
    }

    /// <summary>The local directory pg_restore reads as the archive.</summary>
    public string Directory => _directory;

    /// <summary>The data files pg_restore will open, in order, as it names them (before a compression suffix).</summary>
    public IReadOnlyList<string> DataFiles => _files;

    /// <summary>
    /// Downloads the table of contents of the export under <paramref name="prefix"/> into
    /// <paramref name="directory"/> and lists the data files pg_restore will read.
    /// </summary>
    public static async Task<DirectoryArchive> PrepareAsync(IBackupStore store, string prefix, string directory, PostgresBinaries tools, string description, CancellationToken cancellationToken)
    {
        if (!await TryDownloadAsync(store, $"{prefix}/{TableOfContents}", Path.Combine(directory, TableOfContents), cancellationToken).ConfigureAwait(false))
        {
            throw new DumpStreamException($"Reading {description} failed: it has no {TableOfContents}, so it is not a complete directory-format export.");
        }
        string listing;
        try
        {
            listing = await new ExternalProcess
            {
                FileName = tools.Path("pg_restore"),
                Arguments = ["--list", "--", directory],
                InheritPostgresVariables = false,
            }.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ExternalProcessException error)
        {
            throw new DumpStreamException($"Reading {description} failed: {error.Message}", error);
        }
        var files = new List<string>();
        foreach (var (dumpId, kind) in DataEntries(listing))
        {
            if (kind == "TABLE DATA")
            {
                files.Add(dumpId.ToString(CultureInfo.InvariantCulture) + ".dat");
                continue;
            }
            // BLOBS: pg_restore reads blobs.toc ("<oid> <file>" per line), then each file it names.
            var local = Path.Combine(directory, LargeObjectsTableOfContents);
            if (!await TryDownloadAsync(store, $"{prefix}/{LargeObjectsTableOfContents}", local, cancellationToken).ConfigureAwait(false))
            {
                throw new DumpStreamException($"Reading {description} failed: it has large objects but no {LargeObjectsTableOfContents}.");
            }
            foreach (var line in await File.ReadAllLinesAsync(local, cancellationToken).ConfigureAwait(false))
            {
                var match = LargeObjectLine().Match(line);
                if (!match.Success)
                {
                    throw new DumpStreamException($"Reading {description} failed: {LargeObjectsTableOfContents} has a line that is not '<oid> blob_<oid>.dat'.");
                }
                files.Add(match.Groups["file"].Value);
            }
        }
        return new DirectoryArchive(store, prefix, directory, files);
    }

    /// <summary>The entries of a <c>pg_restore --list</c> that have a data file, in order.</summary>
    internal static IEnumerable<(int DumpId, string Kind)> DataEntries(string listing)
    {
        foreach (var line in listing.Split('\n'))
        {
            // "3353; 0 16386 TABLE DATA public a postgres", "3356; 0 0 BLOBS - BLOBS postgres"
            var match = DataEntry().Match(line);
            if (match.Success)
            {
                yield return (int.Parse(match.Groups["id"].Value, CultureInfo.InvariantCulture), match.Groups["kind"].Value);
            }
        }
    }

    /// <summary>Opens the first data file in the bucket and creates its pipe: call before pg_restore starts.</summary>
    public async Task<PreparedFile?> FirstAsync(string description, CancellationToken cancellationToken) =>
        _files.Count == 0 ? null : await PrepareFileAsync(0, description, cancellationToken).ConfigureAwait(false);

    /// <summary>Feeds every data file, starting with <paramref name="first"/>, to pg_restore in its order.</summary>
    public async Task FeedAsync(PreparedFile? first, string description, CancellationToken cancellationToken)
    {
        var current = first;
        for (var index = 0; current is not null; index++)
        {
            PreparedFile? next = null;
            try
            {
                var writer = await current.Pipe.OpenWriterAsync(cancellationToken).ConfigureAwait(false);
                await using (writer.ConfigureAwait(false))
                {
                    // Both ends are open: the name is no longer needed, and a name left over could
                    // only be opened by mistake.
                    File.Delete(current.Pipe.Path);
                    await ToolInput.CopyAsync(current.Source, new NonClosing(writer), cancellationToken).ConfigureAwait(false);
                    current = null;
                    // The next pipe exists before this one ends, so pg_restore finds it when it asks.
                    next = index + 1 < _files.Count ? await PrepareFileAsync(index + 1, description, cancellationToken).ConfigureAwait(false) : null;
                }
            }
            finally
            {
                if (current is not null)
                {
                    await current.Source.DisposeAsync().ConfigureAwait(false);
                }
            }
            current = next;
        }
    }

    private async Task<PreparedFile> PrepareFileAsync(int index, string description, CancellationToken cancellationToken)
    {
        var name = _files[index];
        foreach (var candidate in new[] { name + ".gz", name })
        {
            Stream source;
            try
            {
                source = await _store.OpenReadAsync($"{_prefix}/{candidate}", cancellationToken).ConfigureAwait(false);
            }
            catch (StoredObjectNotFoundException)
            {
                continue;
            }
            try
            {
                return new PreparedFile(NamedPipe.Create(Path.Combine(_directory, candidate)), source);
            }
            catch
            {
                await source.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        throw new DumpStreamException($"Reading {description} failed: its data file {name}.gz (or {name}) is missing, so the export is incomplete.");
    }

    private static async Task<bool> TryDownloadAsync(IBackupStore store, string objectName, string path, CancellationToken cancellationToken)
    {
        Stream source;
        try
        {
            source = await store.OpenReadAsync(objectName, cancellationToken).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException)
        {
            return false;
        }
        await using (source.ConfigureAwait(false))
        {
            var file = OwnerOnly.CreateFile(path);
            await using (file.ConfigureAwait(false))
            {
                await source.CopyToAsync(file, ToolInput.BufferSize, cancellationToken).ConfigureAwait(false);
            }
        }
        return true;
    }

    [GeneratedRegex(@"^(?<id>[0-9]+); [0-9]+ [0-9]+ (?<kind>TABLE DATA|BLOBS) ", RegexOptions.CultureInvariant)]
    private static partial Regex DataEntry();

    [GeneratedRegex(@"\A[0-9]+ (?<file>blob_[0-9]+\.dat)\z", RegexOptions.CultureInvariant)]
    private static partial Regex LargeObjectLine();

    /// <summary>A data file opened in the bucket, and the pipe pg_restore will read it from.</summary>
    internal sealed record PreparedFile(NamedPipe Pipe, Stream Source);

    /// <summary>Lets the copy close its target without closing the pipe before the next one exists.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
    }
}
