using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using static Commissable.Backup.Core.Tests.Backups.Content.Dumps;

namespace Commissable.Backup.Core.Tests.Backups.Content;

public sealed class DumpContentReaderTests
{
    private const string Zero = "00000000000000000000000000000000";

    [Fact]
    public async Task The_header_gives_the_server_and_pg_dump_versions_and_the_options_give_time_zone_and_tenant_column()
    {
        var content = await ReadBodyAsync("CREATE TABLE public.t (id integer);", new DumpReadOptions { TimeZone = "America/New_York", TenantColumn = "orgId" });

        Assert.Equal("15.18 (Debian 15.18-0+deb12u1)", content.ServerVersion);
        Assert.Equal("15.18 (Debian 15.18-0+deb12u1)", content.PgDumpVersion);
        Assert.Equal("America/New_York", content.TimeZone);
        Assert.Equal("orgId", content.TenantColumn);
        Assert.Equal(BackupContent.Xxh128Sum, content.DigestAlgorithm);
    }

    [Fact]
    public async Task A_table_has_its_row_count_and_the_sum_of_its_rows_hashes_and_its_columns_as_printed()
    {
        var content = await ReadBodyAsync(Copy("public.\"Contact\"", "id, \"firstName\", notes", "1\tAda\t\\N", "2\tGrace\tsemi;colon"));

        var table = content.Tables["public.\"Contact\""];
        Assert.Equal(2, table.Rows);
        Assert.Equal(Digest("1\tAda\t\\N", "2\tGrace\tsemi;colon"), table.Digest);
        Assert.Equal(["id", "\"firstName\"", "notes"], table.Columns);
        Assert.Null(table.Tenants);
        Assert.Null(table.PartitionOf);
        Assert.False(table.Partitioned);
        Assert.Equal(2, content.TotalRows);
    }

    [Fact]
    public async Task The_digest_does_not_depend_on_row_order()
    {
        var a = await ReadBodyAsync(Copy("public.t", "id, name", "1\ta", "2\tb", "3\tc"));
        var b = await ReadBodyAsync(Copy("public.t", "id, name", "3\tc", "1\ta", "2\tb"));

        Assert.Equal(a.Tables["public.t"].Digest, b.Tables["public.t"].Digest);
    }

    [Fact]
    public async Task Duplicate_rows_are_counted_and_change_the_digest()
    {
        var once = await ReadBodyAsync(Copy("public.t", "name", "a", "b"));
        var twice = await ReadBodyAsync(Copy("public.t", "name", "a", "a", "b"));

        Assert.Equal(3, twice.Tables["public.t"].Rows);
        Assert.Equal(Digest("a", "a", "b"), twice.Tables["public.t"].Digest);
        Assert.NotEqual(once.Tables["public.t"].Digest, twice.Tables["public.t"].Digest);
    }

    [Fact]
    public async Task Any_changed_value_changes_the_digest_but_not_the_count()
    {
        var before = await ReadBodyAsync(Copy("public.t", "id, amount, photo", "1\t12.50\t\\\\xdeadbeef"));
        var changed = await ReadBodyAsync(Copy("public.t", "id, amount, photo", "1\t13.50\t\\\\xdeadbeef"));
        var nulled = await ReadBodyAsync(Copy("public.t", "id, amount, photo", "1\t12.50\t\\N"));

        Assert.Equal(1, nulled.Tables["public.t"].Rows);
        Assert.NotEqual(before.Tables["public.t"].Digest, changed.Tables["public.t"].Digest);
        Assert.NotEqual(before.Tables["public.t"].Digest, nulled.Tables["public.t"].Digest);
    }

    [Fact]
    public async Task A_COPY_of_no_rows_and_a_table_without_COPY_are_entries_with_zero_rows()
    {
        var content = await ReadBodyAsync("""
            CREATE TABLE public.never_copied (
                id integer
            );

            """ + Copy("public.empty", "id, \"tenantId\""));

        Assert.Equal(0, content.Tables["public.empty"].Rows);
        Assert.Equal(Zero, content.Tables["public.empty"].Digest);
        Assert.Empty(content.Tables["public.empty"].Tenants!);
        Assert.Equal(0, content.Tables["public.never_copied"].Rows);
        Assert.Equal(Zero, content.Tables["public.never_copied"].Digest);
        Assert.Null(content.Tables["public.never_copied"].Tenants);
    }

