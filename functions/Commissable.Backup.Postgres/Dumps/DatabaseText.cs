using System.Buffers;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>How <see cref="DatabaseText"/> splits a database's reading between pg_dump and its own COPY sessions.</summary>
internal sealed record DatabaseTextOptions
{
    /// <summary>The default: the largest tables (at least 1 MiB on disk, at most 64 of them) over two sessions.</summary>
    public static DatabaseTextOptions Default { get; } = new();

    /// <summary>
    /// Sessions that read the large tables' rows beside pg_dump, each a table at a time. Two: the
    /// server formats the rows (the costly part of a read-back) on two cores while this process
    /// hashes them.
    /// </summary>
    public int Sessions { get; init; } = 2;

    /// <summary>
    /// A table smaller than this on disk (its main fork) is left to pg_dump: taking it over would
    /// add a pattern to pg_dump's command line and a COPY round trip for little.
    /// </summary>
    public long MinimumTableBytes { get; init; } = 1 << 20;

    /// <summary>At most this many tables are taken over (the largest): pg_dump resolves each excluded pattern with a query.</summary>
    public int MaxTables { get; init; } = 64;

    /// <summary>
    /// Rows are handed to the reader in blocks of this size (whole lines; a longer line goes in
    /// pieces), at most a few per session at a time: small, so the host's memory does not grow.
    /// </summary>
    public int BlockBytes { get; init; } = 256 * 1024;
}

/// <summary>
/// A database's content as the plain SQL text <see cref="DumpContentReader"/> reads, faster than
/// one serial pg_dump: pg_dump prints everything but the rows of the largest tables
/// (<c>--exclude-table-data</c>), and <see cref="DatabaseTextOptions.Sessions"/> sessions read
/// those rows with <c>COPY … TO STDOUT</c> in parallel, all in one snapshot that a third session
/// exports and holds until the stream is disposed.
/// </summary>
/// <remarks>
/// <para>
/// Each COPY row is byte for byte the row pg_dump prints: the sessions set what pg_dump sets
/// (<c>DateStyle ISO</c>, <c>IntervalStyle postgres</c>, <c>extra_float_digits 3</c>,
/// <c>row_security off</c>, no timeouts, the empty search path), the time zone of the dump being
/// compared with, read in the database's encoding (only a UTF8 database is taken over; any other
/// is read by pg_dump alone), and name the table and its columns as pg_dump does (<c>quote_ident</c>,
/// which follows the same rules as pg_dump's <c>fmtId</c>; stored columns only, in order). The
/// tables taken over are those pg_dump dumps the rows of: ordinary tables outside the system
/// schemas and not part of an extension, and not a partition of a hash-partitioned table (pg_dump
/// may print such a partition's rows under its root's name, <c>--load-via-partition-root</c>,
/// which it forces for a hash on an enum since 15.3: those it prints itself).
/// </para>
/// <para>
/// The text is pg_dump's header, then each taken-over table's rows as COPY blocks of whole lines
/// (a table may come in several blocks, interleaved with another session's: the content manifest
/// sums rows, so their order and grouping do not matter), then the rest of pg_dump's output. A
/// failed session or pg_dump fails the read; reading to the end is the proof the text is whole.
/// </para>
/// </remarks>
internal sealed class DatabaseText : ReadOnlyStream
{
    /// <summary>The first lines of every pg_dump plain-text output: the taken-over rows go right after them.</summary>
    private static readonly byte[] Header = "--\n-- PostgreSQL database dump\n--\n"u8.ToArray();

    private const string Settings = """
        SET DateStyle = ISO;
        SET IntervalStyle = postgres;
        SET extra_float_digits = 3;
        SET synchronize_seqscans = off;
        SET statement_timeout = 0;
        SET lock_timeout = 0;
        SET idle_in_transaction_session_timeout = 0;
        SET row_security = off;
        SELECT pg_catalog.set_config('search_path', '', false);
        """;

