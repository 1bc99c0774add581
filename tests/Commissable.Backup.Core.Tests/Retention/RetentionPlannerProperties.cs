using System.Globalization;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Retention;
using FsCheck.Xunit;

namespace Commissable.Backup.Core.Tests.Retention;

/// <summary>
/// The invariants of the retention policy over generated catalogs. Each property recomputes what
/// it checks from the input (the oracle below), never from the planner's own bookkeeping.
/// </summary>
[Properties(Arbitrary = [typeof(RetentionArbitraries)], MaxTest = 100)]
public sealed class RetentionPlannerProperties
{
    [Property]
    public void The_newest_verified_backup_of_every_instance_is_never_deleted(Scenario scenario)
    {
        var plan = scenario.Plan();
        var deleted = DeletedNames(plan);
        var verified = scenario.Entries.Where(e => IsBackup(scenario, e) && IsComplete(e) && e.LastVerification?.Passed == true).ToList();
        // Among every kind (an automated run is never deleted anyway), and among the kinds the sweeper deletes.
        foreach (var candidates in new[] { verified, verified.Where(e => e.Kind is BackupKind.PreDeployExport or BackupKind.ScheduledExport or BackupKind.OnDemandBackupRun).ToList() })
        {
            foreach (var instance in candidates.GroupBy(e => InstanceOf(scenario, e)))
            {
                var newest = instance.OrderByDescending(e => e.Created).ThenByDescending(e => e.Name, StringComparer.Ordinal).First();
                Assert.DoesNotContain(newest.Name, deleted);
            }
        }
    }

    [Property]
    public void Nothing_on_hold_is_ever_deleted(Scenario scenario)
    {
        var deleted = DeletedNames(scenario.Plan());
        Assert.All(scenario.Entries.Where(e => e.OnHold), e => Assert.DoesNotContain(e.Name, deleted));
    }

    [Property]
    public void Nothing_younger_than_the_minimum_age_is_ever_deleted(Scenario scenario)
    {
        var deleted = DeletedNames(scenario.Plan());
        Assert.All(scenario.Entries.Where(e => scenario.Now - e.Created < scenario.Policy.MinimumAge), e => Assert.DoesNotContain(e.Name, deleted));
    }

