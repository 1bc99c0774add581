using Commissable.Backup.Core.Retention;
using static Commissable.Backup.Core.Tests.Retention.RetentionCatalogs;

namespace Commissable.Backup.Core.Tests.Retention;

/// <summary>Each rule on a hand-made catalog, with the reasons an operator reads.</summary>
public sealed class RetentionPlannerTests
{
    // A Wednesday: ISO week 2026-W12 runs from Monday 16 to Sunday 22 March.
    private static readonly DateTimeOffset Now = new(2026, 3, 18, 12, 0, 0, TimeSpan.Zero);

    // The share rail is lifted where an example is about another rule.
    private static readonly RetentionPolicy Policy = new() { Prefix = Prefix, MaxDeleteShare = 1 };

    private static RetentionCandidate Export(BackupKind kind, DateTimeOffset created, string label, string instance = "crm-prod", string extension = ".sql.gz",
        bool manifest = true, bool dump = true, bool hold = false, bool? verified = null, int records = 0)
    {
        var name = NameFor("prod", instance, kind, created, label, extension);
        return new RetentionCandidate
        {
            Name = name,
            Kind = kind,
            Created = created,
            HasManifest = manifest,
            DumpObjects = dump ? DumpObjectsFor(name, extension) : [],
            OnHold = hold,
            LastVerification = verified is { } passed ? new VerificationOutcome(passed, created.AddHours(2)) : null,
            VerificationObjects = VerificationObjectsFor(name, created.AddHours(2), verified is null ? records : Math.Max(1, records)),
        };
    }

    private static RetentionCandidate Scheduled(double ageDays, string label, string instance = "crm-prod", bool? verified = null, bool hold = false) =>
        Export(BackupKind.ScheduledExport, Now.AddDays(-ageDays), label, instance, verified: verified, hold: hold);

    private static RetentionCandidate PreDeploy(double ageDays, string change, string instance = "crm-prod") =>
        Export(BackupKind.PreDeployExport, Now.AddDays(-ageDays), change, instance);

    private static RetentionCandidate Run(BackupKind kind, double ageDays, string label, long id) =>
        new()
        {
            Name = NameFor("prod", "crm-prod", kind, Now.AddDays(-ageDays), label, ""),
            Kind = kind,
            Created = Now.AddDays(-ageDays),
            HasManifest = true,
            BackupRunId = id,
        };

    private static RetentionDecision Decision(RetentionPlan plan, RetentionCandidate entry) => plan.Decisions.Single(d => d.Name == entry.Name);

    private static void AssertKept(RetentionPlan plan, RetentionCandidate entry, string code)
    {
        var decision = Decision(plan, entry);
        Assert.Equal((RetentionAction.Keep, code), (decision.Action, decision.Reason.Code));
        Assert.Empty(decision.Steps);
    }

    private static void AssertDeleted(RetentionPlan plan, RetentionCandidate entry, string code)
    {
        var decision = Decision(plan, entry);
        Assert.Equal((RetentionAction.Delete, code), (decision.Action, decision.Reason.Code));
        Assert.NotEmpty(decision.Steps);
    }

    [Fact]
    public void Objects_outside_the_prefix_or_not_named_as_backups_are_reported_as_not_a_backup_and_ignored()
    {
        var outside = new RetentionCandidate { Name = "other/prod/crm-prod/backup_20250101_0000_prod_scheduled.sql.gz", Kind = BackupKind.ScheduledExport, Created = Now.AddDays(-400), HasManifest = true, DumpObjects = ["other/prod/crm-prod/backup_20250101_0000_prod_scheduled.sql.gz"] };
        var notes = new RetentionCandidate { Name = "backups/prod/crm-prod/notes.txt", Kind = BackupKind.ScheduledExport, Created = Now.AddDays(-400), HasManifest = true, DumpObjects = ["backups/prod/crm-prod/notes.txt"] };

        var plan = RetentionPlanner.Plan(Policy, Now, [outside, notes]);

        AssertKept(plan, outside, RetentionReasons.NotABackup);
        AssertKept(plan, notes, RetentionReasons.NotABackup);
        Assert.StartsWith("Not a backup, ignored: outside the prefix 'backups/'", Decision(plan, notes).Reason.Text, StringComparison.Ordinal);
        Assert.Empty(plan.Orphans);
    }

