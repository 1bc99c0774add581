using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Inspection;

/// <summary>One column-owned sequence compared with its column.</summary>
/// <param name="SequenceSchema">Schema of the sequence.</param>
/// <param name="Sequence">Sequence name, unquoted (for example <c>Product_id_seq</c>).</param>
/// <param name="TableSchema">Schema of the owning table.</param>
/// <param name="Table">Owning table, unquoted.</param>
/// <param name="Column">Owning column, unquoted.</param>
/// <param name="IsIdentity">True for an identity column, false for serial (<c>OWNED BY</c>).</param>
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
    bool IsIdentity,
    long LastValue,
    bool IsCalled,
    long Increment,
    long NextValue,
    long? ColumnExtreme)
{
    /// <summary>
    /// The next value is already taken by a row: the application's next insert without an explicit
    /// id would fail with a duplicate key (or, without a unique index, duplicate an id).
    /// </summary>
    public bool IsBehind => ColumnExtreme is { } extreme && (Increment > 0 ? NextValue <= extreme : NextValue >= extreme);

    public override string ToString() =>
        $"{Quote(SequenceSchema)}.{Quote(Sequence)} for {Quote(TableSchema)}.{Quote(Table)}.{Quote(Column)}: next value {NextValue}, column {(Increment > 0 ? "max" : "min")} {ColumnExtreme?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(no rows)"}";
}

/// <summary>
/// Every sequence owned by a column (serial columns through <c>OWNED BY</c>, identity columns)
/// compared with that column's values. A restore that loads rows but not sequence positions leaves
/// sequences behind, and the first insert after it fails with a duplicate key.
/// </summary>
/// <remarks>Sequences used by a default but owned by no column are not checked: nothing ties them to one column.</remarks>
public sealed class SequenceCheck
{
    private SequenceCheck(IReadOnlyList<SequenceState> sequences)
    {
        Sequences = sequences;
        Behind = [.. sequences.Where(s => s.IsBehind)];
    }

    /// <summary>All column-owned sequences in scope, ordered by table schema, table and column.</summary>
    public IReadOnlyList<SequenceState> Sequences { get; }

    /// <summary>The sequences whose next value collides with existing rows.</summary>
    public IReadOnlyList<SequenceState> Behind { get; }

    /// <summary>True when no sequence is behind its column.</summary>
    public bool Passed => Behind.Count == 0;

    /// <summary>Reads every owned sequence and its column in one read-only snapshot.</summary>
    public static Task<SequenceCheck> RunAsync(
        NpgsqlDataSource dataSource,
        InspectionScope scope = InspectionScope.PublicSchema,
        CancellationToken cancellationToken = default) =>
        InspectionSession.RunAsync(dataSource, (connection, ct) => RunAsync(connection, scope, ct), cancellationToken);

    internal static async Task<SequenceCheck> RunAsync(NpgsqlConnection connection, InspectionScope scope, CancellationToken cancellationToken)
    {
        var owned = await QueryAsync(connection, $"""
            SELECT sn.nspname, s.relname, n.nspname, c.relname, a.attname, d.deptype = 'i', q.seqincrement
            FROM pg_depend d
            JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_namespace sn ON sn.oid = s.relnamespace
            JOIN pg_sequence q ON q.seqrelid = s.oid
            JOIN pg_class c ON c.oid = d.refobjid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
              AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 AND c.relkind IN ('r', 'p')
              AND {NamespaceFilter(scope, "n")}
            """, cancellationToken).ConfigureAwait(false);

        var states = new List<SequenceState>();
        foreach (var row in owned)
        {
            var (sequenceSchema, sequence, schema, table, column) = ((string)row[0]!, (string)row[1]!, (string)row[2]!, (string)row[3]!, (string)row[4]!);
            var isIdentity = (bool)row[5]!;
            var increment = (long)row[6]!;
            var aggregate = increment > 0 ? "max" : "min";
            await using var command = new NpgsqlCommand($"""
                SELECT s.last_value, s.is_called, (SELECT {aggregate}({Quote(column)})::bigint FROM {Quote(schema)}.{Quote(table)})
                FROM {Quote(sequenceSchema)}.{Quote(sequence)} AS s
                """, connection);
            // Whole-table scans of a big restore can outlast any default timeout; the token bounds them.
            command.CommandTimeout = 0;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var lastValue = reader.GetInt64(0);
            var isCalled = reader.GetBoolean(1);
            long? extreme = await reader.IsDBNullAsync(2, cancellationToken).ConfigureAwait(false) ? null : reader.GetInt64(2);
            var next = isCalled ? (long)Int128.Clamp((Int128)lastValue + increment, long.MinValue, long.MaxValue) : lastValue;
            states.Add(new SequenceState(sequenceSchema, sequence, schema, table, column, isIdentity, lastValue, isCalled, increment, next, extreme));
        }
        states.Sort((a, b) =>
        {
            var bySchema = string.CompareOrdinal(a.TableSchema, b.TableSchema);
            if (bySchema != 0) return bySchema;
            var byTable = string.CompareOrdinal(a.Table, b.Table);
            return byTable != 0 ? byTable : string.CompareOrdinal(a.Column, b.Column);
        });
        return new SequenceCheck(states);
    }
}
