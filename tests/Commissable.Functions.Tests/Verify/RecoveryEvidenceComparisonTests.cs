using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Databases;
using Commissable.Functions.Verify;

namespace Commissable.Functions.Tests.Verify;

/// <summary>The comparisons and the table of the recovery evidence, on censuses and manifests made by hand.</summary>
public sealed class RecoveryEvidenceComparisonTests
{
    private static readonly DateTimeOffset Point = new(2026, 11, 25, 3, 0, 0, TimeSpan.Zero);

    private static DatabaseCensus Census(
        Dictionary<string, long> rows,
        Dictionary<string, TenantRows>? tenants = null,
        Dictionary<string, IReadOnlyList<string>>? columns = null,
        string? head = "20250101000000_init",
        string fingerprint = "f1") => new()
        {
            Rows = rows,
            Tenants = tenants ?? [],
            Columns = columns ?? [],
            MigrationsTable = head is not null,
            MigrationHead = head,
            SchemaFingerprint = fingerprint,
        };

    private static BackupManifest Manifest(BackupContent? content = null, DatabaseSnapshot? snapshot = null) => new()
    {
        Uri = "gs://b/backups/prod/prod/backup_20261125_0200_prod_before_x.sql.gz",
        Kind = "pre-deploy-export",
        Environment = "prod",
        SourceInstance = "prod",
        Databases = ["crm"],
        StartTime = Point.AddHours(-1),
        EndTime = Point.AddMinutes(-50),
        Content = content,
        Snapshot = snapshot,
    };

    private static TableContent Table(long rows, params string[] columns) => new() { Rows = rows, Digest = new string('0', 32), Columns = columns };