    [Fact]
    public void An_automated_backup_run_is_left_to_Cloud_SQL_whatever_its_age()
    {
        var automated = Run(BackupKind.AutomatedBackupRun, 365, "automated", 42);
        var plan = RetentionPlanner.Plan(Policy, Now, [automated]);
        AssertKept(plan, automated, RetentionReasons.ManagedByCloudSql);
    }

    [Fact]
    public void A_backup_on_hold_is_kept_whatever_its_age()
    {
        var held = Scheduled(200, "scheduled", hold: true);
        var plan = RetentionPlanner.Plan(Policy, Now, [held]);
        AssertKept(plan, held, RetentionReasons.OnHold);
        Assert.Equal("On hold: never deleted until every hold is released.", Decision(plan, held).Reason.Text);
    }

    [Fact]
    public void Nothing_younger_than_the_minimum_age_is_deleted_even_past_its_max_age()
    {
        var young = Scheduled(0.5, "scheduled");
        var plan = RetentionPlanner.Plan(Policy with { MaxAge = TimeSpan.FromHours(1) }, Now, [young]);
        AssertKept(plan, young, RetentionReasons.TooYoung);
        Assert.Equal("12 hours old, younger than MinimumAge 24 hours: nothing that young is deleted.", Decision(plan, young).Reason.Text);
    }

    [Fact]
    public void The_newest_backup_whose_last_restore_test_passed_is_kept_past_its_max_age_per_instance()
    {
        var failedTest = Scheduled(40, "scheduled-a", verified: false);
        var newestVerified = Scheduled(50, "scheduled-b", verified: true);
        var olderVerified = Scheduled(60, "scheduled-c", verified: true);
        var otherInstance = Scheduled(45, "scheduled-d", instance: "crm-eu", verified: true);

        var plan = RetentionPlanner.Plan(Policy, Now, [failedTest, newestVerified, olderVerified, otherInstance]);

        AssertKept(plan, newestVerified, RetentionReasons.NewestVerified);
        AssertKept(plan, otherInstance, RetentionReasons.NewestVerified);
        AssertDeleted(plan, failedTest, RetentionReasons.Expired);
        AssertDeleted(plan, olderVerified, RetentionReasons.Expired);
        Assert.Equal("The newest backup of prod/crm-prod whose last restore test passed (2026-01-27 14:00 UTC).", Decision(plan, newestVerified).Reason.Text);
    }

    [Fact]
    public void The_last_five_pre_deploy_exports_of_each_instance_are_kept_and_older_ones_past_the_max_age_deleted()
    {
        var lastFive = Enumerable.Range(31, 5).Select(days => PreDeploy(days, $"change-{days}")).ToList();
        var sixth = PreDeploy(36, "change-36");
        var expired = PreDeploy(40, "change-40");
        var otherInstance = PreDeploy(90, "change-old", instance: "crm-eu");

        var plan = RetentionPlanner.Plan(Policy, Now, [.. lastFive, sixth, expired, otherInstance]);

        Assert.All(lastFive, e => AssertKept(plan, e, RetentionReasons.LastPreDeploy));
        Assert.Equal("One of the last 5 pre-deploy exports of prod/crm-prod (number 1, newest first).", Decision(plan, lastFive[0]).Reason.Text);
        Assert.Equal("One of the last 5 pre-deploy exports of prod/crm-prod (number 5, newest first).", Decision(plan, lastFive[4]).Reason.Text);
        AssertDeleted(plan, sixth, RetentionReasons.PreDeployExpired);
        AssertDeleted(plan, expired, RetentionReasons.PreDeployExpired);
        Assert.Equal("A pre-deploy export 40 days old, older than PreDeployMaxAge 30 days, and not one of the last 5 of prod/crm-prod.", Decision(plan, expired).Reason.Text);
        // Each instance keeps its own last five.
        AssertKept(plan, otherInstance, RetentionReasons.LastPreDeploy);
    }

