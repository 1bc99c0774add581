using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Export;

namespace Commissable.Backup.Core.Databases;

/// <summary>
/// Exact counts of a database's tables (and of its tenants' rows), with the schema facts a
/// recovery's evidence compares: read in one read-only snapshot, counts only, never a row value.
/// </summary>
public interface IDatabaseCensus
{
    /// <summary>Reads the census of <paramref name="database"/> of <paramref name="instance"/>.</summary>
    /// <param name="instance">The instance (its address or connection name is where to connect).</param>
    /// <param name="database">The database.</param>
    /// <param name="tenantColumn">The column that marks a multi-tenant table, exactly as in the catalog.</param>
    /// <param name="limits">
    /// How long a statement may wait for a lock and run (a production database under load); null
    /// for no limit but <paramref name="cancellationToken"/>.
    /// </param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <exception cref="DatabaseUnreachableException">
    /// The database could not be reached, logged in to or read to the end (a limit included); the
    /// message says why and names no password.
    /// </exception>
    Task<DatabaseCensus> TakeAsync(DatabaseInstance instance, string database, string tenantColumn, DatabaseWaitLimits? limits, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="IDatabaseCensus.TakeAsync"/> read, all of it from schema <c>public</c> in one snapshot.</summary>
public sealed record DatabaseCensus
{
    /// <summary>Exact rows of every ordinary table (partitions included, partitioned parents not), keyed by unquoted name.</summary>
    public required IReadOnlyDictionary<string, long> Rows { get; init; }

    /// <summary>
    /// Tables with the tenant column (partitioned parents, not their partitions), keyed by unquoted
    /// name: rows per tenant id, and rows whose tenant column is NULL.
    /// </summary>
    public required IReadOnlyDictionary<string, TenantRows> Tenants { get; init; }

    /// <summary>Every ordinary table's columns as a dump copies them (not dropped, not generated), in column order.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Columns { get; init; }

    /// <summary>Whether <c>_prisma_migrations</c> exists.</summary>
    public bool MigrationsTable { get; init; }

    /// <summary>The greatest finished, not rolled back Prisma migration; null when none.</summary>
    public string? MigrationHead { get; init; }

    /// <summary>The schema fingerprint read from the catalog (the kind a manifest's <see cref="Backups.DatabaseSnapshot.SchemaFingerprint"/> holds).</summary>
    public required string SchemaFingerprint { get; init; }
}

/// <summary>One table's rows by tenant.</summary>
/// <param name="ByTenant">Rows per tenant id (the id as text).</param>
/// <param name="WithoutTenant">Rows whose tenant column is NULL.</param>
public sealed record TenantRows(IReadOnlyDictionary<string, long> ByTenant, long WithoutTenant);
