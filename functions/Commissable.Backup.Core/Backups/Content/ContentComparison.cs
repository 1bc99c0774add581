using System.Globalization;

namespace Commissable.Backup.Core.Backups.Content;

/// <summary>
/// Compares a backup's content manifest with the same reading of a restored database, exactly:
/// every check compares, and where one side lacks what the other has, it fails naming it.
/// </summary>
/// <remarks>
/// Details name tables, tenants, sequences, schema objects, views and comment targets, never a
/// row's values (tenant ids and migration names are the only values shown). Long lists show the
/// first <see cref="ListedItems"/> and how many more.
/// </remarks>
public static class ContentComparison
{
    /// <summary>Per table: present on both sides, rows equal, digest equal.</summary>
    public const string Tables = "content.tables";

    /// <summary>Per table with the tenant column, per tenant: rows and digest.</summary>
    public const string Tenants = "content.tenants";

    /// <summary>Every sequence the backup sets is in the restore at or past its recorded position.</summary>
    public const string Sequences = "sequences.recorded";

    public const string MigrationsHead = "migrations.head";
    public const string Schema = "schema.fingerprint";
    public const string Extensions = "extensions.same";
    public const string MaterializedViews = "matviews.populated";
    public const string Comments = "comments.same";

    /// <summary>How many differences a detail lists before "and N more".</summary>
    public const int ListedItems = 10;

    /// <summary>The check names, in report order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Tables, Tenants, Sequences, MigrationsHead, Schema, Extensions, MaterializedViews, Comments];

    /// <summary>Compares, one result per name of <see cref="All"/> in that order.</summary>
    /// <param name="backup">Read from the backup's bytes.</param>
    /// <param name="restored">The restored database read back the same way (pg_dump of it).</param>
    public static IReadOnlyList<CheckResult> Compare(BackupContent backup, BackupContent restored)
    {
        ArgumentNullException.ThrowIfNull(backup);
        ArgumentNullException.ThrowIfNull(restored);
        return
        [
            CompareTables(backup, restored),
            CompareTenants(backup, restored),
            CompareSequences(backup, restored),
            CompareMigrations(backup, restored),
            CompareSchema(backup, restored),
            CompareExtensions(backup, restored),
            CompareMaterializedViews(backup, restored),
            CompareComments(backup, restored),
        ];
    }

