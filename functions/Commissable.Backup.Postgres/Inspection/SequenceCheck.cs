using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Inspection;

/// <summary>How a column draws from a sequence.</summary>
public enum SequenceUse
{
    /// <summary>A serial column: the sequence is <c>OWNED BY</c> the column (and its default calls <c>nextval</c>).</summary>
    Owned,

    /// <summary>An identity column (<c>GENERATED ... AS IDENTITY</c>).</summary>
    Identity,

    /// <summary>
    /// A column whose default is <c>nextval('sequence')</c> but that does not own the sequence:
    /// common in older and hand-written schemas, and after a restore that dropped <c>OWNED BY</c>.
    /// </summary>
    Default,
}

/// <summary>Where one sequence stands: what <c>nextval</c> would hand out next.</summary>
/// <param name="Schema">Schema of the sequence.</param>
/// <param name="Name">Sequence name, unquoted (for example <c>Product_id_seq</c>).</param>
/// <param name="LastValue">The sequence's <c>last_value</c>.</param>
/// <param name="IsCalled">The sequence's <c>is_called</c>: false means the next value is <c>last_value</c> itself.</param>
/// <param name="Increment">The sequence's increment (negative for descending sequences).</param>
public sealed record SequenceReading(string Schema, string Name, long LastValue, bool IsCalled, long Increment)
{
    /// <summary>What <c>nextval</c> would return next (saturated at the Int64 range).</summary>
    public long NextValue => NextAfter(LastValue, IsCalled, Increment);

    /// <summary>The value <c>nextval</c> returns after <c>setval(sequence, lastValue, isCalled)</c>, saturated at the Int64 range.</summary>
    public static long NextAfter(long lastValue, bool isCalled, long increment) =>
        isCalled ? (long)Int128.Clamp((Int128)lastValue + increment, long.MinValue, long.MaxValue) : lastValue;

    /// <summary>True when this sequence would hand out <paramref name="next"/> or a value past it (in its direction).</summary>
    public bool IsAtOrPast(long next) => Increment > 0 ? NextValue >= next : NextValue <= next;

    public override string ToString() => $"{Quote(Schema)}.{Quote(Name)}";
}

/// <summary>One sequence compared with one column that draws from it.</summary>
/// <param name="SequenceSchema">Schema of the sequence.</param>
/// <param name="Sequence">Sequence name, unquoted (for example <c>Product_id_seq</c>).</param>
/// <param name="TableSchema">Schema of the table.</param>
/// <param name="Table">The table, unquoted.</param>
/// <param name="Column">The column, unquoted.</param>
/// <param name="Use">How the column draws from the sequence.</param>
/// <param name="LastValue">The sequence's <c>last_value</c>.</param>
/// <param name="IsCalled">The sequence's <c>is_called</c>: false means the next value is <c>last_value</c> itself.</param>
/// <param name="Increment">The sequence's increment (negative for descending sequences).</param>
/// <param name="NextValue">What <c>nextval</c> would return next (saturated at the Int64 range).</param>
/// <param name="ColumnExtreme">The column's maximum (its minimum for a descending sequence); null for an empty table.</param>
public sealed record SequenceState(
    string SequenceSchema,
    string Sequence,
    string TableSchema,
    string Table,
    string Column,
    SequenceUse Use,
    long LastValue,
    bool IsCalled,
    long Increment,
    long NextValue,
    long? ColumnExtreme)
{
    /// <summary>True for an identity column, false for a serial column or a <c>nextval</c> default.</summary>
    public bool IsIdentity => Use == SequenceUse.Identity;

    /// <summary>
    /// The next value is already taken by a row: the application's next insert without an explicit
    /// id would fail with a duplicate key (or, without a unique index, duplicate an id).
    /// </summary>
    public bool IsBehind => ColumnExtreme is { } extreme && (Increment > 0 ? NextValue <= extreme : NextValue >= extreme);

    public override string ToString() =>
        $"{Quote(SequenceSchema)}.{Quote(Sequence)} for {Quote(TableSchema)}.{Quote(Table)}.{Quote(Column)}: next value {NextValue}, column {(Increment > 0 ? "max" : "min")} {ColumnExtreme?.ToString(CultureInfo.InvariantCulture) ?? "(no rows)"}";
}

