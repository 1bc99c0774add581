using Commissable.Backup.Core.Storage;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A backup object's bytes as the plain SQL text pg_dump prints, in one streaming pass, whatever
/// the format: plain SQL as it is, gzip through <c>gzip -dc</c>, custom format through
/// <c>pg_restore -f -</c> reading the object on its standard input, directory format through
/// <c>pg_restore -f - DIR</c> reading the data files from named pipes (<see cref="DirectoryArchive"/>).
/// Memory stays flat whatever the object's size, and nothing but a directory export's table of
/// contents touches the disk.
/// </summary>
/// <remarks>
/// <para>
/// The returned stream must be read to its end: only the read that reaches the end knows the text
/// is whole, and it throws <see cref="DumpStreamException"/> when it is not (a cut-off gzip or
/// custom archive, a missing data file, a failed program). Disposing it early kills the program.
/// </para>
/// <para>
/// gzip is a program here, not <see cref="System.IO.Compression.GZipStream"/>, because the latter
/// ends quietly at a cut-off stream; a custom archive is read from a pipe, which pg_restore reads
/// in order (a whole archive's entries are in the order it restores them).
/// </para>
/// </remarks>
public static class BackupObjectText
{
    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];
    private static ReadOnlySpan<byte> CustomMagic => "PGDMP"u8;

    /// <summary>
    /// Opens <paramref name="objectName"/> of <paramref name="store"/> as SQL text.
    /// </summary>
    /// <param name="objectName">The object as named in the bucket; for a directory export its prefix (with or without the final <c>/</c>).</param>
    /// <param name="format">
    /// The manifest's format: <c>SQL</c>, <c>SQL_GZIP</c>, <c>CUSTOM</c> or <c>DIRECTORY</c>; null
    /// tells it from the bytes (gzip's <c>1f 8b</c>, custom's <c>PGDMP</c>, a name ending in
    /// <c>/</c> or a prefix holding <c>toc.dat</c> for a directory). A stated format the bytes
    /// contradict is refused.
    /// </param>
    /// <param name="tools">Where pg_restore is (for custom and directory formats).</param>
    public static async Task<Stream> OpenAsync(IBackupStore store, string objectName, string? format, PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(objectName);
        ArgumentNullException.ThrowIfNull(tools);
        var stated = format is null ? (DumpFormat?)null : DumpFormats.Parse(format);
        var description = $"gs://{store.Bucket}/{objectName}";
        if (stated == DumpFormat.Directory || objectName.EndsWith('/'))
        {
            return await OpenDirectoryAsync(store, objectName.TrimEnd('/'), tools, description, cancellationToken).ConfigureAwait(false);
        }

        Stream source;
        try
        {
            source = await store.OpenReadAsync(objectName, cancellationToken).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException) when (stated is null)
        {
            // No such object: a directory export's prefix, if it holds a table of contents.
            if (await store.GetAsync($"{objectName}/{DirectoryArchive.TableOfContents}", cancellationToken).ConfigureAwait(false) is null)
            {
                throw;
            }
            return await OpenDirectoryAsync(store, objectName, tools, description, cancellationToken).ConfigureAwait(false);
        }

        return await OpenStreamAsync(source, stated, description, tools, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a dump file on this machine as SQL text, as <see cref="OpenAsync"/> opens an object: a
    /// plain, gzip or custom-format file told from its bytes, or a directory-format dump's directory.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file or directory.</exception>
    public static async Task<Stream> OpenFileAsync(string path, PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tools);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            if (!File.Exists(Path.Combine(full, DirectoryArchive.TableOfContents)))
            {
                throw new DumpStreamException($"Reading {full} failed: it is a directory without a {DirectoryArchive.TableOfContents}, so not a directory-format dump.");
            }
            return ToolOutputStream.Start(
                new ExternalProcess { FileName = tools.Path("pg_restore"), Arguments = ["--file=-", "--format=directory", "--", full], InheritPostgresVariables = false },
                $"{full} ({DumpFormats.Name(DumpFormat.Directory)})", input: null, scratch: null, cancellationToken);
        }
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"There is no dump file {full}.", full);
        }
        var source = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await OpenStreamAsync(source, null, full, tools, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The text of <paramref name="source"/> (owned: disposed with the returned stream), its format told from its first bytes.</summary>
    private static async Task<Stream> OpenStreamAsync(Stream source, DumpFormat? stated, string description, PostgresBinaries tools, CancellationToken cancellationToken)
    {
        PeekedStream peeked;
        try
        {
            peeked = await PeekedStream.ReadAheadAsync(source, CustomMagic.Length, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        try
        {
            var found = peeked.Head.IsEmpty
                ? throw new DumpStreamException($"Reading {description} failed: it is empty, and a dump never is.")
                : peeked.StartsWith(GzipMagic) ? DumpFormat.SqlGzip
                : peeked.StartsWith(CustomMagic) ? DumpFormat.Custom
                : DumpFormat.Sql;
            if (stated is { } expected && expected != found)
            {
                throw new DumpStreamException($"Reading {description} failed: it is recorded as {DumpFormats.Name(expected)}, but its first bytes are those of {DumpFormats.Name(found)}.");
            }
            description += $" ({DumpFormats.Name(found)})";
            return found switch
            {
                DumpFormat.Sql => peeked,
                DumpFormat.SqlGzip => ToolOutputStream.Start(
                    new ExternalProcess { FileName = "gzip", Arguments = ["-dc"], InheritPostgresVariables = false },
                    description, (stdin, token) => ToolInput.CopyAsync(peeked, stdin, token), scratch: null, cancellationToken),
                _ => ToolOutputStream.Start(
                    new ExternalProcess { FileName = tools.Path("pg_restore"), Arguments = ["--file=-"], InheritPostgresVariables = false },
                    description, (stdin, token) => ToolInput.CopyAsync(peeked, stdin, token), scratch: null, cancellationToken),
            };
        }
        catch
        {
            await peeked.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Stream> OpenDirectoryAsync(IBackupStore store, string prefix, PostgresBinaries tools, string description, CancellationToken cancellationToken)
    {
        description = $"gs://{store.Bucket}/{prefix}/ ({DumpFormats.Name(DumpFormat.Directory)})";
        var scratch = PrivateDirectory.Create("commissable-dump-");
        DirectoryArchive.PreparedFile? first = null;
        try
        {
            var archive = await DirectoryArchive.PrepareAsync(store, prefix, scratch.CreateSubdirectory("archive"), tools, description, cancellationToken).ConfigureAwait(false);
            first = await archive.FirstAsync(description, cancellationToken).ConfigureAwait(false);
            var firstFile = first;
            return ToolOutputStream.Start(
                new ExternalProcess { FileName = tools.Path("pg_restore"), Arguments = ["--file=-", "--", archive.Directory], InheritPostgresVariables = false },
                description,
                async (stdin, token) =>
                {
                    await stdin.DisposeAsync().ConfigureAwait(false);
                    await archive.FeedAsync(firstFile, description, token).ConfigureAwait(false);
                },
                scratch, cancellationToken);
        }
        catch
        {
            if (first is not null)
            {
                await first.Source.DisposeAsync().ConfigureAwait(false);
            }
            scratch.Dispose();
            throw;
        }
    }
}