    [Fact]
    public void A_pre_deploy_export_within_its_max_age_is_kept_when_it_is_not_one_of_the_last()
    {
        var recent = Enumerable.Range(0, 5).Select(i => PreDeploy(2 + i, $"recent-{i}")).ToList();
        var within = PreDeploy(20, "change-twenty");
        var plan = RetentionPlanner.Plan(Policy, Now, [.. recent, within]);
        AssertKept(plan, within, RetentionReasons.WithinMaxAge);
        Assert.Equal("A pre-deploy export 20 days old, within PreDeployMaxAge 30 days.", Decision(plan, within).Reason.Text);
    }

    [Fact]
    public void Scheduled_exports_and_on_demand_runs_are_deleted_past_the_max_age_and_kept_within_it()
    {
        var kept = Scheduled(29, "scheduled-a");
        var expired = Scheduled(31, "scheduled-b");
        var expiredRun = Run(BackupKind.OnDemandBackupRun, 45, "on-demand", 1700000000001);

        var plan = RetentionPlanner.Plan(Policy, Now, [kept, expired, expiredRun]);

        AssertKept(plan, kept, RetentionReasons.WithinMaxAge);
        Assert.Equal("A scheduled export 29 days old, within MaxAge 30 days.", Decision(plan, kept).Reason.Text);
        AssertDeleted(plan, expired, RetentionReasons.Expired);
        Assert.Equal("A scheduled export 31 days old, older than MaxAge 30 days, with no weekly or monthly keep.", Decision(plan, expired).Reason.Text);
        AssertDeleted(plan, expiredRun, RetentionReasons.Expired);
        Assert.StartsWith("An on-demand backup run 45 days old", Decision(plan, expiredRun).Reason.Text, StringComparison.Ordinal);
    }

    private static List<RetentionCandidate> Daily(DateTimeOffset first, DateTimeOffset last) =>
        Enumerable.Range(0, (int)(last - first).TotalDays + 1)
            .Select(day => Export(BackupKind.ScheduledExport, first.AddDays(day), $"scheduled-{day}"))
            .ToList();

    [Fact]
    public void The_weekly_keep_keeps_the_newest_backup_of_each_of_the_last_ISO_weeks()
    {
        var daily = Daily(new(2026, 2, 20, 2, 0, 0, TimeSpan.Zero), new(2026, 3, 18, 2, 0, 0, TimeSpan.Zero));
        var policy = Policy with { MaxAge = TimeSpan.FromDays(1), MinimumAge = TimeSpan.FromHours(1), KeepWeekly = 3 };

        var plan = RetentionPlanner.Plan(policy, Now, daily);

        var kept = plan.Decisions.Where(d => d.Action == RetentionAction.Keep).ToDictionary(d => d.Entry.Created.UtcDateTime.ToString("MM-dd", System.Globalization.CultureInfo.InvariantCulture), d => d.Reason.Code);
        // This week's newest is young enough anyway; then Sunday 15 (W11) and Sunday 8 March (W10).
        Assert.Equal(new Dictionary<string, string>
        {
            ["03-18"] = RetentionReasons.WithinMaxAge,
            ["03-15"] = RetentionReasons.Weekly,
            ["03-08"] = RetentionReasons.Weekly,
        }, kept);
        Assert.Equal("The newest backup of prod/crm-prod in ISO week 2026-W11 (KeepWeekly 3).",
            plan.Decisions.Single(d => d.Entry.Created.Day == 15).Reason.Text);
        Assert.Equal(daily.Count - 3, plan.Deletions.Count());
    }

    [Fact]
    public void The_monthly_keep_keeps_the_newest_backup_of_each_of_the_last_months()
    {
        var daily = Daily(new(2025, 12, 1, 2, 0, 0, TimeSpan.Zero), new(2026, 3, 18, 2, 0, 0, TimeSpan.Zero));
        var policy = Policy with { MaxAge = TimeSpan.FromDays(1), MinimumAge = TimeSpan.FromHours(1), KeepMonthly = 3 };

        var plan = RetentionPlanner.Plan(policy, Now, daily);

        var kept = plan.Decisions.Where(d => d.Action == RetentionAction.Keep).ToDictionary(d => d.Entry.Created.UtcDateTime.ToString("MM-dd", System.Globalization.CultureInfo.InvariantCulture), d => d.Reason.Code);
        Assert.Equal(new Dictionary<string, string>
        {
            ["03-18"] = RetentionReasons.WithinMaxAge,
            ["02-28"] = RetentionReasons.Monthly,
            ["01-31"] = RetentionReasons.Monthly,
        }, kept);
        Assert.Equal("The newest backup of prod/crm-prod in 2026-02 (KeepMonthly 3).", plan.Decisions.Single(d => d.Entry.Created.Month == 2 && d.Action == RetentionAction.Keep).Reason.Text);
    }

