using System.Buffers;

namespace Commissable.Backup.Core.Backups.Content;

/// <summary>
/// Reads a plain-SQL pg_dump text (as <c>pg_dump --format=plain</c> or <c>pg_restore -f -</c>
/// prints it) into the <see cref="BackupContent"/> it holds, in one pass with flat memory.
/// </summary>
/// <remarks>
/// <para>
/// Rows are hashed as bytes, straight from the reading buffer: no line becomes a string. What is
/// kept is one sum per table and per (table, tenant), the Prisma migration names, the schema
/// lines, and the one statement being read (at most <see cref="MaxStatementBytes"/>).
/// </para>
/// <para>
/// What is not a pg_dump plain-text dump, or is one cut short (no closing "dump complete" line, a
/// COPY without its <c>\.</c>, a statement without its end), or has anything but comments after its
/// end, throws <see cref="InvalidDataException"/>: a damaged backup never gets a manifest.
/// </para>
/// </remarks>
public static class DumpContentReader
{
    /// <summary>The longest single DDL statement read; a longer one throws <see cref="InvalidDataException"/>.</summary>
    public const int MaxStatementBytes = DumpParser.MaxStatementBytes;

    private const int BufferSize = 1 << 20;
    private const long ProgressStep = 8 << 20;

    /// <summary>Reads plain SQL exactly as pg_dump (format plain) or <c>pg_restore -f -</c> prints it; one pass, flat memory.</summary>
    /// <exception cref="InvalidDataException">The input is not a complete pg_dump plain-text dump.</exception>
    public static async Task<BackupContent> ReadAsync(Stream plainSql, DumpReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plainSql);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.TenantColumn, nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.TimeZone, nameof(options));

        var parser = new DumpParser(options);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int start = 0, end = 0;
            long read = 0, reported = 0;
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                    else
                    {
                        // One line fills the whole buffer: hand it over in pieces.
                        parser.ConsumePiece(buffer.AsSpan(0, end));
                        end = 0;
                    }
                }
                var n = await plainSql.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                read += n;
                if (options.BytesRead is { } progress && read - reported >= ProgressStep)
                {
                    progress.Report(read);
                    reported = read;
                }
                // Small reads of a long line: look again only once a newline has arrived.
                var lineEnds = start == end || buffer.AsSpan(end, n).Contains((byte)'\n');
                end += n;
                if (!lineEnds) continue;
                start += parser.ConsumeLines(buffer.AsSpan(start, end - start));
                if (start == end) start = end = 0;
            }
            if (start < end) parser.ConsumeLastLine(buffer.AsSpan(start, end - start));
            var content = parser.Finish();
            options.BytesRead?.Report(read);
            return content;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
