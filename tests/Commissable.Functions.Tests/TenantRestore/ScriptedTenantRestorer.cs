using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Tenants;

namespace Commissable.Functions.Tests.TenantRestore;

/// <summary>
/// A test-only <see cref="ITenantRestorer"/> that answers what the test scripts, for the
/// function's own logic (validation, stored objects, refusals, order); it reaches no database.
/// The real one is tested through the same host in <see cref="TenantRestoreEndToEndTests"/>.
/// Every call is recorded, with the databases and options it was given; a call nothing was
/// scripted for fails the test.
/// </summary>
public sealed class ScriptedTenantRestorer : ITenantRestorer
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public TenantDatabases? LastDatabases { get; private set; }

    public TenantPlanOptions? LastOptions { get; private set; }

    /// <summary>What <see cref="PlanAsync"/> answers.</summary>
    public Func<string, TenantPlanOptions, TenantPlan>? OnPlan { get; set; }

    /// <summary>What <see cref="ApplyAsync"/> does and answers (given the approved digest).</summary>
    public Func<string, TenantPlanOptions, Task<TenantApplyResult>>? OnApply { get; set; }

    /// <summary>Forgets the calls and the script.</summary>
    public void Reset()
    {
        Calls.Clear();
        (OnPlan, OnApply, LastDatabases, LastOptions) = (null, null, null, null);
    }

    public Task<TenantPlan> PlanAsync(TenantDatabases databases, string tenantId, TenantPlanOptions options, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"plan {tenantId}");
        (LastDatabases, LastOptions) = (databases, options);
        var plan = OnPlan ?? throw new InvalidOperationException("The test scripted no plan.");
        return Task.FromResult(plan(tenantId, options));
    }

    public Task<TenantApplyResult> ApplyAsync(TenantDatabases databases, string tenantId, string approvedDigest, TenantPlanOptions options, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"apply {tenantId} {approvedDigest}");
        (LastDatabases, LastOptions) = (databases, options);
        var apply = OnApply ?? throw new InvalidOperationException("The test scripted no apply.");
        return apply(approvedDigest, options);
    }

    /// <summary>A plan of two tables with the counts given; its digest hashes everything in it, as the real one does.</summary>
    public static TenantPlan Plan(string tenantId, TenantRestoreMode mode, long missing = 3, string? problem = null, params string[] planProblems)
    {
        TablePlan[] tables =
        [
            new("Tenant", 1, 0, 0, mode == TenantRestoreMode.Report ? 0 : 1, ["missing id=" + tenantId], "k1", null),
            new("Contact", missing, 2, 1, mode == TenantRestoreMode.Exact ? missing + 3 : missing, ["missing id=7", "missing id=9", "changed id=12"], "k2", problem),
        ];
        var canonical = $"{tenantId}|{mode}|{string.Join(";", tables.Select(t => $"{t.Table},{t.Missing},{t.Changed},{t.Extra},{t.Writes},{t.KeyDigest},{t.Problem}"))}|{string.Join(";", planProblems)}";
        return new TenantPlan(tenantId, mode, tables, planProblems, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))));
    }

    /// <summary>An applied result of <paramref name="plan"/> whose proof holds (or not, for <paramref name="unequalTable"/>).</summary>
    public static TenantApplyResult Applied(TenantPlan plan, string? unequalTable = null) => new(
        TenantApplyOutcome.Applied,
        plan,
        [.. plan.Tables.Select(t => new TableWrite(t.Table, t.Missing, 0, 0))],
        [.. plan.Tables.Select(t => new TableProof(t.Table, t.Missing + 10, "aaaabbbbccccdddd", t.Table == unequalTable ? "eeeeffff00001111" : "aaaabbbbccccdddd"))],
        ["\"Contact_id_seq\"=12"]);
}
