namespace Commissable.Backup.Core.Tenants;

/// <summary>What a per-tenant restore writes.</summary>
public enum TenantRestoreMode
{
    /// <summary>Put back the tenant's rows that are gone; changed and extra rows are reported and left alone.</summary>
    MissingOnly,

    /// <summary>Also revert changed rows and remove the tenant's rows created after the restore point.</summary>
    Exact,

    /// <summary>Plan only: nothing is written (the trial tries the missing-only writes, so conflicts are still found).</summary>
    Report,
}

/// <summary>How a tenant plan is made.</summary>
public sealed record TenantPlanOptions
{
    /// <summary>The tenant column, exactly as in the catalog.</summary>
    public string TenantColumn { get; init; } = "tenantId";

    /// <summary>The restore mode the plan is for.</summary>
    public TenantRestoreMode Mode { get; init; } = TenantRestoreMode.MissingOnly;

    /// <summary>At most this many example keys per table.</summary>
    public int ExampleKeys { get; init; } = 3;

    /// <summary>The trial transaction on production waits at most this long for any lock.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>One table of a tenant plan: counts and key values, never other row values.</summary>
/// <param name="Table">The table, unquoted, in schema public.</param>
/// <param name="Missing">The tenant's rows in the staged copy and not in production.</param>
/// <param name="Changed">Rows with the same key on both sides and different contents (0 for a table without a primary key).</param>
/// <param name="Extra">The tenant's rows in production and not in the staged copy.</param>
/// <param name="Writes">The rows the plan's mode writes (inserts, plus updates and deletes in exact mode).</param>
/// <param name="ExampleKeys">A few keys, each prefixed by its kind: <c>missing id=42</c>; <c>missing row #1</c> for a table without a primary key.</param>
/// <param name="KeyDigest">Hash of the three key sets (for a table without a primary key, of the differing rows' contents).</param>
/// <param name="Problem">Why this table cannot be written as planned (the constraint and SQLSTATE, or hidden rows), or null.</param>
public sealed record TablePlan(
    string Table,
    long Missing,
    long Changed,
    long Extra,
    long Writes,
    IReadOnlyList<string> ExampleKeys,
    string KeyDigest,
    string? Problem);

/// <summary>A per-tenant restore plan, made before anything is written.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="Mode">The mode it was made for.</param>
/// <param name="Tables">The closure's tables in write order.</param>
/// <param name="Problems">Problems of the whole plan (the closure's shape, an error not tied to one table).</param>
/// <param name="Digest">SHA-256 (hex) of the plan's canonical JSON, key digests included.</param>
public sealed record TenantPlan(
    string TenantId,
    TenantRestoreMode Mode,
    IReadOnlyList<TablePlan> Tables,
    IReadOnlyList<string> Problems,
    string Digest)
{
    /// <summary>No problem anywhere: the trial of the writes succeeded.</summary>
    public bool CanApply => Problems.Count == 0 && Tables.All(t => t.Problem is null);
}
