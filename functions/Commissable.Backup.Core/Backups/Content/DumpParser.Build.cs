using System.Security.Cryptography;
using System.Text;

namespace Commissable.Backup.Core.Backups.Content;

internal sealed partial class DumpParser
{
    private sealed record Totals(RowSum Rows, Dictionary<string, RowSum>? Tenants);

    private BackupContent Build()
    {
        foreach (var (child, parent) in _parentOf)
        {
            Table(child);
            Table(parent).DeclaredPartitioned = true;
        }
        var children = _parentOf
            .GroupBy(p => p.Value, p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

        var totals = new Dictionary<string, Totals>(StringComparer.Ordinal);
        var tables = new SortedDictionary<string, TableContent>(StringComparer.Ordinal);
        foreach (var name in _tables.Keys)
        {
            var total = Total(name, children, totals, []);
            var table = _tables[name];
            tables[name] = new TableContent
            {
                Rows = total.Rows.Rows,
                Digest = RowSum.Hex(total.Rows.Sum),
                Columns = table.Columns ?? [],
                PartitionOf = _parentOf.GetValueOrDefault(name),
                Partitioned = table.DeclaredPartitioned || children.ContainsKey(name),
                Tenants = total.Tenants is null
                    ? null
                    : new SortedDictionary<string, TenantContent>(
                        total.Tenants.ToDictionary(t => t.Key, t => new TenantContent(t.Value.Rows, RowSum.Hex(t.Value.Sum)), StringComparer.Ordinal),
                        StringComparer.Ordinal),
            };
        }

        var schema = _schemaObjects.Order(StringComparer.Ordinal).ToList();
        var fingerprint = new StringBuilder();
        foreach (var line in schema) fingerprint.Append(line).Append('\n');
        return new BackupContent
        {
            PgDumpVersion = _pgDumpVersion,
            ServerVersion = _serverVersion,
            TimeZone = _options.TimeZone,
            TenantColumn = _options.TenantColumn,
            Tables = tables,
            Sequences = new SortedDictionary<string, RecordedSequence>(_sequences, StringComparer.Ordinal),
            Migrations = _migrations?.State,
            SchemaFingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint.ToString()))),
            SchemaObjects = schema,
            Extensions = _extensions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            MaterializedViews = new SortedDictionary<string, bool>(_materializedViews, StringComparer.Ordinal),
            Comments = new SortedDictionary<string, string>(_comments, StringComparer.Ordinal),
        };
    }

    /// <summary>A table's own rows plus, for a partitioned table, its partitions' (recursively).</summary>
    private Totals Total(string name, Dictionary<string, List<string>> children, Dictionary<string, Totals> done, HashSet<string> visiting)
    {
        if (done.TryGetValue(name, out var known)) return known;
        if (!visiting.Add(name))
        {
            throw new InvalidDataException($"The dump's partitions of {name} form a cycle: the dump is damaged.");
        }
        var table = _tables[name];
        var rows = new RowSum();
        rows.Add(table.Own.Rows, table.Own.Sum);
        Dictionary<string, RowSum>? tenants = null;
        if (table.Tenants is not null)
        {
            tenants = new Dictionary<string, RowSum>(StringComparer.Ordinal);
            foreach (var (key, sum) in table.Tenants) Merge(tenants, CopyText.Unescape(key), sum);
        }
        foreach (var child in children.GetValueOrDefault(name) ?? [])
        {
            var part = Total(child, children, done, visiting);
            rows.Add(part.Rows.Rows, part.Rows.Sum);
            if (part.Tenants is null) continue;
            tenants ??= new Dictionary<string, RowSum>(StringComparer.Ordinal);
            foreach (var (tenant, sum) in part.Tenants) Merge(tenants, tenant, sum);
        }
        visiting.Remove(name);
        return done[name] = new Totals(rows, tenants);
    }

    // Two printed ids can only name one tenant when one is NULL (\N) and the other the text "\N":
    // their rows are counted together, so no row is lost from the totals.
    private static void Merge(Dictionary<string, RowSum> into, string tenant, RowSum sum)
    {
        if (!into.TryGetValue(tenant, out var total))
        {
            into[tenant] = total = new RowSum();
        }
        total.Add(sum.Rows, sum.Sum);
    }
}
