using System.Globalization;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>How a database is checked on its own terms (operator-configurable).</summary>
public sealed record VerificationOptions
{
    /// <summary>No critical tables, every check.</summary>
    public static VerificationOptions Default { get; } = new();

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

    internal bool Runs(string check) => Checks is null || Checks.Contains(check, StringComparer.Ordinal);

    /// <exception cref="ArgumentException">A value is out of range or a check name is unknown.</exception>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(CriticalTables, nameof(CriticalTables));
        if (CriticalTables.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("CriticalTables must not contain empty names.", nameof(CriticalTables));
        }
        var unknown = Checks?.Where(c => !RestoreChecks.All.Contains(c, StringComparer.Ordinal)).ToList() ?? [];
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Unknown check {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the checks are {string.Join(", ", RestoreChecks.All)}."),
                nameof(Checks));
        }
    }
}
