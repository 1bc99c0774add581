namespace Commissable.Backup.Core.Databases;

/// <summary>What a caller of <see cref="IRestoredDatabaseChecks.RunAsync"/> decides about the checks.</summary>
public sealed record RestoreCheckOptions
{
    /// <summary>Tables in <c>public</c> that must exist and have at least one row.</summary>
    public IReadOnlyList<string> CriticalTables { get; init; } = [];

    /// <summary>
    /// Default of the tenant column (<c>TENANT_COLUMN</c>): the Commissable schema's. Content
    /// manifests keep rows and digests per tenant of every table that has it.
    /// </summary>
    public const string DefaultTenantColumn = "tenantId";
}
