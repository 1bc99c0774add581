using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Postgres.Demo;
using Npgsql;
using Xunit.Abstractions;

namespace Commissable.Backup.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class DemoDatabaseTests(TestPostgres postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task The_tiny_demo_loads_with_every_table_filled_as_planned()
    {
        var database = await postgres.CreateDatabaseAsync("demo");
        var clock = Stopwatch.StartNew();
        await DemoDatabase.CreateAsync(database, DemoDatabaseOptions.Tiny, new TestProgress(output));
        clock.Stop();

        await using var dataSource = NpgsqlDataSource.Create(database);
        var size = await ScalarAsync<long>(dataSource, "SELECT pg_database_size(current_database())");
        output.WriteLine($"Tiny: {clock.Elapsed.TotalSeconds:F2} s, {size / 1e6:F1} MB");
        // How long it took is reported, not asserted: on a loaded machine any bound is a coin toss
        // (the benchmarks measure it).

        var expected = DemoDatabase.ExpectedRowCounts(DemoDatabaseOptions.Tiny);
        foreach (var table in DemoDatabase.TableNames)
        {
            var rows = await ScalarAsync<long>(dataSource, $"SELECT count(*) FROM public.\"{table}\"");
            Assert.True(rows > 0, $"{table} is empty");
            Assert.Equal(expected[table], rows);
        }
    }

    [Fact]
    public async Task The_demo_has_about_twenty_quoted_pascal_case_tables_and_every_business_table_has_a_tenant_foreign_key()
    {
        await using var dataSource = await CreateTinyAsync();
        var tables = await ListAsync(dataSource,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname COLLATE \"C\"");
        Assert.Equal(DemoDatabase.TableNames, tables);
        Assert.InRange(tables.Count, 18, 25);
        Assert.All(tables.Where(t => t != DemoDatabase.MigrationsTable), t => Assert.True(char.IsUpper(t[0]), $"{t} is not PascalCase"));

        var withTenant = await ListAsync(dataSource, """
            SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname = 'tenantId' AND a.attnotnull ORDER BY c.relname COLLATE "C"
            """);
        Assert.Equal(DemoDatabase.BusinessTables, withTenant);
        var tenantForeignKeys = await ListAsync(dataSource, """
            SELECT c.relname FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
            WHERE con.contype = 'f' AND con.confrelid = 'public."Tenant"'::regclass
              AND pg_get_constraintdef(con.oid) LIKE 'FOREIGN KEY ("tenantId") REFERENCES "Tenant"(id)%'
            ORDER BY c.relname COLLATE "C"
            """);
        Assert.Equal(DemoDatabase.BusinessTables, tenantForeignKeys);
        Assert.Subset(tables.ToHashSet(), DemoDatabase.CriticalTables.ToHashSet());
    }

    [Fact]
    public async Task The_demo_has_prisma_enums_jsonb_millisecond_timestamps_partial_indexes_checks_and_sequences()
    {
        await using var dataSource = await CreateTinyAsync();
        var enums = await ListAsync(dataSource,
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e' ORDER BY t.typname COLLATE \"C\"");
        Assert.Equal(DemoDatabase.EnumTypes, enums);
        var stages = await ListAsync(dataSource, "SELECT unnest(enum_range(NULL::\"OpportunityStage\"))::text");
        Assert.Equal(["QUALIFICATION", "DISCOVERY", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST"], stages);
        Assert.Contains("LOCKED", await ListAsync(dataSource, "SELECT unnest(enum_range(NULL::\"UserStatus\"))::text"));

        Assert.True(await ScalarAsync<long>(dataSource,
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'jsonb'") >= 8);
        Assert.Equal("timestamp(3) without time zone", await ScalarAsync<string>(dataSource,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.\"Account\"'::regclass AND attname = 'createdAt'"));
        Assert.Equal("CURRENT_TIMESTAMP", await ScalarAsync<string>(dataSource,
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'public.\"Account\"'::regclass AND adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = adrelid AND attname = 'createdAt')"));

        var partial = await ListAsync(dataSource,
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL AND indrelid::regclass::text LIKE '\"%'");
        Assert.Contains("\"Account_tenantId_name_idx\"", partial);
        Assert.Contains("\"Contact_tenantId_email_key\"", partial);
        Assert.Contains("CREATE UNIQUE INDEX \"User_tenantId_email_key\" ON public.\"User\" USING btree (\"tenantId\", email)",
            await ListAsync(dataSource, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"));
        Assert.True(await ScalarAsync<long>(dataSource, "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace") >= 6);

        var sequences = await ListAsync(dataSource, "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename COLLATE \"C\"");
        Assert.Equal(
            ["Activity_id_seq", "AuditLog_id_seq", "DepositLineItem_id_seq", "Payout_id_seq", "Permission_id_seq", "Product_id_seq", "Role_id_seq"],
            sequences);
        Assert.True(await ScalarAsync<long>(dataSource, "SELECT count(*) FROM \"User\" WHERE \"lastLoginAt\" IS NULL") > 0, "some NULLs");
        Assert.All(await ListAsync(dataSource, "SELECT id FROM \"Account\""), id => Assert.Matches("^c[0-9a-z]{24}$", id));
    }

    [Fact]
    public async Task Every_prisma_migration_row_is_finished_with_the_sha256_of_its_sql()
    {
        await using var dataSource = await CreateTinyAsync();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            "SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NULL, applied_steps_count, length(id) FROM _prisma_migrations ORDER BY started_at",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var index = 0;
        while (await reader.ReadAsync())
        {
            var migration = DemoDatabase.Migrations[index++];
            Assert.Equal(migration.Name, reader.GetString(0));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(migration.Sql))), reader.GetString(1));
            Assert.True(reader.GetBoolean(2));
            Assert.True(reader.GetBoolean(3));
            Assert.Equal(1, reader.GetInt32(4));
            Assert.Equal(36, reader.GetInt32(5));
        }
        Assert.Equal(DemoDatabase.Migrations.Count, index);
        Assert.True(DemoDatabase.MigrationNames.Count >= 5);
        Assert.Equal("20250101000000_init", DemoDatabase.MigrationNames[0]);
    }

    [Fact]
    public async Task The_demo_refuses_a_database_that_already_has_tables()
    {
        var database = await postgres.CreateDatabaseAsync("demo");
        await using (var dataSource = NpgsqlDataSource.Create(database))
        {
            await using var command = dataSource.CreateCommand("CREATE TABLE \"Existing\" (id int)");
            await command.ExecuteNonQueryAsync();
        }
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DemoDatabase.CreateAsync(database, DemoDatabaseOptions.Tiny));
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_load_leaves_no_rows_behind()
    {
        var database = await postgres.CreateDatabaseAsync("demo");
        using var cancellation = new CancellationTokenSource();
        var progress = new CancelOn("Role:", cancellation);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DemoDatabase.CreateAsync(database, DemoDatabaseOptions.Tiny, progress, cancellation.Token));
        await using var dataSource = NpgsqlDataSource.Create(database);
        // The migrations stay applied (each committed on its own, as Prisma's); the load is one transaction.
        Assert.Equal(0, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM \"Tenant\""));
        Assert.Equal(0, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM \"Role\""));
        Assert.Equal(DemoDatabase.Migrations.Count, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM _prisma_migrations"));
    }

    private Task<NpgsqlDataSource> CreateTinyAsync() => DemoTemplates.CloneDataSourceAsync(postgres, DemoDatabaseOptions.Tiny);

    internal static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task<List<string>> ListAsync(NpgsqlDataSource dataSource, string sql)
    {
        var result = new List<string>();
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result.Add(reader.GetString(0));
        return result;
    }

    private sealed class CancelOn(string stage, CancellationTokenSource cancellation) : IProgress<string>
    {
        // Called synchronously on the loader's thread, unlike Progress<T>.
        public void Report(string value)
        {
            if (value.StartsWith(stage, StringComparison.Ordinal)) cancellation.Cancel();
        }
    }
}

/// <summary>Progress lines into the test's output.</summary>
internal sealed class TestProgress(ITestOutputHelper output) : IProgress<string>
{
    public void Report(string value) => output.WriteLine(value);
}