    private const string TablesQuery = """
        SELECT n.nspname, c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
               string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum), pg_relation_size(c.oid)
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
         WHERE c.relkind = 'r' AND c.relpersistence <> 't'
           AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_ancestors(c.oid) AS up(relid)
                           JOIN pg_partitioned_table pt ON pt.partrelid = up.relid WHERE pt.partstrat = 'h')
           AND pg_relation_size(c.oid) >= $1
         GROUP BY c.oid, n.nspname, c.relname
         ORDER BY pg_relation_size(c.oid) DESC, 3
         LIMIT $2
        """;

    private readonly NpgsqlConnection _holder;
    private readonly Stream _dump;
    private readonly List<Session> _sessions;
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _stop;
    private readonly string _description;
    private Phase _phase = Phase.Header;
    private byte[] _pending = [];
    private int _pendingStart;
    private int _pendingEnd;
    private byte[]? _pendingRented;
    private int _next;

    /// <summary>Blocks of rows the reader has taken from the sessions.</summary>
    internal long BlocksTaken { get; private set; }

    /// <summary>Times the reader waited because no session had a block ready.</summary>
    internal long Waits { get; private set; }
    private Session? _continuing;
    private ExceptionDispatchInfo? _failure;
    private bool _disposed;

    private enum Phase
    {
        Header,
        Rows,
        Rest,
    }

    private DatabaseText(NpgsqlConnection holder, Stream dump, List<Session> sessions, CancellationTokenSource stop, string description)
    {
        _holder = holder;
        _dump = dump;
        _sessions = sessions;
        _stop = stop;
        _description = description;
        // A thread of its own for each session: it reads its COPY synchronously (below).
        _workers = [.. sessions.Select(s => Task.Factory.StartNew(() => s.Run(stop.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default))];
    }

    /// <summary>The database's text; disposing it before its end stops pg_dump and the sessions.</summary>
    public static Task<Stream> OpenAsync(DatabaseLoginOptions login, DatabaseInstance instance, string database, DatabaseDumpOptions options,
        PostgresBinaries tools, DatabaseTextOptions? reading = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(login);
        ArgumentNullException.ThrowIfNull(instance);
        return OpenAsync(login.Endpoint(instance), database, $"database '{database}' of instance '{instance.Name}'", options, tools, reading, cancellationToken);
    }

    /// <summary>The text of a database of any server, <paramref name="description"/> naming it in messages (never with a password).</summary>
    public static async Task<Stream> OpenAsync(DatabaseEndpoint endpoint, string database, string description, DatabaseDumpOptions options,
        PostgresBinaries tools, DatabaseTextOptions? reading = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(description);
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tools);
        reading ??= DatabaseTextOptions.Default;
        if (!DatabaseDump.TimeZoneName().IsMatch(options.TimeZone))
        {
            throw new ArgumentException($"'{options.TimeZone}' is not a time zone name (letters, digits and _ + - / : . only, as in UTC or America/New_York).", nameof(options));
        }
        if (options.Snapshot is not null || options.ExcludeTableData.Count > 0)
        {
            throw new ArgumentException("DatabaseText chooses the snapshot and the tables pg_dump leaves out itself.", nameof(options));
        }

        var connectionString = new NpgsqlConnectionStringBuilder(endpoint.ConnectionString(database, "commissable-content-read"))
        {
            // COPY rows arrive in many small messages: fewer, larger socket reads.
            ReadBufferSize = 64 * 1024,
            // The sessions read synchronously and without a timeout (a large table takes as long as
            // it takes): a server or network that vanished without a reset fails the read within
            // about two minutes (30 s idle, then the kernel's probes every 10 s), not never.
            TcpKeepAlive = true,
            TcpKeepAliveTime = 30,
            TcpKeepAliveInterval = 10,
        }.ConnectionString;

        var holder = new NpgsqlConnection(connectionString);
        var opened = new List<NpgsqlConnection>();
        Stream? dump = null;
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await holder.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(holder, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", cancellationToken).ConfigureAwait(false);
            string snapshot;
            bool utf8;
            await using (var command = new NpgsqlCommand(
                "SELECT pg_export_snapshot(), pg_encoding_to_char(encoding) = 'UTF8' FROM pg_database WHERE datname = current_database()", holder))
            await using (var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!await row.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"The {description} is not in pg_database.");
                }
                snapshot = row.GetString(0);
                utf8 = row.GetBoolean(1);
            }
            if (!DatabaseDump.SnapshotId().IsMatch(snapshot))
            {
                throw new InvalidOperationException($"The server exported the snapshot id '{snapshot}', which is not one.");
            }

