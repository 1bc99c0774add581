using System.Globalization;
using Commissable.Backup.Postgres.Inspection;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>What differs between two schemas' fingerprint lines, by object (the lines from <see cref="SchemaFingerprint.OneSided"/>).</summary>
internal static class FingerprintDifferences
{
    /// <summary>
    /// What differs, by object: an object that exists on one side only is one entry with its
    /// number of lines (a dropped table is one finding, not twenty); otherwise each differing
    /// line of the object is an entry.
    /// </summary>
    public static List<string> Between(IReadOnlyList<string> sourceLines, IReadOnlyList<string> restoredLines)
    {
        var source = sourceLines.ToHashSet(StringComparer.Ordinal);
        var restored = restoredLines.ToHashSet(StringComparer.Ordinal);
        var sourceObjects = source.GroupBy(ObjectOf, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var restoredObjects = restored.GroupBy(ObjectOf, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var changed = SchemaFingerprint.OneSided(sourceLines, restoredLines)
            .Select(d => (d.Line, Side: d.OnlyLeft ? "only in the source" : "only in the restore"))
            .GroupBy(d => ObjectOf(d.Line), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        var entries = new List<string>();
        foreach (var group in changed)
        {
            var inSource = sourceObjects.GetValueOrDefault(group.Key);
            var inRestore = restoredObjects.GetValueOrDefault(group.Key);
            if (inRestore == 0)
            {
                entries.Add(string.Create(CultureInfo.InvariantCulture, $"{group.Key}: only in the source ({inSource} lines)"));
            }
            else if (inSource == 0)
            {
                entries.Add(string.Create(CultureInfo.InvariantCulture, $"{group.Key}: only in the restore ({inRestore} lines)"));
            }
            else
            {
                entries.AddRange(group.OrderBy(d => d.Line, StringComparer.Ordinal)
                    .Select(d => $"{group.Key}: {d.Side}: {Shorten(d.Line[Math.Min(group.Key.Length + 1, d.Line.Length)..])}"));
            }
        }
        return entries;

        static string Shorten(string line) => line.Length <= 240 ? line : line[..240] + "…";
    }

    /// <summary>
    /// The object a fingerprint line belongs to: its leading qualified name (identifiers are
    /// quoted where needed, so only a space outside quotes ends it), or <c>extension name</c> /
    /// <c>schema name</c> for those lines.
    /// </summary>
    private static string ObjectOf(string line)
    {
        var end = NameEnd(line, 0);
        var first = line[..end];
        return first is "extension" or "schema" && end < line.Length ? line[..NameEnd(line, end + 1)] : first;

        static int NameEnd(string text, int from)
        {
            var quoted = false;
            for (var i = from; i < text.Length; i++)
            {
                if (text[i] == '"') quoted = !quoted;
                else if (text[i] == ' ' && !quoted) return i;
            }
            return text.Length;
        }
    }
}
