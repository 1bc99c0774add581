using System.Globalization;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Retention;
using FsCheck;
using FsCheck.Fluent;

namespace Commissable.Backup.Core.Tests.Retention;

/// <summary>One planner input: a policy, a time and a catalog.</summary>
public sealed record Scenario(RetentionPolicy Policy, DateTimeOffset Now, IReadOnlyList<RetentionCandidate> Entries)
{
    public RetentionPlan Plan() => RetentionPlanner.Plan(Policy, Now, Entries);

    // FsCheck prints the failing input: make it readable.
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"now {Now:O}; {Policy}\n");
        foreach (var e in Entries)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"  {e.Name} {e.Kind} created {e.Created:O} manifest={e.HasManifest} dump=[{string.Join(",", e.DumpObjects)}] run={e.BackupRunId} hold={e.OnHold} verified={e.LastVerification} records={e.VerificationObjects.Count}\n");
        }
        return text.ToString();
    }
}

/// <summary>Catalogs for the properties and the examples: several instances and kinds, ages from minutes to a year, holds, verifications, missing manifests and dumps, and objects that are not backups.</summary>
public static class RetentionCatalogs
{
    public const string Prefix = "backups";

    public static readonly DateTimeOffset BaseNow = new(2026, 6, 15, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The backup name of the strategy's shape for a kind, started at <paramref name="created"/>.</summary>
    public static string NameFor(string environment, string instance, BackupKind kind, DateTimeOffset created, string label, string extension) =>
        new BackupObjectName
        {
            Prefix = Prefix,
            Environment = environment,
            Instance = instance,
            Time = new DateTimeOffset(created.UtcDateTime.Year, created.UtcDateTime.Month, created.UtcDateTime.Day, created.UtcDateTime.Hour, created.UtcDateTime.Minute, 0, TimeSpan.Zero),
            Label = kind == BackupKind.PreDeployExport ? "before_" + label : label,
            Extension = extension,
        }.Name;

    public static IReadOnlyList<string> DumpObjectsFor(string name, string extension) =>
        extension.Length == 0 ? [name + "/3001.dat.gz", name + "/3002.dat.gz", name + "/toc.dat"] : [name];

    public static IReadOnlyList<string> VerificationObjectsFor(string name, DateTimeOffset at, int count) =>
        Enumerable.Range(0, count)
            .Select(i => string.Create(CultureInfo.InvariantCulture, $"{name}{BackupObjectName.VerificationsSuffix}{at.AddDays(-i).UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-v{i}.json"))
            .ToList();

    private static Gen<RetentionPolicy> Policies =>
        from maxAge in Gen.Elements(1, 7, 30, 90)
        from preDeployMaxAge in Gen.Elements(1, 7, 30, 90)
        from keepLast in Gen.Choose(0, 6)
        from weekly in Gen.Elements<int?>(null, 0, 2, 4, 8)
        from monthly in Gen.Elements<int?>(null, 0, 3, 12)
        from minimumHours in Gen.Elements(0, 1, 24, 72)
        from share in Gen.Frequency((1, Gen.Constant(0.0)), (1, Gen.Constant(0.1)), (2, Gen.Constant(0.25)), (1, Gen.Constant(0.5)), (4, Gen.Constant(1.0)))
        from deleteOrphans in Gen.Elements(false, true)
        from prefix in Gen.Elements(Prefix, Prefix + "/")
        select new RetentionPolicy
        {
            Prefix = prefix,
            MaxAge = TimeSpan.FromDays(maxAge),
            PreDeployMaxAge = TimeSpan.FromDays(preDeployMaxAge),
            KeepLastPreDeploy = keepLast,
            KeepWeekly = weekly,
            KeepMonthly = monthly,
            MinimumAge = TimeSpan.FromHours(minimumHours),
            MaxDeleteShare = share,
            DeleteOrphans = deleteOrphans,
        };

    /// <summary>Ages in minutes: some in the last hours, some days, some up to a year, a few in the future (clock skew).</summary>
    private static Gen<int> AgesInMinutes =>
        Gen.Frequency(
            (2, Gen.Choose(0, 180)),
            (2, Gen.Choose(0, 60 * 72)),
            (4, Gen.Choose(0, 60 * 24 * 60)),
            (4, Gen.Choose(0, 60 * 24 * 366)),
            (1, Gen.Choose(-120, 0)));

    private static Gen<RetentionCandidate> Backup(int index, DateTimeOffset now) =>
        from environment in Gen.Elements("prod", "staging")
        from instance in Gen.Elements("crm-a", "crm-b", "crm-c")
        from kind in Gen.Frequency(
            (4, Gen.Constant(BackupKind.PreDeployExport)),
            (3, Gen.Constant(BackupKind.ScheduledExport)),
            (2, Gen.Constant(BackupKind.OnDemandBackupRun)),
            (1, Gen.Constant(BackupKind.AutomatedBackupRun)))
        from ageMinutes in AgesInMinutes
        from seconds in Gen.Choose(0, 59)
        from extension in kind is BackupKind.OnDemandBackupRun or BackupKind.AutomatedBackupRun ? Gen.Constant("") : Gen.Elements(".sql.gz", ".sql", ".dump", "")
        from hasManifest in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        from hasData in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        from kindKnown in Gen.Elements(true, false)
        from onHold in Gen.Frequency((1, Gen.Constant(true)), (8, Gen.Constant(false)))
        from verification in Gen.Elements<bool?>(null, null, true, true, false)
        from records in Gen.Choose(0, 3)
        select Candidate(index, now, environment, instance, kind, ageMinutes, seconds, extension, hasManifest, hasData, kindKnown, onHold, verification, records);

    private static RetentionCandidate Candidate(int index, DateTimeOffset now, string environment, string instance, BackupKind kind, int ageMinutes, int seconds,
        string extension, bool hasManifest, bool hasData, bool kindKnown, bool onHold, bool? verification, int records)
    {
        var created = now.AddMinutes(-ageMinutes).AddSeconds(-seconds);
        var label = kind switch
        {
            BackupKind.PreDeployExport => $"change-{index}",
            BackupKind.ScheduledExport => $"scheduled-{index}",
            BackupKind.OnDemandBackupRun => $"on-demand-{index}",
            _ => $"automated-{index}",
        };
        var name = NameFor(environment, instance, kind, created, label, extension);
        var isRun = kind is BackupKind.OnDemandBackupRun or BackupKind.AutomatedBackupRun;
        var verifiedAt = created.AddHours(3);
        return new RetentionCandidate
        {
            Name = name,
            // Without a manifest the sweeper can only guess the kind: sometimes it cannot.
            Kind = hasManifest || kindKnown ? kind : BackupKind.Unknown,
            Created = created,
            HasManifest = hasManifest,
            DumpObjects = hasData && !isRun ? DumpObjectsFor(name, extension) : [],
            BackupRunId = hasData && isRun ? 7_000_000 + index : null,
            OnHold = onHold,
            LastVerification = verification is { } passed ? new VerificationOutcome(passed, verifiedAt) : null,
            VerificationObjects = VerificationObjectsFor(name, verifiedAt, verification is null ? 0 : Math.Max(1, records)),
        };
    }

    /// <summary>Objects that are not backups, made to look like old complete backups so only the name can save them.</summary>
    private static Gen<RetentionCandidate> NotABackup(int index, DateTimeOffset now) =>
        from template in Gen.Elements(
            "other/prod/crm-a/backup_20250101_0000_prod_scheduled-{0}.sql.gz",
            "backupsx/prod/crm-a/backup_20250101_0000_prod_scheduled-{0}.sql.gz",
            "backups/prod/crm-a/notes-{0}.txt",
            "backups/prod/crm-a/backup_20251332_0330_prod_before_x-{0}.sql.gz",
            "backups/prod/crm-a/backup_20250101_0000_staging_before_x-{0}.sql.gz",
            "backups/prod/crm-a/backup_20250101_0000_prod_before_Bad-{0}.sql.gz",
            "backups/prod/crm-a/backup_20250101_0000_prod_before_x-{0}.tar",
            "backups/crm-a/backup_20250101_0000_prod_scheduled-{0}.sql.gz",
            "{0}.sql.gz")
        from kind in Gen.Elements(BackupKind.PreDeployExport, BackupKind.ScheduledExport, BackupKind.OnDemandBackupRun, BackupKind.Unknown)
        from ageDays in Gen.Choose(0, 400)
        from hasManifest in Gen.Elements(true, false)
        select NotABackupCandidate(string.Format(CultureInfo.InvariantCulture, template, index), kind, now.AddDays(-ageDays), hasManifest);

    private static RetentionCandidate NotABackupCandidate(string name, BackupKind kind, DateTimeOffset created, bool hasManifest) => new()
    {
        Name = name,
        Kind = kind,
        Created = created,
        HasManifest = hasManifest,
        DumpObjects = [name],
        BackupRunId = kind == BackupKind.OnDemandBackupRun ? 1 : null,
    };

    private static Gen<RetentionCandidate> Entry(int index, DateTimeOffset now) =>
        Gen.Frequency((5, Backup(index, now)), (1, NotABackup(index, now)));

    public static Gen<Scenario> Scenarios =>
        from policy in Policies
        from offsetMinutes in Gen.Choose(0, 60 * 24 * 730)
        from count in Gen.Choose(0, 40)
        let now = BaseNow.AddMinutes(offsetMinutes)
        from entries in Gen.CollectToArray(Enumerable.Range(0, count), i => Entry(i, now))
        select new Scenario(policy, now, entries);
}

/// <summary>Registers the scenario generator with FsCheck.</summary>
public static class RetentionArbitraries
{
    public static Arbitrary<Scenario> Scenario() => Arb.From(RetentionCatalogs.Scenarios);
}
