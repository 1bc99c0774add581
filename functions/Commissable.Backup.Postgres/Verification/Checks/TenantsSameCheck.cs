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
/// <remarks>
/// Tenants are a property of schemas that have the tenant column
/// (<see cref="VerificationOptions.TenantColumn"/>). A database where no table in <c>public</c> has
/// it is not multi-tenant: the check passes saying it did not apply and why, unless the manifest
/// recorded tenants (then the column is gone) or, with <see cref="VerificationOptions.RequireTenants"/>,
/// <c>public</c> holds no table at all (an empty database). Where the column exists the check must
/// compare with something: the manifest's tenants, or the requirement of at least one; with
/// neither it fails rather than pass unproven.
/// </remarks>
internal sealed class TenantsSameCheck : IRestoreCheck
{
    /// <summary>How a result that did not compare tenants starts, so nobody reads it as a comparison.</summary>
    public const string NotApplicable = "not applicable";

    public string Name => RestoreChecks.TenantsSame;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var census = await context.CensusAsync(connection, cancellationToken).ConfigureAwait(false);
        var found = census.TenantIds;
        var (recorded, options) = (context.Recorded, context.Options);
        var column = Quote(options.TenantColumn);
        var recordedNothing = recorded is null || (recorded.RowCounts.Count == 0 && recorded.TenantIds.Count == 0);

        if (census.Tables.Count == 0)
        {
            if (!recordedNothing && recorded!.TenantIds.Count > 0)
            {
                return new(Name, false, string.Create(CultureInfo.InvariantCulture,
                    $"the manifest records {recorded.TenantIds.Count} tenants, but no table in {RowCounter.Schema} has a {column} column"));
            }
            if (options.RequireTenants && !await HasTablesAsync(connection, cancellationToken).ConfigureAwait(false))
            {
                return new(Name, false, $"no tenants: {RowCounter.Schema} has no tables at all (an empty database, or not the application's)");
            }
            return new(Name, true, $"{NotApplicable}: no table in {RowCounter.Schema} has the tenant column {column} (TENANT_COLUMN), so tenants were not compared");
        }

        if (options.RequireTenants && found.Count == 0)
        {
            return new(Name, false, $"no tenants: no business table in {RowCounter.Schema} has a {column} value (an empty database, or not the application's)");
        }
        if (recordedNothing)
        {
            return options.RequireTenants
                ? new(Name, true, string.Create(CultureInfo.InvariantCulture,
                    $"no manifest to compare with; found {found.Count} tenants in {census.Tables.Count} tables with {column} (at least one required)"))
                : new(Name, false, string.Create(CultureInfo.InvariantCulture,
                    $"nothing to compare with: the manifest records no tenants, and {census.Tables.Count} tables have {column} (found {found.Count} tenants)"));
        }
        var expected = recorded!.TenantIds.ToHashSet(StringComparer.Ordinal);
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

    private static async Task<bool> HasTablesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT EXISTS (
                SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = '{RowCounter.Schema}' AND c.relkind IN ('r', 'p') AND {NotExtensionMember("c")})
            """, connection);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