    private static CheckResult CompareTables(BackupContent backup, BackupContent restored)
    {
        if (backup.Tables.Count == 0)
        {
            return new(Tables, false, string.Create(CultureInfo.InvariantCulture,
                $"the backup holds no table: nothing to compare the restore's {restored.Tables.Count} tables with"));
        }
        var differences = new List<string>();
        foreach (var name in Union(backup.Tables.Keys, restored.Tables.Keys))
        {
            var inBackup = backup.Tables.TryGetValue(name, out var b);
            var inRestore = restored.Tables.TryGetValue(name, out var r);
            if (!inRestore)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: missing (backup {Rows(b!.Rows)})"));
            }
            else if (!inBackup)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: not in the backup (restored {Rows(r!.Rows)})"));
            }
            else if (b!.Rows != r!.Rows)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: backup {Rows(b.Rows)}, restored {r.Rows} ({r.Rows - b.Rows:+#;-#;0}){Partition(b)}"));
            }
            else if (!string.Equals(b.Digest, r.Digest, StringComparison.Ordinal))
            {
                var columns = b.Columns.SequenceEqual(r.Columns, StringComparer.Ordinal) ? "" : "; the COPY columns differ";
                differences.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: same {Rows(b.Rows)}, different contents{columns}{Partition(b)}"));
            }
        }
        if (differences.Count > 0)
        {
            return new(Tables, false, string.Create(CultureInfo.InvariantCulture,
                $"{differences.Count} of {Union(backup.Tables.Keys, restored.Tables.Keys).Count} tables differ: {Listed(differences)}"));
        }
        return new(Tables, true, string.Create(CultureInfo.InvariantCulture,
            $"{backup.Tables.Count} tables, {backup.TotalRows} rows: counts and contents equal"));
    }

    private static CheckResult CompareTenants(BackupContent backup, BackupContent restored)
    {
        var column = backup.TenantColumn;
        if (!string.Equals(column, restored.TenantColumn, StringComparison.Ordinal))
        {
            return new(Tenants, false,
                $"the backup was read with the tenant column \"{column}\", the restore with \"{restored.TenantColumn}\": read both with the same");
        }
        var inBackup = TenantTables(backup);
        var inRestore = TenantTables(restored);
        if (inBackup.Count == 0 && inRestore.Count == 0)
        {
            return new(Tenants, true, $"not applicable: no table has the tenant column \"{column}\" in the backup nor the restore");
        }
        if (inRestore.Count == 0)
        {
            return new(Tenants, false, string.Create(CultureInfo.InvariantCulture,
                $"the backup has {inBackup.Count} tables with the tenant column \"{column}\", the restore none: {Listed(inBackup.Keys.ToList())}"));
        }
        if (inBackup.Count == 0)
        {
            return new(Tenants, false, string.Create(CultureInfo.InvariantCulture,
                $"the restore has {inRestore.Count} tables with the tenant column \"{column}\", the backup none: {Listed(inRestore.Keys.ToList())}"));
        }

        var differences = new List<string>();
        var tenantIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in Union(inBackup.Keys, inRestore.Keys))
        {
            if (!inRestore.TryGetValue(table, out var r))
            {
                differences.Add($"{table}: no \"{column}\" rows in the restore (the table is missing or lacks the column)");
                continue;
            }
            if (!inBackup.TryGetValue(table, out var b))
            {
                differences.Add($"{table}: has \"{column}\" in the restore only");
                continue;
            }
            foreach (var tenant in Union(b.Keys, r.Keys))
            {
                tenantIds.Add(tenant);
                var hasB = b.TryGetValue(tenant, out var bt);
                var hasR = r.TryGetValue(tenant, out var rt);
                if (!hasR)
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture, $"{table} tenant {tenant}: missing (backup {Rows(bt!.Rows)})"));
                }
                else if (!hasB)
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture, $"{table} tenant {tenant}: not in the backup (restored {Rows(rt!.Rows)})"));
                }
                else if (bt!.Rows != rt!.Rows)
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{table} tenant {tenant}: backup {Rows(bt.Rows)}, restored {rt.Rows} ({rt.Rows - bt.Rows:+#;-#;0})"));
                }
                else if (!string.Equals(bt.Digest, rt.Digest, StringComparison.Ordinal))
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{table} tenant {tenant}: backup {Rows(bt.Rows)}, restored {rt.Rows}, different contents"));
                }
            }
        }
        if (differences.Count > 0)
        {
            return new(Tenants, false, string.Create(CultureInfo.InvariantCulture,
                $"{Counted(differences.Count, "difference")} in the tables with \"{column}\": {Listed(differences)}"));
        }
        return new(Tenants, true, string.Create(CultureInfo.InvariantCulture,
            $"{inBackup.Count} tables with \"{column}\", {tenantIds.Count} tenants: per-tenant rows and contents equal"));
    }

    /// <remarks>
    /// Positions are compared as the value the next <c>nextval</c> would return (<c>is_called</c> ?
    /// last + 1 : last), for an ascending sequence: <c>setval</c> does not say a sequence's
    /// increment, so a descending sequence passes when restored exactly and fails once it has
    /// moved on (its next value is then lower).
    /// </remarks>
    private static CheckResult CompareSequences(BackupContent backup, BackupContent restored)
    {
        if (backup.Sequences.Count == 0 && restored.Sequences.Count == 0)
        {
            return new(Sequences, true, "no sequence in the backup nor the restore");
        }
        var differences = new List<string>();
        foreach (var (name, recorded) in backup.Sequences.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (!restored.Sequences.TryGetValue(name, out var found))
            {
                differences.Add($"{name}: missing (backup {Position(recorded)})");
            }
            else if (NextValue(found) < NextValue(recorded))
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: behind the backup (next value {NextValue(found)}, the backup's {NextValue(recorded)})"));
            }
        }
        foreach (var name in restored.Sequences.Keys.Where(n => !backup.Sequences.ContainsKey(n)).Order(StringComparer.Ordinal))
        {
            differences.Add($"{name}: not in the backup");
        }
        if (differences.Count > 0)
        {
            return new(Sequences, false, string.Create(CultureInfo.InvariantCulture,
                $"{Counted(differences.Count, "sequence")} not as in the backup: {Listed(differences)}"));
        }
        return new(Sequences, true, string.Create(CultureInfo.InvariantCulture,
            $"{backup.Sequences.Count} sequences at or past the backup's position"));
    }

    private static CheckResult CompareMigrations(BackupContent backup, BackupContent restored)
    {
        var (b, r) = (backup.Migrations, restored.Migrations);
        if (b is null && r is null)
        {
            return new(MigrationsHead, true, "no _prisma_migrations in the backup nor the restore");
        }
        if (r is null) return new(MigrationsHead, false, $"_prisma_migrations is in the backup ({Head(b!)}) but not in the restore");
        if (b is null) return new(MigrationsHead, false, $"_prisma_migrations is in the restore ({Head(r)}) but not in the backup");
        return string.Equals(b.Head, r.Head, StringComparison.Ordinal)
            ? new(MigrationsHead, true, Head(r))
            : new(MigrationsHead, false, $"backup {Head(b)}, restored {Head(r)}");
    }

    private static CheckResult CompareSchema(BackupContent backup, BackupContent restored)
    {
        if (backup.SchemaObjects.Count == 0)
        {
            return new(Schema, false, string.Create(CultureInfo.InvariantCulture,
                $"the backup has no schema statement (a data-only dump?): nothing to compare the restore's {restored.SchemaObjects.Count} with"));
        }
        var onlyBackup = MultisetExcept(backup.SchemaObjects, restored.SchemaObjects);
        var onlyRestore = MultisetExcept(restored.SchemaObjects, backup.SchemaObjects);
        if (onlyBackup.Count == 0 && onlyRestore.Count == 0)
        {
            return string.Equals(backup.SchemaFingerprint, restored.SchemaFingerprint, StringComparison.Ordinal)
                ? new(Schema, true, string.Create(CultureInfo.InvariantCulture,
                    $"{backup.SchemaFingerprint[..16]} ({backup.SchemaObjects.Count} objects)"))
                : new(Schema, false, $"the same objects but different fingerprints: backup {backup.SchemaFingerprint[..16]}, restored {restored.SchemaFingerprint[..16]}");
        }
        // A statement longer than its label can differ past it: the same label on both sides is a change.
        var labelsBackup = onlyBackup.Select(Label).ToList();
        var labelsRestore = onlyRestore.Select(Label).ToList();
        var changed = MultisetIntersect(labelsBackup, labelsRestore);
        var differences = new List<string>();
        differences.AddRange(changed.Select(l => "changed: " + l));
        differences.AddRange(MultisetExcept(labelsBackup, changed).Select(l => "in the backup only: " + l));
        differences.AddRange(MultisetExcept(labelsRestore, changed).Select(l => "in the restore only: " + l));
        return new(Schema, false, string.Create(CultureInfo.InvariantCulture,
            $"backup {backup.SchemaFingerprint[..16]}, restored {restored.SchemaFingerprint[..16]}; {Counted(differences.Count, "object")} differ: {Listed(differences)}"));
    }

    private static CheckResult CompareExtensions(BackupContent backup, BackupContent restored)
    {
        if (backup.Extensions.Count == 0 && restored.Extensions.Count == 0)
        {
            return new(Extensions, true, "no extension in the backup nor the restore");
        }
        var differences = MultisetExcept(backup.Extensions, restored.Extensions).Select(e => "in the backup only: " + e)
            .Concat(MultisetExcept(restored.Extensions, backup.Extensions).Select(e => "in the restore only: " + e))
            .ToList();
        return differences.Count == 0
            ? new(Extensions, true, string.Join(", ", backup.Extensions))
            : new(Extensions, false, Listed(differences));
    }

    private static CheckResult CompareMaterializedViews(BackupContent backup, BackupContent restored)
    {
        if (backup.MaterializedViews.Count == 0 && restored.MaterializedViews.Count == 0)
        {
            return new(MaterializedViews, true, "no materialized view in the backup nor the restore");
        }
        var differences = new List<string>();
        foreach (var view in Union(backup.MaterializedViews.Keys, restored.MaterializedViews.Keys))
        {
            var inBackup = backup.MaterializedViews.TryGetValue(view, out var b);
            var inRestore = restored.MaterializedViews.TryGetValue(view, out var r);
            if (!inRestore) differences.Add($"{view}: missing");
            else if (!inBackup) differences.Add($"{view}: not in the backup");
            else if (b && !r) differences.Add($"{view}: populated in the backup, not in the restore");
            else if (!b && r) differences.Add($"{view}: not populated in the backup, populated in the restore");
        }
        if (differences.Count > 0) return new(MaterializedViews, false, Listed(differences));
        var populated = backup.MaterializedViews.Count(v => v.Value);
        return new(MaterializedViews, true, string.Create(CultureInfo.InvariantCulture,
            $"{backup.MaterializedViews.Count} materialized views, {populated} populated, as in the backup"));
    }

    private static CheckResult CompareComments(BackupContent backup, BackupContent restored)
    {
        if (backup.Comments.Count == 0 && restored.Comments.Count == 0)
        {
            return new(Comments, true, "no comment in the backup nor the restore");
        }
        var differences = new List<string>();
        foreach (var target in Union(backup.Comments.Keys, restored.Comments.Keys))
        {
            var inBackup = backup.Comments.TryGetValue(target, out var b);
            var inRestore = restored.Comments.TryGetValue(target, out var r);
            if (!inRestore) differences.Add($"COMMENT ON {target}: missing");
            else if (!inBackup) differences.Add($"COMMENT ON {target}: not in the backup");
            else if (!string.Equals(b, r, StringComparison.Ordinal)) differences.Add($"COMMENT ON {target}: different text");
        }
        return differences.Count > 0
            ? new(Comments, false, Listed(differences))
            : new(Comments, true, string.Create(CultureInfo.InvariantCulture, $"{backup.Comments.Count} comments equal"));
    }

    private static Dictionary<string, IReadOnlyDictionary<string, TenantContent>> TenantTables(BackupContent content) =>
        content.Tables.Where(t => t.Value.Tenants is not null)
            .ToDictionary(t => t.Key, t => t.Value.Tenants!, StringComparer.Ordinal);

    private static List<string> Union(IEnumerable<string> a, IEnumerable<string> b) =>
        a.Union(b, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Items of <paramref name="a"/> not matched one for one in <paramref name="b"/> (duplicates count).</summary>
    private static List<string> MultisetExcept(IEnumerable<string> a, IEnumerable<string> b)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in b) counts[item] = counts.GetValueOrDefault(item) + 1;
        var result = new List<string>();
        foreach (var item in a)
        {
            if (counts.TryGetValue(item, out var n) && n > 0) counts[item] = n - 1;
            else result.Add(item);
        }
        return result;
    }

    private static List<string> MultisetIntersect(List<string> a, List<string> b) =>
        MultisetExcept(a, MultisetExcept(a, b));

    /// <summary>A schema line without its hash.</summary>
    private static string Label(string schemaLine)
    {
        var space = schemaLine.LastIndexOf(' ');
        return space < 0 ? schemaLine : schemaLine[..space];
    }

    private static long NextValue(RecordedSequence position) =>
        position.IsCalled ? position.LastValue == long.MaxValue ? long.MaxValue : position.LastValue + 1 : position.LastValue;

    private static string Position(RecordedSequence position) =>
        string.Create(CultureInfo.InvariantCulture, $"at {position.LastValue}{(position.IsCalled ? "" : ", not yet called")}");

    private static string Head(MigrationState state) =>
        string.Create(CultureInfo.InvariantCulture, $"head {state.Head ?? "none"} ({state.Applied} applied)");

    private static string Rows(long rows) => Counted(rows, "row");

    private static string Counted(long count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    private static string Partition(TableContent table) =>
        table.Partitioned ? " (partitioned: the sum of its partitions)" : "";

    /// <summary>The first <see cref="ListedItems"/> items, then how many more.</summary>
    internal static string Listed(IReadOnlyList<string> items)
    {
        var shown = string.Join("; ", items.Take(ListedItems));
        return items.Count > ListedItems
            ? string.Create(CultureInfo.InvariantCulture, $"{shown}; and {items.Count - ListedItems} more")
            : shown;
    }
}
