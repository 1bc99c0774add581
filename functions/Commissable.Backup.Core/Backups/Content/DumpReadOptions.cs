namespace Commissable.Backup.Core.Backups.Content;

/// <summary>How <see cref="DumpContentReader"/> reads a dump.</summary>
public sealed record DumpReadOptions
{
    /// <summary>
    /// The tenant column, unquoted (pg_dump prints it quoted where it needs quotes, <c>"tenantId"</c>):
    /// every table whose COPY list has it gets rows and a digest per tenant id.
    /// </summary>
    public string TenantColumn { get; init; } = "tenantId";

    /// <summary>
    /// The session TimeZone the dump's text was written in, recorded into
    /// <see cref="BackupContent.TimeZone"/>; the reader does not interpret it.
    /// </summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>Optional progress: bytes consumed so far (reported every few MB and at the end).</summary>
    public IProgress<long>? BytesRead { get; init; }
}
