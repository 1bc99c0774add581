using System.Globalization;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Naming;

namespace Commissable.Functions.Verify;

/// <summary>
/// The pure half of the recovery evidence (<see cref="RecoveryEvidence"/>): compares censuses and
/// manifests and renders the difference table. No I/O; <see cref="RecoveryEvidenceCollector"/> reads.
/// </summary>
internal static class RecoveryEvidenceComparison
{
    /// <summary>At most this many lines of the difference table; the largest differences are kept.</summary>
    public const int MaxLines = 40;

    /// <summary>At most this many names in a list of the backup section (missing, extra, columns).</summary>
    public const int MaxNames = 50;

    /// <summary>How the table marks a whole-table line in the tenant column.</summary>
    public const string AllTenants = "(all)";

    /// <summary>The tenant key of rows whose tenant column is NULL (the COPY text of NULL, as content manifests key it).</summary>
    public const string NullTenant = "\\N";

    private const int MaxShownInDetail = 5;
    private static readonly string[] Header = ["table", "tenant", "restored", "production", "difference"];
    private const int MaxTableWidth = 63;
    private const int MaxTenantWidth = 40;

    /// <summary>The restored database against <paramref name="manifest"/> (null: none before the point in time; <paramref name="why"/> says so).</summary>
    public static BackupEvidence CompareWithBackup(BackupManifest? manifest, string why, DatabaseCensus restored)
    {
        ArgumentNullException.ThrowIfNull(restored);
        if (manifest is null || (manifest.Content is null && manifest.Snapshot is null))
        {
            return new BackupEvidence { Found = false, Detail = why };
        }

        var (basis, backupTables, head, schema, columnsDiffer) = manifest.Content is { } content
            ? FromContent(content, restored)
            : FromSnapshot(manifest.Snapshot!, restored);
        var restoredTables = restored.Rows.Keys.ToHashSet(StringComparer.Ordinal);
        var missing = backupTables.Where(t => !restoredTables.Contains(t)).Order(StringComparer.Ordinal).ToList();
        var extra = restoredTables.Where(t => !backupTables.Contains(t)).Order(StringComparer.Ordinal).ToList();

        var findings = new List<string>();
        if (missing.Count == 0 && extra.Count == 0)
        {
            findings.Add(Invariant($"all {backupTables.Count} tables of the backup present, none added"));
        }
        else
        {
            if (missing.Count > 0) findings.Add(Invariant($"{Plural(missing.Count, "table")} of the backup missing from the restore ({Names(missing)})"));
            if (extra.Count > 0) findings.Add(Invariant($"{Plural(extra.Count, "table")} not in the backup ({Names(extra)})"));
        }
        if (columnsDiffer.Count > 0)
        {
            findings.Add(Invariant($"columns differ in {Plural(columnsDiffer.Count, "table")} ({Names(columnsDiffer)})"));
        }
        findings.Add(string.Equals(head, restored.MigrationHead, StringComparison.Ordinal)
            ? head is null ? "no Prisma migration head in either" : $"migration head equal ({Shown(head, 100)})"
            : $"migration head differs: backup {Shown(head ?? "(none)", 100)}, restored {Shown(restored.MigrationHead ?? "(none)", 100)}");
        findings.Add(schema switch
        {
            "equal" => "schema fingerprint equal",
            "differs" => "schema fingerprint differs",
            _ when basis == "content" => "schema fingerprint not compared (the content manifest's is of the dump's DDL; the migration head is compared)",
            _ => "schema fingerprint not compared (the manifest does not record one)",
        });

        return new BackupEvidence
        {
            Found = true,
            Uri = manifest.Uri,
            Kind = manifest.Kind,
            EndTime = manifest.EndTime,
            Basis = basis,
            TablesMissing = [.. missing.Take(MaxNames).Select(t => Shown(t, MaxTableWidth))],
            TablesExtra = [.. extra.Take(MaxNames).Select(t => Shown(t, MaxTableWidth))],
            ColumnsDiffer = [.. columnsDiffer.Take(MaxNames).Select(t => Shown(t, MaxTableWidth))],
            MigrationHeadBackup = head,
            MigrationHeadRestored = restored.MigrationHead,
            Schema = schema,
            Detail = $"{manifest.Uri} ({manifest.Kind}, ended {Time(manifest.EndTime)}, {(basis == "content" ? "content manifest" : "snapshot before the export")}"
                + $"{(manifest.Databases.Count == 0 ? "; it does not name its database" : "")}): {string.Join("; ", findings)}",
        };
    }

