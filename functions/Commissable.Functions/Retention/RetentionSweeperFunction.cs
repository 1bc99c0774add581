using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Freshness;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Completion;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Retention;

/// <summary>
/// <c>retention-sweeper</c>: Cloud Scheduler POSTs daily. Scans the catalog, lists the Cloud SQL
/// backup runs of every instance it covers (the catalog's and the production instances), flags
/// the instances whose backups are overdue, records the successful runs the catalog never heard
/// of, asks the pure <see cref="RetentionPlanner"/> for a plan and, only with <c>"apply": true</c>,
/// records and deletes. A dry run (the default, also for an empty body) writes nothing and answers
/// what would be recorded and deleted.
/// </summary>
internal sealed class RetentionSweeperFunction(
    BackupCatalog catalog,
    IBackupStore store,
    ICloudSqlAdmin cloudSql,
    BackupRunNaming runNaming,
    PreDeployExporter exporter,
    FunctionSettings settings,
    TimeProvider clock,
    ILogger<RetentionSweeperFunction> logger) : IHttpFunction
{
    private static readonly EventId SweepCompleted = new(40, "retention.sweep.completed");
    private static readonly EventId BackupDeleted = new(41, "retention.backup.deleted");
    private static readonly EventId BackupDeleteFailed = new(42, "retention.backup.delete_failed");
    /// <summary>ERROR, one per overdue instance: fields instance, newestSuccessfulEndTime (null when none), ageHours, maxAgeHours, reason (a code), text.</summary>
    private static readonly EventId BackupOverdue = new(44, "backup.overdue");

    public async Task HandleAsync(HttpContext context)
    {
        FunctionException.RequirePost(context.Request, "POST to run the sweeper: an empty body or {\"apply\": false, \"policy\": {...}} is a dry run; {\"apply\": true} deletes.");
        var request = await ReadRequestAsync(context).ConfigureAwait(false);
        var overrides = request.Policy ?? new RetentionPolicyOverrides();
        FunctionException.ThrowIfProblems(overrides.Problems());
        var defaults = new RetentionPolicy { Prefix = catalog.Prefix };
        if (!settings.RetentionAllowRelaxedOverrides && overrides.Relaxations(defaults) is { Count: > 0 } relaxed)
        {
            throw new FunctionException(StatusCodes.Status403Forbidden, "RELAXED_OVERRIDE_REFUSED",
                "Policy overrides may only keep more than this deployment's retention policy; nothing was planned or deleted: " + string.Join(" ", relaxed)
                + " (RETENTION_ALLOW_RELAXED_OVERRIDES=true in the deployment's configuration allows more.)");
        }
        var policy = overrides.ApplyTo(defaults);
        if (policy.Problems() is { Count: > 0 } policyProblems)
        {
            throw FunctionException.BadRequest("The retention policy is not valid: " + string.Join(" ", policyProblems));
        }
        var apply = request.Apply ?? false;
        var cancellationToken = context.RequestAborted;

        var scan = await catalog.ScanAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var swept = await SweptInstances.ListAsync(scan, settings.ProductionInstances, cloudSql, cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        // First, so that nothing later in the sweep (a refusal, an error) can hide an overdue instance.
        var freshness = CheckFreshness(swept, now);
        var (listing, uncatalogued) = await new BackupRunReconciler(catalog, store, runNaming, logger)
            .ReconcileAsync(scan, swept, apply, now, cancellationToken).ConfigureAwait(false);
        // A dump whose pre-deploy export died is an orphan now, not once it is a day old.
        var abandoned = await exporter.AbandonedAsync(
            listing.Entries.Where(e => e.ManifestObject is null && e.DumpObjects.Count > 0).Select(e => e.Name.Name), cancellationToken).ConfigureAwait(false);
        RetentionCandidates scanned;
        try
        {
            scanned = RetentionCandidates.Build(listing, swept, abandoned);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not list the backup runs: {error.ApiMessage}", TimeSpan.FromSeconds(60));
        }
        var plan = RetentionPlanner.Plan(policy, now, scanned.Candidates);

        var executor = new RetentionExecutor(store, cloudSql);
        var outcomes = new List<DeletionOutcome>();
        foreach (var decision in plan.Deletions)
        {
            if (!apply)
            {
                outcomes.Add(RetentionExecutor.Planned(decision));
                continue;
            }
            var outcome = await executor.DeleteAsync(decision, scanned, cancellationToken).ConfigureAwait(false);
            outcomes.Add(outcome);
            if (outcome.Status == DeletionStatus.Deleted)
            {
                logger.LogNotice(BackupDeleted, "retention.backup.deleted {BackupUri} {ReasonCode} {Steps}",
                    $"gs://{store.Bucket}/{decision.Name}", decision.Reason.Code, outcome.Steps.Count);
            }
            else
            {
                logger.LogWarning(BackupDeleteFailed, "retention.backup.delete_failed {BackupUri} {Outcome} {Error}",
                    $"gs://{store.Bucket}/{decision.Name}", outcome.Status.ToString(), outcome.Error);
            }
        }

        var report = RetentionReport.Create(apply, plan, outcomes, uncatalogued, freshness);
        LogCompleted(plan, report);
        await context.WriteJsonAsync(report).ConfigureAwait(false);
    }

    /// <summary>
    /// Each instance's freshness from its backup runs; one ERROR line per overdue instance. Never
    /// throws for an instance: one Cloud SQL does not know, or did not list, is reported as such.
    /// </summary>
    private List<BackupFreshness> CheckFreshness(SweptInstances swept, DateTimeOffset now)
    {
        var maxAge = settings.MaxBackupAge;
        var found = new List<BackupFreshness>();
        foreach (var instance in swept.All)
        {
            var freshness = !instance.Found ? BackupFreshnessCheck.NotFound(instance.Instance, maxAge)
                : instance.Error is { } error ? BackupFreshnessCheck.Unlisted(instance.Instance, maxAge, error.SourceException.Message)
                : BackupFreshnessCheck.Evaluate(instance.Instance, instance.Runs, now, maxAge);
            found.Add(freshness);
            if (freshness.Overdue)
            {
                logger.LogError(BackupOverdue, "backup.overdue {Instance} {NewestSuccessfulEndTime} {AgeHours} {MaxAgeHours} {Reason}: {Text}",
                    freshness.Instance, freshness.NewestSuccessfulEndTime, freshness.Age is { } age ? Math.Round(age.TotalHours, 1) : null,
                    maxAge.TotalHours, freshness.Code, freshness.Text);
            }
        }
        return found;
    }

    private void LogCompleted(RetentionPlan plan, RetentionReport report)
    {
        const string Template = "retention.sweep.completed {DryRun} {CatalogEntries} {Kept} {Deleted} {Failed} {Skipped} {Orphans} {Uncatalogued} {Overdue} {Refused} {Summary}";
        var s = report.Summary;
        object?[] args = [report.DryRun, s.CatalogEntries, s.Kept, s.Deleted, s.Failed, s.Skipped, s.Orphans, s.Uncatalogued, s.Overdue, plan.Refusal is not null, s.Text];
        // A refusal or a backup left half-done needs a human: WARNING; a clean run is NOTICE.
        if (plan.Refusal is not null || s.Failed > 0 || s.Skipped > 0)
        {
#pragma warning disable CA2254 // One constant template, logged at two levels.
            logger.LogWarning(SweepCompleted, Template, args);
#pragma warning restore CA2254
            return;
        }
        logger.LogNotice(SweepCompleted, Template, args);
    }

    /// <summary>The body is optional: an empty one (Cloud Scheduler's default) is a dry run with the default policy.</summary>
    private static async Task<RetentionSweepRequest> ReadRequestAsync(HttpContext context) =>
        await context.ReadOptionalJsonAsync<RetentionSweepRequest>(
            "retention request ({\"apply\": bool, \"policy\": {maxAgeDays, preDeployMaxAgeDays, keepLastPreDeploy, keepWeekly, keepMonthly, minimumAgeHours, maxDeleteShare, deleteOrphans}})")
            .ConfigureAwait(false) ?? new RetentionSweepRequest();
}
