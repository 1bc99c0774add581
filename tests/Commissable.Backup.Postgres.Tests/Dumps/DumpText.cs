namespace Commissable.Backup.Postgres.Tests.Dumps;

/// <summary>
/// A dump's SQL text split the way the comparisons need it: the statements (every line outside
/// the COPY blocks, in order) and each COPY block's rows as a sorted list (a multiset). The
/// <c>\restrict</c> key, random in every run of pg_dump and pg_restore, is blanked.
/// </summary>
internal sealed record DumpText(IReadOnlyList<string> Statements, IReadOnlyDictionary<string, IReadOnlyList<string>> Rows)
{
    public static async Task<DumpText> ReadAsync(Stream stream)
    {
        using var reader = new StreamReader(stream, leaveOpen: true);
        return Parse(await reader.ReadToEndAsync());
    }

    public static DumpText Parse(string text)
    {
        var statements = new List<string>();
        var rows = new Dictionary<string, IReadOnlyList<string>>();
        List<string>? block = null;
        foreach (var line in text.Split('\n'))
        {
            if (block is not null)
            {
                if (line == "\\.")
                {
                    block.Sort(StringComparer.Ordinal);
                    block = null;
                }
                else
                {
                    block.Add(line);
                }
                continue;
            }
            if (line.StartsWith("COPY ", StringComparison.Ordinal) && line.EndsWith(" FROM stdin;", StringComparison.Ordinal))
            {
                block = [];
                rows.Add(line, block);
            }
            statements.Add(line.StartsWith("\\restrict ", StringComparison.Ordinal) ? "\\restrict KEY"
                : line.StartsWith("\\unrestrict ", StringComparison.Ordinal) ? "\\unrestrict KEY"
                : line);
        }
        Assert.Null(block);
        return new DumpText(statements, rows);
    }

    public int RowsOf(string copyPrefix) => Rows.Single(r => r.Key.StartsWith(copyPrefix, StringComparison.Ordinal)).Value.Count;

    /// <summary>Asserts the same statements in the same order and the same rows per table, whatever their order.</summary>
    public void AssertSameAs(DumpText other)
    {
        Assert.Equal(other.Statements, Statements);
        Assert.Equal(other.Rows.Keys.Order(StringComparer.Ordinal), Rows.Keys.Order(StringComparer.Ordinal));
        foreach (var (table, rows) in other.Rows)
        {
            Assert.True(rows.SequenceEqual(Rows[table]), $"the rows of {table} differ");
        }
    }
}