/// <summary>
/// Every sequence a column draws from compared with every such column: owned sequences (serial
/// columns through <c>OWNED BY</c>), identity columns, and integer columns whose default is a plain
/// <c>nextval('sequence')</c> (found through <c>pg_attrdef</c> and <c>pg_depend</c>, so without
/// <c>OWNED BY</c> too). A restore that loads rows but not sequence positions leaves sequences
/// behind, and the first insert after it fails with a duplicate key.
/// </summary>
/// <remarks>
/// A sequence that no column draws from this way (used by the application in its own queries, or
/// inside a larger default such as <c>'INV-' || nextval(...)</c>, whose column values say nothing
/// about the sequence) cannot be compared with a column: it is in <see cref="Unused"/>, for the
/// caller to compare with a recorded position. A partition's copy of its parent's default is not a
/// use of its own: the parent's extreme covers the partitions' rows.
/// </remarks>
public sealed partial class SequenceCheck
{
    private SequenceCheck(IReadOnlyList<SequenceState> sequences, IReadOnlyList<SequenceReading> positions)
    {
        Sequences = sequences;
        Behind = [.. sequences.Where(s => s.IsBehind)];
        Positions = positions;
        var used = sequences.Select(s => (s.SequenceSchema, s.Sequence)).ToHashSet();
        Unused = [.. positions.Where(p => !used.Contains((p.Schema, p.Name)))];
    }

    /// <summary>Every (sequence, column) pair in scope, ordered by table schema, table and column, then sequence.</summary>
    public IReadOnlyList<SequenceState> Sequences { get; }

    /// <summary>The pairs whose next value collides with existing rows.</summary>
    public IReadOnlyList<SequenceState> Behind { get; }

    /// <summary>
    /// Every sequence in scope, and every sequence a column in scope draws from, ordered by schema
    /// and name: what a recorded position is compared with.
    /// </summary>
    public IReadOnlyList<SequenceReading> Positions { get; }

    /// <summary>The sequences of <see cref="Positions"/> that no column draws from (nothing here to compare them with).</summary>
    public IReadOnlyList<SequenceReading> Unused { get; }

    /// <summary>True when no sequence is behind a column that draws from it.</summary>
    public bool Passed => Behind.Count == 0;

    /// <summary>Reads every sequence and the columns that draw from them in one read-only snapshot.</summary>
    public static Task<SequenceCheck> RunAsync(
        NpgsqlDataSource dataSource,
        InspectionScope scope = InspectionScope.PublicSchema,
        CancellationToken cancellationToken = default) =>
        InspectionSession.RunAsync(dataSource, (connection, ct) => RunAsync(connection, scope, ct), cancellationToken);

