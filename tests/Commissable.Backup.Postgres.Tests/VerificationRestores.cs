using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Demo;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// Real round trips: a source database, a plain pg_dump of it read into its content manifest
/// (<see cref="DumpContentReader"/>, as the product reads a backup's bytes), and that dump restored
/// with psql into a fresh database. Each round trip runs once per test cluster; every test gets its
/// own copy of the restored database (CREATE DATABASE ... TEMPLATE) to break one thing in, and reads
/// it back the way production does: <c>pg_dump --format=plain</c> of it into the same reader.
/// </summary>
internal static class VerificationRestores
{
    /// <summary>How both sides are read: the demo's tenant column, the time zone the dumps are pinned to.</summary>
    public static readonly DumpReadOptions ReadOptions = new() { TenantColumn = DemoDatabase.TenantColumn, TimeZone = "UTC" };

    /// <summary>The flags of every plain dump here, the backup's and the read-back's alike.</summary>
    public static readonly IReadOnlyList<string> PlainDumpFlags = ["--format=plain", "--no-owner", "--no-privileges"];

    private static readonly ConditionalWeakTable<TestPostgres, ConcurrentDictionary<string, Lazy<Task<RoundTrip>>>> Built = [];

    /// <param name="Backup">The content manifest read from the dump's bytes.</param>
    /// <param name="RestoredTemplate">Name of the restored database; never connected to, so it can be copied.</param>
    public sealed record RoundTrip(BackupContent Backup, string RestoredTemplate);

    /// <summary>The Tiny demo's round trip.</summary>
    public static Task<RoundTrip> GetAsync(TestPostgres postgres) =>
        GetAsync(postgres, "demo", () => DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny));

    /// <summary>The round trip of the database <paramref name="createSource"/> makes, once per cluster and <paramref name="key"/>.</summary>
    public static Task<RoundTrip> GetAsync(TestPostgres postgres, string key, Func<Task<string>> createSource)
    {
        var perCluster = Built.GetValue(postgres, _ => new ConcurrentDictionary<string, Lazy<Task<RoundTrip>>>(StringComparer.Ordinal));
        return perCluster.GetOrAdd(key, _ => new Lazy<Task<RoundTrip>>(() => BuildAsync(postgres, createSource))).Value;
    }

    /// <summary>A fresh copy of the demo's restored database; returns its connection string.</summary>
    public static async Task<string> CopyOfRestoreAsync(TestPostgres postgres) => await CopyAsync(postgres, await GetAsync(postgres));

    /// <summary>A fresh copy of a round trip's restored database; returns its connection string.</summary>
    public static async Task<string> CopyAsync(TestPostgres postgres, RoundTrip roundTrip)
    {
        var name = $"restored_{Guid.NewGuid():N}"[..30];
        await ExecuteAsync(postgres.ConnectionString(), $"CREATE DATABASE \"{name}\" TEMPLATE \"{roundTrip.RestoredTemplate}\"");
        return postgres.ConnectionString(name);
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) in the database, on a connection of its own.</summary>
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        // Not pooled: a pooled connection would stay open on every copy the tests make.
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The first column of the first row <paramref name="sql"/> returns.</summary>
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A data source that keeps no connection open once disposed.</summary>
    public static NpgsqlDataSource DataSource(string connectionString) => NpgsqlDataSource.Create(Unpooled(connectionString));

    /// <summary>
    /// Reads a database back the way production will: <c>pg_dump --format=plain</c> of it (the same
    /// flags as the backup's dump, in the same time zone) streamed into <see cref="DumpContentReader"/>.
    /// </summary>
    public static Task<BackupContent> ReadDatabaseAsync(TestPostgres postgres, string connectionString, DumpReadOptions? options = null) =>
        ReadOutputAsync(Tool(postgres, "pg_dump", connectionString, [.. PlainDumpFlags]), options ?? ReadOptions);

    /// <summary>
    /// Streams what <paramref name="tool"/> writes to its standard output into
    /// <see cref="DumpContentReader"/> (through <paramref name="decode"/> when given, gzip for example).
    /// A tool that fails, or output the reader refuses, throws with the end of the tool's error output.
    /// </summary>
    public static async Task<BackupContent> ReadOutputAsync(ExternalProcess tool, DumpReadOptions options, Func<Stream, Stream>? decode = null)
    {
        var program = Path.GetFileName(tool.FileName);
        using var process = tool.Start(redirectStdout: true);
        var errors = ExternalProcess.ReadTailAsync(process.StandardError);
        BackupContent content;
        try
        {
            var output = process.StandardOutput.BaseStream;
            await using var input = decode is null ? output : decode(output);
            content = await DumpContentReader.ReadAsync(input, options);
        }
        catch (InvalidDataException unreadable)
        {
            ExternalProcess.TryKill(process);
            await process.WaitForExitAsync();
            throw new InvalidOperationException($"{program}'s output was refused: {unreadable.Message} ({program}: {(await errors).Trim()})", unreadable);
        }
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new ExternalProcessException(program, process.ExitCode, await errors);
        }
        return content;
    }

    /// <summary>The content manifest of a plain dump file.</summary>
    public static async Task<BackupContent> ReadDumpFileAsync(string path, DumpReadOptions? options = null)
    {
        await using var file = File.OpenRead(path);
        return await DumpContentReader.ReadAsync(file, options ?? ReadOptions);
    }

    /// <summary>
    /// A client program aimed at one database. The password travels in PGPASSWORD only; PGTZ pins
    /// the session time zone, so <c>timestamptz</c> values print the same in every dump here
    /// (pg_dump sets DateStyle, IntervalStyle and extra_float_digits itself, but not TimeZone).
    /// </summary>
    public static ExternalProcess Tool(TestPostgres postgres, string program, string connectionString, params string[] arguments) =>
        ToolInZone(postgres, program, connectionString, ReadOptions.TimeZone, arguments);

    /// <summary>As <see cref="Tool"/>, in the time zone <paramref name="timeZone"/>.</summary>
    public static ExternalProcess ToolInZone(TestPostgres postgres, string program, string connectionString, string timeZone, params string[] arguments)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return new ExternalProcess
        {
            FileName = postgres.Binaries.Path(program),
            Arguments = arguments,
            Environment = new Dictionary<string, string>
            {
                ["PGHOST"] = builder.Host!,
                ["PGPORT"] = builder.Port.ToString(CultureInfo.InvariantCulture),
                ["PGUSER"] = builder.Username!,
                ["PGDATABASE"] = builder.Database!,
                ["PGPASSWORD"] = builder.Password!,
                ["PGTZ"] = timeZone,
            },
        };
    }

    /// <summary>psql running one file in one transaction, stopping at the first error.</summary>
    public static Task RestorePlainAsync(TestPostgres postgres, string connectionString, string dump) =>
        Tool(postgres, "psql", connectionString, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--file", dump).RunAsync();

    private static async Task<RoundTrip> BuildAsync(TestPostgres postgres, Func<Task<string>> createSource)
    {
        var source = await createSource();
        var directory = Directory.CreateTempSubdirectory("verification-");
        try
        {
            var dump = Path.Combine(directory.FullName, "backup.sql");
            await Tool(postgres, "pg_dump", source, [.. PlainDumpFlags, "--file", dump]).RunAsync();
            var backup = await ReadDumpFileAsync(dump);
            var restored = await postgres.CreateDatabaseAsync("restored");
            await RestorePlainAsync(postgres, restored, dump);
            return new RoundTrip(backup, new NpgsqlConnectionStringBuilder(restored).Database!);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static string Unpooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
}
