using System.Globalization;
using Commissable.Backup.Core.Backups;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary><c>rows.counts</c>: every table's row count equals the manifest's, within the configured tolerance; no table missing or extra.</summary>
internal sealed class RowCountsCheck : IRestoreCheck
{
    public string Name => RestoreChecks.RowCounts;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var census = await context.CensusAsync(connection, cancellationToken).ConfigureAwait(false);
        var found = await RowCounter.CountAsync(connection, census, cancellationToken).ConfigureAwait(false);
        var recorded = context.Recorded;
        if (recorded is null || recorded.RowCounts.Count == 0)
        {
            return new(Name, true, string.Create(CultureInfo.InvariantCulture,
                $"not recorded in the manifest; found {found.Count} tables, {N(found.Values.Sum())} rows"));
        }

        var off = new List<string>();
        var names = recorded.RowCounts.Keys.Concat(found.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var inexact = 0;
        foreach (var name in names)
        {
            var hasExpected = recorded.RowCounts.TryGetValue(name, out var expected);
            var hasFound = found.TryGetValue(name, out var actual);
            if (!hasFound)
            {
                off.Add(string.Create(CultureInfo.InvariantCulture, $"{Quote(name)} missing (recorded {N(expected)} rows)"));
            }
            else if (!hasExpected)
            {
                off.Add(string.Create(CultureInfo.InvariantCulture, $"{Quote(name)} not in the manifest ({N(actual)} rows)"));
            }
            else if (!context.Options.IsWithinTolerance(expected, actual))
            {
                off.Add(string.Create(CultureInfo.InvariantCulture, $"{Quote(name)} expected {N(expected)}, found {N(actual)} ({actual - expected:+#,0;-#,0})"));
            }
            else if (expected != actual)
            {
                inexact++;
            }
        }
        var tolerance = Tolerance(context.Options);
        if (off.Count > 0)
        {
            return new(Name, false, string.Create(CultureInfo.InvariantCulture,
                $"{off.Count} of {names.Count} tables off{tolerance}: {Listed(off)}"));
        }
        return new(Name, true, inexact == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{found.Count} tables, {N(found.Values.Sum())} rows, as recorded")
            : string.Create(CultureInfo.InvariantCulture, $"{found.Count} tables, {N(found.Values.Sum())} rows; {inexact} differ from the manifest within the tolerance{tolerance}"));
    }

    private static string Tolerance(VerificationOptions options)
    {
        var parts = new List<string>();
        if (options.RowCountToleranceFraction > 0)
        {
            parts.Add((options.RowCountToleranceFraction * 100).ToString("0.####", CultureInfo.InvariantCulture) + " %");
        }
        if (options.RowCountToleranceRows > 0)
        {
            parts.Add(N(options.RowCountToleranceRows) + " rows");
        }
        return parts.Count == 0 ? "" : $" (tolerance {string.Join(" or ", parts)})";
    }
}
