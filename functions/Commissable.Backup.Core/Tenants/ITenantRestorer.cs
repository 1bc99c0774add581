using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Tenants;

/// <summary>
/// Per-tenant restore against real databases: plans (nothing written), applies an approved plan in
/// one transaction on production, and proves the result. The staged side is a scratch restore that
/// is never production; the login it uses must see every row (row-level security off for it).
/// </summary>
public interface ITenantRestorer
{
    /// <summary>
    /// Compares the tenant's rows of <paramref name="staged"/> with <paramref name="production"/>
    /// table by table and tries the mode's writes in a transaction that is always rolled back.
    /// </summary>
    /// <exception cref="Databases.DatabaseUnreachableException">Either database could not be reached or read; the message names no password.</exception>
    Task<TenantPlan> PlanAsync(TenantDatabases databases, string tenantId, TenantPlanOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction on production: re-makes the plan; when its digest is not
    /// <paramref name="approvedDigest"/> (production changed for that tenant since) or it has a
    /// problem, rolls back and says so; otherwise writes, moves sequences past restored values and
    /// commits. After a commit, proves the tenant's rows table by table.
    /// </summary>
    /// <exception cref="Databases.DatabaseUnreachableException">Either database could not be reached, or the connection was lost (the transaction is then rolled back by the server).</exception>
    Task<TenantApplyResult> ApplyAsync(TenantDatabases databases, string tenantId, string approvedDigest, TenantPlanOptions options, CancellationToken cancellationToken);
}

/// <summary>Where a per-tenant restore reads and writes.</summary>
/// <param name="Staged">The instance holding the scratch restore (never a production instance).</param>
/// <param name="StagedDatabase">The scratch restore's database.</param>
/// <param name="Production">The production instance the tenant's rows are written to.</param>
/// <param name="ProductionDatabase">The production database.</param>
public sealed record TenantDatabases(DatabaseInstance Staged, string StagedDatabase, DatabaseInstance Production, string ProductionDatabase);

/// <summary>How an apply ended.</summary>
public enum TenantApplyOutcome
{
    /// <summary>Written and committed; <see cref="TenantApplyResult.Proof"/> says whether the rows now equal the staged ones.</summary>
    Applied,

    /// <summary>Production changed for the tenant since the plan was approved: nothing written; plan and ask again.</summary>
    PlanChanged,

    /// <summary>The re-made plan has a problem (a conflict, hidden rows, a lock wait): nothing written.</summary>
    Refused,
}

/// <summary>The rows one table's apply wrote.</summary>
public sealed record TableWrite(string Table, long Inserted, long Updated, long Deleted);

/// <summary>
/// One table's proof after the commit: the order-independent digest of the tenant's rows the mode
/// restores, read from the staged copy and from production (missing-only: the staged rows except
/// those reported changed and left alone; exact: all of the tenant's rows).
/// </summary>
public sealed record TableProof(string Table, long Rows, string StagedDigest, string ProductionDigest)
{
    /// <summary>Both sides hold the same rows.</summary>
    public bool Equal => string.Equals(StagedDigest, ProductionDigest, StringComparison.Ordinal);
}

/// <summary>What <see cref="ITenantRestorer.ApplyAsync"/> did.</summary>
/// <param name="Outcome">Applied, or why nothing was written.</param>
/// <param name="Plan">The plan as re-made inside the apply's transaction.</param>
/// <param name="Writes">Rows written per table (empty unless applied).</param>
/// <param name="Proof">Per-table proof (empty unless applied).</param>
/// <param name="SequencesMoved">Sequences moved past restored values, as <c>sequence=value</c>.</param>
public sealed record TenantApplyResult(
    TenantApplyOutcome Outcome,
    TenantPlan Plan,
    IReadOnlyList<TableWrite> Writes,
    IReadOnlyList<TableProof> Proof,
    IReadOnlyList<string> SequencesMoved)
{
    /// <summary>
    /// After a commit, each populated materialized view that reads a written table, as
    /// <c>name: refreshed</c> (concurrently, readers not blocked) or <c>name: stale: ...</c> saying
    /// why it was left for the operator to refresh.
    /// </summary>
    public IReadOnlyList<string> MaterializedViews { get; init; } = [];

    /// <summary>Applied, and every table's proof holds.</summary>
    public bool Proven => Outcome == TenantApplyOutcome.Applied && Proof.All(p => p.Equal);
}
