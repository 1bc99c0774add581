using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Commissable.Backup.Postgres.Verification;
using Npgsql;
using Xunit.Abstractions;
using static Commissable.Backup.Postgres.Tests.VerificationRestores;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// The restore checks on a schema written the old way, not the demo's: sequences drawn through
/// plain <c>DEFAULT nextval(...)</c> with no <c>OWNED BY</c>, one sequence shared by two tables,
/// one used inside a larger default, one used by no column, and no tenant column at all.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PlainSchemaVerificationTests(TestPostgres postgres, ITestOutputHelper output)
{
    /// <summary>Plain nextval defaults, no owned sequence, no "tenantId".</summary>
    public const string Schema = """
        CREATE SEQUENCE invoice_seq;
        CREATE SEQUENCE line_seq;
        CREATE SEQUENCE ticket_seq;
        CREATE SEQUENCE spare_seq;
        CREATE TABLE invoice (id bigint PRIMARY KEY DEFAULT nextval('invoice_seq'), customer text NOT NULL);
        CREATE TABLE invoice_line (id integer PRIMARY KEY DEFAULT nextval('line_seq'), invoice_id bigint NOT NULL REFERENCES invoice, amount numeric NOT NULL);
        CREATE TABLE credit_line (id integer PRIMARY KEY DEFAULT nextval('line_seq'), amount numeric NOT NULL);
        CREATE TABLE ticket (code text PRIMARY KEY DEFAULT 'T-' || nextval('ticket_seq'));
        INSERT INTO invoice (customer) SELECT 'customer ' || g FROM generate_series(1, 20) g;
        INSERT INTO invoice_line (invoice_id, amount) SELECT 1 + g % 20, g FROM generate_series(1, 50) g;
        INSERT INTO credit_line (amount) VALUES (5), (6);
        INSERT INTO ticket DEFAULT VALUES;
        INSERT INTO ticket DEFAULT VALUES;
        """;

    private static readonly VerificationOptions SequencesOnly = new() { Checks = [RestoreChecks.SequencesAhead] };

    [Fact]
    public async Task Every_sequence_a_plain_nextval_default_draws_from_is_compared_with_every_column_that_draws_from_it()
    {
        var database = await PlainDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);

        var check = await SequenceCheck.RunAsync(dataSource);
        Assert.True(check.Passed, string.Join("; ", check.Behind));
        Assert.Equal(
            [("line_seq", "credit_line", "id"), ("invoice_seq", "invoice", "id"), ("line_seq", "invoice_line", "id")],
            check.Sequences.Select(s => (s.Sequence, s.Table, s.Column)));
        Assert.All(check.Sequences, s => Assert.Equal(SequenceUse.Default, s.Use));
        Assert.Equal(["spare_seq", "ticket_seq"], check.Unused.Select(s => s.Name));

        var healthy = Assert.Single(await RestoreChecks.RunAsync(null, dataSource, SequencesOnly));
        output.WriteLine(healthy.Detail);
        Assert.True(healthy.Passed, healthy.Detail);
        Assert.StartsWith("2 sequences ahead of the 3 columns that draw from them (3 nextval default)", healthy.Detail, StringComparison.Ordinal);
        Assert.EndsWith("2 that no column draws from, not checked (no position recorded in the manifest): \"public\".\"spare_seq\"; \"public\".\"ticket_seq\"",
            healthy.Detail, StringComparison.Ordinal);

        await ExecuteAsync(database, "SELECT setval('invoice_seq', 1)");
        var behind = Assert.Single(await RestoreChecks.RunAsync(null, dataSource, SequencesOnly));
        output.WriteLine(behind.Detail);
        Assert.False(behind.Passed);
        Assert.Equal("1 of 3 sequences behind their column (the next insert would collide): \"public\".\"invoice_seq\" for \"public\".\"invoice\".\"id\": next value 2, column max 20",
            behind.Detail);
        // What the check predicts is what the application would hit.
        var collision = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(database, "INSERT INTO invoice (customer) VALUES ('new')"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, collision.SqlState);
    }

    [Fact]
    public async Task A_shared_sequence_must_be_past_every_column_that_draws_from_it()
    {
        var database = await PlainDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);

        // line_seq is at 52, past invoice_line's 50 rows; a row given its id by hand puts credit_line past it.
        await ExecuteAsync(database, "INSERT INTO credit_line (id, amount) VALUES (900, 7)");
        var behind = Assert.Single(await RestoreChecks.RunAsync(null, dataSource, SequencesOnly));

        Assert.False(behind.Passed);
        Assert.Equal("1 of 3 sequences behind their column (the next insert would collide): \"public\".\"line_seq\" for \"public\".\"credit_line\".\"id\": next value 53, column max 900",
            behind.Detail);
    }

    [Fact]
    public async Task A_sequence_no_column_draws_from_is_compared_with_its_recorded_position()
    {
        var database = await PlainDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        var recorded = new DatabaseSnapshot
        {
            Sequences = new Dictionary<string, RecordedSequence>
            {
                ["ticket_seq"] = new(10, true),
                ["spare_seq"] = new(1, false),
                ["invoice_seq"] = new(20, true),
            },
        };

        var behind = Assert.Single(await RestoreChecks.RunAsync(recorded, dataSource, SequencesOnly));
        output.WriteLine(behind.Detail);
        Assert.False(behind.Passed);
        Assert.Equal("1 of 3 recorded sequences behind the backup: \"public\".\"ticket_seq\" (no column draws from it): next value 3, the backup's 11", behind.Detail);

        await ExecuteAsync(database, "SELECT setval('ticket_seq', 10)");
        var atPosition = Assert.Single(await RestoreChecks.RunAsync(recorded, dataSource, SequencesOnly));
        Assert.True(atPosition.Passed, atPosition.Detail);
        Assert.EndsWith("; 3 at or past the backup's position", atPosition.Detail, StringComparison.Ordinal);

        var gone = Assert.Single(await RestoreChecks.RunAsync(
            new DatabaseSnapshot { Sequences = new Dictionary<string, RecordedSequence> { ["order_seq"] = new(4, true) } }, dataSource, SequencesOnly));
        Assert.False(gone.Passed);
        Assert.Equal("1 of 1 recorded sequences behind the backup: \"public\".\"order_seq\" missing (recorded at 4)", gone.Detail);
    }

    [Fact]
    public async Task A_schema_without_the_tenant_column_passes_every_check_saying_tenants_did_not_apply()
    {
        var database = await PlainDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        var snapshot = await DatabaseSnapshotReader.ReadAsync(dataSource);
        Assert.Empty(snapshot.TenantIds);

        // As import mode judges it (against its manifest), and as live mode does (against nothing, at least one tenant required).
        foreach (var (recorded, options) in new (DatabaseSnapshot?, VerificationOptions)[]
                 { (snapshot, VerificationOptions.Default), (null, new VerificationOptions { RequireTenants = true }) })
        {
            var results = await RestoreChecks.RunAsync(recorded, dataSource, options);
            Log(results);
            Assert.All(results, r => Assert.True(r.Passed, $"{r.Name}: {r.Detail}"));
            Assert.Equal("not applicable: no table in public has the tenant column \"tenantId\" (TENANT_COLUMN), so tenants were not compared",
                results.Single(r => r.Name == RestoreChecks.TenantsSame).Detail);
        }

        // A manifest that recorded tenants where there is no tenant column now: the column is gone.
        var tenantsGone = await RestoreChecks.RunAsync(snapshot with { TenantIds = ["a", "b"] }, dataSource, new VerificationOptions { Checks = [RestoreChecks.TenantsSame] });
        Assert.False(Assert.Single(tenantsGone).Passed);
        Assert.Equal("the manifest records 2 tenants, but no table in public has a \"tenantId\" column", tenantsGone[0].Detail);
    }

    [Fact]
    public async Task Where_the_tenant_column_exists_a_check_with_nothing_to_compare_with_fails()
    {
        var database = await PlainDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        // The invoices' customer column as the tenant column: 20 tenants.
        var byCustomer = new VerificationOptions { TenantColumn = "customer", Checks = [RestoreChecks.TenantsSame] };

        var unproven = Assert.Single(await RestoreChecks.RunAsync(null, dataSource, byCustomer));
        Assert.False(unproven.Passed);
        Assert.Equal("nothing to compare with: the manifest records no tenants, and 1 tables have \"customer\" (found 20 tenants)", unproven.Detail);

        var required = Assert.Single(await RestoreChecks.RunAsync(null, dataSource, byCustomer with { RequireTenants = true }));
        Assert.True(required.Passed, required.Detail);
        Assert.Equal("no manifest to compare with; found 20 tenants in 1 tables with \"customer\" (at least one required)", required.Detail);

        var recorded = await DatabaseSnapshotReader.ReadAsync(dataSource, "customer");
        var compared = Assert.Single(await RestoreChecks.RunAsync(recorded, dataSource, byCustomer));
        Assert.Equal((true, "20 tenants, as recorded"), (compared.Passed, compared.Detail));
    }

    [Fact]
    public async Task An_empty_database_checked_in_place_still_fails_for_having_no_tenants()
    {
        var database = await postgres.CreateDatabaseAsync("empty");
        await using var dataSource = NpgsqlDataSource.Create(database);

        var results = await RestoreChecks.RunAsync(null, dataSource, new VerificationOptions { RequireTenants = true, Checks = [RestoreChecks.TenantsSame] });

        Assert.False(Assert.Single(results).Passed);
        Assert.Equal("no tenants: public has no tables at all (an empty database, or not the application's)", results[0].Detail);
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
}
