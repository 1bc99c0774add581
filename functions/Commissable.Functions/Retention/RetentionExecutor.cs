using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;

namespace Commissable.Functions.Retention;

/// <summary>What happened to one step of a deletion.</summary>
internal enum StepStatus
{
    /// <summary>Dry run: would be deleted.</summary>
    Planned,
    Deleted,
    /// <summary>Already gone when its turn came (another run, or a person): nothing to do.</summary>
    Absent,
    Failed,
    /// <summary>Not attempted because an earlier step of the same backup failed.</summary>
    NotRun,
}

internal sealed record StepOutcome(DeletionStep Step, StepStatus Status, string? Error = null);

internal enum DeletionStatus
{
    Planned,
    Deleted,
    /// <summary>A step failed: the rest of that backup was left for the next run (which reports what is left as an orphan).</summary>
    Failed,
    /// <summary>A hold appeared after the scan: nothing of the backup was touched.</summary>
    SkippedOnHold,
}

internal sealed record DeletionOutcome(RetentionDecision Decision, DeletionStatus Status, IReadOnlyList<StepOutcome> Steps, string? Error = null);

/// <summary>
/// Carries out a plan's deletions: each backup's steps in the plan's order (manifest first), every
/// object deleted only at the generation the scan saw, the holds re-read just before a backup is
/// touched. A failed step stops that backup, never the run.
/// </summary>
internal sealed class RetentionExecutor(IBackupStore store, ICloudSqlAdmin cloudSql)
{
    private static readonly TimeSpan BackupRunDeleteWait = TimeSpan.FromMinutes(10);

    public static DeletionOutcome Planned(RetentionDecision decision) =>
        new(decision, DeletionStatus.Planned, [.. decision.Steps.Select(s => new StepOutcome(s, StepStatus.Planned))]);

    public async Task<DeletionOutcome> DeleteAsync(RetentionDecision decision, RetentionCandidates scanned, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(scanned);
        var name = decision.Backup;
        if (name is not null && await HasHoldAsync(name.HoldsPrefix, cancellationToken).ConfigureAwait(false))
        {
            return new(decision, DeletionStatus.SkippedOnHold, [.. decision.Steps.Select(s => new StepOutcome(s, StepStatus.NotRun))],
                "A hold was placed after the scan: the backup was left untouched.");
        }

        var outcomes = new List<StepOutcome>(decision.Steps.Count);
        string? failure = null;
        foreach (var step in decision.Steps)
        {
            if (failure is not null)
            {
                outcomes.Add(new(step, StepStatus.NotRun));
                continue;
            }
            var outcome = await RunAsync(step, name?.Instance, scanned, cancellationToken).ConfigureAwait(false);
            outcomes.Add(outcome);
            if (outcome.Status == StepStatus.Failed) failure = outcome.Error;
        }
        return new(decision, failure is null ? DeletionStatus.Deleted : DeletionStatus.Failed, outcomes, failure);
    }

    private async Task<bool> HasHoldAsync(string holdsPrefix, CancellationToken cancellationToken)
    {
        await foreach (var _ in store.ListAsync(holdsPrefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        return false;
    }

    private async Task<StepOutcome> RunAsync(DeletionStep step, string? instance, RetentionCandidates scanned, CancellationToken cancellationToken)
    {
        try
        {
            if (step.Target == DeletionTarget.BackupRun)
            {
                if (instance is null || step.BackupRunId is not { } runId)
                {
                    return new(step, StepStatus.Failed, "The step names no backup run of a known instance.");
                }
                var operation = await cloudSql.DeleteBackupRunAsync(instance, runId, cancellationToken).ConfigureAwait(false);
                await cloudSql.WaitForOperationAsync(operation, BackupRunDeleteWait, cancellationToken).ConfigureAwait(false);
                return new(step, StepStatus.Deleted);
            }

            var objectName = step.ObjectName!;
            if (!scanned.Generations.TryGetValue(objectName, out var generation))
            {
                // The plan only names scanned objects; an unknown generation would make the delete unconditional.
                return new(step, StepStatus.Failed, $"The object {objectName} was not in the scan, so it is not deleted without a generation precondition.");
            }
            await store.DeleteAsync(objectName, generation, cancellationToken).ConfigureAwait(false);
            return new(step, StepStatus.Deleted);
        }
        catch (StoredObjectNotFoundException)
        {
            return new(step, StepStatus.Absent);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            return new(step, StepStatus.Absent);
        }
        catch (StorePreconditionFailedException)
        {
            return new(step, StepStatus.Failed, $"The object {step.ObjectName} changed since the scan (another generation): it was not deleted.");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or HttpRequestException or TimeoutException
            or CloudSqlApiException or CloudSqlOperationFailedException or Google.GoogleApiException)
        {
            return new(step, StepStatus.Failed, error.Message);
        }
    }
}
