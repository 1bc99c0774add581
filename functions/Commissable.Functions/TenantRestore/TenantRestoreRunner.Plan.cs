using System.Text.Json.Serialization;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Tenants;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// <c>plan</c>: the tenant's staged rows compared with production and the writes tried in a
/// transaction that is rolled back (<see cref="ITenantRestorer.PlanAsync"/>); the plan stored
/// create-only as <c>plan-&lt;digest&gt;.json</c> with what it was made for.
/// </summary>
internal sealed partial class TenantRestoreRunner
{
    public async Task<PlanAnswer> PlanAsync(TenantRestoreRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tenants = RequireRestorer();
        var databases = await ResolveAsync(request, cancellationToken).ConfigureAwait(false);
        TenantPlan plan;
        try
        {
            plan = await tenants.PlanAsync(databases, request.TenantId!, Options(request), cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseUnreachableException error) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(databases, error, "no plan was made");
        }
        var stored = new StoredPlan(request.RunId!, request.SourceInstance!, request.ProductionDatabase, request.StagedInstance!, request.StagedDatabase!,
            request.TenantId!, request.ParsedMode, settings.TenantColumn, request.RestorePoint!, request.RequestedBy!, plan)
        { PlannedAt = clock.GetUtcNow() };
        var planUri = await StorePlanAsync(request, stored).ConfigureAwait(false);
        var answer = PlanAnswer.Of(request.RunId!, planUri, plan, request.SourceInstance!, request.ProductionDatabase);
        logger.LogNotice(Planned, "tenant.restore.planned {RunId} {SourceInstance} {Database} {StagedInstance} {StagedDatabase} {TenantId} {Mode} {Digest} {CanApply} {Tables} {Missing} {Changed} {Extra} {Writes} {PlanUri}",
            request.RunId, request.SourceInstance, request.ProductionDatabase, request.StagedInstance, request.StagedDatabase, CloudNamesPrintable(request.TenantId),
            answer.Mode, plan.Digest, plan.CanApply, plan.Tables.Count, answer.Totals.Missing, answer.Totals.Changed, answer.Totals.Extra, answer.Totals.Writes, planUri);
        return answer;
    }

    /// <summary>
    /// Stores the plan object create-only; an existing one that says the same is fine (a retried
    /// call), one that differs is a 409: a name holds one plan, forever.
    /// </summary>
    private async Task<string> StorePlanAsync(TenantRestoreRequest request, StoredPlan stored)
    {
        var name = _objects.PlanName(stored.RunId, stored.Plan.Digest);
        // Not the request's token: a plan that was made is stored even when the caller gave up.
        var existing = await _objects.CreateOrSameAsync(name, stored, StoredPlan.Comparable, CancellationToken.None).ConfigureAwait(false);
        if (existing is not null)
        {
            throw Conflict(request,
                $"{_objects.Uri(name)} already holds a plan with this digest made for something else ({Differences(existing, stored)}): "
                + "a run's plan objects are immutable; use a new runId for a different restore.", "PLAN_OBJECT_EXISTS");
        }
        return _objects.Uri(name);
    }

    /// <summary>The recorded fields of <paramref name="stored"/> that differ from <paramref name="expected"/>, by name.</summary>
    private static string Differences(StoredPlan stored, StoredPlan expected)
    {
        var fields = new (string Field, string? Stored, string? Expected)[]
        {
            ("sourceInstance", stored.SourceInstance, expected.SourceInstance),
            ("database", stored.Database, expected.Database),
            ("stagedInstance", stored.StagedInstance, expected.StagedInstance),
            ("stagedDatabase", stored.StagedDatabase, expected.StagedDatabase),
            ("tenantId", stored.TenantId, expected.TenantId),
            ("mode", TenantRestoreRequest.ModeWord(stored.Mode), TenantRestoreRequest.ModeWord(expected.Mode)),
            ("tenantColumn", stored.TenantColumn, expected.TenantColumn),
            ("restorePoint", stored.RestorePoint, expected.RestorePoint),
            ("requestedBy", stored.RequestedBy, expected.RequestedBy),
            ("digest", stored.Plan.Digest, expected.Plan.Digest),
        };
        var differing = fields.Where(f => !string.Equals(f.Stored, f.Expected, StringComparison.Ordinal))
            .Select(f => $"{f.Field} is '{Backup.Core.Naming.CloudNames.Printable(f.Stored ?? "")}' there, '{Backup.Core.Naming.CloudNames.Printable(f.Expected ?? "")}' here")
            .ToList();
        return differing.Count > 0 ? string.Join("; ", differing) : "the tables differ";
    }
}

/// <summary>The plan as the function answers it (and as the apply answer carries it).</summary>
internal sealed record PlanAnswer(
    string RunId,
    string PlanUri,
    string Digest,
    bool CanApply,
    string Mode,
    string TenantId,
    IReadOnlyList<TablePlanAnswer> Tables,
    IReadOnlyList<string> Problems,
    PlanTotals Totals,
    string Text)
{
    public static PlanAnswer Of(string runId, string planUri, TenantPlan plan, string sourceInstance, string database) => new(
        runId, planUri, plan.Digest, plan.CanApply, TenantRestoreRequest.ModeWord(plan.Mode), plan.TenantId,
        [.. plan.Tables.Select(t => new TablePlanAnswer(t.Table, t.Missing, t.Changed, t.Extra, t.Writes, t.ExampleKeys, t.Problem))],
        plan.Problems, PlanTotals.Of(plan), TenantRestoreText.Plan(plan, sourceInstance, database));
}

/// <summary>One table of <see cref="PlanAnswer"/>: counts and example keys; <c>problem</c> is null when the trial of its writes succeeded.</summary>
internal sealed record TablePlanAnswer(
    string Table,
    long Missing,
    long Changed,
    long Extra,
    long Writes,
    IReadOnlyList<string> ExampleKeys,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Problem);
