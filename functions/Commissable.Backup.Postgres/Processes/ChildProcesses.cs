using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Commissable.Backup.Postgres.Processes;

/// <summary>
/// A started program as the kernel knows it: its process id (also its process group, see
/// <see cref="ExternalProcess.Start"/>) and its start time in clock ticks since boot, which tells
/// it apart from a later process that reuses the id.
/// </summary>
public sealed record ChildProcess(int ProcessId, long StartTime);

/// <summary>Records the programs an operation starts, so a restart after a crash can find them.</summary>
public interface IChildProcessObserver
{
    /// <summary>Called as soon as the program runs, before any of its output is read.</summary>
    void Started(ChildProcess child);

    /// <summary>
    /// Called just before the program starts, with exactly what it is given (its command line and
    /// environment), which a program that ends at once no longer shows in /proc; nothing by default.
    /// </summary>
    void Starting(ProcessStartInfo program)
    {
    }
}

/// <summary>What a later process needs to make sure no program of a dead one still runs (Linux /proc).</summary>
public static class ChildProcesses
{
    private const int SigKill = 9;

    /// <summary>The start time of a running process, or null when there is none (or only a zombie).</summary>
    public static long? StartTime(int processId) =>
        Stat(processId) is { } stat && stat.State != 'Z' ? stat.StartTime : null;

    /// <summary>
    /// Kills (SIGKILL) the process groups of <paramref name="children"/> that still run, and waits up
    /// to <paramref name="timeout"/> for them to be gone; returns the ids of those still running then.
    /// A group is killed when its leader is the recorded process (same start time), or when the
    /// leader is gone but members remain: Linux never reuses the id of a living process group.
    /// </summary>
    public static IReadOnlyList<int> KillSurvivors(IEnumerable<ChildProcess> children, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(children);
        var groups = new HashSet<int>();
        foreach (var child in children)
        {
            var leader = Stat(child.ProcessId);
            var ours = leader is null || leader.Value.State == 'Z'
                ? GroupMembers(child.ProcessId).Count > 0
                : leader.Value.StartTime == child.StartTime;
            if (ours)
            {
                groups.Add(child.ProcessId);
            }
        }
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var alive = groups.SelectMany(GroupMembers).ToList();
            if (alive.Count == 0 || stopwatch.Elapsed > timeout)
            {
                return alive;
            }
            foreach (var group in groups)
            {
                _ = Kill(-group, SigKill);
            }
            // SIGKILL takes effect at once; the wait only covers the kernel tearing them down.
            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// Sends SIGKILL to every process of the group <paramref name="group"/> (a program started by
    /// <see cref="ExternalProcess.Start"/> leads its own); false when no process is in it any more.
    /// </summary>
    public static bool KillGroup(int group)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(group);
        return Kill(-group, SigKill) == 0;
    }

    /// <summary>The living (not zombie) processes whose process group is <paramref name="group"/>.</summary>
    public static IReadOnlyList<int> GroupMembers(int group)
    {
        var members = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                && Stat(id) is { State: not 'Z' } stat && stat.Group == group)
            {
                members.Add(id);
            }
        }
        return members;
    }

    private static (char State, int Group, long StartTime)? Stat(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[2], CultureInfo.InvariantCulture), long.Parse(fields[19], CultureInfo.InvariantCulture));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int processId, int signal);
}

/// <summary>
/// Starts every child process from one thread that lives as long as this process. The kernel's
/// parent-death signal fires when the <em>thread</em> that started a child ends, not the process,
/// and the thread pool retires idle threads: a child started from one would be killed mid-work.
/// </summary>
internal static class ChildLauncher
{
    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Result)> Requests = [];

    static ChildLauncher()
    {
        new Thread(Serve) { IsBackground = true, Name = "child process launcher" }.Start();
    }

    public static Process Start(ProcessStartInfo info)
    {
        var result = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((info, result));
        return result.Task.GetAwaiter().GetResult();
    }

    private static void Serve()
    {
        foreach (var (info, result) in Requests.GetConsumingEnumerable())
        {
            try
            {
                result.SetResult(Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}"));
            }
            catch (Exception error) when (error is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                result.SetException(error);
            }
        }
    }
}

/// <summary>Looks up a Unix account's numeric ids in /etc/passwd.</summary>
internal static class UnixAccount
{
    public static (int Uid, int Gid) Ids(string name)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name)
            {
                return (int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
            }
        }
        throw new InvalidOperationException($"The account '{name}' that runs the PostgreSQL clusters does not exist (see LOCALCLOUD_PG_USER).");
    }
}
