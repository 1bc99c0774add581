using System.Globalization;
using System.Text;
using Commissable.Backup.Core.Backups.Content;

namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>What a masked copy's text had done to it.</summary>
/// <param name="Rules">Every rule applied, by column (<c>table.column</c>), as its kind (<c>email</c>, <c>keep</c>, …); never a value.</param>
/// <param name="Rows">COPY rows written.</param>
/// <param name="MaskedValues">Non-NULL values replaced.</param>
/// <param name="InputBytes">Bytes of SQL text read.</param>
/// <param name="OutputBytes">Bytes of SQL text written.</param>
/// <param name="StatementsLeftOut">Ownership and privilege statements left out (the copy is restored without owners or grants).</param>
/// <param name="LargeObjectsLeftOut">Large objects left out: their bytes cannot be masked.</param>
public sealed record MaskingReport(
    IReadOnlyDictionary<string, string> Rules,
    long Rows,
    long MaskedValues,
    long InputBytes,
    long OutputBytes,
    long StatementsLeftOut,
    long LargeObjectsLeftOut);

/// <summary>
/// Masks a dump's plain SQL text (as <c>pg_dump</c> or <c>pg_restore -f -</c> prints it) on its way
/// elsewhere, in one streaming pass: every row of every <c>COPY … FROM stdin;</c> block is split
/// into its fields, and each field with a rule is unescaped, masked and escaped again (NULL stays
/// NULL for every rule but <c>null</c>); every other field of a text-like column is inspected for
/// e-mail addresses and phone numbers. Statements pass through, except ownership and privileges
/// (the copy is for a database without the source's roles) and large objects (left out).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="OpenAsync"/> reads the schema statements before the first row (pg_dump prints
/// every table definition before any data) and checks the rules against them: a rule for a column
/// the dump does not have, a rule the column's type cannot take, or a text-like column whose name
/// looks personal without a rule is refused then, before a byte has been written. A column whose
/// values turn out to look personal is found while <see cref="WriteAsync"/> reads the rows: from
/// that row on nothing more is written (the row itself never is), the rest of the text is still
/// read so that every such column is named, and the write ends in <see cref="MaskingRefusedException"/>.
/// </para>
/// <para>
/// Memory: the schema section (at most <see cref="MaxSchemaBytes"/>), one statement, one row at a
/// time and a 1 MiB output buffer. Rows as <c>INSERT</c> statements (<c>pg_dump --inserts</c>)
/// cannot be masked and are refused.
/// </para>
/// </remarks>
public sealed class DumpMasker
{
    /// <summary>The most schema text (everything before the first row) held while the rules are checked.</summary>
    public const int MaxSchemaBytes = 256 << 20;

    /// <summary>The longest line (a row, or a line of a statement) read.</summary>
    public const int MaxLineBytes = 1 << 30;

    private const int FlushBytes = 1 << 20;

    private readonly Stream _text;
    private readonly byte[] _schemaBytes;
    private readonly int _schemaLength;
    private readonly MaskingPlan _plan;
    private readonly MaskingRules _rules;
    private readonly Pseudonyms _pseudonyms;
    private bool _written;

    private DumpMasker(Stream text, byte[] schemaBytes, int schemaLength, DumpSchema schema, MaskingPlan plan, MaskingRules rules, Pseudonyms pseudonyms)
    {
        _text = text;
        _schemaBytes = schemaBytes;
        _schemaLength = schemaLength;
        Schema = schema;
        _plan = plan;
        _rules = rules;
        _pseudonyms = pseudonyms;
    }

    /// <summary>The tables the dump declares.</summary>
    public DumpSchema Schema { get; }

