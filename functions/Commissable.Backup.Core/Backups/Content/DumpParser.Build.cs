using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Commissable.Backup.Core.Backups.Content;

internal sealed partial class DumpParser
{
    private sealed record Totals(RowSum Rows, Dictionary<string, RowSum>? Tenants);

    private BackupContent Build()
    {
        if (_largeObject is { } open)
        {
            throw new InvalidDataException($"The dump ends inside the data of large object {open.Id} (lo_open without lo_close): it is cut short or damaged.");
        }
        foreach (var (child, parent) in _parentOf)
        {
            Table(child);
            Table(parent).DeclaredPartitioned = true;
        }
        var children = _parentOf
            .GroupBy(p => p.Value, p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

        var totals = new Dictionary<string, Totals>(StringComparer.Ordinal);
        var tenantNames = new Dictionary<byte[], string>(ByteKeyComparer.Instance);
        var tables = new List<KeyValuePair<string, TableContent>>(_tables.Count);
        foreach (var (name, table) in _tables)
        {
            var total = Total(name, children, totals, tenantNames, []);
            tables.Add(new(name, new TableContent
            {
                Rows = total.Rows.Rows,
                Digest = RowSum.Hex(total.Rows.Sum),
                Columns = table.Columns ?? [],
                PartitionOf = _parentOf.GetValueOrDefault(name),
                Partitioned = table.DeclaredPartitioned || children.ContainsKey(name),
                Tenants = total.Tenants is null
                    ? null
                    : Ordered(total.Tenants.Select(t => KeyValuePair.Create(t.Key, new TenantContent(t.Value.Rows, RowSum.Hex(t.Value.Sum))))),
            }));
            // Only a parent asks for a table's totals again.
            if (!_parentOf.ContainsKey(name)) totals.Remove(name);
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
            Tables = Ordered(tables),
            Sequences = Ordered(_sequences),
            Migrations = _migrations?.State,
            SchemaFingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint.ToString()))),
            SchemaObjects = schema,
            Extensions = _extensions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            MaterializedViews = Ordered(_materializedViews),
            Comments = Ordered(_comments),
        };
    }

    /// <summary>A table's own rows plus, for a partitioned table, its partitions' (recursively).</summary>
    private Totals Total(
        string name, Dictionary<string, List<string>> children, Dictionary<string, Totals> done, Dictionary<byte[], string> tenantNames, HashSet<string> visiting)
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
            foreach (var (key, sum) in table.Tenants)
            {
                // One string per tenant, shared by every table it has rows in.
                if (!tenantNames.TryGetValue(key, out var tenant)) tenantNames[key] = tenant = CopyText.Unescape(key);
                Merge(tenants, tenant, sum);
            }
            table.ReleaseTenants();
        }
        foreach (var child in children.GetValueOrDefault(name) ?? [])
        {
            var part = Total(child, children, done, tenantNames, visiting);
            rows.Add(part.Rows.Rows, part.Rows.Sum);
            if (part.Tenants is null) continue;
            tenants ??= new Dictionary<string, RowSum>(StringComparer.Ordinal);
            foreach (var (tenant, sum) in part.Tenants) Merge(tenants, tenant, sum);
        }
        visiting.Remove(name);
        return done[name] = new Totals(rows, tenants);
    }

    /// <summary>
    /// A dictionary filled in ordinal key order, so that it enumerates (and serialises) in that
    /// order: the same content always gives the same JSON.
    /// </summary>
    private static Dictionary<string, T> Ordered<T>(IEnumerable<KeyValuePair<string, T>> items)
    {
        var sorted = items.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var result = new Dictionary<string, T>(sorted.Length, StringComparer.Ordinal);
        foreach (var (key, value) in sorted) result.Add(key, value);
        return result;
    }

    // Two printed ids can only name one tenant when one is NULL (\N) and the other the text "\N":
    // their rows are counted together, so no row is lost from the totals.
    private static void Merge(Dictionary<string, RowSum> into, string tenant, RowSum sum) =>
        CollectionsMarshal.GetValueRefOrAddDefault(into, tenant, out _).Add(sum.Rows, sum.Sum);
}
