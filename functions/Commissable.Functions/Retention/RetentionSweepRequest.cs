using System.Globalization;
using System.Text.Json.Serialization;
using Commissable.Backup.Core.Retention;

namespace Commissable.Functions.Retention;

/// <summary>The optional body of a <c>retention-sweeper</c> call: <c>{ "apply": false, "policy": { ... } }</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record RetentionSweepRequest
{
    /// <summary>Delete for real; false (the default) is a dry run that only reports.</summary>
    public bool? Apply { get; init; }

    /// <summary>Overrides of the strategy's retention defaults for this run only.</summary>
    public RetentionPolicyOverrides? Policy { get; init; }
}

/// <summary>
/// The retention settings a caller may override for one run, each in the unit its name says.
/// Unset fields keep the <see cref="RetentionPolicy"/> defaults (the strategy's). An override may
/// only keep more than the defaults (<see cref="Relaxations"/>) unless the deployment allows more
/// (<c>RETENTION_ALLOW_RELAXED_OVERRIDES</c>): the safety rails are not the caller's to switch off.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record RetentionPolicyOverrides
{
    private const double MaxDays = 36_500;

    public double? MaxAgeDays { get; init; }
    public double? PreDeployMaxAgeDays { get; init; }
    public int? KeepLastPreDeploy { get; init; }
    public int? KeepWeekly { get; init; }
    public int? KeepMonthly { get; init; }
    public double? MinimumAgeHours { get; init; }
    public double? MaxDeleteShare { get; init; }
    public bool? DeleteOrphans { get; init; }

    /// <summary>What is wrong with the overrides, one message per field, naming it as JSON does (<c>policy.maxAgeDays</c>).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        Range(problems, "maxAgeDays", MaxAgeDays, MaxDays, "days");
        Range(problems, "preDeployMaxAgeDays", PreDeployMaxAgeDays, MaxDays, "days");
        Range(problems, "minimumAgeHours", MinimumAgeHours, MaxDays * 24, "hours");
        Range(problems, "maxDeleteShare", MaxDeleteShare, 1, "(a share: 0.25 is a quarter of the catalog)");
        Count(problems, "keepLastPreDeploy", KeepLastPreDeploy);
        Count(problems, "keepWeekly", KeepWeekly);
        Count(problems, "keepMonthly", KeepMonthly);
        return problems;
    }

    /// <summary>
    /// The overrides that would let the sweeper delete more than <paramref name="floor"/> does,
    /// one message per field naming it and the floor's value; empty when every override keeps at
    /// least as much (is as strict or stricter). Call only when <see cref="Problems"/> is empty.
    /// </summary>
    public IReadOnlyList<string> Relaxations(RetentionPolicy floor)
    {
        ArgumentNullException.ThrowIfNull(floor);
        var relaxed = new List<string>();
        AtLeast(relaxed, "maxAgeDays", MaxAgeDays, floor.MaxAge.TotalDays, "days");
        AtLeast(relaxed, "preDeployMaxAgeDays", PreDeployMaxAgeDays, floor.PreDeployMaxAge.TotalDays, "days");
        AtLeast(relaxed, "keepLastPreDeploy", KeepLastPreDeploy, floor.KeepLastPreDeploy, "backups");
        AtLeast(relaxed, "keepWeekly", KeepWeekly, floor.KeepWeekly ?? 0, "weeks");
        AtLeast(relaxed, "keepMonthly", KeepMonthly, floor.KeepMonthly ?? 0, "months");
        AtLeast(relaxed, "minimumAgeHours", MinimumAgeHours, floor.MinimumAge.TotalHours, "hours");
        if (MaxDeleteShare is { } share && share > floor.MaxDeleteShare)
        {
            relaxed.Add(string.Create(CultureInfo.InvariantCulture,
                $"policy.maxDeleteShare is {share}; this deployment accepts at most {floor.MaxDeleteShare} (its policy's largest share per run)."));
        }
        if (DeleteOrphans is true && !floor.DeleteOrphans)
        {
            relaxed.Add("policy.deleteOrphans is true; this deployment accepts only false (its policy reports orphans and never deletes them).");
        }
        return relaxed;
    }

    /// <summary>The defaults with these overrides applied; call only when <see cref="Problems"/> is empty.</summary>
    public RetentionPolicy ApplyTo(RetentionPolicy defaults) => defaults with
    {
        MaxAge = MaxAgeDays is { } maxAge ? TimeSpan.FromDays(maxAge) : defaults.MaxAge,
        PreDeployMaxAge = PreDeployMaxAgeDays is { } preDeploy ? TimeSpan.FromDays(preDeploy) : defaults.PreDeployMaxAge,
        KeepLastPreDeploy = KeepLastPreDeploy ?? defaults.KeepLastPreDeploy,
        KeepWeekly = KeepWeekly ?? defaults.KeepWeekly,
        KeepMonthly = KeepMonthly ?? defaults.KeepMonthly,
        MinimumAge = MinimumAgeHours is { } minimum ? TimeSpan.FromHours(minimum) : defaults.MinimumAge,
        MaxDeleteShare = MaxDeleteShare ?? defaults.MaxDeleteShare,
        DeleteOrphans = DeleteOrphans ?? defaults.DeleteOrphans,
    };

    private static void Range(List<string> problems, string field, double? value, double max, string unit)
    {
        if (value is { } v && !(double.IsFinite(v) && v >= 0 && v <= max))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"policy.{field} is {v}; a number from 0 to {max} {unit} is accepted."));
        }
    }

    private static void AtLeast(List<string> relaxed, string field, double? value, double floor, string unit)
    {
        if (value is { } v && v < floor)
        {
            relaxed.Add(string.Create(CultureInfo.InvariantCulture, $"policy.{field} is {v}; this deployment accepts {floor} {unit} or more (its policy's floor)."));
        }
    }

    private static void Count(List<string> problems, string field, int? value)
    {
        if (value is < 0 or > 10_000)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"policy.{field} is {value}; a whole number from 0 to 10000 is accepted."));
        }
    }
}