    private static (string Basis, HashSet<string> Tables, string? Head, string Schema, List<string> ColumnsDiffer) FromContent(BackupContent content, DatabaseCensus restored)
    {
        var tables = new HashSet<string>(StringComparer.Ordinal);
        var columnsDiffer = new List<string>();
        foreach (var (printed, table) in content.Tables)
        {
            // Partitioned parents hold no rows of their own; the census counts their partitions, as the dump copies them.
            if (table.Partitioned || !PgNames.TryParseQualified(printed, out var schema, out var name) || schema != "public")
            {
                continue;
            }
            tables.Add(name);
            if (table.Columns.Count > 0 && restored.Columns.TryGetValue(name, out var restoredColumns)
                && !table.Columns.Select(PgNames.Unquote).SequenceEqual(restoredColumns, StringComparer.Ordinal))
            {
                columnsDiffer.Add(name);
            }
        }
        columnsDiffer.Sort(StringComparer.Ordinal);
        return ("content", tables, content.Migrations?.Head, "not compared", columnsDiffer);
    }

    private static (string Basis, HashSet<string> Tables, string? Head, string Schema, List<string> ColumnsDiffer) FromSnapshot(DatabaseSnapshot snapshot, DatabaseCensus restored)
    {
        // The snapshot's fingerprint is the catalog-based one the census reads too, so these compare.
        var schema = snapshot.SchemaFingerprint is null ? "not compared"
            : string.Equals(snapshot.SchemaFingerprint, restored.SchemaFingerprint, StringComparison.Ordinal) ? "equal" : "differs";
        return ("snapshot", snapshot.RowCounts.Keys.ToHashSet(StringComparer.Ordinal), snapshot.MigrationHead, schema, []);
    }