    [Fact]
    public async Task A_table_without_columns_counts_its_empty_rows()
    {
        var content = await ReadAsync(Of("COPY public.t  FROM stdin;\n\n\n\\.\n"));

        Assert.Equal(2, content.Tables["public.t"].Rows);
        Assert.Empty(content.Tables["public.t"].Columns);
        Assert.Equal(Digest("", ""), content.Tables["public.t"].Digest);
    }

    [Fact]
    public async Task Escaped_tabs_newlines_and_backslashes_stay_inside_one_row()
    {
        var row = "1\tline1\\nline2\\ttab\\\\back\t\\\\.";
        var content = await ReadBodyAsync(Copy("public.t", "id, notes, other", row, "2\t\\\\.\tx"));

        Assert.Equal(2, content.Tables["public.t"].Rows);
        Assert.Equal(Digest(row, "2\t\\\\.\tx"), content.Tables["public.t"].Digest);
    }

    [Fact]
    public async Task Each_tenant_gets_its_rows_and_digest_keyed_by_the_unescaped_id()
    {
        var rows = new[] { "1\tt_1\ta", "2\tt_2\tb", "3\tt_1\tc", "4\t\\N\td", "5\tt\\t3 ü\te" };
        var content = await ReadBodyAsync(Copy("public.\"Deal\"", "id, \"tenantId\", name", rows));

        var tenants = content.Tables["public.\"Deal\""].Tenants!;
        Assert.Equal(new[] { "\\N", "t\t3 ü", "t_1", "t_2" }, tenants.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new TenantContent(2, Digest(rows[0], rows[2])), tenants["t_1"]);
        Assert.Equal(new TenantContent(1, Digest(rows[1])), tenants["t_2"]);
        Assert.Equal(new TenantContent(1, Digest(rows[3])), tenants["\\N"]);
        Assert.Equal(new TenantContent(1, Digest(rows[4])), tenants["t\t3 ü"]);
    }

    [Fact]
    public async Task The_tenant_column_is_matched_unquoted_and_exactly()
    {
        var body = Copy("public.a", "id, org_id", "1\to1") + Copy("public.b", "id, \"OrgId\"", "1\to2");

        var lower = await ReadBodyAsync(body, new DumpReadOptions { TenantColumn = "org_id" });
        var mixed = await ReadBodyAsync(body, new DumpReadOptions { TenantColumn = "OrgId" });
        var standard = await ReadBodyAsync(body);

        Assert.Equal(["o1"], lower.Tables["public.a"].Tenants!.Keys);
        Assert.Null(lower.Tables["public.b"].Tenants);
        Assert.Equal(["o2"], mixed.Tables["public.b"].Tenants!.Keys);
        Assert.Null(mixed.Tables["public.a"].Tenants);
        Assert.All(standard.Tables.Values, t => Assert.Null(t.Tenants));
    }