    internal static async Task<SequenceCheck> RunAsync(NpgsqlConnection connection, InspectionScope scope, CancellationToken cancellationToken)
    {
        // Owned and identity sequences depend on their column ('a', 'i'); a column default that calls
        // nextval('s'::regclass) depends on the sequence ('n' from pg_attrdef). A serial column is both:
        // the ordering keeps one row per pair, identity before owned before default.
        var uses = await QueryAsync(connection, $"""
            SELECT DISTINCT ON (u.seq, u.tbl, u.attnum)
                   sn.nspname, s.relname, n.nspname, c.relname, a.attname, u.kind, u.expression, q.seqincrement
            FROM (
                SELECT d.objid AS seq, d.refobjid AS tbl, d.refobjsubid AS attnum,
                       CASE d.deptype WHEN 'i' THEN 0 ELSE 1 END AS kind, NULL::text AS expression
                FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
                UNION ALL
                SELECT d.refobjid, ad.adrelid, ad.adnum, 2, pg_get_expr(ad.adbin, ad.adrelid)
                FROM pg_attrdef ad
                JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                                AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
            ) u
            JOIN pg_class s ON s.oid = u.seq AND s.relkind = 'S'
            JOIN pg_namespace sn ON sn.oid = s.relnamespace
            JOIN pg_sequence q ON q.seqrelid = s.oid
            JOIN pg_class c ON c.oid = u.tbl AND c.relkind IN ('r', 'p')
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = u.attnum AND NOT a.attisdropped
            WHERE {NamespaceFilter(scope, "n")}
              AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
              AND (u.kind < 2 OR NOT c.relispartition)
            ORDER BY u.seq, u.tbl, u.attnum, u.kind
            """, cancellationToken).ConfigureAwait(false);
        var pairs = uses
            .Where(row => row[6] is not string expression || PlainNextval().IsMatch(expression))
            .Select(row => (SequenceSchema: (string)row[0]!, Sequence: (string)row[1]!, Schema: (string)row[2]!, Table: (string)row[3]!, Column: (string)row[4]!,
                Use: (int)row[5]! switch { 0 => SequenceUse.Identity, 1 => SequenceUse.Owned, _ => SequenceUse.Default },
                Increment: (long)row[7]!))
            .ToList();

        var inScope = await QueryAsync(connection, $"""
            SELECT n.nspname, s.relname, q.seqincrement
            FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace JOIN pg_sequence q ON q.seqrelid = s.oid
            WHERE s.relkind = 'S' AND {NamespaceFilter(scope, "n")} AND {NotExtensionMember("s")}
            """, cancellationToken).ConfigureAwait(false);
        var names = inScope.Select(row => (Schema: (string)row[0]!, Name: (string)row[1]!, Increment: (long)row[2]!))
            .Concat(pairs.Select(p => (Schema: p.SequenceSchema, Name: p.Sequence, p.Increment)))
            .Distinct()
            .OrderBy(p => p.Schema, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal)
            .ToList();

        var positions = new List<SequenceReading>(names.Count);
        foreach (var (schema, name, increment) in names)
        {
            await using var command = new NpgsqlCommand($"SELECT last_value, is_called FROM {Quote(schema)}.{Quote(name)}", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            positions.Add(new SequenceReading(schema, name, reader.GetInt64(0), reader.GetBoolean(1), increment));
        }
        var bySequence = positions.ToDictionary(p => (p.Schema, p.Name));

        var states = new List<SequenceState>(pairs.Count);
        foreach (var pair in pairs)
        {
            var position = bySequence[(pair.SequenceSchema, pair.Sequence)];
            var aggregate = position.Increment > 0 ? "max" : "min";
            await using var command = new NpgsqlCommand(
                $"SELECT {aggregate}({Quote(pair.Column)})::bigint FROM {Quote(pair.Schema)}.{Quote(pair.Table)}", connection);
            // Whole-table scans of a big restore can outlast any default timeout; the token bounds them.
            command.CommandTimeout = 0;
            var extreme = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            states.Add(new SequenceState(pair.SequenceSchema, pair.Sequence, pair.Schema, pair.Table, pair.Column, pair.Use,
                position.LastValue, position.IsCalled, position.Increment, position.NextValue, extreme is long value ? value : null));
        }
        states.Sort((a, b) =>
        {
            var bySchema = string.CompareOrdinal(a.TableSchema, b.TableSchema);
            if (bySchema != 0) return bySchema;
            var byTable = string.CompareOrdinal(a.Table, b.Table);
            if (byTable != 0) return byTable;
            var byColumn = string.CompareOrdinal(a.Column, b.Column);
            return byColumn != 0 ? byColumn : string.CompareOrdinal(a.Sequence, b.Sequence);
        });
        return new SequenceCheck(states, positions);
    }

    /// <summary>
    /// A default that is <c>nextval</c> of a sequence and nothing else, as <c>pg_get_expr</c> prints it
    /// (<c>nextval('"Order_seq"'::regclass)</c>, schema-qualified outside the search path): only then
    /// do the column's values tell where the sequence must be.
    /// </summary>
    [GeneratedRegex(@"\Anextval\('(?:[^']|'')+'::regclass\)\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNextval();
}
