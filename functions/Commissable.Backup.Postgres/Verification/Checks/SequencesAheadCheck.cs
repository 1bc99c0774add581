using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>
/// <c>sequences.ahead</c>: every sequence a column draws from (owned, identity, or a plain
/// <c>nextval</c> default) would hand out a value past every such column's values.
/// </summary>
/// <remarks>
/// A sequence no column draws from has nothing in the database to be compared with: it is named in
/// the detail, and compared with the backup's position by the content comparison
/// (<c>sequences.recorded</c>).
/// </remarks>
internal sealed class SequencesAheadCheck : IRestoreCheck
{
    public string Name => RestoreChecks.SequencesAhead;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Every user schema: a sequence behind its column collides on the next insert wherever it lives.
        var check = await SequenceCheck.RunAsync(connection, InspectionScope.AllUserSchemas, cancellationToken).ConfigureAwait(false);

        var failures = new List<string>();
        if (check.Behind.Count > 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{check.Behind.Count} of {check.Sequences.Count} sequences behind their column (the next insert would collide): {Listed(check.Behind.Select(s => s.ToString()).ToList())}"));
        }

        // A sequence no column draws from is compared with the backup's position by the content
        // comparison (sequences.recorded); here there is nothing to compare it with.
        var notChecked = check.Unused.Select(u => u.ToString()).ToList();

        if (failures.Count > 0)
        {
            return new(Name, false, string.Join("; ", failures));
        }
        var uses = check.Sequences.GroupBy(s => s.Use).OrderBy(g => g.Key).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {Describe(g.Key)}"));
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{check.Positions.Count - check.Unused.Count} sequences ahead of the {check.Sequences.Count} columns that draw from them ({string.Join(", ", uses.DefaultIfEmpty("none"))})");
        if (notChecked.Count > 0)
        {
            detail += string.Create(CultureInfo.InvariantCulture,
                $"; {notChecked.Count} that no column draws from (compared with the backup by sequences.recorded): {Listed(notChecked)}");
        }
        return new(Name, true, detail);
    }

    private static string Describe(SequenceUse use) => use switch
    {
        SequenceUse.Owned => "owned",
        SequenceUse.Identity => "identity",
        _ => "nextval default",
    };
}
