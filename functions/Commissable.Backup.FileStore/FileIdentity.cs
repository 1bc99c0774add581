using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Commissable.Backup.FileStore;

/// <summary>
/// What identifies one version of a file's content without reading it: the file (device and inode)
/// and its status change time (ctime, nanoseconds since the Unix epoch), with its size and
/// modification time. Unlike the modification time, the change time cannot be set by a writer: the
/// kernel sets it to the current time on every write, truncation, rename, link, chmod and
/// <c>utimes</c> (including the one that puts a modification time back). A file replaced by another
/// has another inode, or the same inode number with a newer change time.
/// </summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode, long ChangedNs, long Size, long ModifiedNs)
{
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const uint StatxInodeAndTimes = 0x100 | 0x80 | 0x40 | 0x200; // STATX_INO | STATX_CTIME | STATX_MTIME | STATX_SIZE

    /// <summary>The identity of the open file; null where statx(2) is unavailable or does not report it.</summary>
    public static FileIdentity? Of(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var buffer = new StatxBuffer();
            if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxBasicStats, ref buffer) != 0
                || (buffer.Mask & StatxInodeAndTimes) != StatxInodeAndTimes)
            {
                return null;
            }

            return new FileIdentity(
                ((ulong)buffer.DeviceMajor << 32) | buffer.DeviceMinor,
                buffer.Inode,
                Nanoseconds(buffer.ChangedSeconds, buffer.ChangedNanoseconds),
                (long)buffer.Size,
                Nanoseconds(buffer.ModifiedSeconds, buffer.ModifiedNanoseconds));
        }
        catch (EntryPointNotFoundException)
        {
            // A C library older than statx(2) (glibc 2.28): nothing is remembered, every read hashes.
            return null;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static long Nanoseconds(long seconds, uint nanoseconds) => (seconds * 1_000_000_000) + nanoseconds;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref StatxBuffer buffer);

    /// <summary><c>struct statx</c>: the same layout on every architecture, 256 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(96)] public long ChangedSeconds;
        [FieldOffset(104)] public uint ChangedNanoseconds;
        [FieldOffset(112)] public long ModifiedSeconds;
        [FieldOffset(120)] public uint ModifiedNanoseconds;
        [FieldOffset(136)] public uint DeviceMajor;
        [FieldOffset(140)] public uint DeviceMinor;
    }
}
