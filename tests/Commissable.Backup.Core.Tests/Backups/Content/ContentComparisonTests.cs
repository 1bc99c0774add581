using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using static Commissable.Backup.Core.Tests.Backups.Content.Dumps;

namespace Commissable.Backup.Core.Tests.Backups.Content;

public sealed class ContentComparisonTests
{
    [Fact]
    public async Task A_restore_dumped_back_identically_passes_every_check_in_report_order()
    {
        var backup = await ReadAsync(Sample("pg_dump-15.sql"));
        var restored = await ReadAsync(RestoredSample());

        var results = ContentComparison.Compare(backup, restored);

        Assert.Equal(ContentComparison.All, results.Select(r => r.Name));
        Assert.All(results, r => Assert.True(r.Passed, $"{r.Name}: {r.Detail}"));
        Assert.Equal(
            [
                ContentComparison.Tables, ContentComparison.Tenants, ContentComparison.Sequences, ContentComparison.MigrationsHead,
                ContentComparison.Schema, ContentComparison.Extensions, ContentComparison.MaterializedViews, ContentComparison.Comments,
            ],
            ContentComparison.All);
        Assert.Equal(
            ["content.tables", "content.tenants", "sequences.recorded", "migrations.head", "schema.fingerprint", "extensions.same", "matviews.populated", "comments.same"],
            ContentComparison.All);
    }