    /// <summary>
    /// Reads <paramref name="text"/> up to its first row, and checks <paramref name="rules"/> against
    /// the tables declared there. The stream is not disposed; <see cref="WriteAsync"/> goes on reading it.
    /// </summary>
    /// <exception cref="MaskingRefusedException">Every problem of the rules against the schema.</exception>
    /// <exception cref="InvalidDataException">The text is not a pg_dump plain-text dump, or cannot be masked.</exception>
    public static async Task<DumpMasker> OpenAsync(Stream text, MaskingRules rules, Pseudonyms pseudonyms, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(pseudonyms);
        var lines = new LineSource(text, [], 0, keepAll: true);
        var schema = new DumpSchema();
        var reader = new SchemaReader(schema);
        while (true)
        {
            if (!lines.TryReadLine(out var line))
            {
                if (lines.Length > MaxSchemaBytes)
                {
                    throw new InvalidDataException($"The dump's schema statements (everything before its first row) are longer than {MaxSchemaBytes >> 20} MB: too long to check before masking.");
                }
                if (await lines.FillAsync(cancellationToken).ConfigureAwait(false)) continue;
                break;
            }
            if (reader.Line(line, lines.LineNumber)) break;
        }
        reader.Finish();
        var plan = MaskingPlan.Create(schema, rules);
        return new DumpMasker(text, lines.Buffer, lines.Length, schema, plan, rules, pseudonyms);
    }

