using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Commissable.Backup.Postgres.Demo;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// Demo databases for tests that need demo data but do not test the generator: each options value
/// is generated once per test cluster, and every test gets its own copy (CREATE DATABASE ...
/// TEMPLATE), which is much faster than generating again.
/// </summary>
internal static class DemoTemplates
{
    private static readonly ConditionalWeakTable<TestPostgres, ConcurrentDictionary<DemoDatabaseOptions, Lazy<Task<string>>>> Built = [];

    /// <summary>A new database holding the demo for <paramref name="options"/>; returns its connection string.</summary>
    public static async Task<string> CloneAsync(TestPostgres postgres, DemoDatabaseOptions options)
    {
        var perCluster = Built.GetValue(postgres, _ => new ConcurrentDictionary<DemoDatabaseOptions, Lazy<Task<string>>>());
        var template = await perCluster.GetOrAdd(options, o => new Lazy<Task<string>>(() => BuildAsync(postgres, o))).Value;
        var name = $"demo_{Guid.NewGuid():N}"[..30];
        await using (var connection = new NpgsqlConnection(postgres.ConnectionString()))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        return postgres.ConnectionString(name);
    }

    /// <summary>A data source for a fresh copy of the demo.</summary>
    public static async Task<NpgsqlDataSource> CloneDataSourceAsync(TestPostgres postgres, DemoDatabaseOptions options) =>
        NpgsqlDataSource.Create(await CloneAsync(postgres, options));

    private static async Task<string> BuildAsync(TestPostgres postgres, DemoDatabaseOptions options)
    {
        var connectionString = await postgres.CreateDatabaseAsync("template");
        await DemoDatabase.CreateAsync(connectionString, options);
        return new NpgsqlConnectionStringBuilder(connectionString).Database!;
    }
}
