using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// Widens a pipe to a program from Linux's 64 KiB to 1 MiB (F_SETPIPE_SZ; the default limit for an
/// unprivileged process, fs.pipe-max-size): the program and this process then wake each other
/// sixteen times less often for the same bytes. Best effort: a refused size leaves the pipe as it was.
/// </summary>
internal static class PipeCapacity
{
    public const int Size = 1 << 20;
    private const int SetPipeSize = 1031; // F_SETPIPE_SZ

    public static void Widen(Stream stream)
    {
        if (stream is PipeStream pipe)
        {
            _ = SetSize(pipe.SafePipeHandle.DangerousGetHandle(), SetPipeSize, Size);
        }
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetSize(nint descriptor, int command, int size);
}
