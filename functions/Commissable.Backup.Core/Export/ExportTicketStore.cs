using System.Text.Json;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;

namespace Commissable.Backup.Core.Export;

/// <summary>
/// The export tickets in the bucket, one per request under <c>&lt;prefix&gt;/.requests/&lt;id&gt;.json</c>:
/// read with the generation they were read at, and written only over that generation (or
/// created), so of two writers exactly one wins.
/// </summary>
internal sealed class ExportTicketStore(IBackupStore store, string prefix, TimeProvider clock)
{
    /// <summary>A ticket id as <see cref="PreDeployExporter.TicketId"/> makes them: 32 lower-case hex digits.</summary>
    public static bool IsTicketId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    public string ObjectName(string id) => $"{prefix}/.requests/{id}.json";

    public async Task<(ExportTicket Ticket, long Generation)?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(ObjectName(id), cancellationToken).ConfigureAwait(false);
        if (stored is null) return null;
        try
        {
            await using var content = await store.OpenReadAsync(ObjectName(id), cancellationToken).ConfigureAwait(false);
            var ticket = await JsonSerializer.DeserializeAsync<ExportTicket>(content, CatalogJson.Options, cancellationToken).ConfigureAwait(false);
            return ticket is null ? null : (ticket, stored.Generation);
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
    }

    public Task<long> WriteAsync(ExportTicket ticket, long ifGenerationMatch, CancellationToken cancellationToken) =>
        store.WriteJsonAsync(ObjectName(ticket.Id), ticket, ifGenerationMatch, cancellationToken);

    /// <summary>Writes the export's outcome, stamped with when it finished, over whatever generation is there now.</summary>
    public async Task FinishAsync(ExportTicket ticket)
    {
        var current = await ReadAsync(ticket.Id, CancellationToken.None).ConfigureAwait(false);
        await WriteAsync(ticket with { FinishedAt = clock.GetUtcNow() }, current?.Generation ?? 0, CancellationToken.None).ConfigureAwait(false);
    }
}
