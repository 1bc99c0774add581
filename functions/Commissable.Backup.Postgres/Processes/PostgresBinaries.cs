using System.Globalization;

namespace Commissable.Backup.Postgres.Processes;

/// <summary>Where the machine's PostgreSQL server and client programs are, and their major version.</summary>
public sealed class PostgresBinaries
{
    private PostgresBinaries(string binDirectory, int majorVersion)
    {
        BinDirectory = binDirectory;
        MajorVersion = majorVersion;
    }

    public string BinDirectory { get; }
    public int MajorVersion { get; }
    /// <summary>Cloud SQL's name for this major, for example <c>POSTGRES_15</c>.</summary>
    public string DatabaseVersion => $"POSTGRES_{MajorVersion}";

    public string Path(string program) => System.IO.Path.Combine(BinDirectory, program);

    /// <summary>
    /// Finds the server binaries: <c>PG_BINDIR</c> when set, else <c>pg_config --bindir</c>, else the
    /// newest <c>/usr/lib/postgresql/*/bin</c> holding <c>initdb</c>.
    /// </summary>
    public static PostgresBinaries Locate(string? binDirectory = null)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(binDirectory)) candidates.Add(binDirectory);
        var fromEnv = System.Environment.GetEnvironmentVariable("PG_BINDIR");
        if (!string.IsNullOrEmpty(fromEnv)) candidates.Add(fromEnv);
        var fromPgConfig = TryPgConfig();
        if (fromPgConfig is not null) candidates.Add(fromPgConfig);
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(System.IO.Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => System.IO.Path.Combine(d, "bin")));
        }
        foreach (var dir in candidates)
        {
            if (File.Exists(System.IO.Path.Combine(dir, "initdb")) && File.Exists(System.IO.Path.Combine(dir, "pg_ctl")))
            {
                return new PostgresBinaries(dir, ReadMajor(dir));
            }
        }
        throw new InvalidOperationException(
            "PostgreSQL server binaries not found (looked for initdb and pg_ctl in PG_BINDIR, `pg_config --bindir` and /usr/lib/postgresql/*/bin). " +
            "Install them, for example `apt-get install -y postgresql`.");
    }

    private static string? TryPgConfig()
    {
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("pg_config", "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static int ReadMajor(string binDirectory)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(System.IO.Path.Combine(binDirectory, "postgres"), "--version")
        {
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("could not run postgres --version");
        var text = process.StandardOutput.ReadToEnd(); // "postgres (PostgreSQL) 15.18 (Debian ...)"
        process.WaitForExit();
        var version = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(2).FirstOrDefault() ?? "";
        var major = version.Split('.')[0];
        return int.Parse(major, CultureInfo.InvariantCulture);
    }
}
