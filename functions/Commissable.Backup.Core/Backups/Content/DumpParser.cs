using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Commissable.Backup.Core.Backups.Content;

/// <summary>
/// The line machine behind <see cref="DumpContentReader"/>: fed the dump's bytes line by line (a
/// line longer than the reading buffer in pieces), it keeps only per-table and per-tenant sums and
/// the statement being read, and builds the <see cref="BackupContent"/> at the end.
/// </summary>
internal sealed partial class DumpParser
{
    /// <summary>The longest DDL statement (or non-COPY line) read; beyond it the dump is refused.</summary>
    public const int MaxStatementBytes = 64 << 20;

    private const string HeaderLine = "-- PostgreSQL database dump";
    private const string TrailerLine = "-- PostgreSQL database dump complete";
    private const string ServerVersionPrefix = "-- Dumped from database version ";
    private const string PgDumpVersionPrefix = "-- Dumped by pg_dump version ";

    private readonly DumpReadOptions _options;
    private readonly Dictionary<string, TableAccumulator> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _parentOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RecordedSequence> _sequences = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _materializedViews = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _comments = new(StringComparer.Ordinal);
    private readonly List<string> _schemaObjects = [];
    private readonly List<string> _extensions = [];
    private readonly LongRow _longRow = new();
    private readonly StatementScanner _scanner = new();
    private MigrationAccumulator? _migrations;
    private string? _serverVersion;
    private string? _pgDumpVersion;
    private bool _started;
    private bool _sawHeader;
    private bool _complete;
    private long _line;
    private CopyBlock? _copy;
    private long _copyLine;
    private byte[] _statement = new byte[4096];
    private int _statementLength;
    private bool _inStatement;

    /// <summary>A COPY line whose quoted name holds a line break, so far (pg_dump prints the name as it is).</summary>
    private StringBuilder? _copyHeader;
    private long _statementLine;
    private byte[] _pending = [];
    private int _pendingLength;

    public DumpParser(DumpReadOptions options)
    {
        _options = options;
    }

