using System.Text.Json;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;

namespace Commissable.Backup.Core.Export;

/// <summary>
/// How the export's side objects (ticket, lease, name claim) are written, read and removed: JSON
/// in the catalog's shape, each write guarded by a generation.
/// </summary>
internal static class ExportStoreObjects
{
    /// <summary>Writes <paramref name="value"/> as JSON over <paramref name="ifGenerationMatch"/> (0: create only); returns the new generation.</summary>
    public static async Task<long> WriteJsonAsync<T>(this IBackupStore store, string objectName, T value, long ifGenerationMatch, CancellationToken cancellationToken = default)
    {
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, CatalogJson.Options));
        return (await store.WriteAsync(objectName, content, "application/json", ifGenerationMatch, cancellationToken).ConfigureAwait(false)).Generation;
    }

    /// <summary>The object's JSON, or null when it is absent or not JSON of that shape.</summary>
    public static async Task<T?> ReadJsonOrNullAsync<T>(this IBackupStore store, string objectName, CancellationToken cancellationToken) where T : class
    {
        try
        {
            await using var content = await store.OpenReadAsync(objectName, cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<T>(content, CatalogJson.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Deletes exactly that generation of the object, unless someone else already released or replaced it.</summary>
    public static async Task TryDeleteAsync(this IBackupStore store, string objectName, long generation)
    {
        try
        {
            await store.DeleteAsync(objectName, generation).ConfigureAwait(false);
        }
        catch (Exception error) when (error is StorePreconditionFailedException or StoredObjectNotFoundException)
        {
            // Someone else already released or replaced it.
        }
    }
}
