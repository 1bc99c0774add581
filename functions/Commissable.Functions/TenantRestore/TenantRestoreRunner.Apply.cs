using System.Globalization;
using System.Text.Json.Serialization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Tenants;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Logging;
using Commissable.Functions.Verify;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// <c>apply</c>: the approved plan object is read and must be the one the request names (digest,
/// instances, databases, tenant, mode, tenant column); the approval is stored create-only as
/// <c>approval-&lt;digest&gt;.json</c> BEFORE anything is written to production; then
/// <see cref="ITenantRestorer.ApplyAsync"/> re-makes the plan inside its transaction and writes
/// only if the digest still holds. A commit is stored as <c>applied-&lt;digest&gt;.json</c>; a
/// re-made plan with another digest is stored as a plan object of the run, to approve next.
/// </summary>
internal sealed partial class TenantRestoreRunner
{
    public async Task<ApplyAnswer> ApplyAsync(TenantRestoreRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tenants = RequireRestorer();
        var (runId, digest) = (request.RunId!, request.Digest!);
        var planName = _objects.PlanName(runId, digest);
        if (!string.Equals(request.PlanUri, _objects.Uri(planName), StringComparison.Ordinal))
        {
            throw FunctionException.BadRequest(
                $"'planUri' must be the plan object of run '{runId}' with digest {digest}, as the plan action answered it: {_objects.Uri(planName)} (got '{CloudNames.Printable(request.PlanUri!)}').");
        }
        var databases = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);

        StoredPlan? approved;
        try
        {
            approved = await _objects.ReadAsync<StoredPlan>(planName, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException unreadable)
        {
            throw Conflict(request, $"Nothing was written: the plan object cannot be read ({unreadable.Message}).", "PLAN_MISMATCH");
        }
        if (approved is null)
        {
            throw FunctionException.NotFound($"There is no plan object at {request.PlanUri}: make the plan (action \"plan\") in this run first; nothing was written.");
        }
        if (Mismatches(approved, request) is { Count: > 0 } mismatches)
        {
            throw Conflict(request, $"Nothing was written: the plan object {request.PlanUri} was not made for this request: {string.Join("; ", mismatches)}.", "PLAN_MISMATCH");
        }
        if (!approved.Plan.CanApply)
        {
            throw Conflict(request, $"Nothing was written: the plan {digest} has problems and cannot be applied: {PlanProblems(approved.Plan)}.", "PLAN_HAS_PROBLEMS");
        }

        if (await SafetyBackupProblemAsync(request, cancellationToken).ConfigureAwait(false) is { } unsafeBackup)
        {
            throw Conflict(request, $"Nothing was written: the safety backup {CloudNames.Printable(request.SafetyBackup!)} {unsafeBackup}; take it with pre-deploy-export and name the backupUri it answers.", "SAFETY_BACKUP_REFUSED");
        }

        // A caller that gave up before the approval is stored gets nothing started.
        cancellationToken.ThrowIfCancellationRequested();
        var approvalUri = await StoreApprovalAsync(request, approved).ConfigureAwait(false);

        TenantApplyResult result;
        try
        {
            // Not the request's token: once approved and started, the apply runs to its end (its
            // lock waits are bounded) so that what it did is stored, also when the caller gave up.
            result = await tenants.ApplyAsync(databases, request.TenantId!, digest, Options(request), CancellationToken.None).ConfigureAwait(false);
        }
        catch (DatabaseUnreachableException error)
        {
            logger.LogError(Refused, "tenant.restore.refused {Action} {RunId} {SourceInstance} {TenantId} {Digest} {Outcome}: {Reasons}",
                request.Action, runId, request.SourceInstance, CloudNamesPrintable(request.TenantId), digest, "unreachable", SecretRedactor.Redact(error.Message));
            throw Unreachable(databases, error, "the apply's transaction was rolled back and nothing was written");
        }

        var planUri = string.Equals(result.Plan.Digest, digest, StringComparison.Ordinal)
            ? request.PlanUri!
            : await StorePlanAsync(request, approved with { Plan = result.Plan, PlannedAt = clock.GetUtcNow() }).ConfigureAwait(false);
        var appliedUri = result.Outcome == TenantApplyOutcome.Applied ? await StoreAppliedAsync(request, planUri, approvalUri, result).ConfigureAwait(false) : null;
        var answer = new ApplyAnswer(TenantRestoreText.Outcome(result.Outcome), result.Proven,
            PlanAnswer.Of(runId, planUri, result.Plan, request.SourceInstance!, request.ProductionDatabase),
            result.Writes, result.Proof, result.SequencesMoved, result.MaterializedViews, appliedUri, TenantRestoreText.Proof(result));
        LogApplied(request, result, answer);
        return answer;
    }

