using System.Text.Json;
using Commissable.Backup.Core.Catalog;

namespace Commissable.Backup.Core.Storage;

/// <summary>
/// How side objects (the export's ticket, lease and name claim; a tenant restore's plan, approval
/// and record) are written, read and removed: JSON in the catalog's shape, each write guarded by a
/// generation.
/// </summary>
public static class StoreJson
{
    /// <summary>Writes <paramref name="value"/> as the catalog's JSON over <paramref name="ifGenerationMatch"/> (0: create only); returns the new generation.</summary>
    /// <exception cref="StorePreconditionFailedException">The object's generation is not <paramref name="ifGenerationMatch"/> (with 0: it exists).</exception>
    public static Task<long> WriteJsonAsync<T>(this IBackupStore store, string objectName, T value, long ifGenerationMatch, CancellationToken cancellationToken = default) =>
        store.WriteJsonAsync(objectName, value, ifGenerationMatch, CatalogJson.Options, cancellationToken);

    /// <summary>The same, with other JSON options than the catalog's.</summary>
    public static async Task<long> WriteJsonAsync<T>(this IBackupStore store, string objectName, T value, long ifGenerationMatch, JsonSerializerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, options));
        return (await store.WriteAsync(objectName, content, "application/json", ifGenerationMatch, cancellationToken).ConfigureAwait(false)).Generation;
    }

    /// <summary>The object's JSON, or null when it is absent or not JSON of that shape.</summary>
    public static async Task<T?> ReadJsonOrNullAsync<T>(this IBackupStore store, string objectName, CancellationToken cancellationToken) where T : class
    {
        ArgumentNullException.ThrowIfNull(store);
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
        ArgumentNullException.ThrowIfNull(store);
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
