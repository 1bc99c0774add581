using Commissable.Backup.Core.Storage;

namespace Commissable.Functions.Tests.Retention;

/// <summary>
/// A real store through which a test acts at a chosen moment of a sweep, as a person or another
/// process would between the scan and the deletions: before a listing, a write or a deletion.
/// </summary>
public sealed class InterferingStore(IBackupStore inner) : IBackupStore
{
    public Func<string, Task>? BeforeList { get; set; }
    public Func<string, Task>? BeforeDelete { get; set; }
    public Func<string, Task>? BeforeWrite { get; set; }

    public string Bucket => inner.Bucket;

    public Task<StoredObject?> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);

    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) => inner.OpenReadAsync(name, cancellationToken);

    public async Task<StoredObject> WriteAsync(string name, Stream content, string contentType, long? ifGenerationMatch, CancellationToken cancellationToken = default)
    {
        if (BeforeWrite is { } hook) await hook(name);
        return await inner.WriteAsync(name, content, contentType, ifGenerationMatch, cancellationToken);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (BeforeList is { } hook) await hook(prefix);
        await foreach (var item in inner.ListAsync(prefix, cancellationToken))
        {
            yield return item;
        }
    }

    public async Task DeleteAsync(string name, long? ifGenerationMatch, CancellationToken cancellationToken = default)
    {
        if (BeforeDelete is { } hook) await hook(name);
        await inner.DeleteAsync(name, ifGenerationMatch, cancellationToken);
    }
}