    [Fact]
    public async Task A_row_without_the_tenant_field_is_refused()
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            ReadBodyAsync(Copy("public.t", "id, name, \"tenantId\"", "1\ta")));

        Assert.Contains("public.t", error.Message, StringComparison.Ordinal);
        Assert.Contains("fewer fields", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Partitions_sum_into_their_parents_on_every_level_with_tenants()
    {
        var content = await ReadBodyAsync("""
            CREATE TABLE public.event (
                id bigint NOT NULL,
                "tenantId" text NOT NULL,
                at date NOT NULL
            )
            PARTITION BY RANGE (at);

            CREATE TABLE public.event_2025 (
                id bigint NOT NULL,
                "tenantId" text NOT NULL,
                at date NOT NULL
            )
            PARTITION BY LIST ("tenantId");

            CREATE TABLE public.event_2025_a PARTITION OF public.event_2025 FOR VALUES IN ('t_1');

            ALTER TABLE ONLY public.event ATTACH PARTITION public.event_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

            ALTER TABLE ONLY public.event_2025 ATTACH PARTITION public.event_2025_rest DEFAULT;

            ALTER TABLE ONLY public.event ATTACH PARTITION public.event_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

            """
            + Copy("public.event_2025_a", "id, \"tenantId\", at", "1\tt_1\t2025-02-01")
            + Copy("public.event_2025_rest", "id, \"tenantId\", at", "2\tt_2\t2025-02-01", "3\tt_2\t2025-05-01")
            + Copy("public.event_2026", "id, \"tenantId\", at", "4\tt_1\t2026-02-01"));

        var all = new[] { "1\tt_1\t2025-02-01", "2\tt_2\t2025-02-01", "3\tt_2\t2025-05-01", "4\tt_1\t2026-02-01" };
        var root = content.Tables["public.event"];
        Assert.True(root.Partitioned);
        Assert.Null(root.PartitionOf);
        Assert.Equal(4, root.Rows);
        Assert.Equal(Digest(all), root.Digest);
        Assert.Equal(new TenantContent(2, Digest(all[0], all[3])), root.Tenants!["t_1"]);
        Assert.Equal(new TenantContent(2, Digest(all[1], all[2])), root.Tenants!["t_2"]);

        var middle = content.Tables["public.event_2025"];
        Assert.True(middle.Partitioned);
        Assert.Equal("public.event", middle.PartitionOf);
        Assert.Equal(3, middle.Rows);
        Assert.Equal(Digest(all[0], all[1], all[2]), middle.Digest);

        Assert.Equal("public.event_2025", content.Tables["public.event_2025_a"].PartitionOf);
        Assert.Equal("public.event_2025", content.Tables["public.event_2025_rest"].PartitionOf);
        Assert.False(content.Tables["public.event_2025_rest"].Partitioned);
        Assert.Equal(2, content.Tables["public.event_2025_rest"].Rows);
        Assert.Equal(4, content.TotalRows);
    }

    [Fact]
    public async Task A_partitioned_table_without_partitions_is_an_empty_partitioned_entry()
    {
        var content = await ReadBodyAsync("""
            CREATE TABLE public.log (
                at date
            )
            PARTITION BY RANGE (at);
            """);

        Assert.True(content.Tables["public.log"].Partitioned);
        Assert.Equal(0, content.Tables["public.log"].Rows);
    }

    [Fact]
    public async Task Every_setval_is_a_recorded_sequence_named_as_inside_the_quotes()
    {
        var content = await ReadBodyAsync("""
            SELECT pg_catalog.setval('public."Contact_id_seq"', 4, true);

            SELECT pg_catalog.setval('public.invoice_no_seq', 100, false);

            SELECT pg_catalog.setval('public."it''s_seq"', -5, true);
            """);

        Assert.Equal(new RecordedSequence(4, true), content.Sequences["public.\"Contact_id_seq\""]);
        Assert.Equal(new RecordedSequence(100, false), content.Sequences["public.invoice_no_seq"]);
        Assert.Equal(new RecordedSequence(-5, true), content.Sequences["public.\"it's_seq\""]);
        Assert.Empty(content.SchemaObjects);
    }

    [Fact]
    public async Task Prisma_migrations_give_the_head_of_finished_not_rolled_back_rows()
    {
        const string columns = "id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count";
        var content = await ReadBodyAsync(Copy("public._prisma_migrations", columns,
            "1\tc1\t2025-01-01 00:00:00+00\t20250101000000_init\t\\N\t\\N\t2025-01-01 00:00:00+00\t1",
            "2\tc2\t2025-02-01 00:00:00+00\t20250201000000_contacts\t\\N\t\\N\t2025-02-01 00:00:00+00\t1",
            "5\tc2\t2025-02-02 00:00:00+00\t20250201000000_contacts\t\\N\t\\N\t2025-02-02 00:00:00+00\t1",
            "3\tc3\t\\N\t20250301000000_failed\terror: x\\ny\t\\N\t2025-03-01 00:00:00+00\t0",
            "4\tc4\t2025-03-02 00:00:00+00\t20250302000000_rolled\t\\N\t2025-03-03 00:00:00+00\t2025-03-02 00:00:00+00\t1"));

        Assert.Equal(new MigrationState("20250201000000_contacts", 2, 1, 1), content.Migrations);
        Assert.Equal(5, content.Tables["public._prisma_migrations"].Rows);
    }

    [Fact]
    public async Task Without_a_prisma_migrations_table_the_migration_state_is_null_and_with_an_empty_one_it_has_no_head()
    {
        var none = await ReadBodyAsync(Copy("public.migrations", "migration_name, finished_at, rolled_back_at", "x\t\\N\t\\N"));
        var empty = await ReadBodyAsync("""
            CREATE TABLE public._prisma_migrations (
                id character varying(36) NOT NULL
            );
            """);

        Assert.Null(none.Migrations);
        Assert.Equal(new MigrationState(null, 0, 0, 0), empty.Migrations);
    }

    [Fact]
    public async Task Schema_objects_are_the_ddl_statements_normalised_with_a_label_and_a_hash()
    {
        var content = await ReadBodyAsync("""
            CREATE TABLE public."Contact" (
                id integer NOT NULL,
                "tenantId" text NOT NULL
            );

            ALTER TABLE public."Contact" OWNER TO postgres;

            CREATE INDEX "Contact_tenantId_idx" ON public."Contact" USING btree ("tenantId");

            GRANT SELECT ON TABLE public."Contact" TO reader;

            REVOKE ALL ON SCHEMA public FROM PUBLIC;

            ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO reader;

            COMMENT ON TABLE public."Contact" IS 'people';

            SET default_tablespace = '';

            REFRESH MATERIALIZED VIEW public.v;

            SELECT pg_catalog.setval('public.s', 1, false);

            \connect other
            """);

        const string table = "CREATE TABLE public.\"Contact\" ( id integer NOT NULL, \"tenantId\" text NOT NULL );";
        const string index = "CREATE INDEX \"Contact_tenantId_idx\" ON public.\"Contact\" USING btree (\"tenantId\");";
        string[] expected = [.. new[] { Line(table), Line(index) }.Order(StringComparer.Ordinal)];
        Assert.Equal(expected, content.SchemaObjects);
        Assert.Equal(Sha256(string.Concat(expected.Select(l => l + "\n"))), content.SchemaFingerprint);

        static string Line(string statement) => statement + " " + Sha256(statement)[..16];
    }

    [Fact]
    public async Task Whitespace_does_not_change_the_fingerprint_but_a_changed_definition_does()
    {
        var printed = await ReadBodyAsync("CREATE TABLE public.t (\n    id integer\n);");
        var respaced = await ReadBodyAsync("CREATE   TABLE public.t (\tid  integer );");
        var changed = await ReadBodyAsync("CREATE TABLE public.t (\n    id bigint\n);");

        Assert.Equal(printed.SchemaFingerprint, respaced.SchemaFingerprint);
        Assert.NotEqual(printed.SchemaFingerprint, changed.SchemaFingerprint);
    }

    [Fact]
    public async Task A_label_shows_the_table_of_an_index_constraint_or_trigger_even_past_160_characters()
    {
        var longName = new string('x', 60);
        var statement = $"ALTER TABLE ONLY {longName}.\"{longName}\" ADD CONSTRAINT \"{longName}_fkey\" FOREIGN KEY (a) REFERENCES public.other(id);";
        var content = await ReadBodyAsync(statement);

        var line = Assert.Single(content.SchemaObjects);
        Assert.Contains($"ADD CONSTRAINT \"{longName}_fkey\"", line, StringComparison.Ordinal);
        Assert.DoesNotContain("REFERENCES", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_label_never_shows_the_credentials_of_a_subscription_or_user_mapping()
    {
        var content = await ReadBodyAsync("""
            CREATE SUBSCRIPTION sub CONNECTION 'host=db password=s3cret' PUBLICATION pub WITH (connect = false, slot_name = 'sub');

            CREATE USER MAPPING FOR app SERVER remote OPTIONS (
                password 'hunter2',
                "user" 'app'
            );
            """);

        Assert.Equal(2, content.SchemaObjects.Count);
        Assert.All(content.SchemaObjects, l => Assert.DoesNotContain("s3cret", l, StringComparison.Ordinal));
        Assert.All(content.SchemaObjects, l => Assert.DoesNotContain("hunter2", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dollar_quoted_bodies_with_semicolons_and_lines_starting_with_backslash_dot_are_one_statement()
    {
        var content = await ReadBodyAsync("""
            CREATE FUNCTION public.touch() RETURNS trigger
                LANGUAGE plpgsql
                AS $$
            BEGIN
              NEW.notes := coalesce(NEW.notes, 'x;y');
              RETURN NEW;
            END;
            $$;

            CREATE FUNCTION public.dots() RETURNS text
                LANGUAGE sql
                AS $_$
            SELECT '
            \.
            ;' || $1 || $q$ it's; $q$
            $_$;

            CREATE FUNCTION public.e() RETURNS text
                LANGUAGE sql
                AS 'SELECT E''a\''; b''::text; -- not the end;
            ';

            """ + Copy("public.t", "id", "1"));

        Assert.Equal(3, content.SchemaObjects.Count);
        Assert.Contains(content.SchemaObjects, l => l.StartsWith("CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.notes := coalesce(NEW.notes, 'x;y'); RETURN NEW; END; $$;", StringComparison.Ordinal));
        Assert.Contains(content.SchemaObjects, l => l.StartsWith("CREATE FUNCTION public.dots() RETURNS text LANGUAGE sql AS $_$ SELECT ' \\. ;'", StringComparison.Ordinal));
        Assert.Equal(1, content.Tables["public.t"].Rows);
    }

    [Fact]
    public async Task A_semicolon_inside_parentheses_does_not_end_a_statement()
    {
        var content = await ReadBodyAsync("""
            CREATE RULE r AS
                ON INSERT TO public.t DO INSTEAD (INSERT INTO public.a VALUES (1);
             INSERT INTO public.b VALUES (2);
            );
            """);

        var line = Assert.Single(content.SchemaObjects);
        Assert.StartsWith("CREATE RULE r AS ON INSERT TO public.t DO INSTEAD (INSERT INTO public.a VALUES (1); INSERT INTO public.b VALUES (2); );", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extensions_are_recorded_as_name_in_schema_and_are_schema_objects_too()
    {
        var content = await ReadBodyAsync("""
            CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;

            CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA extensions;
            """);

        Assert.Equal(["citext in extensions", "uuid-ossp in public"], content.Extensions);
        Assert.Equal(2, content.SchemaObjects.Count);
    }

    [Fact]
    public async Task A_materialized_view_is_populated_only_when_the_dump_refreshes_it()
    {
        var content = await ReadBodyAsync("""
            CREATE MATERIALIZED VIEW public.summary AS
             SELECT 1 AS n
              WITH NO DATA;

            CREATE MATERIALIZED VIEW public."Stale" AS
             SELECT 1 AS n
              WITH NO DATA;

            REFRESH MATERIALIZED VIEW public.summary;
            """);

        Assert.True(content.MaterializedViews["public.summary"]);
        Assert.False(content.MaterializedViews["public.\"Stale\""]);
        Assert.Equal(2, content.SchemaObjects.Count);
    }

    [Fact]
    public async Task A_comment_is_recorded_by_target_with_a_hash_of_its_text()
    {
        var content = await ReadBodyAsync("""
            COMMENT ON TABLE public."Contact" IS 'People; one per tenant''s customer';

            COMMENT ON COLUMN public."Contact".notes IS 'line one
            line two: IS ''quoted''';

            COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';
            """);

        Assert.Equal(Sha256("People; one per tenant's customer")[..16], content.Comments["TABLE public.\"Contact\""]);
        Assert.Equal(Sha256("line one\nline two: IS 'quoted'")[..16], content.Comments["COLUMN public.\"Contact\".notes"]);
        Assert.True(content.Comments.ContainsKey("EXTENSION citext"));
        Assert.Empty(content.SchemaObjects);
    }

    [Fact]
    public async Task The_drops_of_clean_and_the_database_of_create_are_not_schema_objects()
    {
        var plain = await ReadBodyAsync("CREATE TABLE public.t (\n    id integer\n);\n\nALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);");
        var cleaned = await ReadBodyAsync("""
            DROP DATABASE IF EXISTS app;

            CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';

            ALTER DATABASE app OWNER TO postgres;

            \connect app

            ALTER TABLE IF EXISTS ONLY public.t DROP CONSTRAINT IF EXISTS t_pkey;

            ALTER TABLE ONLY public.t DROP CONSTRAINT t_pkey;

            ALTER TABLE public.t ALTER COLUMN id DROP DEFAULT;

            DROP TABLE IF EXISTS public.t;

            CREATE TABLE public.t (
                id integer
            );

            ALTER TABLE ONLY public.t
                ADD CONSTRAINT t_pkey PRIMARY KEY (id);
            """);

        Assert.Equal(plain.SchemaFingerprint, cleaned.SchemaFingerprint);
    }

    [Fact]
    public async Task A_large_objects_data_is_one_schema_line_with_a_hash_of_its_bytes_so_changed_bytes_are_seen()
    {
        const string Dump = """
            SELECT pg_catalog.lo_create('16622');

            BEGIN;

            SELECT pg_catalog.lo_open('16622', 131072);
            SELECT pg_catalog.lowrite(0, '\x68656c6c6f20776f726c64');
            SELECT pg_catalog.lowrite(0, '{0}');
            SELECT pg_catalog.lo_close(0);

            COMMIT;
            """;
        var content = await ReadBodyAsync(string.Format(CultureInfo.InvariantCulture, Dump, "\\x21"));
        var changed = await ReadBodyAsync(string.Format(CultureInfo.InvariantCulture, Dump, "\\x00"));

        Assert.Equal(2, content.SchemaObjects.Count);
        Assert.StartsWith("SELECT pg_catalog.lo_create('16622');", content.SchemaObjects[1], StringComparison.Ordinal);
        Assert.Matches("^LARGE OBJECT 16622 DATA [0-9a-f]{16}$", content.SchemaObjects[0]);
        Assert.NotEqual(content.SchemaObjects[0], changed.SchemaObjects[0]);
        Assert.NotEqual(content.SchemaFingerprint, changed.SchemaFingerprint);
        var cut = await Assert.ThrowsAsync<InvalidDataException>(() => ReadBodyAsync("""
            SELECT pg_catalog.lo_open('16622', 131072);
            SELECT pg_catalog.lowrite(0, '\x68');
            """));
        Assert.Contains("ends inside the data of large object 16622", cut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_table_name_with_a_line_break_has_its_COPY_line_read_over_both_lines_and_one_cut_inside_it_is_refused()
    {
        var content = await ReadBodyAsync("""
            COPY public."line
            break" ("first
            column", second) FROM stdin;
            1	one
            2	two
            \.
            """);

        Assert.Equal(2L, content.Tables["public.\"line\nbreak\""].Rows);
        Assert.Equal(["\"first\ncolumn\"", "second"], content.Tables["public.\"line\nbreak\""].Columns);
        var cut = await Assert.ThrowsAsync<InvalidDataException>(() => ReadBodyAsync("""
            COPY public."line
            """));
        // (The closing comment line is read as part of the unclosed name: the dump has no end.)
        Assert.StartsWith("The dump ends", cut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_as_INSERT_statements_are_refused_as_unreadable()
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            ReadBodyAsync("INSERT INTO public.t VALUES (1, 'secret value');"));

        Assert.Contains("--inserts", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_longer_than_the_reading_buffer_is_hashed_whole_and_its_tenant_read()
    {
        var big = new string('a', 3_000_000);
        var rows = new[] { $"1\tt_1\t{big}", $"2\tt_{new string('2', 1000)}\t{big}b", "3\tt_1\tsmall" };
        var content = await ReadBodyAsync(Copy("public.blob", "id, \"tenantId\", payload", rows));

        var table = content.Tables["public.blob"];
        Assert.Equal(3, table.Rows);
        Assert.Equal(Digest(rows), table.Digest);
        Assert.Equal(new TenantContent(2, Digest(rows[0], rows[2])), table.Tenants!["t_1"]);
        Assert.Equal(1, table.Tenants![$"t_{new string('2', 1000)}"].Rows);
    }

    [Fact]
    public async Task A_long_statement_outside_COPY_is_read_whole()
    {
        var values = string.Join(", ", Enumerable.Range(0, 150_000).Select(i => $"'v{i}'"));
        var content = await ReadBodyAsync($"CREATE TYPE public.big AS ENUM ({values});");

        var line = Assert.Single(content.SchemaObjects);
        Assert.StartsWith("CREATE TYPE public.big AS ENUM ('v0', 'v1'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Progress_reports_the_bytes_read()
    {
        var bytes = Encoding.UTF8.GetBytes(Of(Copy("public.t", "id", "1")));
        var reports = new List<long>();
        await ReadAsync(bytes, new DumpReadOptions { BytesRead = new SyncProgress(reports) });

        Assert.Equal(bytes.Length, reports[^1]);
    }

    [Fact]
    public async Task Reading_stops_when_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DumpContentReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(Of(""))), new DumpReadOptions(), cancel.Token));
    }

    // --- what is not a whole pg_dump plain-text dump ---

    [Fact]
    public async Task A_dump_cut_inside_COPY_data_is_refused_naming_the_table()
    {
        var dump = Header + "\n" + "COPY public.\"Deal\" (id) FROM stdin;\n1\n2\n";

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(dump));

        Assert.Contains("public.\"Deal\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dump_cut_inside_a_statement_is_refused()
    {
        var dump = Header + "\nCREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE sql\n    AS $$\nSELECT 1;\n";

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(dump));

        Assert.Contains("inside the statement", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dump_cut_between_statements_is_refused_for_want_of_its_closing_line()
    {
        var dump = Header + "\n" + Copy("public.t", "id", "1") + "\nCREATE TABLE public.u (id integer);\n";

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(dump));

        Assert.Contains("PostgreSQL database dump complete", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dump_cut_in_the_middle_of_a_row_is_refused()
    {
        var whole = Of(Copy("public.t", "id, name", "1\talpha", "2\tbeta"));
        var cut = whole[..(whole.IndexOf("alpha", StringComparison.Ordinal) + 2)];

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(cut));

        Assert.Contains("public.t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_prefix_of_a_real_dump_is_refused()
    {
        var whole = Encoding.UTF8.GetBytes(Sample());
        var complete = whole.AsSpan().IndexOf("-- PostgreSQL database dump complete"u8);
        foreach (var end in Enumerable.Range(1, 80).Select(i => complete * i / 81).Append(complete))
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(whole.AsSpan(0, end).ToArray()));
        }
    }

    [Theory]
    [InlineData("CREATE TABLE public.v (id integer);\n")]
    [InlineData("COPY public.t (id) FROM stdin;\n1\n\\.\n")]
    [InlineData("\\connect other\n")]
    [InlineData("--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.x (id integer);\n")]
    public async Task Anything_after_the_end_of_the_dump_is_refused(string after)
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(Of("CREATE TABLE public.t (id integer);") + after));

        Assert.Contains("after the end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Comments_blank_lines_and_unrestrict_after_the_end_are_accepted()
    {
        var content = await ReadAsync(Of("CREATE TABLE public.t (id integer);") + "\n-- a comment\n\n\\unrestrict abc\n");

        Assert.Single(content.Tables);
    }

    [Theory]
    [InlineData("")]
    [InlineData("CREATE TABLE public.t (id integer);\n")]
    [InlineData("-- just a comment\nSELECT 1;\n")]
    [InlineData("id,name\n1,Ada\n")]
    public async Task Input_without_a_pg_dump_header_is_not_a_dump(string text)
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(text));

        Assert.Contains("not a pg_dump plain-text dump", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_custom_format_archive_or_a_gzip_file_is_named_as_such()
    {
        var custom = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(new byte[] { (byte)'P', (byte)'G', (byte)'D', (byte)'M', (byte)'P', 1, 14, 0 }));
        var gzip = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(new byte[] { 0x1f, 0x8b, 8, 0, 0, 0 }));

        Assert.Contains("pg_restore -f -", custom.Message, StringComparison.Ordinal);
        Assert.Contains("gzip", gzip.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_psql_meta_command_pg_dump_does_not_print_is_refused()
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadBodyAsync("\\! rm -rf /"));

        Assert.Contains("meta-command", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_statement_that_never_ends_is_refused_at_the_size_cap_without_reading_on()
    {
        var head = Encoding.UTF8.GetBytes(Header + "\nCREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$\n");
        using var stream = new EndlessStream(head, Encoding.UTF8.GetBytes("SELECT 'padding padding padding padding';\n"));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => DumpContentReader.ReadAsync(stream, new DumpReadOptions()));

        Assert.Contains("longer than 64 MB", error.Message, StringComparison.Ordinal);
        Assert.True(stream.Position < DumpContentReader.MaxStatementBytes + (4 << 20));
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }

    /// <summary>A head, then one line repeated for ever: input no reader may buffer whole.</summary>
    private sealed class EndlessStream(byte[] head, byte[] line) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            for (var i = 0; i < count; i++, _position++)
            {
                buffer[offset + i] = _position < head.Length ? head[_position] : line[(_position - head.Length) % line.Length];
            }
            return count;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
