using System.Diagnostics;
using System.Text;

namespace Commissable.Backup.Postgres.Processes;

/// <summary>
/// Runs one of PostgreSQL's programs. Secrets travel in the environment (PGPASSWORD), never on the
/// command line, where any local user could read them. When the current process is root the
/// program can be run as an unprivileged account, because the server refuses to run as root.
/// Every program dies with this process (see <see cref="Start"/>).
/// </summary>
public sealed class ExternalProcess
{
    private const int StderrTail = 16 * 1024;

    public required string FileName { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    /// <summary>Unix account to run as, or null for the current one.</summary>
    public string? RunAs { get; init; }
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// False: the program sees none of this process's <c>PG*</c> variables (PGHOST, PGSERVICE,
    /// PGOPTIONS, PGPASSWORD, ...), only those in <see cref="Environment"/>, so nothing around the
    /// host can redirect or reconfigure what it connects to or prints.
    /// </summary>
    public bool InheritPostgresVariables { get; init; } = true;

    /// <summary>
    /// Told of every process this one starts, so that a later process can make sure none of them
    /// outlived a crash (null: nobody records them).
    /// </summary>
    public IChildProcessObserver? Observer { get; init; }

    /// <summary>
    /// Starts the process with stdout and stdin redirected, for streaming callers. The program runs
    /// as the leader of its own process group (<c>setsid</c>), so it and everything it forks can be
    /// killed together, and with <c>PR_SET_PDEATHSIG</c> (<c>setpriv --pdeathsig KILL</c>), so the
    /// kernel kills it when this process dies, even by <c>kill -9</c>. <c>setpriv</c> also switches
    /// to <see cref="RunAs"/>; it sets the death signal after that switch, which would clear it.
    /// </summary>
    public Process Start(bool redirectStdout = false, bool redirectStdin = false)
    {
        var info = StartInfo(redirectStdout, redirectStdin);
        Observer?.Starting(info);
        var process = ChildLauncher.Start(info);
        if (Observer is not null && ChildProcesses.StartTime(process.Id) is { } startTime)
        {
            Observer.Started(new ChildProcess(process.Id, startTime));
        }
        return process;
    }

    /// <summary>What <see cref="Start"/> hands the kernel: the command line and environment, for a caller to check.</summary>
    public ProcessStartInfo StartInfo(bool redirectStdout = false, bool redirectStdin = false)
    {
        var info = new ProcessStartInfo
        {
            FileName = "setsid",
            RedirectStandardError = true,
            RedirectStandardOutput = redirectStdout,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory ?? "/",
        };
        info.ArgumentList.Add("--");
        info.ArgumentList.Add("setpriv");
        if (RunAs is not null)
        {
            var (uid, gid) = UnixAccount.Ids(RunAs);
            info.ArgumentList.Add($"--reuid={uid}");
            info.ArgumentList.Add($"--regid={gid}");
            info.ArgumentList.Add("--init-groups");
        }
        info.ArgumentList.Add("--pdeathsig=KILL");
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(FileName);
        foreach (var argument in Arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (!InheritPostgresVariables)
        {
            foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
            {
                info.Environment.Remove(key);
            }
        }
        foreach (var (key, value) in Environment)
        {
            info.Environment[key] = value;
        }
        info.Environment["LC_ALL"] = "C.UTF-8";
        return info;
    }

    /// <summary>Runs to completion; throws <see cref="ExternalProcessException"/> on a non-zero exit.</summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken = default)
    {
        using var process = Start(redirectStdout: true);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = ReadTailAsync(process.StandardError, cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            TryKill(process);
            throw;
        }
        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new ExternalProcessException(Path.GetFileName(FileName), process.ExitCode, errors);
        }
        return output;
    }

    /// <summary>Reads a stream to its end, keeping only its last 16 KiB (error output can be huge).</summary>
    public static async Task<string> ReadTailAsync(StreamReader reader, CancellationToken cancellationToken = default)
    {
        var tail = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            tail.Append(buffer, 0, read);
            if (tail.Length > 2 * StderrTail)
            {
                tail.Remove(0, tail.Length - StderrTail);
            }
        }
        return tail.Length > StderrTail ? tail.ToString(tail.Length - StderrTail, StderrTail) : tail.ToString();
    }

    public static void TryKill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}

/// <summary>A PostgreSQL program exited non-zero; the message carries the end of its error output.</summary>
public sealed class ExternalProcessException(string program, int exitCode, string stderr)
    : Exception($"{program} exited with code {exitCode}: {stderr.Trim()}")
{
    public string Program { get; } = program;
    public int ExitCode { get; } = exitCode;
    public string ErrorOutput { get; } = stderr;
}
