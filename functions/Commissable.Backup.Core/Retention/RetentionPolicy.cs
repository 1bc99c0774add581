using System.Globalization;

namespace Commissable.Backup.Core.Retention;

/// <summary>
/// What the retention sweeper may delete. The defaults are the strategy's: 30 days for logical
/// exports and on-demand backups, the last 5 pre-deploy exports of each instance always kept,
/// nothing younger than a day ever deleted, and never more than a quarter of the catalog in one run.
/// Automated backup runs are Cloud SQL's to retire and never appear in a deletion.
/// </summary>
public sealed record RetentionPolicy
{
    /// <summary>The backup prefix (<c>backups</c>); nothing outside it is ever deleted.</summary>
    public required string Prefix { get; init; }

    /// <summary>Scheduled exports and on-demand backup runs older than this are deleted (unless a weekly or monthly keep applies).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Pre-deploy exports older than this are deleted, except the last <see cref="KeepLastPreDeploy"/> of each instance.</summary>
    public TimeSpan PreDeployMaxAge { get; init; } = TimeSpan.FromDays(30);

    /// <summary>The newest N complete pre-deploy exports of each instance are kept whatever their age.</summary>
    public int KeepLastPreDeploy { get; init; } = 5;

    /// <summary>
    /// When set, the newest complete scheduled export or on-demand backup run of each of the last N
    /// ISO weeks (Monday to Sunday, UTC; the current week counts) is kept per instance.
    /// </summary>
    public int? KeepWeekly { get; init; }

    /// <summary>When set, as <see cref="KeepWeekly"/> for the last N calendar months (UTC; the current month counts).</summary>
    public int? KeepMonthly { get; init; }

    /// <summary>Nothing younger than this is ever deleted; a dump without manifest younger than this may still be being written.</summary>
    public TimeSpan MinimumAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The largest share (0 to 1) of the catalog one run may delete. A plan that would delete more
    /// deletes nothing at all and says why: a sudden mass expiry is more likely a wrong clock, a
    /// wrong policy or a broken listing than a real need, and a human should look first.
    /// </summary>
    public double MaxDeleteShare { get; init; } = 0.25;

    /// <summary>
    /// Delete orphans (a dump without manifest, a manifest without its dump) older than
    /// <see cref="MinimumAge"/>. Off by default: orphans are reported, and deleting them is an explicit choice.
    /// </summary>
    public bool DeleteOrphans { get; init; }

    /// <summary>What is wrong with this policy, one message per problem, naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Prefix?.Trim('/')))
        {
            problems.Add("Prefix is required: the object prefix backups live under (for example 'backups').");
        }
        NotNegative(problems, nameof(MaxAge), MaxAge);
        NotNegative(problems, nameof(PreDeployMaxAge), PreDeployMaxAge);
        NotNegative(problems, nameof(MinimumAge), MinimumAge);
        if (KeepLastPreDeploy < 0) problems.Add(Invariant($"KeepLastPreDeploy is {KeepLastPreDeploy}; 0 or more is accepted."));
        if (KeepWeekly < 0) problems.Add(Invariant($"KeepWeekly is {KeepWeekly}; 0 or more (or unset) is accepted."));
        if (KeepMonthly < 0) problems.Add(Invariant($"KeepMonthly is {KeepMonthly}; 0 or more (or unset) is accepted."));
        if (!(MaxDeleteShare is >= 0 and <= 1))
        {
            problems.Add(Invariant($"MaxDeleteShare is {MaxDeleteShare}; a share from 0 to 1 is accepted (0.25 is a quarter of the catalog)."));
        }
        return problems;
    }

    private static void NotNegative(List<string> problems, string name, TimeSpan value)
    {
        if (value < TimeSpan.Zero) problems.Add($"{name} is {value}; a duration of zero or more is accepted.");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
