using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Verification;
using Npgsql;
using Xunit.Abstractions;
using static Commissable.Backup.Postgres.Tests.VerificationRestores;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// Restore checks against a real pg_dump/psql round trip of the Tiny demo: everything passes on a
/// faithful restore, and breaking one thing in the restored copy fails exactly the check about it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class VerificationTests(TestPostgres postgres, ITestOutputHelper output)
{
    private static readonly VerificationOptions DemoOptions = new() { CriticalTables = DemoDatabase.CriticalTables };

    [Fact]
    public async Task The_snapshot_of_the_demo_records_its_head_exact_row_counts_tenants_and_schema_hash()
    {
        var snapshot = (await GetAsync(postgres)).Reading.Snapshot;

        Assert.Equal(DemoDatabase.LatestMigration, snapshot.MigrationHead);
        Assert.Equal(DemoDatabase.Migrations.Count, snapshot.AppliedMigrations);
        Assert.Equal(DemoDatabase.TableNames, snapshot.RowCounts.Keys);
        Assert.Equal(
            DemoDatabase.ExpectedRowCounts(DemoDatabaseOptions.Tiny).OrderBy(p => p.Key, StringComparer.Ordinal),
            snapshot.RowCounts.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(DemoDatabaseOptions.Tiny.Tenants, snapshot.TenantCount);
        Assert.Matches("^[0-9a-f]{64}$", snapshot.SchemaFingerprint);
        Assert.Equal(snapshot.SchemaFingerprint, (await GetAsync(postgres)).Reading.Fingerprint.Sha256);
    }

    [Fact]
    public async Task A_pg_dump_restored_with_psql_passes_every_check_in_the_fixed_order()
    {
        var (results, _) = await CheckCopyAsync(null, DemoOptions);

        Assert.Equal(RestoreChecks.All, results.Select(r => r.Name));
        Assert.All(results, r => Assert.True(r.Passed, $"{r.Name}: {r.Detail}"));
        Assert.Equal($"{DemoDatabase.LatestMigration} (7 applied)", Detail(results, RestoreChecks.MigrationsHead));
        Assert.EndsWith("as recorded", Detail(results, RestoreChecks.RowCounts), StringComparison.Ordinal);
        Assert.Equal("3 tenants, as recorded", Detail(results, RestoreChecks.TenantsSame));
        Assert.Equal("13 critical tables present, none empty", Detail(results, RestoreChecks.TablesCritical));
    }

    [Fact]
    public async Task A_deleted_row_fails_only_the_row_counts_naming_the_table()
    {
        var snapshot = (await GetAsync(postgres)).Reading.Snapshot;
        var (results, _) = await CheckCopyAsync("DELETE FROM \"Note\" WHERE id = (SELECT min(id) FROM \"Note\")", DemoOptions);

        AssertOnlyFailed(results, RestoreChecks.RowCounts);
        var notes = snapshot.RowCounts["Note"];
        Assert.Equal($"1 of 22 tables off: \"Note\" expected {notes:N0}, found {notes - 1:N0} (-1)", Detail(results, RestoreChecks.RowCounts));
    }

    [Fact]
    public async Task A_tenant_whose_rows_are_gone_fails_the_tenant_set_and_the_row_counts()
    {
        var snapshot = (await GetAsync(postgres)).Reading.Snapshot;
        var tenant = snapshot.TenantIds[1];
        var deletes = string.Concat(DemoDatabase.BusinessTables.Select(t => $"DELETE FROM \"{t}\" WHERE \"tenantId\" = '{tenant}';"));
        var (results, _) = await CheckCopyAsync(
            $"BEGIN; SET LOCAL session_replication_role = replica; {deletes} DELETE FROM \"Tenant\" WHERE id = '{tenant}'; COMMIT;", DemoOptions);

        AssertOnlyFailed(results, RestoreChecks.RowCounts, RestoreChecks.TenantsSame);
        Assert.Equal($"1 of 3 recorded tenants missing ({tenant})", Detail(results, RestoreChecks.TenantsSame));
        var rows = Detail(results, RestoreChecks.RowCounts);
        Assert.StartsWith("20 of 22 tables off: \"Account\" expected ", rows, StringComparison.Ordinal);
        Assert.EndsWith("; and 10 more", rows, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_extra_column_fails_the_schema_fingerprint_naming_the_column_when_the_source_lines_are_given()
    {
        var (withLines, copy) = await CheckCopyAsync("ALTER TABLE \"Account\" ADD COLUMN \"legacyCode\" text", DemoOptions);

        AssertOnlyFailed(withLines, RestoreChecks.SchemaFingerprintCheck);
        var detail = Detail(withLines, RestoreChecks.SchemaFingerprintCheck);
        Assert.EndsWith("; differences: public.\"Account\": only in the restore: column 0014 \"legacyCode\" text", detail, StringComparison.Ordinal);

        var snapshot = (await GetAsync(postgres)).Reading.Snapshot;
        await using var dataSource = NpgsqlDataSource.Create(copy);
        var withoutLines = await RestoreChecks.RunAsync(snapshot, dataSource, new VerificationOptions { Checks = [RestoreChecks.SchemaFingerprintCheck] });
        var only = Assert.Single(withoutLines);
        Assert.False(only.Passed);
        Assert.StartsWith($"expected sha256 {snapshot.SchemaFingerprint}, found ", only.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sequence_set_back_to_one_fails_the_sequence_check_naming_it()
    {
        var (results, _) = await CheckCopyAsync("SELECT setval('\"Product_id_seq\"', 1)", DemoOptions);

        AssertOnlyFailed(results, RestoreChecks.SequencesAhead);
        Assert.Contains("1 of 7 sequences behind their column", Detail(results, RestoreChecks.SequencesAhead), StringComparison.Ordinal);
        Assert.Contains("\"public\".\"Product_id_seq\" for \"public\".\"Product\".\"id\": next value 2", Detail(results, RestoreChecks.SequencesAhead), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unfinished_migration_row_fails_the_migrations_finished_check_naming_it()
    {
        const string Middle = "20250203120000_add_revenue_schedules";
        var (results, _) = await CheckCopyAsync($"UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = '{Middle}'", DemoOptions);

        AssertOnlyFailed(results, RestoreChecks.MigrationsFinished);
        Assert.Equal($"1 migration row(s) not cleanly applied: {Middle} not finished (failed or still running)", Detail(results, RestoreChecks.MigrationsFinished));
    }

    [Fact]
    public async Task A_rolled_back_migration_fails_unless_it_was_applied_again()
    {
        const string Middle = "20250203120000_add_revenue_schedules";
        var options = new VerificationOptions { Checks = [RestoreChecks.MigrationsFinished] };

        var (rolledBack, _) = await CheckCopyAsync($"UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '{Middle}'", options);
        Assert.False(Assert.Single(rolledBack).Passed);
        Assert.Contains($"{Middle} rolled back and not applied again", rolledBack[0].Detail, StringComparison.Ordinal);

        // prisma migrate resolve --rolled-back after a failure, then deploy again: two rows, one rolled back.
        var (resolved, _) = await CheckCopyAsync($"""
            INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, rolled_back_at, applied_steps_count)
            VALUES ('00000000-0000-4000-a000-000000000001', 'x', '{Middle}', '2025-02-03 11:00:00+00', '2025-02-03 11:30:00+00', 0)
            """, options);
        Assert.True(Assert.Single(resolved).Passed, resolved[0].Detail);
        Assert.EndsWith($"rolled back then applied again: {Middle}", resolved[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_different_head_fails_the_migrations_head_check_with_expected_and_found()
    {
        var (results, _) = await CheckCopyAsync(
            $"UPDATE _prisma_migrations SET migration_name = '20250601000000_hotfix' WHERE migration_name = '{DemoDatabase.LatestMigration}'", DemoOptions);

        AssertOnlyFailed(results, RestoreChecks.MigrationsHead);
        Assert.Equal($"expected {DemoDatabase.LatestMigration} (7 applied), found 20250601000000_hotfix (7 applied)", Detail(results, RestoreChecks.MigrationsHead));
    }

    [Fact]
    public async Task An_emptied_critical_table_fails_the_critical_tables_and_its_row_count()
    {
        var (results, _) = await CheckCopyAsync("DELETE FROM \"Payout\"", DemoOptions);

        AssertOnlyFailed(results, RestoreChecks.RowCounts, RestoreChecks.TablesCritical);
        Assert.Equal("1 of 13 critical tables unusable; empty: \"Payout\"", Detail(results, RestoreChecks.TablesCritical));
        Assert.Contains("\"Payout\" expected ", Detail(results, RestoreChecks.RowCounts), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dropped_table_fails_the_row_counts_and_the_schema_without_an_exception()
    {
        var (results, copy) = await CheckCopyAsync("DROP TABLE \"Note\"", DemoOptions);

        AssertOnlyFailed(results, RestoreChecks.RowCounts, RestoreChecks.SchemaFingerprintCheck);
        var notes = (await GetAsync(postgres)).Reading.Snapshot.RowCounts["Note"];
        Assert.Equal($"1 of 22 tables off: \"Note\" missing (recorded {notes:N0} rows)", Detail(results, RestoreChecks.RowCounts));
        Assert.Matches("; differences: public\\.\"Note\": only in the source \\([0-9]+ lines\\)$", Detail(results, RestoreChecks.SchemaFingerprintCheck));

        // Had it been critical, the critical tables check says it is missing.
        await using var dataSource = NpgsqlDataSource.Create(copy);
        var critical = await RestoreChecks.RunAsync(null, dataSource, new VerificationOptions { CriticalTables = ["Note", "Payout"], Checks = [RestoreChecks.TablesCritical] });
        Assert.Equal("1 of 2 critical tables unusable; missing: \"Note\"", Assert.Single(critical).Detail);
    }

    [Fact]
    public async Task A_check_that_cannot_read_a_table_fails_with_the_reason_and_the_others_still_run()
    {
        var copy = await CopyOfRestoreAsync(postgres);
        var role = $"reader_{Guid.NewGuid():N}"[..20];
        var password = Guid.NewGuid().ToString("N");
        await ExecuteAsync(copy, $"""
            CREATE ROLE {role} LOGIN PASSWORD '{password}';
            GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};
            GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
            REVOKE SELECT ON "Product" FROM {role};
            """);
        var asReader = new NpgsqlConnectionStringBuilder(copy) { Username = role, Password = password }.ConnectionString;

        await using var dataSource = NpgsqlDataSource.Create(asReader);
        var results = await RestoreChecks.RunAsync((await GetAsync(postgres)).Reading.Snapshot, dataSource, DemoOptions);
        Log(results);

        AssertOnlyFailed(results, RestoreChecks.RowCounts, RestoreChecks.TenantsSame, RestoreChecks.SequencesAhead);
        Assert.All(results.Where(r => !r.Passed), r => Assert.Equal("could not run: 42501: permission denied for table Product", r.Detail));
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_fails_every_check_without_an_exception()
    {
        var missing = new NpgsqlConnectionStringBuilder(postgres.ConnectionString("no_such_database")).ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(missing);

        var results = await RestoreChecks.RunAsync((await GetAsync(postgres)).Reading.Snapshot, dataSource, DemoOptions);

        Assert.Equal(RestoreChecks.All, results.Select(r => r.Name));
        Assert.All(results, r => Assert.Equal("could not run: could not read the restored database: 3D000: database \"no_such_database\" does not exist", r.Detail));
        Assert.All(results, r => Assert.False(r.Passed));
    }

    [Fact]
    public async Task The_seven_checks_run_by_name_in_their_fixed_order_whatever_order_a_selection_names_them_in()
    {
        Assert.Equal(
            ["migrations.finished", "migrations.head", "schema.fingerprint", "rows.counts", "tenants.same", "sequences.ahead", "tables.critical"],
            RestoreChecks.All);
        await using var dataSource = NpgsqlDataSource.Create(await CopyOfRestoreAsync(postgres));

        var results = await RestoreChecks.RunAsync((await GetAsync(postgres)).Reading.Snapshot, dataSource,
            DemoOptions with { Checks = [RestoreChecks.TablesCritical, RestoreChecks.SequencesAhead, RestoreChecks.MigrationsFinished] });

        Assert.Equal([RestoreChecks.MigrationsFinished, RestoreChecks.SequencesAhead, RestoreChecks.TablesCritical], results.Select(r => r.Name));
        Assert.All(results, r => Assert.True(r.Passed, r.Detail));
    }

    [Fact]
    public async Task Cancellation_is_the_one_thing_that_escapes()
    {
        var snapshot = (await GetAsync(postgres)).Reading.Snapshot;
        await using var dataSource = NpgsqlDataSource.Create(await CopyOfRestoreAsync(postgres));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            RestoreChecks.RunAsync(snapshot, dataSource, DemoOptions, cancellationToken: cancelled.Token));
    }

    [Fact]
    public async Task A_snapshot_that_recorded_nothing_contradicts_nothing_but_cannot_prove_the_tenants_of_a_schema_that_has_them()
    {
        var copy = await CopyOfRestoreAsync(postgres);
        await using var dataSource = NpgsqlDataSource.Create(copy);

        foreach (var snapshot in new DatabaseSnapshot?[] { null, new DatabaseSnapshot() })
        {
            var results = await RestoreChecks.RunAsync(snapshot, dataSource, DemoOptions);
            Log(results);
            AssertOnlyFailed(results, RestoreChecks.TenantsSame);
            Assert.All(
                results.Where(r => r.Name is RestoreChecks.MigrationsHead or RestoreChecks.SchemaFingerprintCheck or RestoreChecks.RowCounts),
                r => Assert.StartsWith("not recorded in the manifest; found ", r.Detail, StringComparison.Ordinal));
            Assert.Equal("nothing to compare with: the manifest records no tenants, and 19 tables have \"tenantId\" (found 3 tenants)", Detail(results, RestoreChecks.TenantsSame));
        }

        // The checks that need no manifest still find what is wrong.
        await ExecuteAsync(copy, "SELECT setval('\"Product_id_seq\"', 1)");
        var broken = await RestoreChecks.RunAsync(null, dataSource, DemoOptions);
        AssertOnlyFailed(broken, RestoreChecks.TenantsSame, RestoreChecks.SequencesAhead);
    }

    [Fact]
    public async Task A_one_percent_tolerance_accepts_half_a_percent_less_and_rejects_two_percent_less()
    {
        var snapshot = (await GetAsync(postgres)).Reading.Snapshot;
        var activities = snapshot.RowCounts["Activity"];
        var halfPercent = activities / 200;
        var twoPercent = activities / 50;
        Assert.True(halfPercent >= 2, $"Activity has only {activities} rows");
        var copy = await CopyOfRestoreAsync(postgres);
        await using var dataSource = NpgsqlDataSource.Create(copy);
        var onePercent = new VerificationOptions { RowCountToleranceFraction = 0.01m, Checks = [RestoreChecks.RowCounts, RestoreChecks.TenantsSame] };

        await ExecuteAsync(copy, $"DELETE FROM \"Activity\" WHERE id IN (SELECT id FROM \"Activity\" ORDER BY id LIMIT {halfPercent})");
        var exact = await RestoreChecks.RunAsync(snapshot, dataSource, new VerificationOptions { Checks = [RestoreChecks.RowCounts] });
        Assert.False(Assert.Single(exact).Passed);
        var tolerated = await RestoreChecks.RunAsync(snapshot, dataSource, onePercent);
        Log(tolerated);
        Assert.All(tolerated, r => Assert.True(r.Passed, r.Detail));
        Assert.EndsWith("1 differ from the manifest within the tolerance (tolerance 1 %)", tolerated[0].Detail, StringComparison.Ordinal);
        var absolute = await RestoreChecks.RunAsync(snapshot, dataSource, new VerificationOptions { RowCountToleranceRows = halfPercent, Checks = [RestoreChecks.RowCounts] });
        Assert.True(Assert.Single(absolute).Passed);

        await ExecuteAsync(copy, $"DELETE FROM \"Activity\" WHERE id IN (SELECT id FROM \"Activity\" ORDER BY id LIMIT {twoPercent - halfPercent})");
        var rejected = await RestoreChecks.RunAsync(snapshot, dataSource, onePercent);
        Assert.False(rejected[0].Passed);
        Assert.Equal(
            $"1 of 22 tables off (tolerance 1 %): \"Activity\" expected {activities:N0}, found {activities - twoPercent:N0} (-{twoPercent})",
            rejected[0].Detail);
        Assert.True(rejected[1].Passed, rejected[1].Detail);
    }

    [Fact]
    public void The_tolerance_is_the_larger_of_the_fraction_and_the_rows_and_exact_by_default()
    {
        Assert.Equal(0, VerificationOptions.Default.AllowedDifference(1_000_000));
        Assert.True(VerificationOptions.Default.IsWithinTolerance(5, 5));
        Assert.False(VerificationOptions.Default.IsWithinTolerance(5, 6));
        var both = new VerificationOptions { RowCountToleranceFraction = 0.01m, RowCountToleranceRows = 20 };
        Assert.Equal(20, both.AllowedDifference(1_000));
        Assert.Equal(100, both.AllowedDifference(10_000));
        Assert.True(both.IsWithinTolerance(10_000, 10_100));
        Assert.False(both.IsWithinTolerance(10_000, 9_899));
    }

    [Fact]
    public async Task Invalid_options_are_refused_before_anything_runs()
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString());
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() =>
            RestoreChecks.RunAsync(null, dataSource, new VerificationOptions { Checks = ["rows.count"] }));
        Assert.Contains("'rows.count'", unknown.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            RestoreChecks.RunAsync(null, dataSource, new VerificationOptions { RowCountToleranceFraction = 1.5m }));
    }

    [Fact]
    public async Task A_database_without_prisma_migrations_has_no_head_and_still_verifies()
    {
        var connectionString = await postgres.CreateDatabaseAsync("plain");
        await ExecuteAsync(connectionString, """
            CREATE TABLE "Org" (id serial PRIMARY KEY);
            CREATE TABLE "Item" (id serial PRIMARY KEY, "tenantId" text);
            INSERT INTO "Item" ("tenantId") VALUES ('a'), ('b'), ('b'), (NULL);
            """);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        var snapshot = await DatabaseSnapshotReader.ReadAsync(dataSource);
        Assert.Null(snapshot.MigrationHead);
        Assert.Equal(0, snapshot.AppliedMigrations);
        Assert.Equal(new[] { ("Item", 4L), ("Org", 0L) }, snapshot.RowCounts.Select(p => (p.Key, p.Value)).Order());
        Assert.Equal(new[] { "a", "b" }, snapshot.TenantIds);

        var results = await RestoreChecks.RunAsync(snapshot, dataSource);
        Log(results);
        Assert.All(results, r => Assert.True(r.Passed, r.Detail));
        Assert.Equal("no _prisma_migrations table (not a Prisma database): nothing to check", Detail(results, RestoreChecks.MigrationsFinished));
    }

    /// <summary>Copies the restored demo, runs <paramref name="breakIt"/> in the copy, and checks it against the source's snapshot.</summary>
    private async Task<(IReadOnlyList<CheckResult> Results, string Copy)> CheckCopyAsync(string? breakIt, VerificationOptions options)
    {
        var roundTrip = await GetAsync(postgres);
        var copy = await CopyOfRestoreAsync(postgres);
        if (breakIt is not null)
        {
            await ExecuteAsync(copy, breakIt);
        }
        await using var dataSource = NpgsqlDataSource.Create(copy);
        var results = await RestoreChecks.RunAsync(roundTrip.Reading.Snapshot, dataSource, options, roundTrip.Reading.Fingerprint.Lines);
        Log(results);
        return (results, copy);
    }

    private void Log(IEnumerable<CheckResult> results)
    {
        foreach (var result in results)
        {
            output.WriteLine($"{result.Name} {(result.Passed ? "passed" : "FAILED")}: {result.Detail}");
        }
    }

    private static string Detail(IEnumerable<CheckResult> results, string name) => results.Single(r => r.Name == name).Detail;

    private static void AssertOnlyFailed(IReadOnlyList<CheckResult> results, params string[] failing)
    {
        Assert.Equal(RestoreChecks.All, results.Select(r => r.Name));
        Assert.Equal(
            RestoreChecks.All.Where(failing.Contains),
            results.Where(r => !r.Passed).Select(r => r.Name));
    }
}
