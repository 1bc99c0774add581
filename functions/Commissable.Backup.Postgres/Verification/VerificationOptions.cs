using System.Globalization;
using Commissable.Backup.Postgres.Inspection;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>How a restored database is checked against its manifest (operator-configurable).</summary>
public sealed record VerificationOptions
{
    /// <summary>Exact counts, no critical tables, every check.</summary>
    public static VerificationOptions Default { get; } = new();

    /// <summary>
    /// How far a table's restored row count may be from the recorded one, as a fraction of the
    /// recorded count (0.01 = 1 %). For exports taken from a live database, whose dump is a later
    /// snapshot than the recorded counts. Default 0: exact. Between 0 and 1.
    /// </summary>
    public decimal RowCountToleranceFraction { get; init; }

    /// <summary>
    /// How far a table's restored row count may be from the recorded one, in rows. When both
    /// tolerances are set, the larger allowance applies. Default 0: exact. Never negative.
    /// </summary>
    public long RowCountToleranceRows { get; init; }

    /// <summary>
    /// Tables in <c>public</c> (unquoted names, exactly as in the catalog) that must exist and have
    /// at least one row; <c>tables.critical</c> fails otherwise. Default: none (the check passes
    /// saying so). The application's list, for the demo <c>DemoDatabase.CriticalTables</c>.
    /// </summary>
    public IReadOnlyList<string> CriticalTables { get; init; } = [];

    /// <summary>
    /// Names of the checks to run (see <see cref="RestoreChecks.All"/>); null runs every check.
    /// Checks not listed are left out of the results. The results keep the fixed order whatever
    /// the order here.
    /// </summary>
    public IReadOnlyCollection<string>? Checks { get; init; }

    /// <summary>
    /// When true, <c>tenants.same</c> also fails when the business tables hold no tenant at all,
    /// whatever the manifest says. For checking a live database in place (a disaster-recovery
    /// restore, a staging clone), where an empty tenant set means the wrong or an empty database.
    /// Default false: a scratch restore is judged against its manifest only.
    /// </summary>
    public bool RequireTenants { get; init; }

    /// <summary>The tenant column of the business tables, exactly as in the catalog.</summary>
    public string TenantColumn { get; init; } = TenantCensus.DefaultTenantColumn;

    /// <summary>How many rows a table of <paramref name="recorded"/> rows may gain or lose.</summary>
    public long AllowedDifference(long recorded) =>
        Math.Max(RowCountToleranceRows, (long)decimal.Floor(RowCountToleranceFraction * Math.Max(recorded, 0)));

    /// <summary>True when <paramref name="found"/> is within the tolerance of <paramref name="recorded"/>.</summary>
    public bool IsWithinTolerance(long recorded, long found) =>
        Math.Abs((decimal)found - recorded) <= AllowedDifference(recorded);

    internal bool Runs(string check) => Checks is null || Checks.Contains(check, StringComparer.Ordinal);

    /// <exception cref="ArgumentException">A value is out of range or a check name is unknown.</exception>
    internal void Validate()
    {
        if (RowCountToleranceFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RowCountToleranceFraction), RowCountToleranceFraction,
                "RowCountToleranceFraction must be between 0 and 1 (0.01 is 1 %).");
        }
        if (RowCountToleranceRows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(RowCountToleranceRows), RowCountToleranceRows,
                "RowCountToleranceRows must be 0 or more.");
        }
        ArgumentNullException.ThrowIfNull(CriticalTables, nameof(CriticalTables));
        if (CriticalTables.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("CriticalTables must not contain empty names.", nameof(CriticalTables));
        }
        ArgumentException.ThrowIfNullOrEmpty(TenantColumn, nameof(TenantColumn));
        var unknown = Checks?.Where(c => !RestoreChecks.All.Contains(c, StringComparer.Ordinal)).ToList() ?? [];
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Unknown check {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the checks are {string.Join(", ", RestoreChecks.All)}."),
                nameof(Checks));
        }
    }
}
