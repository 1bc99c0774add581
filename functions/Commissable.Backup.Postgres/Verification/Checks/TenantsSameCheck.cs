using System.Globalization;
using Commissable.Backup.Core.Backups;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>
/// <c>tenants.same</c>: the tenant ids found in the business tables are the manifest's (and, with
/// <see cref="VerificationOptions.RequireTenants"/>, there is at least one).
/// </summary>
internal sealed class TenantsSameCheck : IRestoreCheck
{
    public string Name => RestoreChecks.TenantsSame;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var found = (await context.CensusAsync(connection, cancellationToken).ConfigureAwait(false)).TenantIds;
        var (recorded, options) = (context.Recorded, context.Options);
        if (options.RequireTenants && found.Count == 0)
        {
            return new(Name, false, $"no tenants: no business table in {RowCounter.Schema} has a {Quote(options.TenantColumn)} value (an empty database, or not the CRM's)");
        }
        if (recorded is null || (recorded.RowCounts.Count == 0 && recorded.TenantIds.Count == 0))
        {
            return new(Name, true, string.Create(CultureInfo.InvariantCulture, $"not recorded in the manifest; found {found.Count} tenants"));
        }
        var expected = recorded.TenantIds.ToHashSet(StringComparer.Ordinal);
        var foundSet = found.ToHashSet(StringComparer.Ordinal);
        var missing = expected.Where(t => !foundSet.Contains(t)).Order(StringComparer.Ordinal).ToList();
        var extra = found.Where(t => !expected.Contains(t)).ToList();
        if (missing.Count == 0 && extra.Count == 0)
        {
            return new(Name, true, string.Create(CultureInfo.InvariantCulture, $"{found.Count} tenants, as recorded"));
        }
        var parts = new List<string>();
        if (missing.Count > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{missing.Count} of {expected.Count} recorded tenants missing ({Listed(missing, 5)})"));
        }
        if (extra.Count > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{extra.Count} tenants not in the manifest ({Listed(extra, 5)})"));
        }
        return new(Name, false, string.Join("; ", parts));
    }
}
