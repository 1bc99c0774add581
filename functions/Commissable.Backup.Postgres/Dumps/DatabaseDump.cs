using System.Text.RegularExpressions;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>How <see cref="DatabaseDump"/> reads a database.</summary>
public sealed record DatabaseDumpOptions
{
    /// <summary>
    /// The session time zone the dump's text is written in (it decides how <c>timestamptz</c>
    /// prints; pg_dump pins the other settings that matter itself): the one the backup being
    /// compared with was dumped in.
    /// </summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>
    /// A snapshot another session exported (<c>pg_export_snapshot()</c>, kept open until pg_dump
    /// has started), so pg_dump reads exactly what that session sees; null for pg_dump's own.
    /// </summary>
    public string? Snapshot { get; init; }

    /// <summary>
    /// Tables whose rows pg_dump leaves out (<c>--exclude-table-data</c>; their definitions stay),
    /// each as the exact pattern <see cref="ExactTablePattern"/> makes: <see cref="DatabaseText"/>
    /// reads those rows itself.
    /// </summary>
    public IReadOnlyList<string> ExcludeTableData { get; init; } = [];

    /// <summary>
    /// A pg_dump table pattern that matches exactly one table: both names in double quotes (inside
    /// which pg_dump takes every character literally, <c>""</c> being one quote).
    /// </summary>
    public static string ExactTablePattern(string schema, string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(schema);
        ArgumentException.ThrowIfNullOrEmpty(table);
        return $"\"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\".\"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
    }
}

/// <summary>
/// A plain pg_dump of one database of an instance, as a stream of its SQL text (serial: no
/// <c>--jobs</c>), logged in as the functions log in everywhere (<see cref="DatabaseLoginOptions"/>).
/// </summary>
/// <remarks>
/// The password never reaches a command line or the environment: it goes into a password file
/// (0600, in a private directory, removed when the stream ends or is disposed) that
/// <c>PGPASSFILE</c> names. The connection is the one libpq conninfo <see cref="LibpqConnection"/>
/// builds, and the program sees none of this process's <c>PG*</c> variables. Reading the stream to
/// its end throws <see cref="DumpStreamException"/> when pg_dump failed; disposing it early kills
/// pg_dump.
/// </remarks>
public static partial class DatabaseDump
{
    public static Task<Stream> OpenAsync(DatabaseLoginOptions login, DatabaseInstance instance, string database, DatabaseDumpOptions options, PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(login);
        ArgumentNullException.ThrowIfNull(instance);
        return OpenAsync(login.Endpoint(instance), database, $"database '{database}' of instance '{instance.Name}'", options, tools, cancellationToken);
    }

    /// <summary>The same for a database of any server, <paramref name="description"/> naming it in messages (never with a password).</summary>
    public static Task<Stream> OpenAsync(DatabaseEndpoint endpoint, string database, string description, DatabaseDumpOptions options, PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        var scratch = PrivateDirectory.Create("commissable-pgdump-");
        try
        {
            var command = Command(endpoint, database, options, tools, scratch.Path);
            return Task.FromResult<Stream>(ToolOutputStream.Start(command, $"{description} (pg_dump)", input: null, scratch, cancellationToken));
        }
        catch
        {
            scratch.Dispose();
            throw;
        }
    }

    /// <summary>The pg_dump command, with its password file written into <paramref name="privateDirectory"/>.</summary>
    internal static ExternalProcess Command(DatabaseLoginOptions login, DatabaseInstance instance, string database, DatabaseDumpOptions options, PostgresBinaries tools, string privateDirectory)
    {
        ArgumentNullException.ThrowIfNull(login);
        ArgumentNullException.ThrowIfNull(instance);
        return Command(login.Endpoint(instance), database, options, tools, privateDirectory);
    }

    /// <summary>The pg_dump command for a database of <paramref name="endpoint"/>, its password file written into <paramref name="privateDirectory"/>.</summary>
    internal static ExternalProcess Command(DatabaseEndpoint endpoint, string database, DatabaseDumpOptions options, PostgresBinaries tools, string privateDirectory)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tools);
        if (!TimeZoneName().IsMatch(options.TimeZone))
        {
            throw new ArgumentException($"'{options.TimeZone}' is not a time zone name (letters, digits and _ + - / : . only, as in UTC or America/New_York).", nameof(options));
        }
        if (options.Snapshot is { } snapshot && !SnapshotId().IsMatch(snapshot))
        {
            throw new ArgumentException($"'{snapshot}' is not a snapshot id as pg_export_snapshot() returns them (for example 00000003-0000001B-1).", nameof(options));
        }

        foreach (var pattern in options.ExcludeTableData)
        {
            if (!ExactPattern().IsMatch(pattern))
            {
                throw new ArgumentException("A table whose rows are left out must be named by an exact pattern (DatabaseDumpOptions.ExactTablePattern).", nameof(options));
            }
        }

        var passwordFile = Path.Combine(privateDirectory, "pgpass");
        endpoint.WritePasswordFile(passwordFile);
        var arguments = new List<string>
        {
            "--no-password",
            "--dbname=" + endpoint.Conninfo(database),
        };
        if (options.Snapshot is not null)
        {
            arguments.Add("--snapshot=" + options.Snapshot);
        }
        foreach (var pattern in options.ExcludeTableData)
        {
            arguments.Add("--exclude-table-data=" + pattern);
        }
        return new ExternalProcess
        {
            FileName = tools.Path("pg_dump"),
            Arguments = arguments,
            InheritPostgresVariables = false,
            Environment = new Dictionary<string, string>(DatabaseEndpoint.ToolEnvironment(passwordFile, "commissable-content-read"))
            {
                // Sent in the start-up packet: the session's TimeZone from its first statement on.
                ["PGTZ"] = options.TimeZone,
            },
        };
    }

    [GeneratedRegex(@"\A[A-Za-z0-9_+\-/:.]{1,64}\z", RegexOptions.CultureInvariant)]
    internal static partial Regex TimeZoneName();

    [GeneratedRegex(@"\A[0-9A-Fa-f]{1,16}-[0-9A-Fa-f]{1,16}(-[0-9]{1,10})?\z", RegexOptions.CultureInvariant)]
    internal static partial Regex SnapshotId();

    [GeneratedRegex(@"\A""(?:[^""\0]|"""")+""\.""(?:[^""\0]|"""")+""\z", RegexOptions.CultureInvariant)]
    private static partial Regex ExactPattern();
}
