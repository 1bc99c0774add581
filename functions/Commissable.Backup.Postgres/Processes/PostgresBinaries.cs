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
        candidates.AddRange(Discovered());
        foreach (var dir in candidates)
        {
            if (File.Exists(System.IO.Path.Combine(dir, "initdb")) && File.Exists(System.IO.Path.Combine(dir, "pg_ctl")))
            {
                return new PostgresBinaries(dir, ReadMajor(System.IO.Path.Combine(dir, "postgres")));
            }
        }
        throw new InvalidOperationException(
            "PostgreSQL server binaries not found (looked for initdb and pg_ctl in PG_BINDIR, `pg_config --bindir` and /usr/lib/postgresql/*/bin). " +
            "Install them, for example `apt-get install -y postgresql`.");
    }

    /// <summary>
    /// Finds the client programs that read dumps, <c>pg_dump</c> and <c>pg_restore</c> (the functions
    /// image carries these without a server): in <paramref name="binDirectory"/> when given, and
    /// nowhere else, since a configured directory that lacks them must not silently become another
    /// major version; otherwise <c>pg_config --bindir</c>, else the newest
    /// <c>/usr/lib/postgresql/*/bin</c> holding them. The major version is <c>pg_dump</c>'s.
    /// </summary>
    public static PostgresBinaries LocateClient(string? binDirectory = null)
    {
        var candidates = string.IsNullOrEmpty(binDirectory) ? Discovered() : [binDirectory];
        foreach (var dir in candidates)
        {
            if (File.Exists(System.IO.Path.Combine(dir, "pg_dump")) && File.Exists(System.IO.Path.Combine(dir, "pg_restore")))
            {
                return new PostgresBinaries(dir, ReadMajor(System.IO.Path.Combine(dir, "pg_dump")));
            }
        }
        throw new InvalidOperationException(string.IsNullOrEmpty(binDirectory)
            ? "PostgreSQL client programs not found (looked for pg_dump and pg_restore in `pg_config --bindir` and /usr/lib/postgresql/*/bin). " +
              "Install them, for example `apt-get install -y postgresql-client-15`, or name their directory."
            : $"The directory '{binDirectory}' does not hold pg_dump and pg_restore.");
    }

    private static List<string> Discovered()
    {
        var candidates = new List<string>();
        var fromPgConfig = TryPgConfig();
        if (fromPgConfig is not null) candidates.Add(fromPgConfig);
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(System.IO.Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => System.IO.Path.Combine(d, "bin")));
        }
        return candidates;
    }

    /// <summary>
    /// <c>pg_config --bindir</c>, or null when there is no <paramref name="pgConfig"/> (<c>setpriv</c>
    /// exits 127 for a program it cannot find) or it fails. Run, like every program, through
    /// <see cref="ExternalProcess"/>, so it dies with this process.
    /// </summary>
    internal static string? TryPgConfig(string pgConfig = "pg_config")
    {
        try
        {
            var output = new ExternalProcess { FileName = pgConfig, Arguments = ["--bindir"] }.RunAsync().GetAwaiter().GetResult().Trim();
            return output.Length > 0 ? output : null;
        }
        catch (Exception error) when (error is ExternalProcessException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>The major version a program reports, from "postgres (PostgreSQL) 15.18 (Debian ...)" or "pg_dump (PostgreSQL) 15.18".</summary>
    private static int ReadMajor(string program)
    {
        var text = new ExternalProcess { FileName = program, Arguments = ["--version"] }.RunAsync().GetAwaiter().GetResult();
        var version = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(2).FirstOrDefault() ?? "";
        var major = version.Split('.')[0];
        return int.Parse(major, CultureInfo.InvariantCulture);
    }
}
