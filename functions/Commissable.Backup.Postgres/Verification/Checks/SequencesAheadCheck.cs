using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>
/// <c>sequences.ahead</c>: every sequence a column draws from (owned, identity, or a plain
/// <c>nextval</c> default) would hand out a value past every such column's values, and every
/// sequence whose position the manifest records is at or past it.
/// </summary>
/// <remarks>
/// A sequence no column draws from has nothing in the restored database to be compared with: it
/// is compared with the manifest's position where one is recorded, and otherwise named in the
/// detail as not checked (it does not fail the check: the application may not use it at all).
/// </remarks>
internal sealed class SequencesAheadCheck : IRestoreCheck
{
    public string Name => RestoreChecks.SequencesAhead;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var check = await SequenceCheck.RunAsync(connection, InspectionScope.PublicSchema, cancellationToken).ConfigureAwait(false);
        var recorded = context.Recorded?.Sequences;
        var columnsOf = check.Sequences.ToLookup(s => (s.SequenceSchema, s.Sequence));

        var failures = new List<string>();
        if (check.Behind.Count > 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{check.Behind.Count} of {check.Sequences.Count} sequences behind their column (the next insert would collide): {Listed(check.Behind.Select(s => s.ToString()).ToList())}"));
        }

        var notChecked = new List<string>();
        var comparedWithManifest = 0;
        if (recorded is not null)
        {
            var found = check.Positions.Where(p => p.Schema == RowCounter.Schema).ToDictionary(p => p.Name, StringComparer.Ordinal);
            var behindManifest = new List<string>();
            foreach (var (name, position) in recorded.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                if (!found.TryGetValue(name, out var restored))
                {
                    behindManifest.Add($"{Quote(RowCounter.Schema)}.{Quote(name)} missing (recorded {Recorded(position)})");
                    continue;
                }
                comparedWithManifest++;
                var expected = SequenceReading.NextAfter(position.LastValue, position.IsCalled, restored.Increment);
                if (!restored.IsAtOrPast(expected))
                {
                    behindManifest.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{restored}{Columns(columnsOf[(restored.Schema, restored.Name)])}: next value {restored.NextValue}, the backup's {expected}"));
                }
            }
            if (behindManifest.Count > 0)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{behindManifest.Count} of {recorded.Count} recorded sequences behind the backup: {Listed(behindManifest)}"));
            }
        }
        foreach (var unused in check.Unused)
        {
            if (recorded is null || unused.Schema != RowCounter.Schema || !recorded.ContainsKey(unused.Name))
            {
                notChecked.Add(unused.ToString());
            }
        }

        if (failures.Count > 0)
        {
            return new(Name, false, string.Join("; ", failures));
        }
        var uses = check.Sequences.GroupBy(s => s.Use).OrderBy(g => g.Key).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {Describe(g.Key)}"));
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{check.Positions.Count - check.Unused.Count} sequences ahead of the {check.Sequences.Count} columns that draw from them ({string.Join(", ", uses.DefaultIfEmpty("none"))})");
        if (comparedWithManifest > 0)
        {
            detail += string.Create(CultureInfo.InvariantCulture, $"; {comparedWithManifest} at or past the backup's position");
        }
        if (notChecked.Count > 0)
        {
            detail += string.Create(CultureInfo.InvariantCulture,
                $"; {notChecked.Count} that no column draws from, not checked (no position recorded in the manifest): {Listed(notChecked)}");
        }
        return new(Name, true, detail);
    }

    private static string Describe(SequenceUse use) => use switch
    {
        SequenceUse.Owned => "owned",
        SequenceUse.Identity => "identity",
        _ => "nextval default",
    };

    private static string Recorded(RecordedSequence position) =>
        string.Create(CultureInfo.InvariantCulture, $"at {position.LastValue}{(position.IsCalled ? "" : ", not yet called")}");

    private static string Columns(IEnumerable<SequenceState> columns)
    {
        var names = columns.Select(c => $"{Quote(c.TableSchema)}.{Quote(c.Table)}.{Quote(c.Column)}").ToList();
        return names.Count == 0 ? " (no column draws from it)" : $" for {string.Join(", ", names)}";
    }
}
