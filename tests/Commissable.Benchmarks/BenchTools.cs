using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var process = Process.Start(info)!;
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Say($"{dll}: {line} (pid {process.Id})");
        return process;
    }

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