    [Property]
    public void Objects_outside_the_prefix_or_not_named_as_backups_are_ignored_never_deleted(Scenario scenario)
    {
        var plan = scenario.Plan();
        foreach (var decision in plan.Decisions.Where(d => !IsBackup(scenario, d.Entry)))
        {
            Assert.Equal(RetentionAction.Keep, decision.Action);
            Assert.Equal(RetentionReasons.NotABackup, decision.Reason.Code);
            Assert.Contains("not a backup, ignored", decision.Reason.Text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Property]
    public void Every_deletion_step_names_an_object_of_its_own_backup_under_the_prefix_and_never_a_hold(Scenario scenario)
    {
        var root = scenario.Policy.Prefix.TrimEnd('/') + "/";
        foreach (var decision in scenario.Plan().Deletions)
        {
            Assert.NotEmpty(decision.Steps);
            foreach (var step in decision.Steps)
            {
                if (step.Target == DeletionTarget.BackupRun)
                {
                    Assert.Equal(decision.Entry.BackupRunId, step.BackupRunId);
                    continue;
                }
                Assert.StartsWith(root, step.ObjectName, StringComparison.Ordinal);
                Assert.True(step.ObjectName == decision.Name || step.ObjectName!.StartsWith(decision.Name + "/", StringComparison.Ordinal)
                    || step.ObjectName.StartsWith(decision.Name + ".", StringComparison.Ordinal), step.ObjectName);
                Assert.DoesNotContain(BackupObjectName.HoldsSuffix, step.ObjectName, StringComparison.Ordinal);
            }
        }
    }

    [Property]
    public void A_run_never_deletes_more_than_the_allowed_share_and_a_refused_run_deletes_nothing(Scenario scenario)
    {
        var plan = scenario.Plan();
        var backups = scenario.Entries.Count(e => IsBackup(scenario, e));
        var deletions = plan.Deletions.Count();
        Assert.True(deletions <= scenario.Policy.MaxDeleteShare * backups + 1e-9, $"{deletions} of {backups} deleted with share {scenario.Policy.MaxDeleteShare}");
        if (plan.Refusal is { } refusal)
        {
            Assert.Equal(0, deletions);
            Assert.True(refusal.WouldDelete.Count > refusal.MaxDeletions);
            Assert.True(refusal.WouldDelete.Count > scenario.Policy.MaxDeleteShare * backups);
            Assert.All(refusal.WouldDelete, name => Assert.Equal(RetentionReasons.DeleteShareExceeded, plan.Decisions.Single(d => d.Name == name).Reason.Code));
        }
    }

    [Property]
    public void Every_orphan_old_enough_is_reported_once_with_its_age_and_deleted_only_when_asked(Scenario scenario)
    {
        var plan = scenario.Plan();
        var expected = scenario.Entries
            .Where(e => IsBackup(scenario, e) && !IsComplete(e))
            .Where(e => e.HasManifest || !HasData(e) || scenario.Now - e.Created >= scenario.Policy.MinimumAge)
            .Select(e => e.Name)
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, plan.Orphans.Select(o => o.Name));
        foreach (var orphan in plan.Orphans)
        {
            var entry = scenario.Entries.Single(e => e.Name == orphan.Name);
            Assert.Equal(scenario.Now - entry.Created, orphan.Age);
            Assert.Equal((entry.HasManifest, HasData(entry)) switch
            {
                (true, false) => OrphanKind.ManifestWithoutDump,
                (false, true) => OrphanKind.DumpWithoutManifest,
                _ => OrphanKind.RecordsWithoutBackup,
            }, orphan.Kind);
        }
        var deletedIncomplete = plan.Deletions.Where(d => !IsComplete(d.Entry)).ToList();
        if (!scenario.Policy.DeleteOrphans) Assert.Empty(deletedIncomplete);
        Assert.All(deletedIncomplete, d => Assert.Equal(RetentionReasons.OrphanDeleted, d.Reason.Code));
    }

    [Property]
    public void The_same_input_in_any_order_gives_the_same_plan_in_name_order(Scenario scenario)
    {
        var plan = scenario.Plan();
        var reversed = RetentionPlanner.Plan(scenario.Policy, scenario.Now, scenario.Entries.Reverse());
        var shuffled = RetentionPlanner.Plan(scenario.Policy, scenario.Now, scenario.Entries.OrderBy(e => e.Name.GetHashCode(StringComparison.Ordinal)));
        Assert.Equal(Render(plan), Render(reversed));
        Assert.Equal(Render(plan), Render(shuffled));
        Assert.Equal(plan.Decisions.Select(d => d.Name).Order(StringComparer.Ordinal), plan.Decisions.Select(d => d.Name));
    }

    [Property]
    public void Every_entry_appears_exactly_once_in_the_plan(Scenario scenario)
    {
        var plan = scenario.Plan();
        Assert.Equal(scenario.Entries.Select(e => e.Name).Order(StringComparer.Ordinal), plan.Decisions.Select(d => d.Name));
        Assert.All(plan.Decisions, d => Assert.Same(scenario.Entries.Single(e => e.Name == d.Name), d.Entry));
    }

    [Property]
    public void Everything_deleted_is_older_than_the_max_age_of_its_kind(Scenario scenario)
    {
        var policy = scenario.Policy;
        foreach (var decision in scenario.Plan().Deletions)
        {
            var entry = decision.Entry;
            var age = scenario.Now - entry.Created;
            Assert.NotEqual(BackupKind.AutomatedBackupRun, entry.Kind);
            if (!IsComplete(entry))
            {
                Assert.True(policy.DeleteOrphans && age >= policy.MinimumAge);
                continue;
            }
            Assert.NotEqual(BackupKind.Unknown, entry.Kind);
            Assert.True(age > (entry.Kind == BackupKind.PreDeployExport ? policy.PreDeployMaxAge : policy.MaxAge), $"{entry.Name} is {age} old");
        }
    }

    [Property]
    public void The_last_pre_deploy_exports_of_every_instance_are_kept(Scenario scenario)
    {
        var deleted = DeletedNames(scenario.Plan());
        var preDeploys = scenario.Entries.Where(e => IsBackup(scenario, e) && IsComplete(e) && e.Kind == BackupKind.PreDeployExport);
        foreach (var instance in preDeploys.GroupBy(e => InstanceOf(scenario, e)))
        {
            var last = instance.OrderByDescending(e => e.Created).ThenByDescending(e => e.Name, StringComparer.Ordinal).Take(scenario.Policy.KeepLastPreDeploy);
            Assert.All(last, e => Assert.DoesNotContain(e.Name, deleted));
        }
    }

    [Property]
    public void A_deletion_removes_the_manifest_first_then_the_verification_records_then_the_data_and_a_keep_removes_nothing(Scenario scenario)
    {
        foreach (var decision in scenario.Plan().Decisions)
        {
            if (decision.Action == RetentionAction.Keep)
            {
                Assert.Empty(decision.Steps);
                Assert.StartsWith("keep.", decision.Reason.Code, StringComparison.Ordinal);
                continue;
            }
            Assert.StartsWith("delete.", decision.Reason.Code, StringComparison.Ordinal);
            var entry = decision.Entry;
            var expected = new List<DeletionStep>();
            if (entry.HasManifest) expected.Add(new(DeletionTarget.Manifest, entry.Name + ".manifest.json", null));
            expected.AddRange(entry.VerificationObjects.Order(StringComparer.Ordinal).Select(v => new DeletionStep(DeletionTarget.VerificationRecord, v, null)));
            expected.AddRange(entry.DumpObjects.Order(StringComparer.Ordinal).Select(d => new DeletionStep(DeletionTarget.DumpObject, d, null)));
            if (entry.Kind is BackupKind.OnDemandBackupRun && entry.BackupRunId is { } id) expected.Add(new(DeletionTarget.BackupRun, null, id));
            Assert.Equal(expected, decision.Steps);
        }
    }

    // The oracle: what the rules mean, recomputed from the input.

    private static bool IsBackup(Scenario scenario, RetentionCandidate entry) => BackupObjectName.TryParse(entry.Name, scenario.Policy.Prefix, out _);

    private static string InstanceOf(Scenario scenario, RetentionCandidate entry)
    {
        BackupObjectName.TryParse(entry.Name, scenario.Policy.Prefix, out var name);
        return name!.Environment + "/" + name.Instance;
    }

    private static bool HasData(RetentionCandidate entry) =>
        entry.Kind is BackupKind.OnDemandBackupRun or BackupKind.AutomatedBackupRun ? entry.BackupRunId is not null : entry.DumpObjects.Count > 0;

    private static bool IsComplete(RetentionCandidate entry) => entry.HasManifest && HasData(entry);

    private static HashSet<string> DeletedNames(RetentionPlan plan) => plan.Deletions.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);

    private static string Render(RetentionPlan plan)
    {
        var text = new StringBuilder();
        foreach (var d in plan.Decisions)
        {
            text.Append(CultureInfo.InvariantCulture, $"{d.Name} {d.Action} {d.Reason.Code} {d.Reason.Text} [{string.Join(", ", d.Steps)}]\n");
        }
        foreach (var o in plan.Orphans) text.Append(CultureInfo.InvariantCulture, $"{o}\n");
        text.Append(CultureInfo.InvariantCulture, $"{plan.Refusal?.Text} {string.Join(",", plan.Refusal?.WouldDelete ?? [])}\n{plan.Summary}");
        return text.ToString();
    }
}