    /// <summary>
    /// The damages the issue lists, each applied to a restored copy and dumped again with pg_dump
    /// 15.18: the edits below are exactly the lines that dump differed in (checked by running it).
    /// </summary>
    public static TheoryData<string, string, string, string[], string> Damages => new()
    {
        {
            "a value changed in one row",
            "1\tt_1\ta@x.io\tline1\\nline2\\ttab\\\\back\t\\\\xdeadbeef\twon\t2025-03-01 10:00:00.5+00\t12.50\t0.1",
            "1\tt_1\ta@x.io\tline1\\nline2\\ttab\\\\back\t\\\\xdeadbeef\twon\t2025-03-01 10:00:00.5+00\t13.50\t0.1",
            [ContentComparison.Tables, ContentComparison.Tenants],
            "public.\"Contact\": same 4 rows, different contents"
        },
        {
            "a bytea set to NULL",
            "1\tt_1\ta@x.io\tline1\\nline2\\ttab\\\\back\t\\\\xdeadbeef\t",
            "1\tt_1\ta@x.io\tline1\\nline2\\ttab\\\\back\t\\N\t",
            [ContentComparison.Tables, ContentComparison.Tenants],
            "public.\"Contact\" tenant t_1: backup 2 rows, restored 2, different contents"
        },
        {
            "one row's tenant id changed",
            "1\tt_1\t10\n",
            "1\tt_2\t10\n",
            [ContentComparison.Tables, ContentComparison.Tenants],
            "public.invoice tenant t_2: backup 1 row, restored 2 (+1)"
        },
        {
            "a materialized view left unpopulated",
            "REFRESH MATERIALIZED VIEW public.contact_summary;\n",
            "",
            [ContentComparison.MaterializedViews],
            "public.contact_summary: populated in the backup, not in the restore"
        },
        {
            "a table comment dropped",
            "COMMENT ON TABLE public.\"Contact\" IS 'People; one per tenant''s customer';\n",
            "",
            [ContentComparison.Comments],
            "COMMENT ON TABLE public.\"Contact\": missing"
        },
        {
            "an index dropped",
            "CREATE INDEX \"Contact_tenantId_email_idx\" ON public.\"Contact\" USING btree (\"tenantId\", email);\n",
            "",
            [ContentComparison.Schema],
            "in the backup only: CREATE INDEX \"Contact_tenantId_email_idx\" ON public.\"Contact\" USING btree (\"tenantId\", email);"
        },
        {
            "a row deleted in one partition",
            "2\tt_2\t2025-02-01\t\\N\n",
            "",
            [ContentComparison.Tables, ContentComparison.Tenants],
            "public.event_2025_rest: backup 2 rows, restored 1 (-1)"
        },
        {
            "a sequence no column owns set behind",
            "SELECT pg_catalog.setval('public.invoice_no_seq', 100, false);",
            "SELECT pg_catalog.setval('public.invoice_no_seq', 1, true);",
            [ContentComparison.Sequences],
            "public.invoice_no_seq: behind the backup (next value 2, the backup's 100)"
        },
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Each_damage_fails_its_check_naming_the_table_and_only_that(string damage, string find, string replace, string[] failing, string detail)
    {
        var backup = await ReadAsync(Sample());
        var restored = await ReadAsync(Sample().Edit(find, replace));

        var results = ContentComparison.Compare(backup, restored);

        Assert.Equal(failing, results.Where(r => !r.Passed).Select(r => r.Name));
        Assert.Contains(results, r => !r.Passed && r.Detail.Contains(detail, StringComparison.Ordinal));
        Assert.True(damage.Length > 0);
    }

    [Fact]
    public async Task A_row_deleted_in_a_partition_shows_on_the_partition_and_every_parent()
    {
        var backup = await ReadAsync(Sample());
        var restored = await ReadAsync(Sample().Edit("2\tt_2\t2025-02-01\t\\N\n", ""));

        var tables = ContentComparison.Compare(backup, restored).Single(r => r.Name == ContentComparison.Tables);

        Assert.Contains("public.event: backup 4 rows, restored 3 (-1)", tables.Detail, StringComparison.Ordinal);
        Assert.Contains("public.event_2025: backup 3 rows, restored 2 (-1)", tables.Detail, StringComparison.Ordinal);
        Assert.Contains("public.event_2025_rest: backup 2 rows, restored 1 (-1)", tables.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Details_never_show_row_values()
    {
        var backup = await ReadBodyAsync(Copy("public.t", "id, \"tenantId\", secret", "1\tt_1\tsecret-value-one"));
        var restored = await ReadBodyAsync(Copy("public.t", "id, \"tenantId\", secret", "1\tt_1\tsecret-value-two", "2\tt_2\tsecret-value-three"));

        var results = ContentComparison.Compare(backup, restored);

        Assert.Contains(results, r => !r.Passed);
        Assert.All(results, r => Assert.DoesNotContain("secret-value", r.Detail, StringComparison.Ordinal));
    }

    // --- content.tables ---

    [Fact]
    public async Task Tables_missing_extra_fewer_or_changed_are_each_named()
    {
        var backup = await ReadBodyAsync(
            Copy("public.gone", "id", "1") + Copy("public.fewer", "id", "1", "2", "3") + Copy("public.changed", "id", "1") + Copy("public.same", "id", "1"));
        var restored = await ReadBodyAsync(
            Copy("public.fewer", "id", "1", "2") + Copy("public.changed", "id", "2") + Copy("public.same", "id", "1") + Copy("public.extra", "id"));

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Tables);

        Assert.False(result.Passed);
        Assert.Equal(
            "4 of 5 tables differ: public.changed: same 1 row, different contents; public.extra: not in the backup (restored 0 rows); "
            + "public.fewer: backup 3 rows, restored 2 (-1); public.gone: missing (backup 1 row)",
            result.Detail);
    }

    [Fact]
    public async Task A_backup_without_any_table_fails_the_tables_check()
    {
        var empty = await ReadBodyAsync("");

        var result = Check(ContentComparison.Compare(empty, empty), ContentComparison.Tables);

        Assert.False(result.Passed);
        Assert.Contains("no table", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_list_of_differences_shows_ten_and_how_many_more()
    {
        var backup = await ReadBodyAsync(string.Concat(Enumerable.Range(0, 25).Select(i => Copy($"public.t{i:00}", "id", "1"))));
        var restored = await ReadBodyAsync(Copy("public.t00", "id", "1"));

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Tables);

        Assert.False(result.Passed);
        Assert.EndsWith("public.t10: missing (backup 1 row); and 14 more", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("public.t11", result.Detail, StringComparison.Ordinal);
    }

    // --- content.tenants ---

    [Fact]
    public async Task Tenants_missing_extra_and_changed_are_each_named()
    {
        var backup = await ReadBodyAsync(Copy("public.d", "id, \"tenantId\"", "1\tt_1", "2\tt_2", "3\tt_3"));
        var restored = await ReadBodyAsync(Copy("public.d", "id, \"tenantId\"", "1\tt_1", "9\tt_2", "3\tt_4"));

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Tenants);

        Assert.False(result.Passed);
        Assert.Equal(
            "3 differences in the tables with \"tenantId\": public.d tenant t_2: backup 1 row, restored 1, different contents; "
            + "public.d tenant t_3: missing (backup 1 row); public.d tenant t_4: not in the backup (restored 1 row)",
            result.Detail);
    }

    [Fact]
    public async Task Without_the_tenant_column_on_either_side_the_tenant_check_is_not_applicable_and_passes()
    {
        var content = await ReadBodyAsync(Copy("public.t", "id", "1"));

        var result = Check(ContentComparison.Compare(content, content), ContentComparison.Tenants);

        Assert.True(result.Passed);
        Assert.StartsWith("not applicable:", result.Detail, StringComparison.Ordinal);
        Assert.Contains("\"tenantId\"", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tenant_tables_on_one_side_only_fail_both_ways()
    {
        var withTenants = await ReadBodyAsync(Copy("public.t", "id, \"tenantId\"", "1\tt_1"));
        var without = await ReadBodyAsync(Copy("public.t", "id, org", "1\tt_1"));

        var lost = Check(ContentComparison.Compare(withTenants, without), ContentComparison.Tenants);
        var gained = Check(ContentComparison.Compare(without, withTenants), ContentComparison.Tenants);

        Assert.False(lost.Passed);
        Assert.Contains("the restore none: public.t", lost.Detail, StringComparison.Ordinal);
        Assert.False(gained.Passed);
        Assert.Contains("the backup none: public.t", gained.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tenant_table_missing_from_the_restore_fails_the_tenant_check_too()
    {
        var backup = await ReadBodyAsync(Copy("public.a", "id, \"tenantId\"", "1\tt_1") + Copy("public.b", "id, \"tenantId\"", "1\tt_1"));
        var restored = await ReadBodyAsync(Copy("public.a", "id, \"tenantId\"", "1\tt_1"));

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Tenants);

        Assert.False(result.Passed);
        Assert.Contains("public.b: no \"tenantId\" rows in the restore", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Contents_read_with_different_tenant_columns_are_not_compared_per_tenant()
    {
        var body = Copy("public.t", "id, \"tenantId\"", "1\tt_1");
        var a = await ReadBodyAsync(body);
        var b = await ReadBodyAsync(body, new DumpReadOptions { TenantColumn = "org" });

        Assert.False(Check(ContentComparison.Compare(a, b), ContentComparison.Tenants).Passed);
    }

    // --- sequences.recorded ---

    [Theory]
    [InlineData("5, true", "5, true", true)]
    [InlineData("5, true", "9, true", true)]
    [InlineData("5, true", "6, false", true)]
    [InlineData("5, false", "4, true", true)]
    [InlineData("5, true", "5, false", false)]
    [InlineData("5, false", "4, false", false)]
    [InlineData("100, false", "1, true", false)]
    public async Task A_sequence_passes_when_its_next_value_is_at_or_past_the_backups(string recorded, string found, bool passes)
    {
        var backup = await ReadBodyAsync($"SELECT pg_catalog.setval('public.s', {recorded});");
        var restored = await ReadBodyAsync($"SELECT pg_catalog.setval('public.s', {found});");

        Assert.Equal(passes, Check(ContentComparison.Compare(backup, restored), ContentComparison.Sequences).Passed);
    }

    [Fact]
    public async Task A_sequence_missing_from_the_restore_or_not_in_the_backup_fails()
    {
        var backup = await ReadBodyAsync("SELECT pg_catalog.setval('public.a', 1, true);\n\nSELECT pg_catalog.setval('public.b', 1, true);");
        var restored = await ReadBodyAsync("SELECT pg_catalog.setval('public.a', 1, true);\n\nSELECT pg_catalog.setval('public.c', 1, true);");

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Sequences);

        Assert.False(result.Passed);
        Assert.Equal("2 sequences not as in the backup: public.b: missing (backup at 1); public.c: not in the backup", result.Detail);
    }

    [Fact]
    public async Task No_sequence_on_either_side_passes_saying_so()
    {
        var content = await ReadBodyAsync(Copy("public.t", "id", "1"));

        var result = Check(ContentComparison.Compare(content, content), ContentComparison.Sequences);

        Assert.True(result.Passed);
        Assert.Equal("no sequence in the backup nor the restore", result.Detail);
    }

    // --- migrations.head ---

    private const string MigrationColumns = "id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count";

    private static string Migrations(params string[] names) =>
        Copy("public._prisma_migrations", MigrationColumns,
            [.. names.Select((n, i) => $"{i}\tc\t2025-01-01 00:00:00+00\t{n}\t\\N\t\\N\t2025-01-01 00:00:00+00\t1")]);

    [Fact]
    public async Task Equal_migration_heads_pass_and_different_ones_fail_naming_both()
    {
        var backup = await ReadBodyAsync(Migrations("20250101_a", "20250201_b"));
        var same = await ReadBodyAsync(Migrations("20250201_b", "20250101_a"));
        var older = await ReadBodyAsync(Migrations("20250101_a"));

        Assert.True(Check(ContentComparison.Compare(backup, same), ContentComparison.MigrationsHead).Passed);
        var result = Check(ContentComparison.Compare(backup, older), ContentComparison.MigrationsHead);
        Assert.False(result.Passed);
        Assert.Equal("backup head 20250201_b (2 applied), restored head 20250101_a (1 applied)", result.Detail);
    }

    [Fact]
    public async Task A_migration_table_on_one_side_only_fails_and_on_neither_passes_saying_so()
    {
        var with = await ReadBodyAsync(Migrations("20250101_a"));
        var without = await ReadBodyAsync(Copy("public.t", "id", "1"));

        Assert.False(Check(ContentComparison.Compare(with, without), ContentComparison.MigrationsHead).Passed);
        Assert.False(Check(ContentComparison.Compare(without, with), ContentComparison.MigrationsHead).Passed);
        var neither = Check(ContentComparison.Compare(without, without), ContentComparison.MigrationsHead);
        Assert.True(neither.Passed);
        Assert.Equal("no _prisma_migrations in the backup nor the restore", neither.Detail);
    }

    // --- schema.fingerprint ---

    [Fact]
    public async Task Schema_differences_are_listed_by_label_as_backup_only_restore_only_or_changed()
    {
        var longDefault = new string('x', 200);
        var backup = await ReadBodyAsync($"""
            CREATE TABLE public.t (
                a integer
            );

            CREATE INDEX t_a_idx ON public.t USING btree (a);

            CREATE VIEW public.v AS SELECT '{longDefault}1' AS a;
            """);
        var restored = await ReadBodyAsync($"""
            CREATE TABLE public.t (
                a integer
            );

            CREATE INDEX t_b_idx ON public.t USING btree (a);

            CREATE VIEW public.v AS SELECT '{longDefault}2' AS a;
            """);

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Schema);

        Assert.False(result.Passed);
        Assert.Contains("3 objects differ: changed: CREATE VIEW public.v AS SELECT 'xxx", result.Detail, StringComparison.Ordinal);
        Assert.Contains("; in the backup only: CREATE INDEX t_a_idx ON public.t USING btree (a);", result.Detail, StringComparison.Ordinal);
        Assert.Contains("; in the restore only: CREATE INDEX t_b_idx ON public.t USING btree (a);", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backup_without_schema_statements_fails_the_schema_check()
    {
        var dataOnly = await ReadBodyAsync(Copy("public.t", "id", "1"));

        var result = Check(ContentComparison.Compare(dataOnly, dataOnly), ContentComparison.Schema);

        Assert.False(result.Passed);
        Assert.Contains("no schema statement", result.Detail, StringComparison.Ordinal);
    }

    // --- extensions.same, matviews.populated, comments.same ---

    [Fact]
    public async Task Extensions_on_one_side_only_fail_naming_them()
    {
        var backup = await ReadBodyAsync("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;");
        var restored = await ReadBodyAsync("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;");

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Extensions);

        Assert.False(result.Passed);
        Assert.Equal("in the backup only: citext in public; in the restore only: pg_trgm in public", result.Detail);
    }

    [Fact]
    public async Task Materialized_views_must_be_populated_exactly_as_in_the_backup()
    {
        const string views = """
            CREATE MATERIALIZED VIEW public.a AS
             SELECT 1 AS n
              WITH NO DATA;

            CREATE MATERIALIZED VIEW public.b AS
             SELECT 1 AS n
              WITH NO DATA;

            """;
        var backup = await ReadBodyAsync(views + "REFRESH MATERIALIZED VIEW public.a;");
        var swapped = await ReadBodyAsync(views + "REFRESH MATERIALIZED VIEW public.b;");

        var result = Check(ContentComparison.Compare(backup, swapped), ContentComparison.MaterializedViews);

        Assert.False(result.Passed);
        Assert.Equal("public.a: populated in the backup, not in the restore; public.b: not populated in the backup, populated in the restore", result.Detail);
        Assert.True(Check(ContentComparison.Compare(backup, backup), ContentComparison.MaterializedViews).Passed);
    }

    [Fact]
    public async Task Comments_missing_extra_or_changed_fail_naming_their_targets()
    {
        var backup = await ReadBodyAsync("COMMENT ON TABLE public.a IS 'x';\n\nCOMMENT ON TABLE public.b IS 'y';");
        var restored = await ReadBodyAsync("COMMENT ON TABLE public.b IS 'changed';\n\nCOMMENT ON COLUMN public.c.d IS 'new';");

        var result = Check(ContentComparison.Compare(backup, restored), ContentComparison.Comments);

        Assert.False(result.Passed);
        Assert.Equal(
            "COMMENT ON COLUMN public.c.d: not in the backup; COMMENT ON TABLE public.a: missing; COMMENT ON TABLE public.b: different text",
            result.Detail);
    }

    [Fact]
    public async Task Nothing_of_a_kind_on_either_side_passes_saying_so()
    {
        var content = await ReadBodyAsync("CREATE TABLE public.t (\n    id integer\n);\n\n" + Copy("public.t", "id", "1"));

        var results = ContentComparison.Compare(content, content);

        Assert.All(results, r => Assert.True(r.Passed, $"{r.Name}: {r.Detail}"));
        Assert.Equal("no extension in the backup nor the restore", Check(results, ContentComparison.Extensions).Detail);
        Assert.Equal("no materialized view in the backup nor the restore", Check(results, ContentComparison.MaterializedViews).Detail);
        Assert.Equal("no comment in the backup nor the restore", Check(results, ContentComparison.Comments).Detail);
    }

    private static CheckResult Check(IReadOnlyList<CheckResult> results, string name) => results.Single(r => r.Name == name);
}
