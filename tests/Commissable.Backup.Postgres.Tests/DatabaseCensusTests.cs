using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>The census a recovery's evidence compares: exact counts, per tenant, columns as a dump copies them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseCensusTests(TestPostgres postgres)
{
    private const string Schema = """
        CREATE TABLE "Deal" (id serial PRIMARY KEY, "tenantId" text, amount integer NOT NULL, doubled integer GENERATED ALWAYS AS (amount * 2) STORED, gone text);
        ALTER TABLE "Deal" DROP COLUMN gone;
        CREATE TABLE event ("tenantId" text NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
        CREATE TABLE event_2025 PARTITION OF event FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE event_2026 PARTITION OF event FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE plain (k text PRIMARY KEY);
        CREATE SCHEMA other;
        CREATE TABLE other.hidden ("tenantId" text);
        INSERT INTO "Deal" ("tenantId", amount) VALUES ('t1', 1), ('t1', 2), ('t2', 3), (NULL, 4);
        INSERT INTO event VALUES ('t1', '2025-03-01', 'a'), ('t2', '2026-03-01', 'b'), ('t2', '2026-04-01', 'c');
        INSERT INTO plain VALUES ('x');
        INSERT INTO other.hidden VALUES ('t9');
        """;

    [Fact]
    public async Task Counts_every_table_of_public_once_tenants_per_table_and_the_columns_a_dump_copies()
    {
        var database = await postgres.CreateDatabaseAsync("census");
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(Schema, connection);
            await command.ExecuteNonQueryAsync();
        }
        await using var dataSource = NpgsqlDataSource.Create(database);

        var census = await PostgresDatabaseCensus.ReadAsync(dataSource, "tenantId");

        // Partitions are counted, their parent is not (its rows are theirs); other schemas are not read.
        Assert.Equal(
            [("Deal", 4L), ("event_2025", 1L), ("event_2026", 2L), ("plain", 1L)],
            census.Rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value)));
        Assert.Equal(["Deal", "event"], census.Tenants.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([("t1", 2L), ("t2", 1L)], census.Tenants["Deal"].ByTenant.Select(t => (t.Key, t.Value)));
        Assert.Equal(1, census.Tenants["Deal"].WithoutTenant);
        Assert.Equal([("t1", 1L), ("t2", 2L)], census.Tenants["event"].ByTenant.Select(t => (t.Key, t.Value)));
        // No dropped or generated column: what COPY lists.
        Assert.Equal(["id", "tenantId", "amount"], census.Columns["Deal"]);
        Assert.Equal(["tenantId", "at", "note"], census.Columns["event_2026"]);
        Assert.False(census.MigrationsTable);
        Assert.Null(census.MigrationHead);
        Assert.Matches("^[0-9a-f]{64}$", census.SchemaFingerprint);
    }
}
