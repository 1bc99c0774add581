using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Retention;

namespace Commissable.Functions.Tests.Retention;

/// <summary>retention-sweeper through the real host, on a bucket of the real local cloud filled with backups of varied ages.</summary>
public sealed class RetentionSweeperTests(SweeperEnvironment env) : IClassFixture<SweeperEnvironment>
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    /// <summary>The backups of <see cref="BuildCatalogAsync"/> and what the strategy's rules decide for them.</summary>
    private sealed record Scenario(
        BackupObjectName Newest, BackupObjectName Verified, BackupObjectName Held, BackupObjectName Orphan,
        IReadOnlyDictionary<string, string> ExpectedDeletions, string Unknown, string Outside);

    /// <summary>
    /// 13 backups of prod/prod: pre-deploy exports 2, 5, 10, 40, 50 days old (the last five),
    /// 60 days (the newest that passed a restore test), 70 days (failed its test), 80 days (held),
    /// 90 days; scheduled exports 10, 45 and 100 days old; a dump without manifest 20 days old.
    /// Plus an object under the prefix that is not a backup (a tenant restore's record), and one outside the prefix.
    /// </summary>
    private static async Task<Scenario> BuildCatalogAsync(SweeperHost host)
    {
        var newest = SweeperHost.PreDeploy("add-index", 2 * Day);
        await host.WritePreDeployAsync(newest);
        foreach (var (change, days) in new[] { ("change-b", 5), ("change-c", 10), ("change-d", 40), ("change-e", 50) })
        {
            await host.WritePreDeployAsync(SweeperHost.PreDeploy(change, days * Day));
        }
        var verified = SweeperHost.PreDeploy("change-f", 60 * Day);
        await host.WritePreDeployAsync(verified);
        await host.VerifyAsync(verified, passed: true, verified.Time.AddHours(6));
        var failedTest = SweeperHost.PreDeploy("change-g", 70 * Day);
        await host.WritePreDeployAsync(failedTest);
        await host.VerifyAsync(failedTest, passed: false, failedTest.Time.AddHours(6), "row-counts");
        var held = SweeperHost.PreDeploy("change-h", 80 * Day);
        await host.WritePreDeployAsync(held);
        await host.HoldAsync(held, held.Time.AddDays(1));
        var oldest = SweeperHost.PreDeploy("change-i", 90 * Day);
        await host.WritePreDeployAsync(oldest);

        await host.WriteBackupAsync(SweeperHost.Scheduled(10 * Day), BackupKinds.ScheduledExport);
        var scheduled45 = SweeperHost.Scheduled(45 * Day);
        await host.WriteBackupAsync(scheduled45, BackupKinds.ScheduledExport);
        var scheduled100 = SweeperHost.Scheduled(100 * Day);
        await host.WriteBackupAsync(scheduled100, BackupKinds.ScheduledExport);

        var orphan = SweeperHost.PreDeploy("crashed-export", 20 * Day);
        await host.WritePreDeployAsync(orphan, withManifest: false);

        var old = host.StoreAt(DateTimeOffset.UtcNow - 200 * Day);
        // A tenant restore's audit record: under the prefix, not a backup, never swept.
        const string unknown = "backups/tenant-restores/tr-1/record.json";
        const string outside = "other/backup_20200101_0000_prod_before_x.sql.gz";
        await SweeperHost.WriteObjectAsync(old, unknown, "not a backup");
        await SweeperHost.WriteObjectAsync(old, outside, "outside the prefix");

        var expected = new Dictionary<string, string>
        {
            [failedTest.Name] = RetentionReasons.PreDeployExpired,
            [oldest.Name] = RetentionReasons.PreDeployExpired,
            [scheduled45.Name] = RetentionReasons.Expired,
            [scheduled100.Name] = RetentionReasons.Expired,
        };
        return new Scenario(newest, verified, held, orphan, expected, unknown, outside);
    }

    [Fact]
    public async Task A_dry_run_lists_what_the_policy_would_delete_with_reasons_and_deletes_nothing()
    {
        await using var host = await env.CreateHostAsync();
        var scenario = await BuildCatalogAsync(host);
        var before = await host.ListBucketAsync();

        var (status, body) = await host.SweepAsync("""{"policy":{"maxDeleteShare":0.5}}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["dryRun"]!);
        Assert.Equal(scenario.ExpectedDeletions.OrderBy(p => p.Key), SweeperHost.Deleted(body).OrderBy(p => p.Key));
        Assert.All(body["deleted"]!.AsArray(), d => Assert.All(d!["steps"]!.AsArray(), s => Assert.Equal("planned", (string?)s!["status"])));
        Assert.Equal(RetentionReasons.NewestVerified, SweeperHost.Kept(body, scenario.Verified.Name));
        Assert.Equal(RetentionReasons.OnHold, SweeperHost.Kept(body, scenario.Held.Name));
        Assert.Equal(RetentionReasons.LastPreDeploy, SweeperHost.Kept(body, scenario.Newest.Name));
        Assert.Equal(RetentionReasons.OrphanKept, SweeperHost.Kept(body, scenario.Orphan.Name));
        Assert.Equal(RetentionReasons.NotABackup, SweeperHost.Kept(body, scenario.Unknown));
        Assert.DoesNotContain(body["kept"]!.AsArray(), k => (string?)k!["name"] == scenario.Outside);
        var orphan = Assert.Single(body["orphans"]!.AsArray());
        Assert.Equal(scenario.Orphan.Name, (string?)orphan!["name"]);
        Assert.Equal("dumpWithoutManifest", (string?)orphan["kind"]);
        Assert.Null(body["refusal"]);
        Assert.Equal(before, await host.ListBucketAsync());

        var completed = Assert.Single(host.Logs.WithEvent("retention.sweep.completed"));
        Assert.Equal(4, completed.GetProperty("deleted").GetInt32());
        Assert.Empty(host.Logs.WithEvent("retention.backup.deleted"));
    }

    [Fact]
    public async Task Applying_deletes_exactly_what_the_dry_run_listed_manifest_first_and_nothing_else()
    {
        await using var host = await env.CreateHostAsync();
        var scenario = await BuildCatalogAsync(host);
        var (_, dryRun) = await host.SweepAsync("""{"apply":false,"policy":{"maxDeleteShare":0.5}}""");
        var before = await host.ListBucketAsync();

        var (status, body) = await host.SweepAsync("""{"apply":true,"policy":{"maxDeleteShare":0.5}}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["dryRun"]!);
        Assert.Equal(SweeperHost.Deleted(dryRun).OrderBy(p => p.Key), SweeperHost.Deleted(body).OrderBy(p => p.Key));
        Assert.Empty(body["failed"]!.AsArray());
        Assert.Empty(body["skipped"]!.AsArray());

        var removed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var deleted in body["deleted"]!.AsArray())
        {
            var steps = deleted!["steps"]!.AsArray();
            Assert.Equal("manifest", (string?)steps[0]!["target"]);
            Assert.Equal("dumpObject", (string?)steps[^1]!["target"]);
            Assert.All(steps, s => Assert.Equal("deleted", (string?)s!["status"]));
            foreach (var step in steps) removed.Add((string)step!["object"]!);
        }
        // The failed test's verification record went with its backup.
        Assert.Contains(removed, n => n.Contains(".verifications/", StringComparison.Ordinal));
        var after = await host.ListBucketAsync();
        Assert.Equal(before.Except(removed).ToList(), after.ToList());
        Assert.Contains(scenario.Verified.ManifestName, after);
        Assert.Contains(scenario.Held.ManifestName, after);
        Assert.Contains(scenario.Held.Name, after);
        Assert.Contains(scenario.Orphan.Name, after);
        Assert.Contains(scenario.Unknown, after);
        Assert.Contains(scenario.Outside, after);

        Assert.Equal(scenario.ExpectedDeletions.Keys.Select(k => "gs://" + host.Bucket + "/" + k).Order(StringComparer.Ordinal),
            host.Logs.WithEvent("retention.backup.deleted").Select(e => e.GetProperty("backupUri").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(2, host.Logs.WithEvent("retention.sweep.completed").Count);
        Assert.Equal(scenario.Orphan.Name, (string?)Assert.Single(body["orphans"]!.AsArray())!["name"]);

        // The next run finds nothing more to delete.
        var (_, again) = await host.SweepAsync("""{"apply":true,"policy":{"maxDeleteShare":0.5}}""");
        Assert.Empty(again["deleted"]!.AsArray());
        Assert.Equal(after, await host.ListBucketAsync());
    }

    [Fact]
    public async Task A_plan_over_the_delete_share_is_refused_deletes_nothing_and_warns()
    {
        await using var host = await env.CreateHostAsync();
        var scenario = await BuildCatalogAsync(host);
        var before = await host.ListBucketAsync();

        // The defaults allow a quarter of 13 backups (3); the policy would delete 4.
        var (status, body) = await host.SweepAsync("""{"apply":true}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var refusal = body["refusal"]!;
        Assert.Equal(RetentionReasons.RefusedMaxDeleteShare, (string?)refusal["code"]);
        Assert.Equal(13, (int)refusal["catalogSize"]!);
        Assert.Equal(3, (int)refusal["maxDeletions"]!);
        Assert.Equal(scenario.ExpectedDeletions.Keys.Order(StringComparer.Ordinal), refusal["wouldDelete"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal));
        Assert.Empty(body["deleted"]!.AsArray());
        Assert.Equal(before, await host.ListBucketAsync());
        var completed = Assert.Single(host.Logs.WithEvent("retention.sweep.completed"));
        Assert.Equal("WARNING", completed.GetProperty("severity").GetString());
    }

    [Fact]
    public async Task Orphans_are_deleted_only_when_asked_and_the_rest_stays()
    {
        await using var host = await env.CreateHostAsync();
        var scenario = await BuildCatalogAsync(host);

        var (status, body) = await host.SweepAsync("""{"apply":true,"policy":{"maxDeleteShare":1,"deleteOrphans":true}}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(RetentionReasons.OrphanDeleted, SweeperHost.Deleted(body)[scenario.Orphan.Name]);
        var after = await host.ListBucketAsync();
        Assert.DoesNotContain(scenario.Orphan.Name, after);
        Assert.Contains(scenario.Held.Name, after);
        Assert.Contains(scenario.Verified.Name, after);
    }

    [Fact]
    public async Task An_empty_body_is_a_dry_run_with_the_strategy_defaults()
    {
        await using var host = await env.CreateHostAsync();
        await host.WritePreDeployAsync(SweeperHost.PreDeploy("only-one", 100 * Day));

        var (status, body) = await host.SweepAsync(null);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["dryRun"]!);
        Assert.Equal(RetentionReasons.LastPreDeploy, (string?)Assert.Single(body["kept"]!.AsArray())!["reason"]!["code"]);
    }

    [Fact]
    public async Task A_hold_placed_after_the_scan_saves_its_backup_and_the_others_are_still_deleted()
    {
        InterferingStore? store = null;
        await using var host = await env.CreateHostAsync(inner => store = new InterferingStore(inner));
        var scenario = await BuildCatalogAsync(host);
        var victim = SweeperHost.PreDeploy("change-i", 90 * Day);
        store!.BeforeList = async prefix =>
        {
            if (prefix == victim.HoldsPrefix) await host.HoldAsync(victim, DateTimeOffset.UtcNow);
        };

        var (status, body) = await host.SweepAsync("""{"apply":true,"policy":{"maxDeleteShare":0.5}}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var skipped = Assert.Single(body["skipped"]!.AsArray());
        Assert.Equal(victim.Name, (string?)skipped!["name"]);
        Assert.All(skipped["steps"]!.AsArray(), s => Assert.Equal("notRun", (string?)s!["status"]));
        Assert.Equal(scenario.ExpectedDeletions.Keys.Where(k => k != victim.Name).Order(StringComparer.Ordinal), SweeperHost.Deleted(body).Keys.Order(StringComparer.Ordinal));
        var after = await host.ListBucketAsync();
        Assert.Contains(victim.ManifestName, after);
        Assert.Contains(victim.Name, after);
        Assert.Equal("WARNING", Assert.Single(host.Logs.WithEvent("retention.sweep.completed")).GetProperty("severity").GetString());
    }

    [Fact]
    public async Task An_object_replaced_after_the_scan_is_not_deleted_the_step_fails_and_the_run_goes_on()
    {
        InterferingStore? store = null;
        await using var host = await env.CreateHostAsync(inner => store = new InterferingStore(inner));
        var scenario = await BuildCatalogAsync(host);
        var victim = SweeperHost.Scheduled(45 * Day);
        store!.BeforeDelete = async name =>
        {
            // Someone rewrites the dump while the sweeper is removing its manifest.
            if (name == victim.ManifestName)
            {
                using var content = new MemoryStream("rewritten"u8.ToArray());
                await store.WriteAsync(victim.Name, content, "application/octet-stream", ifGenerationMatch: null);
            }
        };

        var (status, body) = await host.SweepAsync("""{"apply":true,"policy":{"maxDeleteShare":0.5}}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var failed = Assert.Single(body["failed"]!.AsArray());
        Assert.Equal(victim.Name, (string?)failed!["name"]);
        var steps = failed["steps"]!.AsArray();
        Assert.Equal(["deleted", "failed"], steps.Select(s => (string)s!["status"]!));
        Assert.Contains("changed since the scan", (string)failed["error"]!, StringComparison.Ordinal);
        Assert.Equal(3, body["deleted"]!.AsArray().Count);
        var after = await host.ListBucketAsync();
        Assert.Contains(victim.Name, after);
        Assert.DoesNotContain(victim.ManifestName, after);
        Assert.Single(host.Logs.WithEvent("retention.backup.delete_failed"));
    }

    [Fact]
    public async Task A_backup_run_manifest_whose_run_is_gone_is_reported_as_an_orphan()
    {
        await using var host = await env.CreateHostAsync();
        var run = new BackupObjectName { Prefix = SweeperHost.Prefix, Environment = "prod", Instance = "gone", Time = SweeperHost.Ago(40 * Day), Label = "on-demand", Extension = "" };
        var store = host.StoreAt(run.Time);
        await new Commissable.Backup.Core.Catalog.BackupCatalog(store, SweeperHost.Prefix, TimeProvider.System).RecordAsync(run, new BackupManifest
        {
            Uri = "gs://unused/none",
            Kind = BackupKinds.OnDemandBackupRun,
            Environment = "prod",
            SourceInstance = "gone",
            StartTime = run.Time,
            EndTime = run.Time.AddMinutes(5),
            BackupRunId = 1234,
        });

        var (status, body) = await host.SweepAsync(null);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var orphan = Assert.Single(body["orphans"]!.AsArray());
        Assert.Equal(run.Name, (string?)orphan!["name"]);
        Assert.Equal("manifestWithoutDump", (string?)orphan["kind"]);
    }

    [Theory]
    [InlineData("""{"policy":{"maxDeleteShare":2}}""", "policy.maxDeleteShare")]
    [InlineData("""{"policy":{"maxAgeDays":-1}}""", "policy.maxAgeDays")]
    [InlineData("""{"policy":{"keepLastPreDeploy":-3}}""", "policy.keepLastPreDeploy")]
    [InlineData("""{"policy":{"minimumAgeHours":"soon"}}""", "minimumAgeHours")]
    [InlineData("""{"policy":{"maxAgeDayz":3}}""", "maxAgeDayz")]
    [InlineData("""{"apply":"yes"}""", "apply")]
    [InlineData("""[1]""", "retention request")]
    [InlineData("""null""", "The request body is null")]
    [InlineData("""{"apply":false,"apply":true}""", "Duplicate property 'apply'")]
    [InlineData("""{"policy":{"maxDeleteShare":0.1,"maxDeleteShare":1}}""", "Duplicate property 'maxDeleteShare'")]
    public async Task Bad_policy_overrides_are_a_400_naming_the_field(string json, string field)
    {
        await using var host = await env.CreateHostAsync();
        var (status, body) = await host.SweepAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, (string)body["error"]!["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overrides_that_switch_the_safety_rails_off_are_refused_with_403_naming_each_field_and_its_floor_and_nothing_is_deleted()
    {
        await using var host = await env.CreateHostAsync(allowRelaxedOverrides: false);
        var fresh = SweeperHost.Scheduled(TimeSpan.FromMinutes(10));
        await host.WriteBackupAsync(fresh, BackupKinds.ScheduledExport);

        var (status, body) = await host.SweepAsync("""{"apply":true,"policy":{"maxAgeDays":0,"minimumAgeHours":0,"maxDeleteShare":1}}""");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("RELAXED_OVERRIDE_REFUSED", (string?)body["error"]!["status"]);
        var message = (string)body["error"]!["message"]!;
        Assert.Contains("policy.maxAgeDays is 0; this deployment accepts 30 days or more", message, StringComparison.Ordinal);
        Assert.Contains("policy.minimumAgeHours is 0; this deployment accepts 24 hours or more", message, StringComparison.Ordinal);
        Assert.Contains("policy.maxDeleteShare is 1; this deployment accepts at most 0.25", message, StringComparison.Ordinal);
        Assert.Contains("RETENTION_ALLOW_RELAXED_OVERRIDES", message, StringComparison.Ordinal);
        var after = await host.ListBucketAsync();
        Assert.Contains(fresh.Name, after);
        Assert.Contains(fresh.ManifestName, after);
    }

    [Theory]
    [InlineData("""{"policy":{"preDeployMaxAgeDays":1}}""", "policy.preDeployMaxAgeDays is 1; this deployment accepts 30 days or more")]
    [InlineData("""{"policy":{"keepLastPreDeploy":0}}""", "policy.keepLastPreDeploy is 0; this deployment accepts 5 backups or more")]
    [InlineData("""{"policy":{"minimumAgeHours":23.5}}""", "policy.minimumAgeHours is 23.5; this deployment accepts 24 hours or more")]
    [InlineData("""{"policy":{"maxDeleteShare":0.26}}""", "policy.maxDeleteShare is 0.26; this deployment accepts at most 0.25")]
    [InlineData("""{"policy":{"deleteOrphans":true}}""", "policy.deleteOrphans is true; this deployment accepts only false")]
    public async Task Each_override_that_would_delete_more_is_refused_naming_it(string json, string expected)
    {
        await using var host = await env.CreateHostAsync(allowRelaxedOverrides: false);

        var (status, body) = await host.SweepAsync(json);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains(expected, (string)body["error"]!["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overrides_that_keep_more_are_accepted_without_the_deployments_allowance()
    {
        await using var host = await env.CreateHostAsync(allowRelaxedOverrides: false);
        await host.WritePreDeployAsync(SweeperHost.PreDeploy("only-one", 100 * Day));

        var (status, body) = await host.SweepAsync(
            """{"policy":{"maxAgeDays":60,"preDeployMaxAgeDays":90,"keepLastPreDeploy":10,"keepWeekly":4,"keepMonthly":12,"minimumAgeHours":48,"maxDeleteShare":0.1,"deleteOrphans":false}}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["dryRun"]!);
    }
}