    /// <summary>
    /// Why the safety backup the request names is not one (null when it is): the apply records it
    /// as the way back, so it must be a backup of the catalog, recorded (its manifest exists), of
    /// the source instance and of the database the apply writes. A URI taken on trust could name
    /// nothing at all.
    /// </summary>
    private async Task<string?> SafetyBackupProblemAsync(TenantRestoreRequest request, CancellationToken cancellationToken)
    {
        if (!GcsUri.TryParse(request.SafetyBackup, out var uri, out var problem))
        {
            return $"is not a gs:// URI ({problem})";
        }
        if (!string.Equals(uri.Bucket, catalog.Bucket, StringComparison.Ordinal)
            || !BackupObjectName.TryParse(uri.ObjectName, catalog.Prefix, out var name) || name is null)
        {
            return $"is not a backup of the catalog (gs://{catalog.Bucket}/{catalog.Prefix}/...)";
        }
        var manifest = await catalog.GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (manifest is null)
        {
            return "has no manifest: it was never recorded as a backup";
        }
        if (!string.Equals(manifest.SourceInstance, request.SourceInstance, StringComparison.Ordinal))
        {
            return $"is a backup of '{CloudNames.Printable(manifest.SourceInstance ?? "")}', not of the source instance '{request.SourceInstance}'";
        }
        if (!manifest.Databases.Contains(request.ProductionDatabase, StringComparer.Ordinal))
        {
            return $"does not hold the database '{request.ProductionDatabase}'";
        }
        return null;
    }

    /// <summary>The recorded fields of the plan object that differ from the request, each named; empty when it is the request's plan.</summary>
    private List<string> Mismatches(StoredPlan plan, TenantRestoreRequest request)
    {
        var fields = new (string Field, string Recorded, string Requested)[]
        {
            ("digest", plan.Plan.Digest, request.Digest!),
            ("runId", plan.RunId, request.RunId!),
            ("sourceInstance", plan.SourceInstance, request.SourceInstance!),
            ("database", plan.Database, request.ProductionDatabase),
            ("stagedInstance", plan.StagedInstance, request.StagedInstance!),
            ("stagedDatabase", plan.StagedDatabase, request.StagedDatabase!),
            ("tenantId", plan.TenantId, request.TenantId!),
            ("mode", TenantRestoreRequest.ModeWord(plan.Mode), TenantRestoreRequest.ModeWord(request.ParsedMode)),
            ("plan mode", TenantRestoreRequest.ModeWord(plan.Plan.Mode), TenantRestoreRequest.ModeWord(request.ParsedMode)),
            ("plan tenantId", plan.Plan.TenantId, request.TenantId!),
            ("tenant column", plan.TenantColumn, settings.TenantColumn),
        };
        return [.. fields.Where(f => !string.Equals(f.Recorded, f.Requested, StringComparison.Ordinal))
            .Select(f => $"its {f.Field} is '{CloudNames.Printable(f.Recorded)}', the request's '{CloudNames.Printable(f.Requested)}'")];
    }

    private static string PlanProblems(TenantPlan plan) =>
        string.Join("; ", plan.Problems.Concat(plan.Tables.Where(t => t.Problem is not null).Select(t => $"{t.Table}: {t.Problem}")).Select(p => CloudNames.Printable(p)));

    /// <summary>
    /// Stores who approved which plan, before anything is written. A retried apply that repeats
    /// the approval is fine; another approval of the same digest is a 409.
    /// </summary>
    private async Task<string> StoreApprovalAsync(TenantRestoreRequest request, StoredPlan plan)
    {
        var given = RecoveryEvidenceRequest.Parse(request.ApprovedAt);
        var now = clock.GetUtcNow();
        var approval = new StoredApproval(request.RunId!, request.Digest!, request.PlanUri!, request.ApprovedBy!, given ?? now, request.SafetyBackup!,
            plan.SourceInstance, plan.Database, plan.TenantId, plan.Mode)
        { RecordedAt = now, ApprovedAtGiven = given is not null };
        var name = _objects.ApprovalName(request.RunId!, request.Digest!);
        StoredApproval? existing;
        try
        {
            existing = await _objects.CreateOrSameAsync(name, approval, StoredApproval.Comparable, CancellationToken.None).ConfigureAwait(false);
        }
        catch (InvalidDataException unreadable)
        {
            throw Conflict(request, $"Nothing was written: an approval object exists and cannot be read ({unreadable.Message}).", "APPROVAL_EXISTS");
        }
        if (existing is not null)
        {
            throw Conflict(request, string.Create(CultureInfo.InvariantCulture,
                $"Nothing was written: {_objects.Uri(name)} already records another approval of this plan (by '{CloudNames.Printable(existing.ApprovedBy)}' at {existing.ApprovedAt:O} with safety backup {existing.SafetyBackup}); make a new plan to approve again."),
                "APPROVAL_EXISTS");
        }
        return _objects.Uri(name);
    }

