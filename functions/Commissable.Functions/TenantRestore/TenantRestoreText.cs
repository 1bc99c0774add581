using System.Globalization;
using System.Text;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Tenants;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// The plain-text tables a human reads before approving (the plan) and after the apply (the
/// proof): columns aligned, numbers right-aligned, one row per table and a total. They hold
/// counts, digests and the example keys the plan already carries; never any other row value.
/// </summary>
internal static class TenantRestoreText
{
    private static readonly string[] PlanHeader = ["table", "missing", "changed", "extra", "writes", "example keys", "problem"];
    private static readonly string[] ProofHeader = ["table", "inserted", "updated", "deleted", "rows", "staged", "production", "equal"];

    /// <summary>The columns right-aligned in both tables (counts).</summary>
    private static readonly int[] NumberColumns = [1, 2, 3, 4];

    /// <summary>The plan: header, then table, missing, changed, extra, writes, example keys, problem; then the totals and the plan's own problems.</summary>
    public static string Plan(TenantPlan plan, string sourceInstance, string database)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"Tenant {Safe(plan.TenantId)} on {sourceInstance}/{database}, mode {TenantRestoreRequest.ModeWord(plan.Mode)}, can apply: {(plan.CanApply ? "yes" : "NO")}\n");
        text.Append(CultureInfo.InvariantCulture, $"Plan digest {plan.Digest}\n");
        var totals = PlanTotals.Of(plan);
        var rows = new List<string[]> { PlanHeader };
        rows.AddRange(plan.Tables.Select(t => new[]
        {
            Safe(t.Table), Count(t.Missing), Count(t.Changed), Count(t.Extra), Count(t.Writes),
            t.ExampleKeys.Count == 0 ? "-" : string.Join(", ", t.ExampleKeys.Select(Safe)),
            t.Problem is null ? "-" : Safe(t.Problem),
        }));
        rows.Add(["total", Count(totals.Missing), Count(totals.Changed), Count(totals.Extra), Count(totals.Writes), "", ""]);
        Table(text, rows, NumberColumns);
        foreach (var problem in plan.Problems)
        {
            text.Append("Problem: ").Append(Safe(problem)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The apply: outcome and whether it is proven, then per table the rows written and the proof (rows, short digests, equal).</summary>
    public static string Proof(TenantApplyResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"Tenant {Safe(result.Plan.TenantId)}: {Outcome(result.Outcome)}, proven: {(result.Proven ? "yes" : "NO")}, plan digest {result.Plan.Digest}\n");
        if (result.Outcome != TenantApplyOutcome.Applied)
        {
            text.Append(result.Outcome == TenantApplyOutcome.PlanChanged
                ? "Nothing was written: production changed for this tenant since the plan was approved. Approve the new plan.\n"
                : "Nothing was written: the plan re-made inside the apply has a problem.\n");
            foreach (var table in result.Plan.Tables.Where(t => t.Problem is not null))
            {
                text.Append(Safe(table.Table)).Append(": ").Append(Safe(table.Problem!)).Append('\n');
            }
            foreach (var problem in result.Plan.Problems)
            {
                text.Append("Problem: ").Append(Safe(problem)).Append('\n');
            }
            return text.ToString();
        }
        var proofs = result.Proof.ToDictionary(p => p.Table, StringComparer.Ordinal);
        var writes = result.Writes.ToDictionary(w => w.Table, StringComparer.Ordinal);
        var tables = result.Writes.Select(w => w.Table).Concat(result.Proof.Select(p => p.Table)).Distinct(StringComparer.Ordinal);
        var rows = new List<string[]> { ProofHeader };
        foreach (var table in tables)
        {
            var w = writes.GetValueOrDefault(table);
            var p = proofs.GetValueOrDefault(table);
            rows.Add(
            [
                Safe(table), w is null ? "-" : Count(w.Inserted), w is null ? "-" : Count(w.Updated), w is null ? "-" : Count(w.Deleted),
                p is null ? "-" : Count(p.Rows), p is null ? "-" : Short(p.StagedDigest), p is null ? "-" : Short(p.ProductionDigest),
                p is null ? "NOT PROVEN" : p.Equal ? "yes" : "NO",
            ]);
        }
        rows.Add(["total", Count(result.Writes.Sum(w => w.Inserted)), Count(result.Writes.Sum(w => w.Updated)), Count(result.Writes.Sum(w => w.Deleted)),
            Count(result.Proof.Sum(p => p.Rows)), "", "", ""]);
        Table(text, rows, NumberColumns);
        text.Append("Sequences moved: ").Append(result.SequencesMoved.Count == 0 ? "none" : string.Join(", ", result.SequencesMoved.Select(Safe))).Append('\n');
        return text.ToString();
    }

    /// <summary>The outcome's wire word.</summary>
    public static string Outcome(TenantApplyOutcome outcome) => outcome switch
    {
        TenantApplyOutcome.Applied => "applied",
        TenantApplyOutcome.PlanChanged => "plan-changed",
        _ => "refused",
    };

    private static void Table(StringBuilder text, List<string[]> rows, int[] rightAligned)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            var cells = row.Select((cell, c) => rightAligned.Contains(c) ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
            text.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Short(string digest) => digest.Length <= 12 ? digest : digest[..12];

    /// <summary>One line, no control character: a key or a name cannot break the table or forge a line.</summary>
    private static string Safe(string value) => value.Length <= 100 ? CloudNames.Printable(value) : CloudNames.Printable(value) + "…";
}