    /// <summary>
    /// Writes the masked text to <paramref name="output"/> (not disposed), reading the dump from its
    /// beginning (the part <see cref="OpenAsync"/> read is held) to its end.
    /// </summary>
    /// <exception cref="MaskingRefusedException">Columns whose values look personal and have no rule (nothing was written from the first such row on).</exception>
    public async Task<MaskingReport> WriteAsync(Stream output, IProgress<long>? bytesRead = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_written) throw new InvalidOperationException("The masked text has been written already.");
        _written = true;
        var lines = new LineSource(_text, _schemaBytes, _schemaLength, keepAll: false);
        var writer = new MaskingWriter(_plan, _pseudonyms);
        long reported = 0;
        while (true)
        {
            if (!lines.TryReadLine(out var line))
            {
                if (writer.Pending > 0) await writer.FlushAsync(output, cancellationToken).ConfigureAwait(false);
                if (bytesRead is not null && lines.Consumed - reported >= 8 << 20)
                {
                    reported = lines.Consumed;
                    bytesRead.Report(reported);
                }
                if (await lines.FillAsync(cancellationToken).ConfigureAwait(false)) continue;
                break;
            }
            writer.Line(line, lines.LineNumber);
            if (writer.Pending >= FlushBytes) await writer.FlushAsync(output, cancellationToken).ConfigureAwait(false);
        }
        writer.Finish();
        await writer.FlushAsync(output, cancellationToken).ConfigureAwait(false);
        bytesRead?.Report(lines.Consumed);
        if (writer.Problems.Count > 0)
        {
            throw new MaskingRefusedException(writer.Problems);
        }
        var rules = _rules.Rules
            .OrderBy(r => r.Key.ToString(), StringComparer.Ordinal)
            .ToDictionary(r => r.Key.ToString(), r => r.Value.KindName, StringComparer.Ordinal);
        return new MaskingReport(rules, writer.Rows, writer.MaskedValues, lines.Consumed, writer.Written, writer.StatementsLeftOut, writer.LargeObjectsLeftOut);
    }

    /// <summary>The statements of the text as psql would run them, and the COPY blocks between them.</summary>
    private abstract class TextMachine
    {
        private readonly StatementScanner _scanner = new();
        private byte[] _statement = new byte[4096];
        private int _statementLength;
        private bool _inStatement;
        private long _statementLine;

        protected long StatementLine => _statementLine;

        /// <summary>One line; true to stop reading.</summary>
        public bool Line(ReadOnlySpan<byte> line, long number)
        {
            if (InCopy)
            {
                CopyLine(line, number);
                return false;
            }
            if (_inStatement)
            {
                AppendStatementLine(line);
                return false;
            }
            if (line.Trim(" \t\r"u8).IsEmpty || line.StartsWith("--"u8) || line[0] == (byte)'\\')
            {
                OtherLine(line);
                return false;
            }
            if (line.StartsWith("COPY "u8))
            {
                return CopyStart(line, number);
            }
            _inStatement = true;
            _statementLine = number;
            _statementLength = 0;
            _scanner.Reset();
            AppendStatementLine(line);
            return false;
        }

        protected abstract bool InCopy { get; }

        protected abstract void CopyLine(ReadOnlySpan<byte> line, long number);

        protected abstract void OtherLine(ReadOnlySpan<byte> line);

        protected abstract bool CopyStart(ReadOnlySpan<byte> line, long number);

        /// <summary>A complete statement, its lines each ending in a newline.</summary>
        protected abstract void Statement(ReadOnlySpan<byte> text);

        public virtual void Finish()
        {
            if (_inStatement)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"The dump ends inside the statement that starts at line {_statementLine}: it is truncated."));
            }
        }

        private void AppendStatementLine(ReadOnlySpan<byte> line)
        {
            var needed = (long)_statementLength + line.Length + 1;
            if (needed > DumpParser.MaxStatementBytes)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"The statement that starts at line {_statementLine} is longer than {DumpParser.MaxStatementBytes >> 20} MB: the dump is damaged, or holds a definition too large to read."));
            }
            if (needed > _statement.Length) Array.Resize(ref _statement, (int)Math.Max(needed, 2L * _statement.Length));
            line.CopyTo(_statement.AsSpan(_statementLength));
            _statementLength += line.Length;
            _statement[_statementLength++] = (byte)'\n';
            if (!_scanner.ScanLine(line)) return;
            _inStatement = false;
            var length = _statementLength;
            _statementLength = 0;
            Statement(_statement.AsSpan(0, length));
            if (_statement.Length > 1 << 20) _statement = new byte[4096];
        }

        /// <summary>Rows as INSERT statements cannot be masked: refused wherever they are.</summary>
        protected void RefuseInserts(string statement)
        {
            if (statement.StartsWith("INSERT INTO ", StringComparison.Ordinal))
            {
                throw new MaskingRefusedException(string.Create(CultureInfo.InvariantCulture,
                    $"line {_statementLine} holds rows as INSERT statements (pg_dump --inserts or --column-inserts), which cannot be masked; use a dump with COPY blocks (pg_dump's default)"));
            }
        }
    }

    /// <summary>Reads the schema statements up to the first COPY.</summary>
    private sealed class SchemaReader(DumpSchema schema) : TextMachine
    {
        protected override bool InCopy => false;

        protected override void CopyLine(ReadOnlySpan<byte> line, long number) { }

        protected override void OtherLine(ReadOnlySpan<byte> line) { }

        protected override bool CopyStart(ReadOnlySpan<byte> line, long number) => true;

        protected override void Statement(ReadOnlySpan<byte> text)
        {
            var statement = Encoding.UTF8.GetString(text);
            RefuseInserts(SqlText.Normalize(statement));
            schema.Read(statement);
        }
    }

    /// <summary>Writes the masked text into a buffer the caller flushes.</summary>
    private sealed class MaskingWriter(MaskingPlan plan, Pseudonyms pseudonyms) : TextMachine
    {
        private readonly Dictionary<string, FieldPlan[]> _copies = new(StringComparer.Ordinal);
        private readonly HashSet<string> _flagged = new(StringComparer.Ordinal);
        private byte[] _buffer = new byte[FlushBytes + (FlushBytes >> 2)];
        private int _length;
        private FieldPlan[]? _fields;
        private bool _masks;
        private string _copyTable = "";
        private long _copyLine;

        public List<MaskingProblem> Problems { get; } = [];
        public long Rows { get; private set; }
        public long MaskedValues { get; private set; }
        public long Written { get; private set; }
        public long StatementsLeftOut { get; private set; }
        public long LargeObjectsLeftOut { get; private set; }
        public int Pending => _length;

        /// <summary>From the first row that looked personal on, nothing is written.</summary>
        private bool Refusing => Problems.Count > 0;

        protected override bool InCopy => _fields is not null;

        public async Task FlushAsync(Stream output, CancellationToken cancellationToken)
        {
            if (_length == 0) return;
            await output.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            Written += _length;
            _length = 0;
            if (_buffer.Length > 4 * FlushBytes) _buffer = new byte[FlushBytes + (FlushBytes >> 2)];
        }

        public override void Finish()
        {
            base.Finish();
            if (_fields is not null)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"The dump ends inside the rows of {_copyTable} (COPY at line {_copyLine}, no \\. after it): it is truncated."));
            }
        }

        protected override void OtherLine(ReadOnlySpan<byte> line)
        {
            Write(line);
            Write("\n"u8);
        }

        protected override bool CopyStart(ReadOnlySpan<byte> line, long number)
        {
            var text = Encoding.UTF8.GetString(line);
            if (!_copies.TryGetValue(text, out var fields))
            {
                var (table, columns) = ParseCopy(text, number);
                _copies[text] = fields = plan.Fields(table, columns);
            }
            _fields = fields;
            _masks = fields.Any(f => f.Action != FieldAction.Pass);
            _copyTable = text.Length > 5 ? text[5..Math.Min(text.Length, 80)] : text;
            _copyLine = number;
            Write(line);
            Write("\n"u8);
            return false;
        }

        protected override void CopyLine(ReadOnlySpan<byte> line, long number)
        {
            if (line.Length == 2 && line[0] == (byte)'\\' && line[1] == (byte)'.')
            {
                _fields = null;
                Write(line);
                Write("\n"u8);
                return;
            }
            Rows++;
            if (!_masks)
            {
                Write(line);
                Write("\n"u8);
                return;
            }
            Row(_fields!, line, number);
        }

        private void Row(FieldPlan[] fields, ReadOnlySpan<byte> row, long number)
        {
            // Checked first: a row with a personal-looking value is never written, even in part.
            var rest = row;
            for (var i = 0; i < fields.Length; i++)
            {
                var tab = rest.IndexOf(CopyText.Tab);
                if (tab < 0 && i < fields.Length - 1) throw ShortRow(number);
                var field = tab < 0 ? rest : rest[..tab];
                rest = tab < 0 ? [] : rest[(tab + 1)..];
                if (fields[i].Action == FieldAction.Inspect) Inspect(fields[i], field, number);
            }
            if (Refusing) return;

            rest = row;
            for (var i = 0; i < fields.Length; i++)
            {
                var tab = rest.IndexOf(CopyText.Tab);
                var field = tab < 0 ? rest : rest[..tab];
                rest = tab < 0 ? [] : rest[(tab + 1)..];
                if (i > 0) Write("\t"u8);
                if (fields[i].Action != FieldAction.Mask)
                {
                    Write(field);
                    continue;
                }
                Mask(fields[i], field);
            }
            Write("\n"u8);
        }

        private void Mask(FieldPlan field, ReadOnlySpan<byte> value)
        {
            var rule = field.Rule!;
            if (CopyText.IsNull(value))
            {
                Write(value);
                return;
            }
            MaskedValues++;
            switch (rule.Kind)
            {
                case MaskKind.Null:
                    Write("\\N"u8);
                    return;
                case MaskKind.Fixed:
                    Write(field.FixedText);
                    return;
                case MaskKind.Number:
                    WriteAscii(pseudonyms.Number(CopyText.Unescape(value), rule.Min, rule.Max).ToString(CultureInfo.InvariantCulture));
                    return;
                default:
                    var pseudonym = pseudonyms.Of(rule.Kind, CopyText.Unescape(value), field.MaxLength);
                    if (field.Json) Write("\""u8);
                    WriteAscii(pseudonym);
                    if (field.Json) Write("\""u8);
                    return;
            }
        }

        private void Inspect(FieldPlan field, ReadOnlySpan<byte> value, long number)
        {
            if (_flagged.Contains(field.Column) || CopyText.IsNull(value)) return;
            var maybeEmail = value.Contains((byte)'@');
            var digits = 0;
            foreach (var b in value)
            {
                if (b is >= (byte)'0' and <= (byte)'9') digits++;
            }
            if (!maybeEmail && digits < 7) return;
            var text = CopyText.Unescape(value);
            var what = maybeEmail && PersonalData.LooksLikeEmail(text) ? "e-mail addresses"
                : digits >= 7 && PersonalData.LooksLikePhone(text) ? "phone numbers"
                : null;
            if (what is null) return;
            _flagged.Add(field.Column);
            Problems.Add(new MaskingProblem(field.Column, string.Create(CultureInfo.InvariantCulture,
                $"has no rule, and its values look personal: it holds {what} (first at line {number} of the dump's text)")));
        }

        protected override void Statement(ReadOnlySpan<byte> text)
        {
            var statement = SqlText.Normalize(Encoding.UTF8.GetString(text));
            RefuseInserts(statement);
            if (IsLargeObject(statement))
            {
                if (statement.StartsWith("SELECT pg_catalog.lo_create(", StringComparison.Ordinal)) LargeObjectsLeftOut++;
                return;
            }
            if (IsOwnershipOrPrivilege(statement))
            {
                StatementsLeftOut++;
                return;
            }
            Write(text);
        }

        private static bool IsLargeObject(string statement) =>
            statement.StartsWith("SELECT pg_catalog.lo_", StringComparison.Ordinal)
            || statement.StartsWith("SELECT pg_catalog.lowrite(", StringComparison.Ordinal)
            || statement.StartsWith("COMMENT ON LARGE OBJECT ", StringComparison.Ordinal)
            || statement.StartsWith("SECURITY LABEL ON LARGE OBJECT ", StringComparison.Ordinal);

        private static bool IsOwnershipOrPrivilege(string statement)
        {
            foreach (var prefix in (string[])["GRANT ", "REVOKE ", "ALTER DEFAULT PRIVILEGES ", "SET SESSION AUTHORIZATION ", "RESET SESSION AUTHORIZATION", "CREATE DATABASE ", "ALTER DATABASE "])
            {
                if (statement.StartsWith(prefix, StringComparison.Ordinal)) return true;
            }
            return statement.StartsWith("ALTER ", StringComparison.Ordinal) && SqlText.IsOwnership(statement, SqlText.Tokenize(statement));
        }

        private static (TableName Table, List<string> Columns) ParseCopy(string line, long number)
        {
            var tokens = SqlText.Tokenize(line);
            var table = DumpSchema.Name(line, tokens, 1, out var next);
            if (table is null || SqlText.CopyColumns(line, tokens, next) is not { } columns)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"Line {number} starts a COPY that is not pg_dump's `COPY <table> (<columns>) FROM stdin;`."));
            }
            return (table, columns.ConvertAll(SqlText.Unquote));
        }

        private static InvalidDataException ShortRow(long number) =>
            new(string.Create(CultureInfo.InvariantCulture, $"Line {number}, a COPY row, has fewer fields than its COPY column list: the dump is damaged."));

        private void WriteAscii(string text)
        {
            Ensure(text.Length);
            _length += Encoding.ASCII.GetBytes(text, _buffer.AsSpan(_length));
        }

        private void Write(ReadOnlySpan<byte> bytes)
        {
            if (Refusing) return;
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        private void Ensure(int more)
        {
            var needed = (long)_length + more;
            if (needed > _buffer.Length) Array.Resize(ref _buffer, (int)Math.Min(int.MaxValue - 64, Math.Max(needed, 2L * _buffer.Length)));
        }
    }
}
