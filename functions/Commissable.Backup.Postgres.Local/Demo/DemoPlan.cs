namespace Commissable.Backup.Postgres.Demo;

/// <summary>The tables the generator fills, in load order (parents before children).</summary>
internal enum DemoTable
{
    Tenant,
    Role,
    RolePermission,
    User,
    UserRole,
    Account,
    Contact,
    Product,
    Opportunity,
    Activity,
    Note,
    Task,
    AuditLog,
    Deposit,
    DepositLineItem,
    ImportJob,
    RevenueSchedule,
    Commission,
    Payout,
    Reconciliation,
}

/// <summary>
/// How many rows each table has per tenant, and where each tenant's integer ids start. Every id and
/// foreign key is a pure function of (seed, table, tenant, index), so children find their parents
/// without the generator keeping anything in memory.
/// </summary>
internal sealed class DemoPlan
{
    /// <summary>Roles every tenant has, in id order; the first is the administrator.</summary>
    public static readonly string[] RoleNames = ["Administrator", "Sales Manager", "Sales Representative", "Finance", "Read Only"];

    /// <summary>Rows of "Permission" the migrations insert (ids 1..n).</summary>
    public const int PermissionCount = 12;

    // Tenants are not all alike: sizes cycle around the average (the cycle averages exactly 1).
    private static readonly double[] TenantFactors = [1.0, 0.6, 1.4, 0.8, 1.2];

    private readonly int[][] _counts;
    private readonly long[][] _offsets;

    public DemoPlan(DemoDatabaseOptions options)
    {
        Options = options;
        var tables = Enum.GetValues<DemoTable>();
        _counts = new int[tables.Length][];
        _offsets = new long[tables.Length][];
        foreach (var table in tables)
        {
            var counts = new int[options.Tenants];
            var offsets = new long[options.Tenants];
            long total = 0;
            for (var tenant = 0; tenant < options.Tenants; tenant++)
            {
                counts[tenant] = CountFor(table, tenant);
                offsets[tenant] = total;
                total += counts[tenant];
            }
            _counts[(int)table] = counts;
            _offsets[(int)table] = offsets;
        }
    }

    public DemoDatabaseOptions Options { get; }
    public int Tenants => Options.Tenants;
    public ulong SeedSalt => DemoRandom.Mix((ulong)(uint)Options.Seed ^ 0xC0FFEE);

    public int Count(DemoTable table, int tenant) => _counts[(int)table][tenant];

    public long Total(DemoTable table) => _counts[(int)table].Sum(c => (long)c);

    /// <summary>The integer id (1-based, global across tenants) of a row of an integer-keyed table.</summary>
    public long IntId(DemoTable table, int tenant, int index) => _offsets[(int)table][tenant] + index + 1;

    /// <summary>Permissions granted to the role at <paramref name="roleIndex"/>: the first n of the catalog.</summary>
    public static int PermissionsOfRole(int roleIndex) => roleIndex switch
    {
        0 => PermissionCount,
        1 => 9,
        2 => 6,
        3 => 4,
        _ => 3,
    };

    private int CountFor(DemoTable table, int tenant)
    {
        var r = Options.RowsPerTenant * TenantFactors[tenant % TenantFactors.Length];
        int Scaled(double ratio, int minimum) => Math.Max(minimum, (int)(r * ratio));
        return table switch
        {
            DemoTable.Tenant => 1,
            DemoTable.Role => RoleNames.Length,
            DemoTable.RolePermission => Enumerable.Range(0, RoleNames.Length).Sum(PermissionsOfRole),
            DemoTable.User => Scaled(1.0 / 40, 3),
            DemoTable.UserRole => CountFor(DemoTable.User, tenant),
            DemoTable.Account => Scaled(1.0 / 10, 5),
            DemoTable.Contact => Scaled(1.0 / 5, 5),
            DemoTable.Product => Scaled(1.0 / 50, 5),
            DemoTable.Opportunity => Scaled(1.0 / 5, 5),
            DemoTable.Activity => Scaled(1.0, 10),
            DemoTable.Note => Scaled(1.0 / 4, 5),
            DemoTable.Task => Scaled(1.0 / 5, 5),
            DemoTable.AuditLog => Scaled(1.0, 10),
            DemoTable.Deposit => Scaled(1.0 / 100, 2),
            DemoTable.DepositLineItem => Scaled(1.0 / 2, 5),
            DemoTable.ImportJob => Scaled(1.0 / 500, 2),
            DemoTable.RevenueSchedule => Scaled(1.0 / 2, 5),
            DemoTable.Commission => CountFor(DemoTable.RevenueSchedule, tenant) * 4 / 5,
            DemoTable.Payout => CountFor(DemoTable.RevenueSchedule, tenant) * 4 / 5 * 3 / 5,
            DemoTable.Reconciliation => CountFor(DemoTable.DepositLineItem, tenant) * 7 / 10,
            _ => throw new ArgumentOutOfRangeException(nameof(table), table, null),
        };
    }
}
