namespace Commissable.Backup.Core.Databases;

/// <summary>What a caller of <see cref="IRestoredDatabaseChecks.RunAsync"/> decides about the checks.</summary>
public sealed record RestoreCheckOptions
{
    /// <summary>How far a table's row count may be from the recorded one, as a fraction of it (0.01 = 1 %); 0 is exact.</summary>
    public decimal RowCountToleranceFraction { get; init; }

    /// <summary>Tables in <c>public</c> that must exist and have at least one row.</summary>
    public IReadOnlyList<string> CriticalTables { get; init; } = [];

    /// <summary>Whether an empty tenant set fails <c>tenants.same</c> whatever the manifest says (a database checked in place).</summary>
    public bool RequireTenants { get; init; }

    /// <summary>
    /// The column that marks a multi-tenant table, exactly as in the catalog (default
    /// <c>tenantId</c>). The tenant checks apply where a table in <c>public</c> has it.
    /// </summary>
    public string TenantColumn { get; init; } = DefaultTenantColumn;

    /// <summary>Default of <see cref="TenantColumn"/>: the Commissable schema's tenant column.</summary>
    public const string DefaultTenantColumn = "tenantId";
}
