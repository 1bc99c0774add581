using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Dumps;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests.Dumps;

/// <summary>
/// A database read back with pg_dump plus COPY sessions in its snapshot (<see cref="DatabaseText"/>)
/// has exactly the content manifest a plain pg_dump of it has, on the demo and on a schema of
/// everything that prints in its own way; in one snapshot; and a failure of any part fails the read.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseTextTests(TestPostgres postgres) : IDisposable
{
    /// <summary>Every stored table taken over, in blocks small enough that the two sessions interleave and long rows go in pieces.</summary>
    private static readonly DatabaseTextOptions Everything = new() { MinimumTableBytes = 0, MaxTables = 1000, BlockBytes = 512 };

    private readonly string _directory = postgres.CreateScratchDirectory("text");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("UTC")]
    [InlineData("America/New_York")]
    public async Task The_demo_database_has_the_manifest_pg_dump_gives_it(string timeZone)
    {
        var exports = await DumpExports.GetAsync(postgres);

        await AssertSameManifestAsync(DumpExports.DatabaseOf(exports.SourceConnection), timeZone, Everything, splitTable: "COPY public.big ");
    }

    [Fact]
    public async Task The_default_takes_over_only_the_large_tables_and_gives_the_same_manifest()
    {
        var exports = await DumpExports.GetAsync(postgres);

        // Only "big" is over 1 MiB.
        await AssertSameManifestAsync(DumpExports.DatabaseOf(exports.SourceConnection), "UTC", DatabaseTextOptions.Default, splitTable: "COPY public.big ");
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("Asia/Kolkata")]
    public async Task Every_kind_of_value_prints_as_pg_dump_prints_it(string timeZone)
    {
        var connection = await postgres.CreateDatabaseAsync("kinds");
        await DumpExports.ExecuteAsync(connection, """"
            DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET bytea_output = escape', current_database()); END $$;
            CREATE SCHEMA "Sales ""EU""";
            CREATE TABLE "Sales ""EU"""."order" ("user" int, "select" text, "Mixed Case" text, "ünï" text, dropped int, kept int);
            ALTER TABLE "Sales ""EU"""."order" DROP COLUMN dropped;
            INSERT INTO "Sales ""EU"""."order" VALUES (1, 'a', 'B', 'ç', 2), (NULL, NULL, NULL, NULL, NULL);
            CREATE TABLE kinds (
              id int GENERATED ALWAYS AS IDENTITY,
              "tenantId" text,
              f4 real, f8 double precision, n numeric, m money,
              b bytea, j json, jb jsonb, x xml,
              ts timestamp, tz timestamptz, d date, t time, ttz timetz, iv interval,
              a int[], ta text[], r int4range, u uuid, inet inet, bits bit varying, bo boolean,
              doubled int GENERATED ALWAYS AS (length(coalesce("tenantId", '')) * 2) STORED,
              long text);
            INSERT INTO kinds ("tenantId", f4, f8, n, m, b, j, jb, x, ts, tz, d, t, ttz, iv, a, ta, r, u, inet, bits, bo, long)
            SELECT 't' || (i % 3), i / 3.0, CASE i % 5 WHEN 0 THEN 'NaN' WHEN 1 THEN '-Infinity' WHEN 2 THEN '-0' WHEN 3 THEN 1e-300 ELSE 0.1 END,
                   i * 1.000001, i * 1.25, CASE WHEN i % 4 = 0 THEN NULL ELSE decode(md5(i::text) || '005c0a09', 'hex') END,
                   json_build_object('k', i, 's', E'tab\there "q" \\ back'), jsonb_build_object('n', i / 7.0, 'arr', ARRAY[i, NULL]),
                   xmlparse(content '<a>' || i || '</a>'),
                   timestamp '2026-03-29 01:30:00' + i * interval '37 minutes', timestamptz '2026-03-29 00:30:00+00' + i * interval '37 minutes',
                   date '2026-01-01' + i, time '12:34:56.789' + i * interval '1 second', timetz '23:59:59.5+05:30',
                   i * interval '1 day 2 hours 3.5 seconds' - interval '1 month',
                   ARRAY[i, NULL, -i], ARRAY['x y', E'q"uote', NULL, E'back\\slash', ''], int4range(i, i + 10),
                   md5(i::text)::uuid, ('10.0.' || (i % 255) || '.1/24')::inet, (i % 16)::bit(4)::varbit, i % 2 = 0,
                   CASE WHEN i % 50 = 0 THEN repeat(E'long\tline\n', 400) ELSE E'line\none' END
              FROM generate_series(1, 600) i;
            CREATE TABLE only_generated (g int GENERATED ALWAYS AS (1) STORED);
            CREATE TABLE measurement ("tenantId" text NOT NULL, day date NOT NULL, v double precision) PARTITION BY RANGE (day);
            CREATE TABLE measurement_a PARTITION OF measurement FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
            CREATE TABLE measurement_b PARTITION OF measurement FOR VALUES FROM ('2026-07-01') TO ('2027-01-01') PARTITION BY RANGE (day);
            CREATE TABLE measurement_b1 PARTITION OF measurement_b FOR VALUES FROM ('2026-07-01') TO ('2027-01-01');
            INSERT INTO measurement SELECT 't' || (i % 4), date '2026-01-01' + (i % 360), pi() * i FROM generate_series(1, 900) i;
            CREATE TABLE "line
            break" ("first
            column" int, "second" text);
            INSERT INTO "line
            break" SELECT i, 'row ' || i FROM generate_series(1, 50) i;
            CREATE TABLE audit_note (a int);
            -- SQL-standard bodies (BEGIN ATOMIC ... END, semicolons inside), created through EXECUTE
            -- because the client splits a command at its semicolons.
            DO $do$ BEGIN
              EXECUTE $f$CREATE FUNCTION note_twice(x int) RETURNS int LANGUAGE sql
                BEGIN ATOMIC
                  INSERT INTO audit_note VALUES (x);
                  SELECT CASE WHEN x > 0 THEN x ELSE 0 END;
                END$f$;
              EXECUTE $f$CREATE OR REPLACE PROCEDURE note_both(x int) LANGUAGE sql
                BEGIN ATOMIC
                  INSERT INTO audit_note VALUES (x);
                  INSERT INTO audit_note VALUES (-x);
                END$f$;
            END $do$;
            CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
            CREATE TABLE feeling (m mood NOT NULL, n int) PARTITION BY HASH (m);
            CREATE TABLE feeling_0 PARTITION OF feeling FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE TABLE feeling_1 PARTITION OF feeling FOR VALUES WITH (MODULUS 2, REMAINDER 1);
            INSERT INTO feeling SELECT (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::mood, i FROM generate_series(1, 300) i;
            CREATE TABLE parent_rows (v int);
            CREATE TABLE child_rows (extra text) INHERITS (parent_rows);
            INSERT INTO parent_rows VALUES (1), (2);
            INSERT INTO child_rows VALUES (3, 'child');
            CREATE UNLOGGED TABLE scratch_rows (v int);
            INSERT INTO scratch_rows VALUES (42);
            CREATE TABLE empty_rows (v int);
            CREATE MATERIALIZED VIEW kinds_count AS SELECT count(*) FROM kinds;
            ANALYZE;
            """");

        await AssertSameManifestAsync(DumpExports.DatabaseOf(connection), timeZone, Everything, splitTable: "COPY public.kinds ");
    }

    [Fact]
    public async Task Rows_written_after_the_snapshot_was_taken_are_not_read()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var connection = await postgres.CreateDatabaseAsync("later");
        await DumpExports.ExecuteAsync(connection, """
            CREATE TABLE taken (v int); INSERT INTO taken SELECT generate_series(1, 1000);
            CREATE TABLE dumped (v int); INSERT INTO dumped SELECT generate_series(1, 10);
            """);
        // "taken" is read by the sessions, "dumped" (under the threshold) by pg_dump.
        var reading = Everything with { MinimumTableBytes = 16 * 1024 };

        await using var text = await DatabaseText.OpenAsync(DumpExports.Login(postgres, _directory), DumpExports.Instance(postgres), DumpExports.DatabaseOf(connection),
            new DatabaseDumpOptions(), exports.Tools, reading);
        await DumpExports.ExecuteAsync(connection, "INSERT INTO taken SELECT generate_series(1, 500); INSERT INTO dumped VALUES (11);");
        var content = await DumpContentReader.ReadAsync(text, Options("UTC"));

        Assert.Equal(1000, content.Tables["public.taken"].Rows);
        Assert.Equal(10, content.Tables["public.dumped"].Rows);
    }

    [Fact]
    public async Task A_session_that_has_finished_does_not_keep_the_reader_waking()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var connection = await postgres.CreateDatabaseAsync("uneven");
        await DumpExports.ExecuteAsync(connection, """
            CREATE TABLE small (v int); INSERT INTO small VALUES (1);
            CREATE TABLE large (v int, t text); INSERT INTO large SELECT g, repeat('x', 200) FROM generate_series(1, 20000) AS g;
            """);

        // Two sessions: one reads "small" and is done at once, the other reads "large" in many small blocks.
        await using var stream = await DatabaseText.OpenAsync(DumpExports.Login(postgres, _directory), DumpExports.Instance(postgres), DumpExports.DatabaseOf(connection),
            new DatabaseDumpOptions(), exports.Tools, Everything with { BlockBytes = 4096 });
        var text = Assert.IsType<DatabaseText>(stream);
        var content = await DumpContentReader.ReadAsync(text, Options("UTC"));

        Assert.Equal(20000, content.Tables["public.large"].Rows);
        Assert.True(text.BlocksTaken > 100, $"only {text.BlocksTaken} blocks: the large table was not read by a session");
        // Every wait ends with a block or a session's end; waking for a session already finished
        // would make the reader spin until the other session's next block.
        Assert.True(text.Waits <= text.BlocksTaken + 2, $"{text.Waits} waits for {text.BlocksTaken} blocks from 2 sessions");
    }

    [Fact]
    public async Task A_session_that_dies_fails_the_read()
    {
        var exports = await DumpExports.GetAsync(postgres);

        await using var text = await DatabaseText.OpenAsync(DumpExports.Login(postgres, _directory), DumpExports.Instance(postgres),
            DumpExports.DatabaseOf(exports.SourceConnection), new DatabaseDumpOptions(), exports.Tools, Everything with { MinimumTableBytes = 1 << 20 });
        // The big table's rows are far more than what is queued and in the sockets.
        Assert.True(await text.ReadAsync(new byte[64]) > 0);
        await DumpExports.ExecuteAsync(postgres.ConnectionString(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'commissable-content-read' AND query LIKE 'COPY %'");

        await Assert.ThrowsAsync<DumpStreamException>(() => text.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task Disposed_early_it_leaves_no_session_and_no_pg_dump()
    {
        var exports = await DumpExports.GetAsync(postgres);

        var text = await DatabaseText.OpenAsync(DumpExports.Login(postgres, _directory), DumpExports.Instance(postgres),
            DumpExports.DatabaseOf(exports.SourceConnection), new DatabaseDumpOptions(), exports.Tools, Everything);
        Assert.True(await text.ReadAsync(new byte[4096]) > 0);
        Assert.True(await SessionsAsync() >= 3, "the holder, pg_dump and the COPY sessions are connected while it is read");
        await text.DisposeAsync();

        Assert.Equal(0, await SessionsAsync());
    }

    private async Task<long> SessionsAsync()
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'commissable-content-read'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static DumpReadOptions Options(string timeZone) => new() { TenantColumn = "tenantId", TimeZone = timeZone };

    /// <summary>
    /// Reads <paramref name="database"/> with pg_dump alone and with <see cref="DatabaseText"/>;
    /// the manifests must be identical, and hold rows, so the equality compares something; the
    /// rows of <paramref name="splitTable"/> must have come from the sessions.
    /// </summary>
    private async Task AssertSameManifestAsync(string database, string timeZone, DatabaseTextOptions reading, string splitTable)
    {
        var exports = await DumpExports.GetAsync(postgres);
        var login = DumpExports.Login(postgres, _directory);
        var options = new DatabaseDumpOptions { TimeZone = timeZone };

        BackupContent dumped;
        await using (var dump = await DatabaseDump.OpenAsync(login, DumpExports.Instance(postgres), database, options, exports.Tools))
        {
            dumped = await DumpContentReader.ReadAsync(dump, Options(timeZone));
        }
        BackupContent read;
        string text;
        await using (var stream = await DatabaseText.OpenAsync(login, DumpExports.Instance(postgres), database, options, exports.Tools, reading))
        using (var reader = new StreamReader(stream))
        {
            text = await reader.ReadToEndAsync();
        }
        read = await DumpContentReader.ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), Options(timeZone));

        Assert.True(dumped.TotalRows > 0);
        // The sessions did read the rows: pg_dump prints one COPY block per table, they print one per block.
        var blocks = text.Split('\n').Count(l => l.StartsWith(splitTable, StringComparison.Ordinal));
        Assert.True(blocks > 1, $"{splitTable}… came in {blocks} block(s): the COPY sessions did not read it");
        Assert.Equal(JsonSerializer.Serialize(dumped), JsonSerializer.Serialize(read));
    }
}
