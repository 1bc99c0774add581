using System.Globalization;
using System.Runtime.CompilerServices;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// The Tiny demo, its snapshot read just before the export, and a real plain pg_dump of it restored
/// with psql into a fresh database. The round trip runs once per test cluster; every test gets its
/// own copy of the restored database (CREATE DATABASE ... TEMPLATE) to break one thing in.
/// </summary>
internal static class VerificationRestores
{
    private static readonly ConditionalWeakTable<TestPostgres, Lazy<Task<RoundTrip>>> Built = [];

    /// <param name="Reading">The source's snapshot and fingerprint, read before the dump.</param>
    /// <param name="RestoredTemplate">Name of the restored database; never connected to, so it can be copied.</param>
    public sealed record RoundTrip(DatabaseSnapshotReading Reading, string RestoredTemplate);

    public static Task<RoundTrip> GetAsync(TestPostgres postgres) =>
        Built.GetValue(postgres, p => new Lazy<Task<RoundTrip>>(() => BuildAsync(p))).Value;

    /// <summary>A fresh copy of the restored database; returns its connection string.</summary>
    public static async Task<string> CopyOfRestoreAsync(TestPostgres postgres)
    {
        var roundTrip = await GetAsync(postgres);
        var name = $"restored_{Guid.NewGuid():N}"[..30];
        await using var connection = new NpgsqlConnection(postgres.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{roundTrip.RestoredTemplate}\"", connection);
        await command.ExecuteNonQueryAsync();
        return postgres.ConnectionString(name);
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) in the database.</summary>
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<RoundTrip> BuildAsync(TestPostgres postgres)
    {
        var source = await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny);
        DatabaseSnapshotReading reading;
        await using (var dataSource = NpgsqlDataSource.Create(source))
        {
            reading = await DatabaseSnapshotReader.ReadWithFingerprintAsync(dataSource);
        }

        var directory = Directory.CreateTempSubdirectory("verification-");
        try
        {
            var dump = Path.Combine(directory.FullName, "demo.sql");
            await Tool(postgres, "pg_dump", source, "--format=plain", "--no-owner", "--no-privileges", "--file", dump).RunAsync();
            var restored = await postgres.CreateDatabaseAsync("restored");
            await Tool(postgres, "psql", restored, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--file", dump).RunAsync();
            return new RoundTrip(reading, new NpgsqlConnectionStringBuilder(restored).Database!);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>A client program aimed at one database; the password travels in PGPASSWORD only.</summary>
    private static ExternalProcess Tool(TestPostgres postgres, string program, string connectionString, params string[] arguments)
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
            },
        };
    }
}
