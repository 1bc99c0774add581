using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Backups.Content;

/// <summary>How to read an instance's exports: with the tenant column, in the zone its pg_dump printed them in.</summary>
public static class ExportReading
{
    /// <summary>
    /// The read options for an export of <paramref name="instance"/>: its <c>timezone</c> flag (how
    /// its exports print a <c>timestamptz</c>, <see cref="Settings.TimeZone"/>), or UTC, Cloud SQL's
    /// default, when the instance no longer exists.
    /// </summary>
    public static async Task<DumpReadOptions> OptionsAsync(ICloudSqlAdmin sql, string instance, string tenantColumn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        string zone;
        try
        {
            zone = (await sql.GetInstanceAsync(instance, cancellationToken).ConfigureAwait(false)).Settings?.TimeZone ?? "UTC";
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            zone = "UTC";
        }
        return new DumpReadOptions { TenantColumn = tenantColumn, TimeZone = zone };
    }
}
