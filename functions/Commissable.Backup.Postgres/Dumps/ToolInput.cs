using System.Buffers;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>Copies a backup object into a program, telling a failed read of the object from a program that stopped reading.</summary>
internal static class ToolInput
{
    public const int BufferSize = 1 << 20;

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="target"/>, then closes both. A failed
    /// read of the source propagates as it is; a failed write (the program stopped reading) is
    /// <see cref="ProgramStoppedReadingException"/>.
    /// </summary>
    public static async Task CopyAsync(Stream source, Stream target, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using (source.ConfigureAwait(false))
            {
                while (true)
                {
                    var read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }
                    try
                    {
                        await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException error)
                    {
                        throw new ProgramStoppedReadingException(error);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            try
            {
                await target.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The program already left; its exit status tells.
            }
        }
    }
}
