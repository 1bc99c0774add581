using System.Runtime.InteropServices;

namespace Commissable.Backup.FileStore;

/// <summary>
/// The clock the kernel stamps a file's change time (ctime) from: <c>CLOCK_REALTIME_COARSE</c>,
/// which advances once per timer tick (a few milliseconds). Two changes in one tick can carry the
/// same change time, so checksums are remembered for a change time only once this clock has passed
/// it: every later change is then stamped later.
/// </summary>
internal static class ChangeClock
{
    private const int ClockRealtimeCoarse = 5;

    /// <summary>Nanoseconds since the Unix epoch, as the kernel stamps file times now.</summary>
    public static long NowNanoseconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ClockRealtimeCoarse, out var now) == 0)
        {
            return ((long)now.Seconds * 1_000_000_000) + now.Nanoseconds;
        }

        // No coarse clock: a time no change is ever before, so nothing is remembered.
        return long.MinValue;
    }

    [DllImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        // time_t and long: the word size of the platform.
        public nint Seconds;
        public nint Nanoseconds;
    }
}
