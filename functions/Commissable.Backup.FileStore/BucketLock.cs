using Commissable.Backup.Core.Files;
namespace Commissable.Backup.FileStore;

/// <summary>
/// Serialises the mutations of one bucket across threads and processes: an exclusive lock on a
/// file outside the bucket directory. On Unix, .NET opens a file with <see cref="FileShare.None"/>
/// under <c>flock(LOCK_EX | LOCK_NB)</c>, which conflicts between processes and between two opens
/// in one process, and the kernel drops it when its holder dies, so a crash never leaves the
/// bucket locked. The attempt does not block, so waiting is a retry with a short backoff.
/// </summary>
internal sealed class BucketLock
{
    private static readonly TimeSpan MaximumBackoff = TimeSpan.FromMilliseconds(25);
    private readonly string _path;
    private readonly TimeSpan _timeout;

    public BucketLock(string path, TimeSpan timeout)
    {
        _path = path;
        _timeout = timeout;
    }

    public string Path => _path;

    /// <summary>Takes the lock; disposing the result releases it.</summary>
    public async Task<IDisposable> AcquireAsync(CancellationToken cancellationToken)
    {
        var started = Environment.TickCount64;
        var backoff = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!, OwnerOnly.DirectoryMode);
            try
            {
                return new FileStream(_path, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    BufferSize = 1,
                    UnixCreateMode = OwnerOnly.FileMode,
                });
            }
            catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                // Held by another writer (EWOULDBLOCK surfaces as a sharing violation).
            }
            catch (DirectoryNotFoundException)
            {
                // Someone removed the lock directory between CreateDirectory and the open: try again.
            }

            if (TimeSpan.FromMilliseconds(Environment.TickCount64 - started) > _timeout)
            {
                throw new TimeoutException($"The bucket lock {_path} has been held by another writer for more than {_timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaximumBackoff.Ticks));
        }
    }
}
