using System.Runtime.InteropServices;
using Commissable.Backup.Core.Files;
using Microsoft.Win32.SafeHandles;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A FIFO that hands one file's bytes to a program that opens it by name, with no copy on disk.
/// Opening its write end waits for the program to open the read end (open(2) blocks on a FIFO
/// until both ends are there); <see cref="OpenWriterAsync"/> can be abandoned, which no blocking
/// call can by itself, so a program that dies or never comes cannot leave the feeder waiting.
/// </summary>
internal sealed class NamedPipe
{
    private readonly object _gate = new();
    private bool _opening;
    private bool _opened;
    private bool _abandoned;
    private SafeFileHandle? _release;

    private NamedPipe(string path) => Path = path;

    public string Path { get; }

    /// <summary>Creates the FIFO, readable and writable by this account only.</summary>
    public static NamedPipe Create(string path)
    {
        if (MakeFifo(path, (uint)OwnerOnly.FileMode) != 0)
        {
            throw new IOException($"mkfifo {path} failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        return new NamedPipe(path);
    }

    /// <summary>
    /// Opens the write end once the program opens the FIFO for reading. Cancelled (the program is
    /// gone, or the read was abandoned), it returns at once with <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<FileStream> OpenWriterAsync(CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(Abandon).ConfigureAwait(false);
        lock (_gate)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _opening = true;
        }
        SafeFileHandle handle;
        try
        {
            handle = await Task.Factory.StartNew(
                () => File.OpenHandle(Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _opened = true;
                _release?.Dispose();
            }
        }
        lock (_gate)
        {
            if (_abandoned)
            {
                handle.Dispose();
                throw new OperationCanceledException(cancellationToken);
            }
        }
        return new FileStream(handle, FileAccess.Write, bufferSize: 0);
    }

    /// <summary>
    /// Releases a writer waiting in open(2): opening the FIFO read-write never blocks on Linux and
    /// gives the waiting open the reader it waits for; the writer then sees it was abandoned.
    /// </summary>
    private void Abandon()
    {
        lock (_gate)
        {
            _abandoned = true;
            if (_opening && !_opened && _release is null)
            {
                _release = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            }
        }
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
}