    /// <summary>Stores what a committed apply wrote and its proof; the same again (an empty plan applied twice) is fine.</summary>
    private async Task<string> StoreAppliedAsync(TenantRestoreRequest request, string planUri, string approvalUri, TenantApplyResult result)
    {
        var applied = new StoredApplied(request.RunId!, request.Digest!, planUri, approvalUri, result.Proven, result.Writes, result.Proof, result.SequencesMoved)
        { AppliedAt = clock.GetUtcNow(), MaterializedViews = result.MaterializedViews };
        var name = _objects.AppliedName(request.RunId!, request.Digest!);
        var existing = await _objects.CreateOrSameAsync(name, applied, StoredApplied.Comparable, CancellationToken.None).ConfigureAwait(false);
        if (existing is not null)
        {
            logger.LogError(Applied, "tenant.restore.applied {RunId} {SourceInstance} {TenantId} {Digest} {Outcome} {Proven}: {Problem}",
                request.RunId, request.SourceInstance, CloudNamesPrintable(request.TenantId), request.Digest, "applied", result.Proven,
                $"{_objects.Uri(name)} already holds another apply of this plan; this one is not stored");
            throw FunctionException.Conflict(
                $"The apply COMMITTED (proven: {(result.Proven ? "yes" : "no")}), but {_objects.Uri(name)} already holds another apply of this plan, so its result was not stored: "
                + TenantRestoreText.Proof(result).ReplaceLineEndings(" | "), code: "APPLIED_OBJECT_EXISTS");
        }
        return _objects.Uri(name);
    }

    private void LogApplied(TenantRestoreRequest request, TenantApplyResult result, ApplyAnswer answer)
    {
        var (inserted, updated, deleted) = (result.Writes.Sum(w => w.Inserted), result.Writes.Sum(w => w.Updated), result.Writes.Sum(w => w.Deleted));
        if (result.Outcome != TenantApplyOutcome.Applied)
        {
            logger.LogWarning(Refused, "tenant.restore.refused {Action} {RunId} {SourceInstance} {TenantId} {Digest} {Outcome} {NewDigest} {PlanUri}: {Reasons}",
                request.Action, request.RunId, request.SourceInstance, CloudNamesPrintable(request.TenantId), request.Digest, answer.Outcome, result.Plan.Digest, answer.Plan.PlanUri,
                result.Outcome == TenantApplyOutcome.PlanChanged ? "production changed for the tenant since the plan; nothing written" : "the re-made plan has problems; nothing written");
            return;
        }
        var unproven = string.Join(", ", result.Proof.Where(p => !p.Equal).Select(p => p.Table));
        const string Template = "tenant.restore.applied {RunId} {SourceInstance} {Database} {TenantId} {Mode} {Digest} {Outcome} {Proven} {Inserted} {Updated} {Deleted} {SequencesMoved} {AppliedUri} {Unproven}";
        object?[] args = [request.RunId, request.SourceInstance, request.ProductionDatabase, CloudNamesPrintable(request.TenantId), answer.Plan.Mode, request.Digest, answer.Outcome,
            result.Proven, inserted, updated, deleted, result.SequencesMoved.Count, answer.AppliedUri, unproven];
        if (result.Proven)
        {
            logger.LogNotice(Applied, Template, args);
        }
        else
        {
            logger.LogError(Applied, Template, args);
        }
    }
}

/// <summary>What the apply answers: how it ended, the plan it re-made (with its plan object), the writes and the proof.</summary>
internal sealed record ApplyAnswer(
    string Outcome,
    bool Proven,
    PlanAnswer Plan,
    IReadOnlyList<TableWrite> Writes,
    IReadOnlyList<TableProof> Proof,
    IReadOnlyList<string> SequencesMoved,
    IReadOnlyList<string> MaterializedViews,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? AppliedUri,
    string Text);
