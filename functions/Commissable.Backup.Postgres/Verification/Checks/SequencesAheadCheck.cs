using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary><c>sequences.ahead</c>: every column-owned sequence would hand out a value past its column's values.</summary>
internal sealed class SequencesAheadCheck : IRestoreCheck
{
    public string Name => RestoreChecks.SequencesAhead;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var check = await SequenceCheck.RunAsync(connection, InspectionScope.PublicSchema, cancellationToken).ConfigureAwait(false);
        return check.Passed
            ? new(Name, true, string.Create(CultureInfo.InvariantCulture, $"{check.Sequences.Count} owned sequences ahead of their columns"))
            : new(Name, false, string.Create(CultureInfo.InvariantCulture,
                $"{check.Behind.Count} of {check.Sequences.Count} sequences behind their column (the next insert would collide): {Listed(check.Behind.Select(s => s.ToString()).ToList())}"));
    }
}
