using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;

namespace Commissable.Functions.Verify;

/// <summary>
/// The safety rail of restore verification: a scratch database is created, filled and dropped on
/// the verification instance, so that instance must never be one holding production data. Each
/// rule has a stable name; any failed rule refuses the verification (412) before anything is created.
/// </summary>
/// <remarks>
/// Live verification only reads, so it applies <see cref="SourceFailures"/> alone (a restored
/// disaster-recovery instance carries production's labels). grant-app-user writes privileges, so
/// it applies the production rules (<see cref="ProductionNameFailures"/>, <see cref="LabelFailures"/>).
/// </remarks>
internal static class VerificationTargetGuard
{
    /// <summary>The verification instance is not the backup's source instance.</summary>
    public const string NotSource = "target.not-source";

    /// <summary>The verification instance is not listed in <c>PRODUCTION_INSTANCES</c>.</summary>
    public const string NotListedProduction = "target.not-production-instance";

    /// <summary>The verification instance's <c>settings.userLabels</c> do not mark it production.</summary>
    public const string NotLabelledProduction = "target.not-production-labelled";

    /// <summary>Labels (key, values) that mark an instance as production, compared case-insensitively.</summary>
    private static readonly (string Key, string[] Values)[] ProductionLabels =
    [
        ("env", ["prod", "production"]),
        ("environment", ["prod", "production"]),
        ("production", ["true"]),
    ];

    /// <summary>The rules decided by the name alone (checked before the instance is even read); empty when none fails.</summary>
    public static IReadOnlyList<CheckResult> NameFailures(string targetName, BackupManifest manifest, IReadOnlySet<string> productionInstances)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return [.. SourceFailures(targetName, manifest.SourceInstance), .. ProductionNameFailures(targetName, productionInstances)];
    }

    /// <summary>The target is the source instance (restoring into, or checking, the source itself proves nothing).</summary>
    public static IReadOnlyList<CheckResult> SourceFailures(string targetName, string sourceName) =>
        string.Equals(targetName, sourceName, StringComparison.Ordinal)
            ? [new(NotSource, false, $"the verification instance '{targetName}' is the backup's source instance; restore into a separate scratch instance")]
            : [];

    /// <summary>The target is listed in <c>PRODUCTION_INSTANCES</c>.</summary>
    public static IReadOnlyList<CheckResult> ProductionNameFailures(string targetName, IReadOnlySet<string> productionInstances)
    {
        ArgumentNullException.ThrowIfNull(productionInstances);
        return productionInstances.Contains(targetName)
            ? [new(NotListedProduction, false, $"the instance '{targetName}' is listed in PRODUCTION_INSTANCES; nothing is ever written to production")]
            : [];
    }

    /// <summary>The rule decided by the instance's labels; empty when it does not mark production.</summary>
    public static IReadOnlyList<CheckResult> LabelFailures(DatabaseInstance target, string targetName)
    {
        ArgumentNullException.ThrowIfNull(target);
        var failures = new List<CheckResult>();
        var labels = target.Settings?.UserLabels ?? new Dictionary<string, string>();
        var marked = labels
            .Where(l => ProductionLabels.Any(p => string.Equals(p.Key, l.Key, StringComparison.OrdinalIgnoreCase)
                && p.Values.Contains(l.Value.Trim(), StringComparer.OrdinalIgnoreCase)))
            .Select(l => $"{l.Key}={l.Value}")
            .ToList();
        if (marked.Count > 0)
        {
            failures.Add(new(NotLabelledProduction, false,
                $"the instance '{targetName}' is labelled as production ({string.Join(", ", marked)} in settings.userLabels); nothing is ever written to production"));
        }
        return failures;
    }
}
