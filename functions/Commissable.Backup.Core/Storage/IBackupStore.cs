namespace Commissable.Backup.Core.Storage;

/// <summary>
/// Objects in one bucket (Cloud Storage on Google, a directory per bucket in the local cloud).
/// Writes are atomic: an object is either absent or whole. Generation preconditions make
/// create-only writes (<c>ifGenerationMatch: 0</c>) and leases possible.
/// </summary>
public interface IBackupStore
{
    /// <summary>The bucket this store reads and writes.</summary>
    string Bucket { get; }

    /// <summary>The object's metadata, or null when it does not exist.</summary>
    Task<StoredObject?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Streams the object's content; throws <see cref="StoredObjectNotFoundException"/> when absent.</summary>
    Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="content"/> (streamed, never held whole in memory). With
    /// <paramref name="ifGenerationMatch"/> 0 the write only creates; with a generation it only
    /// replaces that generation; null writes unconditionally. A failed precondition throws
    /// <see cref="StorePreconditionFailedException"/> and changes nothing.
    /// </summary>
    Task<StoredObject> WriteAsync(string name, Stream content, string contentType, long? ifGenerationMatch, CancellationToken cancellationToken = default);

    /// <summary>Objects whose names start with <paramref name="prefix"/>, in name order.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the object; with <paramref name="ifGenerationMatch"/> only that generation.
    /// Deleting an absent object throws <see cref="StoredObjectNotFoundException"/>.
    /// </summary>
    Task DeleteAsync(string name, long? ifGenerationMatch, CancellationToken cancellationToken = default);
}

/// <summary>An object's metadata. Size and generation are int64 (strings in Google's JSON).</summary>
public sealed record StoredObject
{
    public required string Bucket { get; init; }
    public required string Name { get; init; }
    public required long Size { get; init; }
    public required long Generation { get; init; }
    public required DateTimeOffset Updated { get; init; }
    public string? ContentType { get; init; }
    /// <summary>Base64 MD5 of the content, as Cloud Storage reports it; null when unknown.</summary>
    public string? Md5Hash { get; init; }
    /// <summary>Base64 big-endian CRC32C of the content, as Cloud Storage reports it; null when unknown.</summary>
    public string? Crc32c { get; init; }

    public string Uri => $"gs://{Bucket}/{Name}";
}

/// <summary>A generation precondition did not hold (the object exists, or has another generation).</summary>
public sealed class StorePreconditionFailedException(string bucket, string name, long? expectedGeneration)
    : Exception($"Precondition failed for gs://{bucket}/{name}: expected generation {(expectedGeneration is 0 ? "none (create only)" : expectedGeneration?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any")}.")
{
    public string Name { get; } = name;
}

public sealed class StoredObjectNotFoundException(string bucket, string name)
    : Exception($"gs://{bucket}/{name} does not exist.")
{
    public string Name { get; } = name;
}
