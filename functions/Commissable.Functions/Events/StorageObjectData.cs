namespace Commissable.Functions.Events;

/// <summary>
/// The data of Cloud Storage object events (<c>google.cloud.storage.object.v1.finalized</c>,
/// <c>.deleted</c>, <c>.archived</c>, <c>.metadataUpdated</c>), typed from
/// <c>google.events.cloud.storage.v1.StorageObjectData</c>. Every member is optional, as in proto3 JSON.
/// </summary>
/// <remarks>
/// The int64 fields (<see cref="Generation"/>, <see cref="Metageneration"/>, <see cref="Size"/>)
/// arrive as JSON strings from Eventarc (<c>"generation": "1587627537231057"</c>) and as numbers
/// from some producers (Workflows); both are read into <see cref="long"/>, the type generation
/// preconditions take.
/// </remarks>
public sealed record StorageObjectData
{
    /// <summary>The bucket holding the object.</summary>
    public string? Bucket { get; init; }

    /// <summary>The object's name (its path inside the bucket).</summary>
    public string? Name { get; init; }

    /// <summary>The object's content generation; changes whenever the content is replaced.</summary>
    public long? Generation { get; init; }

    /// <summary>The metadata version within this generation.</summary>
    public long? Metageneration { get; init; }

    /// <summary>Content length in bytes.</summary>
    public long? Size { get; init; }

    /// <summary>Base64 MD5 of the content (absent for composite objects).</summary>
    public string? Md5Hash { get; init; }

    /// <summary>Base64 big-endian CRC32C of the content.</summary>
    public string? Crc32c { get; init; }

    /// <summary>The object's HTTP 1.1 entity tag.</summary>
    public string? Etag { get; init; }

    /// <summary><c>bucket/name/generation</c>.</summary>
    public string? Id { get; init; }

    /// <summary>Always <c>storage#object</c>.</summary>
    public string? Kind { get; init; }

    /// <summary>Content-Type of the object data.</summary>
    public string? ContentType { get; init; }

    /// <summary>Content-Encoding of the object data (e.g. <c>gzip</c>).</summary>
    public string? ContentEncoding { get; init; }

    /// <summary>Content-Disposition of the object data.</summary>
    public string? ContentDisposition { get; init; }

    /// <summary>Content-Language of the object data.</summary>
    public string? ContentLanguage { get; init; }

    /// <summary>Cache-Control of the object data.</summary>
    public string? CacheControl { get; init; }

    /// <summary>How many objects were composed into this one.</summary>
    public int? ComponentCount { get; init; }

    /// <summary>The storage class (STANDARD, NEARLINE...).</summary>
    public string? StorageClass { get; init; }

    /// <summary>The Cloud KMS key encrypting the object, if any.</summary>
    public string? KmsKeyName { get; init; }

    /// <summary>When this generation was created.</summary>
    public DateTimeOffset? TimeCreated { get; init; }

    /// <summary>When the metadata last changed.</summary>
    public DateTimeOffset? Updated { get; init; }

    /// <summary>When this generation was deleted (deleted/archived events only).</summary>
    public DateTimeOffset? TimeDeleted { get; init; }

    /// <summary>When the storage class last changed.</summary>
    public DateTimeOffset? TimeStorageClassUpdated { get; init; }

    /// <summary>When a retention policy stops protecting the object.</summary>
    public DateTimeOffset? RetentionExpirationTime { get; init; }

    /// <summary>Whether a temporary hold is set.</summary>
    public bool? TemporaryHold { get; init; }

    /// <summary>Whether an event-based hold is set.</summary>
    public bool? EventBasedHold { get; init; }

    /// <summary>User metadata.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Customer-supplied encryption, if any.</summary>
    public CustomerEncryption? CustomerEncryption { get; init; }

    /// <summary>Download link.</summary>
    public string? MediaLink { get; init; }

    /// <summary>Link to this resource.</summary>
    public string? SelfLink { get; init; }
}

/// <summary>Describes a customer-supplied encryption key.</summary>
public sealed record CustomerEncryption
{
    /// <summary>The algorithm, e.g. AES256.</summary>
    public string? EncryptionAlgorithm { get; init; }

    /// <summary>Base64 SHA-256 of the key.</summary>
    public string? KeySha256 { get; init; }
}
