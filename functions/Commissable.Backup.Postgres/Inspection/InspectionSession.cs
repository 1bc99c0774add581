using System.Data;
using Npgsql;

namespace Commissable.Backup.Postgres.Inspection;

/// <summary>
/// Opens the read-only snapshot every inspection runs in. The session settings that change how
/// values and definitions are printed are pinned, so two databases are compared on their content,
/// never on the settings of the role or connection that inspects them.
/// </summary>
internal static class InspectionSession
{
    private const string PinnedSettings = """
        SET TRANSACTION READ ONLY;
        SET LOCAL search_path = public;
        SET LOCAL DateStyle = 'ISO, YMD';
        SET LOCAL IntervalStyle = 'postgres';
        SET LOCAL TimeZone = 'UTC';
        SET LOCAL extra_float_digits = 1;
        SET LOCAL bytea_output = 'hex';
        SET LOCAL lc_monetary = 'C';
        """;

    /// <summary>SQL condition on a <c>pg_namespace</c> alias for the scope.</summary>
    public static string NamespaceFilter(InspectionScope scope, string alias) => scope switch
    {
        InspectionScope.PublicSchema => $"{alias}.nspname = 'public'",
        InspectionScope.AllUserSchemas => $"{alias}.nspname <> 'information_schema' AND {alias}.nspname !~ '^pg_'",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, "unknown inspection scope"),
    };

    /// <summary>SQL condition: the relation (alias of pg_class) does not belong to an extension.</summary>
    public static string NotExtensionMember(string classAlias, string catalog = "pg_class") =>
        $"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {classAlias}.oid AND e.deptype = 'e')";

    public static async Task<T> RunAsync<T>(
        NpgsqlDataSource dataSource,
        Func<NpgsqlConnection, CancellationToken, Task<T>> body,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using (var settings = new NpgsqlCommand(PinnedSettings, connection, transaction))
        {
            await settings.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var result = await body(connection, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    public static async Task<List<object?[]>> QueryAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        var rows = new List<object?[]>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = await reader.IsDBNullAsync(i, cancellationToken).ConfigureAwait(false) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A double-quoted SQL identifier (the tables are PascalCase, so always quote).</summary>
    public static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
