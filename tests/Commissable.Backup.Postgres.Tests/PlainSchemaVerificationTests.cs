using System.IO.Compression;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Inspection;
using Commissable.Backup.Postgres.Verification;
using Npgsql;
using Xunit.Abstractions;
using static Commissable.Backup.Postgres.Tests.VerificationRestores;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// Verification of a schema written the old way, not the demo's: no tenant column at all, sequences
/// drawn through plain <c>DEFAULT nextval(...)</c> with no <c>OWNED BY</c> (one shared by two
/// tables, one used inside a larger default, one used by no column), plus what the demo lacks: a
/// partitioned table, a bytea column, a materialized view and comments.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PlainSchemaVerificationTests(TestPostgres postgres, ITestOutputHelper output)
{
    /// <summary>Plain nextval defaults, no owned sequence, no "tenantId"; 20 invoices, 60 events over two partitions.</summary>
    public const string Schema = """
        CREATE SEQUENCE invoice_seq;
        CREATE SEQUENCE line_seq;
        CREATE SEQUENCE ticket_seq;
        CREATE SEQUENCE spare_seq;
        CREATE SEQUENCE event_seq;
        CREATE TABLE invoice (
            id bigint PRIMARY KEY DEFAULT nextval('invoice_seq'),
            customer text NOT NULL,
            issued_at timestamptz NOT NULL,
            scan bytea);
        CREATE TABLE invoice_line (id integer PRIMARY KEY DEFAULT nextval('line_seq'), invoice_id bigint NOT NULL REFERENCES invoice, amount numeric NOT NULL);
        CREATE TABLE credit_line (id integer PRIMARY KEY DEFAULT nextval('line_seq'), amount numeric NOT NULL);
        CREATE TABLE ticket (code text PRIMARY KEY DEFAULT 'T-' || nextval('ticket_seq'));
        CREATE TABLE event (
            id bigint NOT NULL DEFAULT nextval('event_seq'),
            happened_on date NOT NULL,
            kind text NOT NULL,
            PRIMARY KEY (id, happened_on)) PARTITION BY RANGE (happened_on);
        CREATE TABLE event_2025 PARTITION OF event FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE event_2026 PARTITION OF event FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO invoice (customer, issued_at, scan)
            SELECT 'customer ' || g, timestamptz '2026-03-01 09:30:00.25+00' + g * interval '1 day 1 hour',
                   CASE WHEN g % 4 = 0 THEN NULL ELSE decode(md5('scan ' || g), 'hex') END
            FROM generate_series(1, 20) g;
        INSERT INTO invoice_line (invoice_id, amount) SELECT 1 + g % 20, g FROM generate_series(1, 50) g;
        INSERT INTO credit_line (amount) VALUES (5), (6);
        INSERT INTO ticket DEFAULT VALUES;
        INSERT INTO ticket DEFAULT VALUES;
        INSERT INTO event (happened_on, kind) SELECT date '2025-06-01' + g * 7, CASE WHEN g % 2 = 0 THEN 'open' ELSE 'close' END FROM generate_series(1, 60) g;
        CREATE MATERIALIZED VIEW invoice_total AS SELECT invoice_id, sum(amount) AS total FROM invoice_line GROUP BY invoice_id;
        COMMENT ON TABLE invoice IS 'Invoices as sent to customers';
        COMMENT ON COLUMN invoice_line.amount IS 'Net amount, tax excluded';
        """;

    private static readonly string[] Tables =
        ["public.credit_line", "public.event", "public.event_2025", "public.event_2026", "public.invoice", "public.invoice_line", "public.ticket"];

    private static readonly VerificationOptions SequencesOnly = new() { Checks = [RestoreChecks.SequencesAhead] };

    [Fact]
    public async Task The_content_of_its_dump_holds_the_partitions_and_their_parent_the_sequences_the_view_and_the_comments_and_no_tenants()
    {
        var backup = (await RoundTripAsync()).Backup;

        Assert.Equal(Tables, backup.Tables.Keys);
        Assert.All(backup.Tables.Values, t => Assert.Null(t.Tenants));
        Assert.Equal((20L, 50L, 2L, 2L), (backup.Tables["public.invoice"].Rows, backup.Tables["public.invoice_line"].Rows, backup.Tables["public.credit_line"].Rows, backup.Tables["public.ticket"].Rows));
        var (parent, old, current) = (backup.Tables["public.event"], backup.Tables["public.event_2025"], backup.Tables["public.event_2026"]);
        Assert.Equal((true, null, 60L), (parent.Partitioned, parent.PartitionOf, parent.Rows));
        Assert.Equal((false, "public.event", 30L), (old.Partitioned, old.PartitionOf, old.Rows));
        Assert.Equal((false, "public.event", 30L), (current.Partitioned, current.PartitionOf, current.Rows));
        Assert.Equal(134, backup.TotalRows);
        Assert.Equal(["id", "customer", "issued_at", "scan"], backup.Tables["public.invoice"].Columns);

        Assert.Equal(
            new Dictionary<string, RecordedSequence>
            {
                ["public.event_seq"] = new(60, true),
                ["public.invoice_seq"] = new(20, true),
                ["public.line_seq"] = new(52, true),
                ["public.spare_seq"] = new(1, false),
                ["public.ticket_seq"] = new(2, true),
            },
            backup.Sequences);
        Assert.Null(backup.Migrations);
        Assert.Equal(new Dictionary<string, bool> { ["public.invoice_total"] = true }, backup.MaterializedViews);
        Assert.Equal(["COLUMN public.invoice_line.amount", "TABLE public.invoice"], backup.Comments.Keys);
        Assert.Empty(backup.Extensions);
    }

    [Fact]
    public async Task A_faithful_restore_read_back_with_pg_dump_passes_every_content_check_with_tenants_not_applicable_and_every_restore_check()
    {
        var roundTrip = await RoundTripAsync();
        var copy = await CopyAsync(postgres, roundTrip);

        var restored = await ReadDatabaseAsync(postgres, copy);
        var content = ContentComparison.Compare(roundTrip.Backup, restored);
        await using var dataSource = DataSource(copy);
        var checks = await RestoreChecks.RunAsync(dataSource);
        Log(content.Concat(checks));

        Assert.Equal(ContentComparison.All, content.Select(r => r.Name));
        Assert.Equal(RestoreChecks.All, checks.Select(r => r.Name));
        Assert.All(content.Concat(checks), r => Assert.True(r.Passed, $"{r.Name}: {r.Detail}"));
        Assert.Equal("not applicable: no table has the tenant column \"tenantId\" in the backup nor the restore", Detail(content, ContentComparison.Tenants));
        Assert.Equal("7 tables, 134 rows: counts and contents equal", Detail(content, ContentComparison.Tables));
        Assert.Equal("5 sequences at or past the backup's position", Detail(content, ContentComparison.Sequences));
        Assert.Equal("no _prisma_migrations in the backup nor the restore", Detail(content, ContentComparison.MigrationsHead));
        Assert.Equal("1 materialized views, 1 populated, as in the backup", Detail(content, ContentComparison.MaterializedViews));
        Assert.Equal("2 comments equal", Detail(content, ContentComparison.Comments));
        Assert.Equal(Json(roundTrip.Backup), Json(restored));
    }

    [Fact]
    public async Task A_bytea_set_to_null_fails_the_contents_naming_the_table()
    {
        var content = await DamagedCopyAsync("UPDATE invoice SET scan = NULL WHERE id = (SELECT min(id) FROM invoice WHERE scan IS NOT NULL)");

        AssertOnlyFailed(content, ContentComparison.Tables);
        Assert.Equal("1 of 7 tables differ: public.invoice: same 20 rows, different contents", Detail(content, ContentComparison.Tables));
    }

    [Fact]
    public async Task A_row_deleted_in_one_partition_fails_the_contents_naming_the_partition_and_its_parent()
    {
        var content = await DamagedCopyAsync("DELETE FROM event_2026 WHERE id = (SELECT min(id) FROM event_2026)");

        AssertOnlyFailed(content, ContentComparison.Tables);
        Assert.Equal(
            "2 of 7 tables differ: public.event: backup 60 rows, restored 59 (-1) (partitioned: the sum of its partitions); public.event_2026: backup 30 rows, restored 29 (-1)",
            Detail(content, ContentComparison.Tables));
    }

    [Fact]
    public async Task A_materialized_view_left_unpopulated_fails_naming_the_view()
    {
        var content = await DamagedCopyAsync("REFRESH MATERIALIZED VIEW invoice_total WITH NO DATA");

        AssertOnlyFailed(content, ContentComparison.MaterializedViews);
        Assert.Equal("public.invoice_total: populated in the backup, not in the restore", Detail(content, ContentComparison.MaterializedViews));
    }

    [Fact]
    public async Task A_dropped_comment_fails_naming_what_it_was_on()
    {
        var content = await DamagedCopyAsync("COMMENT ON TABLE invoice IS NULL");

        AssertOnlyFailed(content, ContentComparison.Comments);
        Assert.Equal("COMMENT ON TABLE public.invoice: missing", Detail(content, ContentComparison.Comments));
    }

    [Fact]
    public async Task A_changed_comment_fails_naming_what_it_is_on()
    {
        var content = await DamagedCopyAsync("COMMENT ON COLUMN invoice_line.amount IS 'Gross amount'");

        AssertOnlyFailed(content, ContentComparison.Comments);
        Assert.Equal("COMMENT ON COLUMN public.invoice_line.amount: different text", Detail(content, ContentComparison.Comments));
    }

    [Fact]
    public async Task A_non_owned_sequence_set_behind_its_column_fails_its_recorded_position_and_the_sequence_check()
    {
        var roundTrip = await RoundTripAsync();
        var copy = await CopyAsync(postgres, roundTrip);
        await ExecuteAsync(copy, "SELECT setval('invoice_seq', 1)");

        var content = ContentComparison.Compare(roundTrip.Backup, await ReadDatabaseAsync(postgres, copy));
        await using var dataSource = DataSource(copy);
        var checks = await RestoreChecks.RunAsync(dataSource);
        Log(content.Concat(checks));

        AssertOnlyFailed(content, ContentComparison.Sequences);
        Assert.Equal("1 sequence not as in the backup: public.invoice_seq: behind the backup (next value 2, the backup's 21)", Detail(content, ContentComparison.Sequences));
        Assert.Equal([RestoreChecks.SequencesAhead], checks.Where(r => !r.Passed).Select(r => r.Name));
        Assert.Equal("1 of 4 sequences behind their column (the next insert would collide): \"public\".\"invoice_seq\" for \"public\".\"invoice\".\"id\": next value 2, column max 20",
            Detail(checks, RestoreChecks.SequencesAhead));
    }

    [Fact]
    public async Task A_sequence_of_another_schema_behind_its_column_fails_the_sequence_check()
    {
        var roundTrip = await RoundTripAsync();
        var copy = await CopyAsync(postgres, roundTrip);
        await ExecuteAsync(copy, """
            CREATE SCHEMA billing;
            CREATE TABLE billing.receipt (id serial PRIMARY KEY);
            INSERT INTO billing.receipt (id) VALUES (100);
            """);

        await using var dataSource = DataSource(copy);
        var ahead = Assert.Single(await RestoreChecks.RunAsync(dataSource, SequencesOnly));

        Assert.False(ahead.Passed);
        Assert.Equal("1 of 5 sequences behind their column (the next insert would collide): \"billing\".\"receipt_id_seq\" for \"billing\".\"receipt\".\"id\": next value 1, column max 100", ahead.Detail);
    }

    [Fact]
    public async Task A_sequence_drawn_from_inside_a_larger_default_set_behind_fails_its_recorded_position()
    {
        var roundTrip = await RoundTripAsync();
        var copy = await CopyAsync(postgres, roundTrip);
        await ExecuteAsync(copy, "SELECT setval('ticket_seq', 1)");

        var content = ContentComparison.Compare(roundTrip.Backup, await ReadDatabaseAsync(postgres, copy));
        await using var dataSource = DataSource(copy);
        var ahead = Assert.Single(await RestoreChecks.RunAsync(dataSource, SequencesOnly));
        Log(content.Append(ahead));

        AssertOnlyFailed(content, ContentComparison.Sequences);
        Assert.Equal("1 sequence not as in the backup: public.ticket_seq: behind the backup (next value 2, the backup's 3)", Detail(content, ContentComparison.Sequences));
        // No column's values can be compared with it ('T-' || nextval), so only the backup's position proves it behind...
        Assert.True(ahead.Passed, ahead.Detail);
        Assert.EndsWith("2 that no column draws from (compared with the backup by sequences.recorded): \"public\".\"spare_seq\"; \"public\".\"ticket_seq\"", ahead.Detail, StringComparison.Ordinal);
        // ...and it is: the next ticket would collide.
        var collision = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(copy, "INSERT INTO ticket DEFAULT VALUES"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, collision.SqlState);
    }

    [Fact]
    public async Task Every_sequence_a_plain_nextval_default_draws_from_is_compared_with_every_column_that_draws_from_it()
    {
        var database = await PlainDatabaseAsync();
        await using var dataSource = DataSource(database);

        var check = await SequenceCheck.RunAsync(dataSource);
        Assert.True(check.Passed, string.Join("; ", check.Behind));
        Assert.Equal(
            [("line_seq", "credit_line", "id"), ("event_seq", "event", "id"), ("invoice_seq", "invoice", "id"), ("line_seq", "invoice_line", "id")],
            check.Sequences.Select(s => (s.Sequence, s.Table, s.Column)));
        Assert.All(check.Sequences, s => Assert.Equal(SequenceUse.Default, s.Use));
        Assert.Equal(["spare_seq", "ticket_seq"], check.Unused.Select(s => s.Name));

        var healthy = Assert.Single(await RestoreChecks.RunAsync(dataSource, SequencesOnly));
        output.WriteLine(healthy.Detail);
        Assert.True(healthy.Passed, healthy.Detail);
        Assert.Equal(
            "3 sequences ahead of the 4 columns that draw from them (4 nextval default); 2 that no column draws from (compared with the backup by sequences.recorded): \"public\".\"spare_seq\"; \"public\".\"ticket_seq\"",
            healthy.Detail);

        await ExecuteAsync(database, "SELECT setval('invoice_seq', 1)");
        var behind = Assert.Single(await RestoreChecks.RunAsync(dataSource, SequencesOnly));
        output.WriteLine(behind.Detail);
        Assert.False(behind.Passed);
        Assert.Equal("1 of 4 sequences behind their column (the next insert would collide): \"public\".\"invoice_seq\" for \"public\".\"invoice\".\"id\": next value 2, column max 20",
            behind.Detail);
        // What the check predicts is what the application would hit.
        var collision = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(database, "INSERT INTO invoice (customer, issued_at) VALUES ('new', now())"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, collision.SqlState);
    }

    [Fact]
    public async Task A_shared_sequence_must_be_past_every_column_that_draws_from_it()
    {
        var database = await PlainDatabaseAsync();
        await using var dataSource = DataSource(database);

        // line_seq is at 52, past invoice_line's 50 rows; a row given its id by hand puts credit_line past it.
        await ExecuteAsync(database, "INSERT INTO credit_line (id, amount) VALUES (900, 7)");
        var behind = Assert.Single(await RestoreChecks.RunAsync(dataSource, SequencesOnly));

        Assert.False(behind.Passed);
        Assert.Equal("1 of 4 sequences behind their column (the next insert would collide): \"public\".\"line_seq\" for \"public\".\"credit_line\".\"id\": next value 53, column max 900",
            behind.Detail);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("demo")]
    public async Task The_content_is_the_same_whether_the_database_is_dumped_plain_gzip_custom_or_directory(string which)
    {
        var source = which == "demo" ? await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny) : await PlainDatabaseAsync();
        var directory = Directory.CreateTempSubdirectory("formats-");
        try
        {
            var custom = Path.Combine(directory.FullName, "backup.dump");
            var parallel = Path.Combine(directory.FullName, "backup.dir");
            await Tool(postgres, "pg_dump", source, "--format=custom", "--no-owner", "--no-privileges", "--file", custom).RunAsync();
            await Tool(postgres, "pg_dump", source, "--format=directory", "--jobs=2", "--no-owner", "--no-privileges", "--file", parallel).RunAsync();

            var plain = await ReadOutputAsync(Tool(postgres, "pg_dump", source, [.. PlainDumpFlags]), ReadOptions);
            var gzip = await ReadOutputAsync(Tool(postgres, "pg_dump", source, [.. PlainDumpFlags, "--compress=6"]), ReadOptions,
                stream => new GZipStream(stream, CompressionMode.Decompress));
            var fromCustom = await ReadOutputAsync(Tool(postgres, "pg_restore", source, "--no-owner", "--no-privileges", "--file=-", custom), ReadOptions);
            var fromDirectory = await ReadOutputAsync(Tool(postgres, "pg_restore", source, "--no-owner", "--no-privileges", "--file=-", parallel), ReadOptions);

            var expected = Json(plain);
            output.WriteLine($"{which}: {plain.Tables.Count} tables, {plain.TotalRows} rows, {expected.Length} characters of JSON");
            Assert.True(plain.TotalRows > 0);
            Assert.Equal(expected, Json(gzip));
            Assert.Equal(expected, Json(fromCustom));
            Assert.Equal(expected, Json(fromDirectory));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_dump_is_read_in_the_time_zone_it_was_written_in_so_both_sides_must_be_dumped_in_the_same_one()
    {
        var source = await PlainDatabaseAsync();
        var utc = await ReadDatabaseAsync(postgres, source);
        var newYork = await ReadOutputAsync(ToolInZone(postgres, "pg_dump", source, "America/New_York", [.. PlainDumpFlags]), ReadOptions with { TimeZone = "America/New_York" });

        // pg_dump prints timestamptz in the session's zone: only the table that has one reads differently.
        Assert.Equal("America/New_York", newYork.TimeZone);
        Assert.Equal(["public.invoice"], Tables.Where(t => utc.Tables[t].Digest != newYork.Tables[t].Digest));
        // Compared with each other they fail, as damage would: the comparison does not check the zones agree.
        var compared = ContentComparison.Compare(utc, newYork);
        Log(compared);
        Assert.Equal([ContentComparison.Tables], compared.Where(r => !r.Passed).Select(r => r.Name));
        Assert.Equal("1 of 7 tables differ: public.invoice: same 20 rows, different contents", Detail(compared, ContentComparison.Tables));
    }

    [Fact]
    public async Task The_tenant_column_is_a_setting_read_per_customer_the_invoices_are_compared_per_customer()
    {
        var roundTrip = await RoundTripAsync();
        var copy = await CopyAsync(postgres, roundTrip);
        var byCustomer = ReadOptions with { TenantColumn = "customer" };
        // The round trip kept only its "tenantId" reading: the same schema and rows again, read per customer.
        var backup = await ReadDatabaseAsync(postgres, await PlainDatabaseAsync(), byCustomer);

        var invoices = backup.Tables["public.invoice"].Tenants!;
        Assert.Equal(20, invoices.Count);
        Assert.All(invoices.Values, t => Assert.Equal(1, t.Rows));
        var faithful = ContentComparison.Compare(backup, await ReadDatabaseAsync(postgres, copy, byCustomer));
        Assert.Equal(ContentComparison.Tenants, faithful[1].Name);
        Assert.Equal((true, "1 tables with \"customer\", 20 tenants: per-tenant rows and contents equal"), (faithful[1].Passed, faithful[1].Detail));

        await ExecuteAsync(copy, "UPDATE invoice SET customer = 'customer 2' WHERE customer = 'customer 1'");
        var moved = ContentComparison.Compare(backup, await ReadDatabaseAsync(postgres, copy, byCustomer));
        Log(moved);
        Assert.Equal(
            "2 differences in the tables with \"customer\": public.invoice tenant customer 1: missing (backup 1 row); public.invoice tenant customer 2: backup 1 row, restored 2 (+1)",
            Detail(moved, ContentComparison.Tenants));

        // Read with different tenant columns, the two sides cannot be compared per tenant.
        var mixed = ContentComparison.Compare(backup, await ReadDatabaseAsync(postgres, copy));
        Assert.Equal((false, "the backup was read with the tenant column \"customer\", the restore with \"tenantId\": read both with the same"),
            (mixed[1].Passed, mixed[1].Detail));
    }

    private Task<RoundTrip> RoundTripAsync() => GetAsync(postgres, "plain", PlainDatabaseAsync);

    /// <summary>A copy of the plain schema's restore, broken by <paramref name="breakIt"/>, read back and compared with the backup.</summary>
    private async Task<IReadOnlyList<CheckResult>> DamagedCopyAsync(string breakIt)
    {
        var roundTrip = await RoundTripAsync();
        var copy = await CopyAsync(postgres, roundTrip);
        await ExecuteAsync(copy, breakIt);
        var content = ContentComparison.Compare(roundTrip.Backup, await ReadDatabaseAsync(postgres, copy));
        Log(content);
        await using var dataSource = DataSource(copy);
        var checks = await RestoreChecks.RunAsync(dataSource);
        Log(checks);
        // None of these damages is the restore checks' concern: the database is usable, it just does not hold the backup.
        Assert.All(checks, r => Assert.True(r.Passed, $"{r.Name}: {r.Detail}"));
        return content;
    }

    private async Task<string> PlainDatabaseAsync()
    {
        var database = await postgres.CreateDatabaseAsync("plain");
        await ExecuteAsync(database, Schema);
        return database;
    }

    private void Log(IEnumerable<CheckResult> results)
    {
        foreach (var result in results)
        {
            output.WriteLine($"{result.Name} {(result.Passed ? "passed" : "FAILED")}: {result.Detail}");
        }
    }

    private static string Json(BackupContent content) => JsonSerializer.Serialize(content, CatalogJson.Options);

    private static string Detail(IEnumerable<CheckResult> results, string name) => results.Single(r => r.Name == name).Detail;

    private static void AssertOnlyFailed(IReadOnlyList<CheckResult> content, params string[] failing)
    {
        Assert.Equal(ContentComparison.All, content.Select(r => r.Name));
        Assert.Equal(ContentComparison.All.Where(failing.Contains), content.Where(r => !r.Passed).Select(r => r.Name));
    }
}