    /// <summary>The restored database against production now; <paramref name="production"/> null when it could not be read (<paramref name="why"/>).</summary>
    public static ProductionEvidence CompareWithProduction(string source, DatabaseCensus restored, DatabaseCensus? production, string? why)
    {
        ArgumentNullException.ThrowIfNull(restored);
        if (production is null)
        {
            var reason = why ?? "no reason given";
            return new ProductionEvidence { Read = false, Reason = reason, Detail = $"production could not be read: {reason}" };
        }

        var lines = new List<RowDifference>();
        var tables = restored.Rows.Keys.Union(production.Rows.Keys, StringComparer.Ordinal).ToList();
        foreach (var table in tables)
        {
            var r = Get(restored.Rows, table);
            var p = Get(production.Rows, table);
            if (r != p)
            {
                lines.Add(new RowDifference(table, null, r, p, (r ?? 0) - (p ?? 0)));
            }
        }
        foreach (var table in restored.Tenants.Keys.Intersect(production.Tenants.Keys, StringComparer.Ordinal))
        {
            var r = WithNull(restored.Tenants[table]);
            var p = WithNull(production.Tenants[table]);
            foreach (var tenant in r.Keys.Union(p.Keys, StringComparer.Ordinal))
            {
                var rr = Get(r, tenant) ?? 0;
                var pp = Get(p, tenant) ?? 0;
                if (rr != pp)
                {
                    lines.Add(new RowDifference(table, tenant, rr, pp, rr - pp));
                }
            }
        }

        var kept = lines.Count <= MaxLines ? lines
            : [.. lines.OrderByDescending(l => Math.Abs(l.Difference)).ThenBy(l => l, DisplayOrder.Instance).Take(MaxLines)];
        kept = [.. kept.Order(DisplayOrder.Instance)];
        var restoredRows = restored.Rows.Values.Sum();
        var productionRows = production.Rows.Values.Sum();
        var restoredTenants = TenantIds(restored);
        var productionTenants = TenantIds(production);
        // A table whose total agrees but whose rows moved between tenants differs too.
        var differingTables = lines.Select(l => l.Table).Distinct(StringComparer.Ordinal).Count();

        var findings = new List<string>
        {
            lines.Count == 0
                ? Invariant($"every table{(restored.Tenants.Count > 0 ? " and tenant" : "")} has as many rows as in the restore")
                : Invariant($"{Plural(differingTables, "table")} of {tables.Count} {(differingTables == 1 ? "differs" : "differ")} ({Plural(lines.Count, "line")} in the table)"),
            Invariant($"restored {restoredRows:N0} rows, production {productionRows:N0} ({Signed(restoredRows - productionRows)})"),
        };
        if (restored.Tenants.Count > 0 || production.Tenants.Count > 0)
        {
            var onlyRestored = restoredTenants.Except(productionTenants, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var onlyProduction = productionTenants.Except(restoredTenants, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var tenants = Invariant($"tenants: {restoredTenants.Count} restored, {productionTenants.Count} in production");
            if (onlyRestored.Count > 0) tenants += $", only in the restore: {Names(onlyRestored, MaxTenantWidth)}";
            if (onlyProduction.Count > 0) tenants += $", only in production: {Names(onlyProduction, MaxTenantWidth)}";
            findings.Add(tenants);
        }
        findings.Add(string.Equals(production.MigrationHead, restored.MigrationHead, StringComparison.Ordinal)
            ? production.MigrationHead is null ? "no Prisma migration head in either" : $"migration head equal ({Shown(production.MigrationHead, 100)})"
            : $"migration head differs: production {Shown(production.MigrationHead ?? "(none)", 100)}, restored {Shown(restored.MigrationHead ?? "(none)", 100)}");

        return new ProductionEvidence
        {
            Read = true,
            RestoredRows = restoredRows,
            ProductionRows = productionRows,
            Difference = restoredRows - productionRows,
            Tables = tables.Count,
            TenantsRestored = restoredTenants.Count,
            TenantsProduction = productionTenants.Count,
            MigrationHead = production.MigrationHead,
            Differences = [.. kept.Select(l => l with { Table = Shown(l.Table, MaxTableWidth), Tenant = l.Tenant is null ? null : Shown(l.Tenant, 200) })],
            OmittedLines = lines.Count - kept.Count,
            Detail = $"{source} now: {string.Join("; ", findings)}",
        };
    }

    /// <summary>The whole evidence: both comparisons, the table and the approver's text.</summary>
    public static RecoveryEvidence Assemble(DateTimeOffset pointInTime, BackupEvidence backup, ProductionEvidence production)
    {
        ArgumentNullException.ThrowIfNull(backup);
        ArgumentNullException.ThrowIfNull(production);
        var table = Render(production);
        var text = new StringBuilder()
            .Append("evidence for the restore to ").Append(Time(pointInTime)).Append(" (counts only):\n")
            .Append("backup: ").Append(backup.Detail).Append('\n');
        if (production.Read)
        {
            text.Append("production: ").Append(production.Detail).Append('\n');
        }
        text.Append(table);
        return new RecoveryEvidence { PointInTime = pointInTime, Backup = backup, Production = production, Table = table, Text = text.ToString() };
    }

    /// <summary>Evidence when the restored database itself could not be read: nothing was compared.</summary>
    public static RecoveryEvidence NotCompared(DateTimeOffset pointInTime, string why)
    {
        var detail = $"not compared: the restored database could not be read: {why}";
        return Assemble(pointInTime, new BackupEvidence { Found = false, Detail = detail },
            new ProductionEvidence { Read = false, Reason = detail, Detail = detail });
    }

    /// <summary>
    /// The difference table: a header, the lines that differ, a note of the lines left out, and the
    /// total; or the sentence that says why production could not be read.
    /// </summary>
    internal static string Render(ProductionEvidence production)
    {
        if (!production.Read)
        {
            return production.Detail;
        }
        List<string[]> rows = [Header];
        rows.AddRange(production.Differences.Select(l => new[]
        {
            Shown(l.Table, MaxTableWidth),
            l.Tenant switch { null => AllTenants, NullTenant => "(null)", var t => Shown(t, MaxTenantWidth) },
            Count(l.Restored),
            Count(l.Production),
            Signed(l.Difference),
        }));
        rows.Add(["total", AllTenants, Count(production.RestoredRows), Count(production.ProductionRows), Signed(production.Difference ?? 0)]);

        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        for (var i = 0; i < rows.Count; i++)
        {
            if (i == rows.Count - 1 && production.OmittedLines > 0)
            {
                text.Append(Invariant($"… {Plural(production.OmittedLines, "more line")} not shown (only the {MaxLines} largest differences are listed)\n"));
            }
            var row = rows[i];
            text.Append(row[0].PadRight(widths[0])).Append("  ").Append(row[1].PadRight(widths[1]));
            for (var c = 2; c < 5; c++)
            {
                text.Append("  ").Append(row[c].PadLeft(widths[c]));
            }
            if (i < rows.Count - 1) text.Append('\n');
        }
        return text.ToString();
    }

    private static Dictionary<string, long> WithNull(TenantRows rows)
    {
        var all = new Dictionary<string, long>(rows.ByTenant, StringComparer.Ordinal);
        if (rows.WithoutTenant > 0)
        {
            all[NullTenant] = all.GetValueOrDefault(NullTenant) + rows.WithoutTenant;
        }
        return all;
    }

    private static HashSet<string> TenantIds(DatabaseCensus census) =>
        census.Tenants.Values.SelectMany(t => t.ByTenant.Keys).ToHashSet(StringComparer.Ordinal);

    private static long? Get(IReadOnlyDictionary<string, long> counts, string key) => counts.TryGetValue(key, out var n) ? n : null;

    private static string Count(long? value) => value is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) : "absent";

    private static string Signed(long value) => value > 0 ? "+" + value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Plural(int count, string noun) => Invariant($"{count} {noun}{(count == 1 ? "" : "s")}");

    private static string Names(List<string> names, int width = MaxTableWidth) =>
        string.Join(", ", names.Take(MaxShownInDetail).Select(n => Shown(n, width)))
        + (names.Count > MaxShownInDetail ? Invariant($" and {names.Count - MaxShownInDetail} more") : "");

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A name or id as shown: control characters as '?', so a table or tenant named with a newline
    /// cannot forge a line of the approval message; cut at <paramref name="width"/> with '…'.
    /// </summary>
    internal static string Shown(string value, int width) => CloudNames.Printable(value, width);

    /// <summary>By table, the whole-table line first, then its tenants.</summary>
    private sealed class DisplayOrder : IComparer<RowDifference>
    {
        public static readonly DisplayOrder Instance = new();

        public int Compare(RowDifference? x, RowDifference? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            var byTable = string.CompareOrdinal(x.Table, y.Table);
            if (byTable != 0) return byTable;
            if (x.Tenant is null) return y.Tenant is null ? 0 : -1;
            return y.Tenant is null ? 1 : string.CompareOrdinal(x.Tenant, y.Tenant);
        }
    }
}

/// <summary>PostgreSQL names as pg_dump prints them (<c>public."Contact"</c>, <c>public.invoice</c>, <c>"tenantId"</c>).</summary>
internal static class PgNames
{
    /// <summary>Splits a qualified name into its unquoted schema and name; false when it is not one.</summary>
    public static bool TryParseQualified(string printed, out string schema, out string name)
    {
        schema = name = "";
        var at = 0;
        return ReadPart(printed, ref at, out schema) && at < printed.Length && printed[at++] == '.'
            && ReadPart(printed, ref at, out name) && at == printed.Length;
    }

    /// <summary>One identifier unquoted (<c>"tenantId"</c> is <c>tenantId</c>, <c>"a""b"</c> is <c>a"b</c>); unquoted ones as they are.</summary>
    public static string Unquote(string printed)
    {
        var at = 0;
        return printed.StartsWith('"') && ReadPart(printed, ref at, out var name) && at == printed.Length ? name : printed;
    }

    private static bool ReadPart(string text, ref int at, out string part)
    {
        part = "";
        if (at >= text.Length) return false;
        if (text[at] != '"')
        {
            var end = text.IndexOf('.', at);
            if (end < 0) end = text.Length;
            part = text[at..end];
            at = end;
            return part.Length > 0;
        }
        var builder = new StringBuilder();
        for (at++; at < text.Length; at++)
        {
            if (text[at] != '"')
            {
                builder.Append(text[at]);
            }
            else if (at + 1 < text.Length && text[at + 1] == '"')
            {
                builder.Append('"');
                at++;
            }
            else
            {
                at++;
                part = builder.ToString();
                return part.Length > 0;
            }
        }
        return false;
    }
}