    [Fact]
    public void A_backup_stamped_in_the_future_does_not_take_the_weekly_keep_of_an_older_one()
    {
        var lastWeek = Export(BackupKind.ScheduledExport, new(2026, 3, 10, 2, 0, 0, TimeSpan.Zero), "scheduled-a");
        var skewed = Export(BackupKind.ScheduledExport, new(2026, 3, 19, 2, 0, 0, TimeSpan.Zero), "scheduled-b");
        var thisWeek = Export(BackupKind.ScheduledExport, new(2026, 3, 16, 2, 0, 0, TimeSpan.Zero), "scheduled-c");
        var policy = Policy with { MaxAge = TimeSpan.FromDays(1), MinimumAge = TimeSpan.FromHours(1), KeepWeekly = 2 };

        var plan = RetentionPlanner.Plan(policy, Now, [lastWeek, skewed, thisWeek]);

        AssertKept(plan, skewed, RetentionReasons.TooYoung);
        AssertKept(plan, thisWeek, RetentionReasons.Weekly);
        AssertKept(plan, lastWeek, RetentionReasons.Weekly);
    }

    [Fact]
    public void A_dump_without_manifest_older_than_the_minimum_age_is_an_orphan_reported_and_kept_by_default()
    {
        var orphan = Export(BackupKind.Unknown, Now.AddDays(-3), "scheduled", manifest: false);
        var inProgress = Export(BackupKind.Unknown, Now.AddHours(-2), "scheduled-now", manifest: false);
        var manifestOnly = Export(BackupKind.ScheduledExport, Now.AddDays(-5), "scheduled-gone", dump: false, verified: true, records: 2);

        var plan = RetentionPlanner.Plan(Policy, Now, [orphan, inProgress, manifestOnly]);

        AssertKept(plan, orphan, RetentionReasons.OrphanKept);
        Assert.Equal("An orphan 3 days old (a dump without manifest), kept because DeleteOrphans is off; see the orphan findings.", Decision(plan, orphan).Reason.Text);
        AssertKept(plan, inProgress, RetentionReasons.TooYoung);
        Assert.EndsWith("(without a manifest it may still be being written).", Decision(plan, inProgress).Reason.Text, StringComparison.Ordinal);
        AssertKept(plan, manifestOnly, RetentionReasons.OrphanKept);

        Assert.Equal(
            [(orphan.Name, OrphanKind.DumpWithoutManifest, TimeSpan.FromDays(3)), (manifestOnly.Name, OrphanKind.ManifestWithoutDump, TimeSpan.FromDays(5))],
            plan.Orphans.Select(o => (o.Name, o.Kind, o.Age)).OrderBy(o => o.Age));
        Assert.Equal("A dump without manifest, 3 days old: an export that crashed before its manifest, or a deletion that crashed after removing it.",
            plan.Orphans.Single(o => o.Name == orphan.Name).Text);
        Assert.Equal("A manifest without its dump, 5 days old: the catalog lists a backup whose data is gone; it is not restorable.",
            plan.Orphans.Single(o => o.Name == manifestOnly.Name).Text);
    }

    [Fact]
    public void With_DeleteOrphans_an_orphan_is_deleted_with_what_is_left_of_it()
    {
        var orphan = Export(BackupKind.Unknown, Now.AddDays(-3), "scheduled", manifest: false, records: 1);
        var manifestOnly = Export(BackupKind.ScheduledExport, Now.AddDays(-5), "scheduled-gone", dump: false, records: 1);

        var plan = RetentionPlanner.Plan(Policy with { DeleteOrphans = true }, Now, [orphan, manifestOnly]);

        AssertDeleted(plan, orphan, RetentionReasons.OrphanDeleted);
        Assert.Equal([DeletionTarget.VerificationRecord, DeletionTarget.DumpObject], Decision(plan, orphan).Steps.Select(s => s.Target));
        AssertDeleted(plan, manifestOnly, RetentionReasons.OrphanDeleted);
        Assert.Equal([DeletionTarget.Manifest, DeletionTarget.VerificationRecord], Decision(plan, manifestOnly).Steps.Select(s => s.Target));
        Assert.Equal(2, plan.Orphans.Count);
    }

