using System.Globalization;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>How the checks put what they found into a detail an operator reads: one line, short lists, grouped numbers.</summary>
internal static class CheckText
{
    /// <summary>How many offending items a detail names before "and N more".</summary>
    private const int MaxListed = 10;

    /// <summary>One exception as one line of words, without a stack trace.</summary>
    public static string Describe(Exception e)
    {
        var text = e switch
        {
            PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
            _ when e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) => $"{e.Message} ({inner.Message})",
            _ => e.Message,
        };
        text = text.ReplaceLineEndings(" ");
        return text.Length <= 500 ? text : text[..500] + "…";
    }

    /// <summary>"a; b; c; and 4 more", naming at most <see cref="MaxListed"/>.</summary>
    public static string Listed(IReadOnlyCollection<string> items, int max = MaxListed)
    {
        var shown = string.Join("; ", items.Take(max));
        return items.Count > max ? string.Create(CultureInfo.InvariantCulture, $"{shown}; and {items.Count - max} more") : shown;
    }

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
