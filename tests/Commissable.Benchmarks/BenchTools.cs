using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.Benchmarks;

/// <summary>What the benchmarks share: shell pipelines, one-statement SQL, peak memory, free ports, progress.</summary>
internal static class BenchTools
{
    internal static async Task ShellAsync(string script, string password)
    {
        await new ExternalProcess
        {
            FileName = "bash",
            Arguments = ["-o", "pipefail", "-c", script],
            Environment = new Dictionary<string, string> { ["PGPASSWORD"] = password },
        }.RunAsync();
    }

    /// <summary>
    /// Waits (a bounded poll) until the archiver has archived every WAL segment before the current
    /// one, so that copying the load's WAL does not land in whichever measure runs first.
    /// </summary>
    internal static async Task WaitForArchiverAsync(string connectionString)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(15))
        {
            if (await ScalarAsync<bool>(connectionString,
                "SELECT coalesce(last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 16777216), false) FROM pg_stat_archiver"))
            {
                return;
            }
            await Task.Delay(500);
        }
        throw new TimeoutException("the WAL archiver of prod did not catch up within 15 minutes");
    }

    /// <summary>The machine's one-minute load average (two cores here: above 2, something else competes for them).</summary>
    internal static double LoadAverage() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>
    /// A throw-away cluster for the benchmarks that need no local cloud, holding the demo database:
    /// made (not started) here, so the caller's <c>finally</c> can stop it whatever
    /// <see cref="LoadDemoAsync"/> did.
    /// </summary>
    internal static PostgresCluster DemoCluster(PostgresBinaries server, string work, string address, int port) => new(server, new ClusterLayout
    {
        DataDirectory = Path.Combine(work, "data"),
        LogFile = Path.Combine(work, "postgres.log"),
        ListenAddress = address,
        Port = port,
        RunAs = PostgresCluster.DefaultRunAs(),
    });

    /// <summary>Starts <paramref name="cluster"/> (fsync off), loads the demo into <paramref name="database"/> and returns its size in bytes.</summary>
    internal static async Task<long> LoadDemoAsync(PostgresCluster cluster, string user, string password, string database, DemoDatabaseOptions demo, bool vacuum)
    {
        await cluster.InitAsync(user, password);
        await cluster.WriteRuntimeConfigAsync(new Dictionary<string, string> { ["fsync"] = "off", ["shared_buffers"] = "256MB" });
        await cluster.StartAsync();
        await ExecuteAsync(cluster.ConnectionString(user, password), $"CREATE DATABASE {database}");
        var load = Stopwatch.StartNew();
        await DemoDatabase.CreateAsync(cluster.ConnectionString(user, password, database), demo, new Progress<string>(Say));
        if (vacuum)
        {
            await ExecuteAsync(cluster.ConnectionString(user, password, database), "VACUUM");
        }
        var size = await ScalarAsync<long>(cluster.ConnectionString(user, password, database), "SELECT pg_database_size(current_database())");
        Say(Invariant($"demo database: {size / 1048576.0:F0} MB ({demo.Tenants} tenants x {demo.RowsPerTenant} rows per tenant), loaded in {load.Elapsed.TotalSeconds:F0} s"));
        return size;
    }

    internal static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>VmHWM: the peak resident set size of a process, in MB.</summary>
    internal static double PeakResidentMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The benchmark's work directory, 0755 so that clusters running as <c>postgres</c> reach their data directories in it.</summary>
    internal static void CreateWorkDirectory(string work)
    {
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
    }

    /// <summary>
    /// On Ctrl-C or SIGTERM, stops every PostgreSQL cluster under <paramref name="work"/> (pg_ctl
    /// starts them detached, so they would outlive the benchmark and hold their addresses for the
    /// next run), removes the work directory unless kept, and exits 130 (SIGINT) or 143 (SIGTERM).
    /// Programs the benchmark started itself die with it already.
    /// </summary>
    internal static IDisposable StopClustersOnInterrupt(string work, bool keep)
    {
        var stopping = 0;
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Exchange(ref stopping, 1) != 0)
            {
                return;
            }
            Interrupted = true;
            Console.Error.WriteLine($"{context.Signal}: stopping the clusters under {work} ...");
            // The local cloud and the functions host first, gracefully (the local cloud stops its clusters).
            Process[] children;
            lock (Started)
            {
                children = [.. Started];
            }
            foreach (var child in children)
            {
                try
                {
                    StopProcessAsync(child).Wait(TimeSpan.FromMinutes(1));
                }
                catch (Exception error) when (error is InvalidOperationException or AggregateException { InnerException: InvalidOperationException })
                {
                    // Already gone.
                }
            }
            var server = PostgresBinaries.Locate();
            var dataDirectories = Directory.Exists(work)
                ? Directory.EnumerateFiles(work, "postmaster.pid", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 6, IgnoreInaccessible = true })
                    .Select(Path.GetDirectoryName)
                    .OfType<string>()
                    .ToList()
                : [];
            foreach (var data in dataDirectories)
            {
                try
                {
                    new PostgresCluster(server, new ClusterLayout { DataDirectory = data, LogFile = Path.Combine(data, "stop.log"), ListenAddress = "127.0.0.1", RunAs = PostgresCluster.DefaultRunAs() })
                        .Tool("pg_ctl", "stop", "-D", data, "-m", "immediate", "-w", "-t", "60", "-s")
                        .RunAsync(CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (Exception error) when (error is ExternalProcessException or IOException or InvalidOperationException)
                {
                    // The benchmark's own clean-up may have stopped it and removed the directory meanwhile.
                    if (File.Exists(Path.Combine(data, "postmaster.pid")))
                    {
                        Console.Error.WriteLine($"could not stop the cluster in {data}: {error.Message}");
                    }
                }
            }
            // The benchmark's own steps now fail against the stopped servers and its clean-up runs
            // while they unwind: the directory goes once that is done (or after a minute, for a step
            // that never touches a server).
            Unwound.Wait(TimeSpan.FromMinutes(1));
            RemoveWorkDirectory(work, keep);
            if (!keep && Directory.Exists(work))
            {
                Console.Error.WriteLine($"could not remove {work}; remove it by hand");
            }
            Environment.Exit(context.Signal == PosixSignal.SIGINT ? 130 : 143);
        }
        var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        return new Registrations(interrupt, terminate);
    }

    private sealed class Registrations(params IDisposable[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>Removes the work directory unless asked to keep it; one left behind by a process still closing is left alone.</summary>
    internal static void RemoveWorkDirectory(string work, bool keep)
    {
        if (keep) return;
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    internal static void Say(string line) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");

    /// <summary>Starts one of the project's programs beside the benchmark and waits for its first line (its "listening" line).</summary>
    internal static async Task<Process> StartProcessAsync(string dll, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        // As the product starts its programs: its own process group, killed by the kernel if the benchmark dies.
        var process = new ExternalProcess
        {
            FileName = "dotnet",
            Arguments = [Path.Combine(AppContext.BaseDirectory, dll), .. arguments],
            Environment = environment,
        }.Start(redirectStdout: true);
        // Its error output (redirected by the launcher) goes on to the benchmark's, as before.
        _ = process.StandardError.BaseStream.CopyToAsync(Console.OpenStandardError());
        lock (Started)
        {
            Started.Add(process);
        }
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Say($"{dll}: {line} (pid {process.Id})");
        return process;
    }

    /// <summary>
    /// Ctrl-C or SIGTERM arrived: the benchmark's own steps may now fail as their servers stop
    /// under them; the handler ends the process once it has cleaned up.
    /// </summary>
    internal static volatile bool Interrupted;

    /// <summary>Set once the benchmark's own steps have stopped after an interrupt (their clean-up done).</summary>
    private static readonly ManualResetEventSlim Unwound = new();

    /// <summary>
    /// After an interrupt: tells the handler the benchmark's steps have stopped, then waits for it to
    /// end the process. Returns at once when nothing was interrupted.
    /// </summary>
    internal static async Task AfterInterruptAsync()
    {
        if (!Interrupted)
        {
            return;
        }
        Unwound.Set();
        await Task.Delay(Timeout.Infinite);
    }

    /// <summary>The local clouds and hosts this run started, for <see cref="StopClustersOnInterrupt"/>.</summary>
    private static readonly List<Process> Started = [];

    /// <summary>SIGTERM: a graceful stop (the local cloud stops its clusters).</summary>
    internal static async Task StopProcessAsync(Process? process)
    {
        if (process is { HasExited: false })
        {
            using var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            await process.WaitForExitAsync();
        }
    }
}
