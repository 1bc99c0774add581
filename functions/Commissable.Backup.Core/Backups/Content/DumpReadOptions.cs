namespace Commissable.Backup.Core.Backups.Content;

public sealed record DumpReadOptions
{
    public string TenantColumn { get; init; } = "tenantId";
    public string TimeZone { get; init; } = "UTC";
    public IProgress<long>? BytesRead { get; init; }
}