            var tables = utf8 && reading.Sessions > 0 && reading.MaxTables > 0
                ? await TablesAsync(holder, reading, cancellationToken).ConfigureAwait(false)
                : [];
            dump = await DatabaseDump.OpenAsync(endpoint, database, description, options with
            {
                Snapshot = snapshot,
                ExcludeTableData = [.. tables.Select(t => t.Pattern)],
            }, tools, cancellationToken).ConfigureAwait(false);

            // Largest first, each to the session with the least so far.
            var sessions = new List<Session>();
            var sessionCount = Math.Min(reading.Sessions, tables.Count);
            for (var i = 0; i < sessionCount; i++)
            {
                var connection = new NpgsqlConnection(connectionString);
                opened.Add(connection);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, Settings, cancellationToken).ConfigureAwait(false);
                await using (var zone = new NpgsqlCommand("SELECT pg_catalog.set_config('TimeZone', $1, false)", connection))
                {
                    zone.Parameters.Add(new NpgsqlParameter { Value = options.TimeZone });
                    await zone.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                await ExecuteAsync(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", cancellationToken).ConfigureAwait(false);
                // The id was checked to be hex digits and dashes: nothing in it needs quoting.
                await ExecuteAsync(connection, $"SET TRANSACTION SNAPSHOT '{snapshot}'", cancellationToken).ConfigureAwait(false);
                sessions.Add(new Session(connection, reading.BlockBytes, description));
            }
            foreach (var table in tables)
            {
                sessions.MinBy(s => s.Bytes)!.Add(table);
            }
            return new DatabaseText(holder, dump, sessions, stop, description);
        }
        catch
        {
            foreach (var connection in opened)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            if (dump is not null)
            {
                await dump.DisposeAsync().ConfigureAwait(false);
            }
            await holder.DisposeAsync().ConfigureAwait(false);
            stop.Dispose();
            throw;
        }
    }

    private static async Task<List<TakenTable>> TablesAsync(NpgsqlConnection holder, DatabaseTextOptions reading, CancellationToken cancellationToken)
    {
        var tables = new List<TakenTable>();
        await using var command = new NpgsqlCommand(TablesQuery, holder);
        command.Parameters.Add(new NpgsqlParameter { Value = reading.MinimumTableBytes });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)reading.MaxTables });
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var name = row.GetString(2);
            var columns = row.GetString(3);
            tables.Add(new TakenTable(
                DatabaseDumpOptions.ExactTablePattern(row.GetString(0), row.GetString(1)),
                $"COPY {name} ({columns}) TO STDOUT",
                System.Text.Encoding.UTF8.GetBytes($"COPY {name} ({columns}) FROM stdin;\n"),
                row.GetInt64(4)));
        }
        return tables;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = ReadAsync(rented.AsMemory(0, buffer.Length), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _failure?.Throw();
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }
        try
        {
            while (true)
            {
                if (_pendingStart < _pendingEnd)
                {
                    var n = Math.Min(buffer.Length, _pendingEnd - _pendingStart);
                    _pending.AsMemory(_pendingStart, n).CopyTo(buffer);
                    _pendingStart += n;
                    if (_pendingStart == _pendingEnd)
                    {
                        ReturnPending();
                    }
                    return n;
                }
                switch (_phase)
                {
                    case Phase.Header:
                        await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    case Phase.Rows:
                        if (!await NextBlockAsync(cancellationToken).ConfigureAwait(false))
                        {
                            _phase = Phase.Rest;
                        }
                        break;
                    default:
                        return await _dump.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _failure = ExceptionDispatchInfo.Capture(error);
            throw;
        }
    }

    /// <summary>pg_dump's first lines, which must be its header: only then do the rows go after them.</summary>
    private async Task ReadHeaderAsync(CancellationToken cancellationToken)
    {
        var head = new byte[Header.Length];
        var read = await _dump.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        _pending = head;
        _pendingStart = 0;
        _pendingEnd = read;
        // Anything else (pg_dump failed, or printed something unexpected) goes to the reader as it
        // is, without the rows, and fails there; the sessions are not needed.
        _phase = head.AsSpan(0, read).SequenceEqual(Header) ? Phase.Rows : Phase.Rest;
        if (_phase == Phase.Rest)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Puts the next block of rows (with its COPY line and end marker) in <see cref="_pending"/>; false when every session is done.</summary>
    private async Task<bool> NextBlockAsync(CancellationToken cancellationToken)
    {
        if (_continuing is { } same)
        {
            // A long row in pieces: nothing may come between them.
            var piece = await same.Blocks.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Take(piece, same);
            return true;
        }
        while (true)
        {
            var open = false;
            for (var i = 0; i < _sessions.Count; i++)
            {
                var session = _sessions[(_next + i) % _sessions.Count];
                if (session.Blocks.Reader.TryRead(out var block))
                {
                    // Take turns, so that both sessions keep the server busy.
                    _next = (_next + i + 1) % _sessions.Count;
                    Take(block, session);
                    return true;
                }
                open |= !session.Blocks.Reader.Completion.IsCompleted;
            }
            if (!open)
            {
                foreach (var session in _sessions)
                {
                    // A failed session has completed its channel with its error.
                    await session.Blocks.Reader.Completion.ConfigureAwait(false);
                }
                await Task.WhenAll(_workers).ConfigureAwait(false);
                return false;
            }
            // Only the sessions still reading: a finished session's wait ends at once, and waiting
            // on it too made this loop spin until the other session's next block, taking a core
            // from the server and that session and allocating on every turn (hundreds of MB for
            // a 1 GB database).
            var waits = _sessions.Where(s => !s.Blocks.Reader.Completion.IsCompleted)
                .Select(s => s.Blocks.Reader.WaitToReadAsync(cancellationToken).AsTask()).ToArray();
            if (waits.Length > 0)
            {
                Waits++;
                var ready = await Task.WhenAny(waits).ConfigureAwait(false);
                await ready.ConfigureAwait(false);
            }
        }
    }

    private void Take(Block block, Session session)
    {
        BlocksTaken++;
        _continuing = block.Continues ? session : null;
        _pending = block.Buffer;
        _pendingRented = block.Buffer;
        _pendingStart = 0;
        _pendingEnd = block.Length;
    }

    private void ReturnPending()
    {
        if (_pendingRented is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
            _pendingRented = null;
        }
        _pending = [];
        _pendingStart = _pendingEnd = 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var worker in _workers)
        {
            try
            {
                await worker.ConfigureAwait(false);
            }
            catch (Exception error) when (error is OperationCanceledException or NpgsqlException or IOException or InvalidDataException or ChannelClosedException)
            {
                // Stopped, or failed: the read that needed it has said so.
            }
        }
        foreach (var session in _sessions)
        {
            session.Drain();
            await session.Connection.DisposeAsync().ConfigureAwait(false);
        }
        ReturnPending();
        await _dump.DisposeAsync().ConfigureAwait(false);
        await _holder.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private sealed record TakenTable(string Pattern, string CopyOut, byte[] CopyIn, long Bytes);

    /// <summary>
    /// A block for the reader, its buffer rented: a COPY line, whole rows and <c>\.</c>; or, where
    /// one row is longer than a block, a piece of it (<paramref name="Continues"/>: the next block
    /// of the same session goes on with it).
    /// </summary>
    private readonly record struct Block(byte[] Buffer, int Length, bool Continues);

    /// <summary>One COPY session: its tables, read in turn into blocks of whole lines.</summary>
    private sealed class Session(NpgsqlConnection connection, int blockBytes, string description)
    {
        private static ReadOnlySpan<byte> EndOfData => "\\.\n"u8;

        private readonly List<TakenTable> _tables = [];

        public NpgsqlConnection Connection { get; } = connection;

        /// <summary>Two blocks ahead of the reader at most: memory stays at a few blocks per session.</summary>
        public Channel<Block> Blocks { get; } = Channel.CreateBounded<Block>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });

        public long Bytes { get; private set; }

        public void Add(TakenTable table)
        {
            _tables.Add(table);
            Bytes += Math.Max(table.Bytes, 1);
        }

        /// <summary>
        /// Reads the session's tables in turn, on the calling thread, until done or cancelled. The
        /// reads are synchronous: PostgreSQL sends each row as a message of its own, Npgsql's raw
        /// COPY stream returns one message per read, and each asynchronous read allocated about 50
        /// bytes: a read-back of the 979 MB demo allocated 147 to 154 MB that way, 21 to 23 MB with
        /// synchronous reads (<c>read-back</c> benchmark, README), garbage the host kept resident.
        /// </summary>
        public void Run(CancellationToken cancellationToken)
        {
            try
            {
                foreach (var table in _tables)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Copy(table, cancellationToken);
                }
                Blocks.Writer.TryComplete();
            }
            catch (Exception error) when (cancellationToken.IsCancellationRequested)
            {
                // A cancelled COPY ends with the server's "canceling statement" error: the reader
                // stopped it, nothing failed.
                var stopped = error as OperationCanceledException ?? new OperationCanceledException(cancellationToken);
                Blocks.Writer.TryComplete(stopped);
                throw stopped;
            }
            catch (Exception error)
            {
                Blocks.Writer.TryComplete(error is NpgsqlException or IOException
                    ? new DumpStreamException($"Reading {description} failed: {error.Message}", error)
                    : error);
                throw;
            }
        }

        /// <summary>Returns the buffers of blocks nobody will read.</summary>
        public void Drain()
        {
            while (Blocks.Reader.TryRead(out var block))
            {
                ArrayPool<byte>.Shared.Return(block.Buffer);
            }
        }

        private void Copy(TakenTable table, CancellationToken cancellationToken)
        {
            // Started asynchronously so that cancelling reaches a COPY still waiting for a lock;
            // a read blocked afterwards returns once the server has cancelled the COPY. The cancel
            // is a round trip to the server: it goes to the thread pool, never on the thread that
            // cancels (a request's abort, say).
            using var text = Connection.BeginTextExportAsync(table.CopyOut, cancellationToken).GetAwaiter().GetResult();
            using var stopping = cancellationToken.Register(static reader =>
                ThreadPool.UnsafeQueueUserWorkItem(static r => CancelCopy(r), (NpgsqlCopyTextReader)reader!, preferLocal: false), text);
            // Npgsql's text reader decodes; the bytes the server sent are its underlying stream,
            // read directly (the reader itself is never read, so it buffers nothing).
            var raw = (text as StreamReader ?? throw new InvalidOperationException("Npgsql's COPY text reader is no longer a StreamReader.")).BaseStream;
            var (buffer, start, limit) = NewBlock(table, withCopyLine: true);
            // The rented buffer this session still owns (a sent block is the reader's, and Send
            // returns one it could not send): returned once, on any way out.
            byte[]? owned = buffer;
            try
            {
                var end = start;
                var sent = false;
                while (true)
                {
                    if (end == limit)
                    {
                        var lastNewline = buffer.AsSpan(start, end - start).LastIndexOf((byte)'\n');
                        if (lastNewline >= 0)
                        {
                            // Hand over the whole lines; the part of a line after them starts the next block.
                            var cut = start + lastNewline + 1;
                            var (next, nextStart, nextLimit) = NewBlock(table, withCopyLine: true);
                            owned = next;
                            var carried = end - cut;
                            if (nextStart + carried >= nextLimit)
                            {
                                // A long COPY line and a long partial row: a larger block (with room
                                // to read into: a read of nothing would look like the end).
                                owned = null;
                                ArrayPool<byte>.Shared.Return(next);
                                next = ArrayPool<byte>.Shared.Rent(nextStart + carried + blockBytes);
                                owned = next;
                                table.CopyIn.CopyTo(next, 0);
                                nextLimit = next.Length - EndOfData.Length;
                            }
                            buffer.AsSpan(cut, carried).CopyTo(next.AsSpan(nextStart));
                            Send(new Block(buffer, cut, Continues: false), cancellationToken);
                            (buffer, start, end, limit) = (next, nextStart, nextStart + carried, nextLimit);
                            sent = true;
                        }
                        else
                        {
                            // One line longer than a block: it goes in pieces, and the reader takes
                            // the rest from this session before any other block.
                            owned = null;
                            Send(new Block(buffer, end, Continues: true), cancellationToken);
                            (buffer, start, limit) = NewBlock(table, withCopyLine: false);
                            owned = buffer;
                            end = start;
                            sent = true;
                        }
                    }
                    var read = raw.Read(buffer.AsSpan(end, limit - end));
                    if (read == 0)
                    {
                        break;
                    }
                    end += read;
                }
                if ((end > start && buffer[end - 1] != (byte)'\n') || (end == 0 && start == 0))
                {
                    throw new InvalidDataException($"Reading {description} failed: the rows of {table.Pattern} did not end with a line break.");
                }
                // An empty table too: pg_dump prints its COPY line (the manifest records its columns).
                owned = null;
                if (end > start || !sent)
                {
                    Send(new Block(buffer, end, Continues: false), cancellationToken);
                }
                else
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            catch
            {
                if (owned is not null)
                {
                    ArrayPool<byte>.Shared.Return(owned);
                }
                // Disposing a COPY that is still running reads the rest of its table: stop it here,
                // on this thread, rather than rely on the registration (disposed first, before its
                // callback may have run).
                CancelCopy(text);
                throw;
            }
        }

        /// <summary>
        /// A rented buffer for a block, starting with the table's COPY line or not; where its rows
        /// start, and where they must end (room for <c>\.</c> stays after them).
        /// </summary>
        private (byte[] Buffer, int Start, int Limit) NewBlock(TakenTable table, bool withCopyLine)
        {
            var start = withCopyLine ? table.CopyIn.Length : 0;
            // The pool's own sizes (powers of two): a block holds what it was rented for, no more.
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(blockBytes, start + 64));
            if (withCopyLine)
            {
                table.CopyIn.CopyTo(buffer, 0);
            }
            return (buffer, start, buffer.Length - EndOfData.Length);
        }

        /// <summary>Asks the server to cancel a COPY another thread may be reading; a COPY already over needs nothing.</summary>
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types",
            Justification = "Runs as a cancellation callback and on the way out of a failure: it must never throw, whatever Npgsql does with a COPY that ended or broke meanwhile.")]
        private static void CancelCopy(NpgsqlCopyTextReader reader)
        {
            try
            {
                reader.Cancel();
            }
            catch (Exception)
            {
                // Finished, broken or disposed meanwhile: its reader returns or fails without the cancel.
            }
        }

        /// <summary>
        /// Queues a block, waiting (this session's thread only) while the reader is two blocks
        /// behind; one that does not continue ends its COPY with <c>\.</c>.
        /// </summary>
        private void Send(Block block, CancellationToken cancellationToken)
        {
            if (!block.Continues)
            {
                EndOfData.CopyTo(block.Buffer.AsSpan(block.Length));
                block = block with { Length = block.Length + EndOfData.Length };
            }
            try
            {
                while (!Blocks.Writer.TryWrite(block))
                {
                    if (!Blocks.Writer.WaitToWriteAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                    {
                        throw new ChannelClosedException();
                    }
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(block.Buffer);
                throw;
            }
        }
    }
}
