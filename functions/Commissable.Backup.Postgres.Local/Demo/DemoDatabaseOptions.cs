namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// How big the demo CRM is. The same options (seed included) always produce byte-identical data,
/// so table hashes of two demo databases built with equal options are equal.
/// </summary>
/// <remarks>
/// Size grows linearly with <see cref="Tenants"/> × <see cref="RowsPerTenant"/>: about 1.73 MiB
/// per 1,000 (tenant × row) on top of an empty database's 7.5 MiB. Measured with
/// <c>pg_database_size</c> right after <see cref="DemoDatabase.CreateAsync"/> on PostgreSQL 15,
/// two cores, <c>fsync=off</c> (times include index and foreign key builds; memory stays under
/// 80 MiB whatever the size, because rows are streamed):
/// <list type="table">
/// <listheader><term>options</term><description>size, time</description></listheader>
/// <item><term><see cref="Tiny"/> (3 × 400)</term><description>12 MiB, under 1 s</description></item>
/// <item><term><see cref="Small"/> (8 × 3,000)</term><description>52 MiB, 4 s</description></item>
/// <item><term><see cref="Medium"/> (16 × 10,000)</term><description>287 MiB, 13 s</description></item>
/// <item><term>28 × 20,000</term><description>979 MiB, 32 s</description></item>
/// <item><term><see cref="Large"/> (40 × 50,000)</term><description>3.4 GiB, 83 s</description></item>
/// </list>
/// </remarks>
public sealed record DemoDatabaseOptions
{
    /// <summary>Number of tenants (1 to 100,000).</summary>
    public int Tenants { get; init; } = 3;

    /// <summary>
    /// Rows per tenant in the biggest tables (<c>"Activity"</c>, <c>"AuditLog"</c>); the other
    /// tables scale from it (for example one opportunity per five activities). Tenants differ in
    /// size around this average (0.6× to 1.4×), as real tenants do.
    /// </summary>
    public int RowsPerTenant { get; init; } = 400;

    /// <summary>Seed of every generated value; a different seed gives different data in the same schema.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>About 12 MiB, for tests: loads in under a second.</summary>
    public static DemoDatabaseOptions Tiny { get; } = new() { Tenants = 3, RowsPerTenant = 400 };

    /// <summary>About 50 MiB: enough rows for indexes and query plans to matter.</summary>
    public static DemoDatabaseOptions Small { get; } = new() { Tenants = 8, RowsPerTenant = 3_000 };

    /// <summary>About 290 MiB: a production-sized restore that still fits a laptop.</summary>
    public static DemoDatabaseOptions Medium { get; } = new() { Tenants = 16, RowsPerTenant = 10_000 };

    /// <summary>About 3.4 GiB, for benchmarks of export, restore and verification.</summary>
    public static DemoDatabaseOptions Large { get; } = new() { Tenants = 40, RowsPerTenant = 50_000 };

    internal void Validate()
    {
        if (Tenants is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(Tenants), Tenants, "Tenants must be between 1 and 100,000.");
        }
        if (RowsPerTenant is < 10 or > 50_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(RowsPerTenant), RowsPerTenant, "RowsPerTenant must be between 10 and 50,000,000.");
        }
        // Keeps the serial (int4) ids of the biggest integer-keyed table within range.
        if ((long)Tenants * RowsPerTenant > 2_000_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(RowsPerTenant), RowsPerTenant, "Tenants × RowsPerTenant must be at most 2,000,000,000 (about 3.4 TiB).");
        }
    }
}