    [Fact]
    public void A_content_manifest_names_missing_and_extra_tables_changed_columns_and_the_migration_that_differs()
    {
        var content = new BackupContent
        {
            TenantColumn = "tenantId",
            SchemaFingerprint = new string('a', 64),
            Migrations = new MigrationState("20250101000000_init", 1, 0, 0),
            Tables = new Dictionary<string, TableContent>
            {
                ["public.\"Contact\""] = Table(3, "id", "\"tenantId\"", "name"),
                ["public.invoice"] = Table(2, "id"),
                ["public.\"Old\"\"Table\""] = Table(1, "id"),
                ["public.event"] = new() { Rows = 3, Digest = new string('0', 32), Partitioned = true },
                ["public.event_2026"] = Table(3, "at"),
                ["audit.\"Log\""] = Table(9, "id"),
            },
        };
        var restored = Census(
            new() { ["Contact"] = 3, ["invoice"] = 2, ["event_2026"] = 3, ["New"] = 0 },
            columns: new() { ["Contact"] = ["id", "tenantId", "name", "email"], ["invoice"] = ["id"], ["event_2026"] = ["at"], ["New"] = ["id"] },
            head: "20250301000000_add_email");

        var evidence = RecoveryEvidenceComparison.CompareWithBackup(Manifest(content), "unused", restored);

        Assert.True(evidence.Found);
        Assert.Equal("content", evidence.Basis);
        Assert.Equal(["Old\"Table"], evidence.TablesMissing);
        Assert.Equal(["New"], evidence.TablesExtra);
        Assert.Equal(["Contact"], evidence.ColumnsDiffer);
        Assert.Equal("not compared", evidence.Schema);
        Assert.Contains("1 table of the backup missing from the restore (Old\"Table)", evidence.Detail, StringComparison.Ordinal);
        Assert.Contains("1 table not in the backup (New)", evidence.Detail, StringComparison.Ordinal);
        Assert.Contains("columns differ in 1 table (Contact)", evidence.Detail, StringComparison.Ordinal);
        Assert.Contains("migration head differs: backup 20250101000000_init, restored 20250301000000_add_email", evidence.Detail, StringComparison.Ordinal);
        Assert.Contains("schema fingerprint not compared (the content manifest's is of the dump's DDL; the migration head is compared)", evidence.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("f1", "equal", "schema fingerprint equal")]
    [InlineData("f2", "differs", "schema fingerprint differs")]
    [InlineData(null, "not compared", "schema fingerprint not compared (the manifest does not record one)")]
    public void A_snapshot_compares_its_catalog_fingerprint_with_the_restored_one(string? recorded, string schema, string said)
    {
        var snapshot = new DatabaseSnapshot { MigrationHead = "20250101000000_init", SchemaFingerprint = recorded, RowCounts = new Dictionary<string, long> { ["a"] = 1 } };

        var evidence = RecoveryEvidenceComparison.CompareWithBackup(Manifest(snapshot: snapshot), "unused", Census(new() { ["a"] = 5 }));

        Assert.Equal("snapshot", evidence.Basis);
        Assert.Equal(schema, evidence.Schema);
        Assert.EndsWith(said, evidence.Detail, StringComparison.Ordinal);
        Assert.Contains("all 1 tables of the backup present, none added; migration head equal (20250101000000_init)", evidence.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_manifest_that_records_contents_the_backup_is_not_found_and_the_reason_is_the_detail()
    {
        foreach (var manifest in new[] { null, Manifest() })
        {
            var evidence = RecoveryEvidenceComparison.CompareWithBackup(manifest, "no backup of crm on 'prod' ended by then", Census([]));

            Assert.False(evidence.Found);
            Assert.Null(evidence.Uri);
            Assert.Equal("no backup of crm on 'prod' ended by then", evidence.Detail);
        }
    }

    [Fact]
    public void Production_lines_cover_absent_tables_null_tenants_and_rows_moved_between_tenants()
    {
        var restored = Census(
            new() { ["Deal"] = 10, ["Gone"] = 4, ["Same"] = 7 },
            new() { ["Deal"] = new TenantRows(new Dictionary<string, long> { ["t1"] = 5, ["t2"] = 3 }, 2) });
        var production = Census(
            new() { ["Deal"] = 10, ["Same"] = 7, ["Added"] = 1 },
            new() { ["Deal"] = new TenantRows(new Dictionary<string, long> { ["t1"] = 6, ["t2"] = 3, ["t3"] = 1 }, 0) },
            head: "20250301000000_add_email");

        var evidence = RecoveryEvidenceComparison.CompareWithProduction("prod", restored, production, null);

        Assert.True(evidence.Read);
        Assert.Equal(
            [
                new RowDifference("Added", null, null, 1, -1),
                new RowDifference("Deal", "\\N", 2, 0, 2),
                new RowDifference("Deal", "t1", 5, 6, -1),
                new RowDifference("Deal", "t3", 0, 1, -1),
                new RowDifference("Gone", null, 4, null, 4),
            ],
            evidence.Differences);
        Assert.Equal((21L, 18L, 3L), (evidence.RestoredRows!.Value, evidence.ProductionRows!.Value, evidence.Difference!.Value));
        Assert.Equal((2, 3), (evidence.TenantsRestored, evidence.TenantsProduction));
        Assert.Contains("3 tables of 4 differ (5 lines in the table)", evidence.Detail, StringComparison.Ordinal);
        Assert.Contains("tenants: 2 restored, 3 in production, only in production: t3", evidence.Detail, StringComparison.Ordinal);
        Assert.Contains("migration head differs: production 20250301000000_add_email, restored 20250101000000_init", evidence.Detail, StringComparison.Ordinal);

        var table = RecoveryEvidenceComparison.Render(evidence).Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(
            [
                ["table", "tenant", "restored", "production", "difference"],
                ["Added", "(all)", "absent", "1", "-1"],
                ["Deal", "(null)", "2", "0", "+2"],
                ["Deal", "t1", "5", "6", "-1"],
                ["Deal", "t3", "0", "1", "-1"],
                ["Gone", "(all)", "4", "absent", "+4"],
                ["total", "(all)", "21", "18", "+3"],
            ],
            table);
    }

    [Fact]
    public void The_table_is_bounded_to_the_largest_differences_and_says_how_many_lines_it_left_out()
    {
        var restored = Census(Enumerable.Range(1, 100).ToDictionary(i => $"t{i:000}", i => (long)i));
        var production = Census(Enumerable.Range(1, 100).ToDictionary(i => $"t{i:000}", _ => 0L));

        var evidence = RecoveryEvidenceComparison.CompareWithProduction("prod", restored, production, null);

        Assert.Equal(RecoveryEvidenceComparison.MaxLines, evidence.Differences.Count);
        Assert.Equal(100 - RecoveryEvidenceComparison.MaxLines, evidence.OmittedLines);
        Assert.Equal("t061", evidence.Differences[0].Table);
        Assert.Equal("t100", evidence.Differences[^1].Table);
        var lines = RecoveryEvidenceComparison.Render(evidence).Split('\n');
        Assert.Equal(RecoveryEvidenceComparison.MaxLines + 3, lines.Length);
        Assert.Equal("… 60 more lines not shown (only the 40 largest differences are listed)", lines[^2]);
        Assert.StartsWith("total", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_with_a_newline_cannot_forge_a_line_and_unread_production_is_one_sentence()
    {
        var restored = Census(new() { ["evil\ntotal  (all)  0  0  0"] = 1 });

        var evidence = RecoveryEvidenceComparison.Assemble(Point,
            RecoveryEvidenceComparison.CompareWithBackup(null, "no backup", restored),
            RecoveryEvidenceComparison.CompareWithProduction("prod", restored, Census([]), null));

        Assert.Equal(3, evidence.Table.Split('\n').Length);
        Assert.StartsWith("evil?total", evidence.Table.Split('\n')[1], StringComparison.Ordinal);

        var unread = RecoveryEvidenceComparison.Assemble(Point,
            RecoveryEvidenceComparison.CompareWithBackup(null, "no backup", restored),
            RecoveryEvidenceComparison.CompareWithProduction("prod", restored, null, "the instance 'prod' is STOPPED, not RUNNABLE"));

        Assert.False(unread.Production.Read);
        Assert.Equal("production could not be read: the instance 'prod' is STOPPED, not RUNNABLE", unread.Table);
        Assert.Equal(
            "evidence for the restore to 2026-11-25T03:00:00Z (counts only):\nbackup: no backup\nproduction could not be read: the instance 'prod' is STOPPED, not RUNNABLE",
            unread.Text);
    }

    [Theory]
    [InlineData("public.\"Contact\"", "public", "Contact")]
    [InlineData("public.invoice", "public", "invoice")]
    [InlineData("\"my schema\".\"a.b\"", "my schema", "a.b")]
    [InlineData("public.\"say \"\"hi\"\"\"", "public", "say \"hi\"")]
    public void Qualified_names_are_read_as_pg_dump_prints_them(string printed, string schema, string name)
    {
        Assert.True(PgNames.TryParseQualified(printed, out var s, out var n));
        Assert.Equal((schema, name), (s, n));
    }

    [Theory]
    [InlineData("invoice")]
    [InlineData("public.")]
    [InlineData("public.\"open")]
    [InlineData("a.b.c")]
    [InlineData("\"\".x")]
    public void Anything_else_is_not_a_qualified_name(string printed) =>
        Assert.False(PgNames.TryParseQualified(printed, out _, out _));

    [Theory]
    [InlineData("2026-11-25T03:00:00Z", "2026-11-25T03:00:00.0000000+00:00")]
    [InlineData("2026-11-25T04:00:00.5+01:00", "2026-11-25T03:00:00.5000000+00:00")]
    [InlineData("2026-11-25T03:00:00.123456789Z", "2026-11-25T03:00:00.1234567+00:00")]
    public void Rfc3339_points_in_time_are_read_in_utc(string text, string expected) =>
        Assert.Equal(expected, RecoveryEvidenceRequest.Parse(text)!.Value.ToString("o", System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData("2026-11-25T03:00Z")]
    [InlineData("2026-11-25T03:00:00")]
    [InlineData("2026-11-25t03:00:00z")]
    [InlineData("2026-11-25T03:00:00Z\n")]
    [InlineData("2026-13-25T03:00:00Z")]
    public void Anything_else_is_no_point_in_time(string text) => Assert.Null(RecoveryEvidenceRequest.Parse(text));
}