    /// <summary>Reads every complete line of <paramref name="data"/> and returns how many bytes that was.</summary>
    public int ConsumeLines(ReadOnlySpan<byte> data)
    {
        if (!_started) Start(data);
        var consumed = 0;
        while (true)
        {
            var rest = data[consumed..];
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0) return consumed;
            _line++;
            var line = rest[..newline];
            if (_copy is { } copy && !_longRow.Active)
            {
                CopyRow(copy, line);
            }
            else
            {
                Line(line);
            }
            consumed += newline + 1;
        }
    }

    /// <summary>A piece of a line longer than the reading buffer (the rest follows).</summary>
    public void ConsumePiece(ReadOnlySpan<byte> piece)
    {
        if (!_started) Start(piece);
        if (!_sawHeader) throw NotADump();
        if (_copyHeader is not null)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The dump ends inside the COPY line that starts at line {_copyHeaderLine} (a quote never closed): it is truncated."));
        }
        if (_copy is { } copy)
        {
            if (!_longRow.Active) _longRow.Start(copy.WantedFields);
            _longRow.Append(piece, copy.Table.Name);
            return;
        }
        AppendPending(piece);
    }

    /// <summary>The last line, when the input does not end with a newline.</summary>
    public void ConsumeLastLine(ReadOnlySpan<byte> line)
    {
        if (!_started) Start(line);
        _line++;
        if (_copy is { } copy && !_longRow.Active)
        {
            CopyRow(copy, line);
        }
        else
        {
            Line(line);
        }
    }

    private void Start(ReadOnlySpan<byte> first)
    {
        _started = true;
        if (first.StartsWith("PGDMP"u8))
        {
            throw new InvalidDataException(
                "This is a pg_dump custom-format archive, not a plain-text dump: read it through `pg_restore -f -`.");
        }
        if (first.Length >= 2 && first[0] == 0x1f && first[1] == 0x8b)
        {
            throw new InvalidDataException("This is gzip-compressed: decompress it before reading it as a plain-text dump.");
        }
    }

    private void Line(ReadOnlySpan<byte> line)
    {
        if (_longRow.Active)
        {
            var copy = _copy!;
            _longRow.Append(line, copy.Table.Name);
            var hash = _longRow.Finish();
            copy.Table.Own.Add(hash);
            if (copy.TenantField >= 0)
            {
                copy.Table.AddTenantRow(LongField(copy, copy.TenantField), hash);
            }
            copy.Migrations?.AddRow(LongField(copy, copy.NameField), LongField(copy, copy.FinishedField), LongField(copy, copy.RolledBackField));
            return;
        }
        if (_pendingLength > 0)
        {
            AppendPending(line);
            var whole = _pending.AsSpan(0, _pendingLength);
            _pendingLength = 0;
            TextLine(whole);
            if (_pending.Length > 1 << 20) _pending = [];
            return;
        }
        if (_copy is { } block)
        {
            CopyRow(block, line);
            return;
        }
        TextLine(line);
    }

    private ReadOnlySpan<byte> LongField(CopyBlock copy, int index) =>
        _longRow.TryField(index, out var field) ? field : throw ShortRow(copy);

    private void CopyRow(CopyBlock copy, ReadOnlySpan<byte> row)
    {
        if (row.Length == 2 && row[0] == (byte)'\\' && row[1] == (byte)'.')
        {
            _copy = null;
            return;
        }
        var hash = XxHash128.HashToUInt128(row);
        copy.Table.Own.Add(hash);
        if (copy.WantedFields.Length == 0) return;
        if (copy.TenantField >= 0)
        {
            if (!CopyText.TryField(row, copy.TenantField, out var tenant)) throw ShortRow(copy);
            copy.Table.AddTenantRow(tenant, hash);
        }
        if (copy.Migrations is { } migrations)
        {
            if (!CopyText.TryField(row, copy.NameField, out var name)
                || !CopyText.TryField(row, copy.FinishedField, out var finished)
                || !CopyText.TryField(row, copy.RolledBackField, out var rolledBack))
            {
                throw ShortRow(copy);
            }
            migrations.AddRow(name, finished, rolledBack);
        }
    }

    private void TextLine(ReadOnlySpan<byte> line)
    {
        if (_inStatement)
        {
            AppendStatementLine(line);
            return;
        }
        if (_copyHeader is not null)
        {
            CopyHeaderLine(line);
            return;
        }
        if (line.Trim(" \t\r"u8).IsEmpty) return;
        if (line.StartsWith("--"u8))
        {
            CommentLine(line);
            return;
        }
        if (!_sawHeader) throw NotADump();
        if (line[0] == (byte)'\\')
        {
            MetaLine(line);
            return;
        }
        if (_complete) throw AfterEnd();
        if (line.StartsWith("COPY "u8))
        {
            _copyHeaderLine = _line;
            // One builder for every COPY line (a read-back has one per block of rows).
            _copyHeader = _copyHeaderText.Clear();
            CopyHeaderLine(line);
            return;
        }
        _inStatement = true;
        _statementLine = _line;
        _statementLength = 0;
        _scanner.Reset();
        AppendStatementLine(line);
    }

    private void CommentLine(ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line.TrimEnd(" \t\r"u8));
        if (!_sawHeader)
        {
            _sawHeader = text == HeaderLine;
            return;
        }
        if (text == TrailerLine)
        {
            _complete = true;
        }
        else if (_serverVersion is null && text.StartsWith(ServerVersionPrefix, StringComparison.Ordinal))
        {
            _serverVersion = text[ServerVersionPrefix.Length..].Trim();
        }
        else if (_pgDumpVersion is null && text.StartsWith(PgDumpVersionPrefix, StringComparison.Ordinal))
        {
            _pgDumpVersion = text[PgDumpVersionPrefix.Length..].Trim();
        }
    }

    private void MetaLine(ReadOnlySpan<byte> line)
    {
        // pg_dump prints three psql meta-commands; they carry nothing of the content.
        var end = line.IndexOfAny(" \t\r"u8);
        var command = end < 0 ? line : line[..end];
        if (command.SequenceEqual("\\unrestrict"u8)) return;
        if (_complete) throw AfterEnd();
        if (command.SequenceEqual("\\connect"u8) || command.SequenceEqual("\\restrict"u8)) return;
        var shown = Encoding.UTF8.GetString(command[..Math.Min(command.Length, 40)]);
        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"Line {_line} is the psql meta-command {shown}, which pg_dump does not print outside COPY data: the dump is damaged or not pg_dump's."));
    }

    private long _copyHeaderLine;

    /// <summary>
    /// One more line of a COPY line: it ends outside double quotes (a table or column name may hold
    /// a line break, and pg_dump prints it inside the quotes). A header longer than a statement may
    /// be is a damaged dump.
    /// </summary>
    private void CopyHeaderLine(ReadOnlySpan<byte> line)
    {
        var header = _copyHeader!;
        if (header.Length > 0)
        {
            header.Append('\n');
        }
        header.Append(Encoding.UTF8.GetString(line));
        if (header.Length > MaxStatementBytes)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The COPY line that starts at line {_copyHeaderLine} never ends: the dump is damaged."));
        }
        var quotes = 0;
        foreach (var chunk in header.GetChunks())
        {
            quotes += chunk.Span.Count('"');
        }
        if (quotes % 2 != 0)
        {
            return;
        }
        _copyHeader = null;
        // A database read back in blocks repeats a table's COPY line before every block of its
        // rows (thousands for a large table): the same line means the same table and columns.
        if (_lastCopy is { } last && header.Equals(last.Header.AsSpan()))
        {
            last.Block.Table.Copied = true;
            _copy = last.Block;
            _copyLine = _line;
            return;
        }
        StartCopy(header.ToString());
    }

    private readonly StringBuilder _copyHeaderText = new();

    /// <summary>The last COPY line and the block it started, whose fields say only which table and columns.</summary>
    private (string Header, CopyBlock Block)? _lastCopy;

    private void StartCopy(string line)
    {
        var tokens = SqlText.Tokenize(line);
        var table = SqlText.QualifiedName(line, tokens, 1, out var next);
        if (table is null || SqlText.CopyColumns(line, tokens, next) is not { } columns)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Line {_copyHeaderLine} starts a COPY that is not pg_dump's `COPY <table> (<columns>) FROM stdin;`."));
        }

        var accumulator = Table(table);
        accumulator.Copied = true;
        accumulator.Columns ??= columns;
        var unquoted = columns.Select(SqlText.Unquote).ToList();
        var tenantField = unquoted.IndexOf(_options.TenantColumn);
        if (tenantField >= 0) accumulator.TrackTenants();

        MigrationAccumulator? migrations = null;
        int name = -1, finished = -1, rolledBack = -1;
        if (table == MigrationAccumulator.TableName)
        {
            migrations = _migrations ??= new MigrationAccumulator();
            name = MigrationColumn(unquoted, "migration_name");
            finished = MigrationColumn(unquoted, "finished_at");
            rolledBack = MigrationColumn(unquoted, "rolled_back_at");
        }
        _copy = new CopyBlock(accumulator, tenantField, migrations, name, finished, rolledBack);
        _lastCopy = (line, _copy);
        _copyLine = _line;
    }

    private int MigrationColumn(List<string> columns, string column)
    {
        var index = columns.IndexOf(column);
        return index >= 0
            ? index
            : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The COPY of {MigrationAccumulator.TableName} at line {_line} has no column {column}: it is not Prisma's migration table."));
    }

    private TableAccumulator Table(string name)
    {
        if (!_tables.TryGetValue(name, out var table))
        {
            _tables[name] = table = new TableAccumulator(name);
        }
        return table;
    }

    private void AppendStatementLine(ReadOnlySpan<byte> line)
    {
        var needed = (long)_statementLength + line.Length + 1;
        if (needed > MaxStatementBytes)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The statement that starts at line {_statementLine} is longer than {MaxStatementBytes >> 20} MB (it may never end): the dump is damaged, or holds a definition too large to read."));
        }
        if (needed > _statement.Length)
        {
            Array.Resize(ref _statement, (int)Math.Min(MaxStatementBytes, Math.Max(needed, 2L * _statement.Length)));
        }
        line.CopyTo(_statement.AsSpan(_statementLength));
        _statementLength += line.Length;
        _statement[_statementLength++] = (byte)'\n';
        if (!_scanner.ScanLine(line)) return;

        var text = Encoding.UTF8.GetString(_statement, 0, _statementLength);
        _inStatement = false;
        _statementLength = 0;
        if (_statement.Length > 1 << 20) _statement = new byte[4096];
        Statement(text);
    }

    private void AppendPending(ReadOnlySpan<byte> piece)
    {
        var needed = (long)_pendingLength + piece.Length;
        if (needed > MaxStatementBytes)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Line {_line + 1} is longer than {MaxStatementBytes >> 20} MB outside COPY data: the dump is damaged."));
        }
        if (needed > _pending.Length)
        {
            Array.Resize(ref _pending, (int)Math.Min(MaxStatementBytes, Math.Max(needed, 2L * _pending.Length)));
        }
        piece.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += piece.Length;
    }

    /// <summary>Checks the dump ended where pg_dump ends one, and builds the content.</summary>
    public BackupContent Finish()
    {
        if (!_sawHeader) throw NotADump();
        if (_copy is { } copy)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The dump ends inside the rows of {copy.Table.Name} (COPY at line {_copyLine}, no \\. after it): it is truncated."));
        }
        if (_inStatement || _pendingLength > 0)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The dump ends inside the statement that starts at line {_statementLine}: it is truncated."));
        }
        if (!_complete)
        {
            throw new InvalidDataException(
                $"The dump ends without pg_dump's closing line \"{TrailerLine}\": it is truncated.");
        }
        return Build();
    }

    private InvalidDataException NotADump() =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"This is not a pg_dump plain-text dump: no \"{HeaderLine}\" header before line {Math.Max(_line, 1)}."));

    private InvalidDataException AfterEnd() =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Line {_line} follows pg_dump's closing \"{TrailerLine}\": there are bytes after the end of the dump."));

    private InvalidDataException ShortRow(CopyBlock copy) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Line {_line}, a row of {copy.Table.Name}, has fewer fields than its COPY column list: the dump is damaged."));
}
