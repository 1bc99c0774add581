using CloudNative.CloudEvents;
using Commissable.Backup.Core.Storage;

namespace Commissable.Backup.Cli.Local;

/// <summary>
/// The CloudEvent Eventarc delivers when Cloud Storage finalizes an object
/// (<c>google.cloud.storage.object.v1.finalized</c>), built from the local bucket's metadata so the
/// drill exercises <c>on-backup-completed</c> as Google would call it.
/// </summary>
internal static class StorageEvents
{
    public const string Finalized = "google.cloud.storage.object.v1.finalized";

    /// <summary>
    /// The event for <paramref name="stored"/>, sent at <paramref name="now"/>, its data the object's
    /// resource. The generation is the store's own (microseconds since the Unix epoch, as Cloud
    /// Storage counts them), so the manifest records the generation a later precondition on the
    /// object must name.
    /// </summary>
    public static CloudEvent ObjectFinalized(StoredObject stored, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return new CloudEvent
        {
            Id = Guid.NewGuid().ToString(),
            Type = Finalized,
            // Eventarc's source is a network-path reference, not an absolute URI.
            Source = new Uri($"//storage.googleapis.com/projects/_/buckets/{stored.Bucket}", UriKind.Relative),
            Subject = $"objects/{stored.Name}",
            Time = now,
            DataContentType = "application/json",
            Data = ObjectResource.From(stored),
        };
    }
}
