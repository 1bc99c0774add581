using System.Security.Cryptography;
using Commissable.Backup.Core.Storage;

namespace Commissable.Backup.Core.Export;

/// <summary>What an export wrote is a dump: it exists, is not empty, and its content matches the MD5 the store reports.</summary>
internal static class ExportObjectCheck
{
    /// <summary>The dump's metadata once it passed; throws <see cref="InvalidOperationException"/> saying what is wrong.</summary>
    public static async Task<StoredObject> VerifyAsync(IBackupStore store, string objectName, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(objectName, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The export finished but gs://{store.Bucket}/{objectName} does not exist.");
        if (stored.Size < 20)
        {
            throw new InvalidOperationException($"The export gs://{store.Bucket}/{objectName} is only {stored.Size} bytes; a dump is never that small.");
        }
        if (stored.Md5Hash is { } expected)
        {
            // MD5 here is Cloud Storage's integrity checksum (md5Hash), not a security measure.
#pragma warning disable CA5351
            using var md5 = MD5.Create();
#pragma warning restore CA5351
            await using var content = await store.OpenReadAsync(objectName, cancellationToken).ConfigureAwait(false);
            var actual = Convert.ToBase64String(await md5.ComputeHashAsync(content, cancellationToken).ConfigureAwait(false));
            if (actual != expected)
            {
                throw new InvalidOperationException($"The export gs://{store.Bucket}/{objectName} does not match its MD5 ({actual} read, {expected} reported).");
            }
        }
        return stored;
    }
}