    [Fact]
    public void A_plan_that_would_delete_more_than_the_allowed_share_deletes_nothing_and_says_why()
    {
        var expired = Enumerable.Range(0, 3).Select(i => Scheduled(40 + i, $"old-{i}")).ToList();
        var fresh = Enumerable.Range(0, 5).Select(i => Scheduled(2 + i, $"new-{i}")).ToList();
        // Objects that are not backups do not dilute the share.
        var junk = Enumerable.Range(0, 20).Select(i => new RetentionCandidate { Name = $"backups/prod/crm-prod/junk-{i}.txt", Created = Now.AddDays(-100) }).ToList();

        var plan = RetentionPlanner.Plan(Policy with { MaxDeleteShare = 0.25 }, Now, [.. expired, .. fresh, .. junk]);

        Assert.Empty(plan.Deletions);
        Assert.All(expired, e => AssertKept(plan, e, RetentionReasons.DeleteShareExceeded));
        var refusal = Assert.IsType<RetentionRefusal>(plan.Refusal);
        Assert.Equal(RetentionReasons.RefusedMaxDeleteShare, refusal.Code);
        Assert.Equal((8, 2), (refusal.CatalogSize, refusal.MaxDeletions));
        Assert.Equal(expired.Select(e => e.Name).Order(StringComparer.Ordinal), refusal.WouldDelete);
        Assert.StartsWith("the plan would delete 3 of 8 backups (38%), more than MaxDeleteShare 25% allows (2).", refusal.Text, StringComparison.Ordinal);
        Assert.StartsWith("Would be deleted (A scheduled export 40 days old, older than MaxAge 30 days, with no weekly or monthly keep.), but this run deletes nothing: the plan would delete 3 of 8",
            Decision(plan, expired[0]).Reason.Text, StringComparison.Ordinal);
        Assert.Contains("Refused:", plan.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plan_that_deletes_exactly_the_allowed_share_goes_ahead()
    {
        var expired = Enumerable.Range(0, 2).Select(i => Scheduled(40 + i, $"old-{i}")).ToList();
        var fresh = Enumerable.Range(0, 6).Select(i => Scheduled(2 + i, $"new-{i}")).ToList();

        var plan = RetentionPlanner.Plan(Policy with { MaxDeleteShare = 0.25 }, Now, [.. expired, .. fresh]);

        Assert.Null(plan.Refusal);
        Assert.Equal(expired.Select(e => e.Name).Order(StringComparer.Ordinal), plan.Deletions.Select(d => d.Name));
        Assert.Equal("8 catalog entries: 2 to delete, 6 kept; 0 orphan(s).", plan.Summary);
    }

    [Fact]
    public void A_deletion_removes_the_manifest_first_then_the_verification_records_then_every_object_of_the_dump()
    {
        var directory = Export(BackupKind.ScheduledExport, Now.AddDays(-40), "scheduled", extension: "", records: 2);
        var run = Run(BackupKind.OnDemandBackupRun, 40, "on-demand", 1700000000002) with
        {
            VerificationObjects = VerificationObjectsFor(NameFor("prod", "crm-prod", BackupKind.OnDemandBackupRun, Now.AddDays(-40), "on-demand", ""), Now.AddDays(-39), 1),
        };

        var plan = RetentionPlanner.Plan(Policy, Now, [directory, run]);

        Assert.Equal(
            [
                DeletionStep.ForObject(DeletionTarget.Manifest, directory.Name + ".manifest.json"),
                DeletionStep.ForObject(DeletionTarget.VerificationRecord, directory.VerificationObjects[1]),
                DeletionStep.ForObject(DeletionTarget.VerificationRecord, directory.VerificationObjects[0]),
                DeletionStep.ForObject(DeletionTarget.DumpObject, directory.Name + "/3001.dat.gz"),
                DeletionStep.ForObject(DeletionTarget.DumpObject, directory.Name + "/3002.dat.gz"),
                DeletionStep.ForObject(DeletionTarget.DumpObject, directory.Name + "/toc.dat"),
            ],
            Decision(plan, directory).Steps);
        Assert.Equal(
            [
                DeletionStep.ForObject(DeletionTarget.Manifest, run.Name + ".manifest.json"),
                DeletionStep.ForObject(DeletionTarget.VerificationRecord, run.VerificationObjects[0]),
                DeletionStep.ForBackupRun(1700000000002),
            ],
            Decision(plan, run).Steps);
    }

    [Fact]
    public void An_entry_that_lists_an_object_not_its_own_is_kept_rather_than_trusted()
    {
        var expired = Scheduled(40, "scheduled") with { DumpObjects = ["backups/prod/crm-other/backup_20260101_0000_prod_scheduled.sql.gz"] };
        var plan = RetentionPlanner.Plan(Policy, Now, [expired]);
        AssertKept(plan, expired, RetentionReasons.ForeignObjects);
        Assert.Contains("'backups/prod/crm-other/backup_20260101_0000_prod_scheduled.sql.gz', which is not one of its own", Decision(plan, expired).Reason.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_complete_backup_of_a_kind_the_sweeper_does_not_know_is_kept()
    {
        var unknown = Export(BackupKind.Unknown, Now.AddDays(-90), "scheduled");
        var plan = RetentionPlanner.Plan(Policy, Now, [unknown]);
        AssertKept(plan, unknown, RetentionReasons.UnknownKind);
    }

    [Fact]
    public void An_empty_catalog_gives_an_empty_plan()
    {
        var plan = RetentionPlanner.Plan(new RetentionPolicy { Prefix = Prefix }, Now, []);
        Assert.Empty(plan.Decisions);
        Assert.Empty(plan.Orphans);
        Assert.Null(plan.Refusal);
    }

    [Fact]
    public void The_defaults_are_the_strategys()
    {
        var policy = new RetentionPolicy { Prefix = Prefix };
        Assert.Equal((TimeSpan.FromDays(30), TimeSpan.FromDays(30), 5, TimeSpan.FromHours(24), 0.25, false, (int?)null, (int?)null),
            (policy.MaxAge, policy.PreDeployMaxAge, policy.KeepLastPreDeploy, policy.MinimumAge, policy.MaxDeleteShare, policy.DeleteOrphans, policy.KeepWeekly, policy.KeepMonthly));
        Assert.Empty(policy.Problems());
    }

    [Fact]
    public void An_invalid_policy_is_refused_with_the_setting_named()
    {
        var policy = new RetentionPolicy { Prefix = "", MaxDeleteShare = 1.5, KeepLastPreDeploy = -1, MinimumAge = TimeSpan.FromHours(-1) };
        var error = Assert.Throws<ArgumentException>(() => RetentionPlanner.Plan(policy, Now, []));
        Assert.Contains("Prefix is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDeleteShare is 1.5; a share from 0 to 1 is accepted", error.Message, StringComparison.Ordinal);
        Assert.Contains("KeepLastPreDeploy is -1", error.Message, StringComparison.Ordinal);
        Assert.Contains("MinimumAge is -01:00:00", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, policy.Problems().Count);
    }

    [Fact]
    public void A_catalog_that_lists_a_name_twice_is_refused()
    {
        var entry = Scheduled(40, "scheduled");
        var error = Assert.Throws<ArgumentException>(() => RetentionPlanner.Plan(Policy, Now, [entry, entry with { OnHold = true }]));
        Assert.Contains("twice", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pre-deploy-export", BackupKind.PreDeployExport)]
    [InlineData("operator-dump", BackupKind.PreDeployExport)]
    [InlineData("scheduled-export", BackupKind.ScheduledExport)]
    [InlineData("on-demand-backup-run", BackupKind.OnDemandBackupRun)]
    [InlineData("automated-backup-run", BackupKind.AutomatedBackupRun)]
    [InlineData("something-new", BackupKind.Unknown)]
    [InlineData(null, BackupKind.Unknown)]
    public void A_manifest_kind_reads_as_a_backup_kind(string? manifestKind, BackupKind kind)
    {
        Assert.Equal(kind, BackupKinds.Parse(manifestKind));
    }
}
