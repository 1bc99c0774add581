using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Local;
using Commissable.Testing;
using Npgsql;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// Both workflows on a schema that is not the demo's (<see cref="PlainSchema"/>: no tenant column,
/// plain <c>nextval</c> defaults, no owned sequences), in database <c>plain</c> of prod.
/// </summary>
public sealed partial class WorkflowRehearsalTests
{
    [Fact]
    public async Task Disaster_recovery_completes_on_a_schema_without_the_tenant_column_and_shows_the_lost_rows_by_table()
    {
        var plain = await stack.EnsurePlainDatabaseAsync();
        var prod = await stack.InstanceAsync(LocalStack.ProdInstance);
        var url = $"postgresql://plain_app:app-secret-5@{stack.Address(prod)}:5432/plain";
        await stack.PutSecretAsync("plain-database-url", url);
        await stack.PutSecretAsync("plain-direct-url", url);

        // Rows written through the plain nextval default, the moment read from the server's clock,
        // then the incident: the rows are deleted.
        await Execute(plain, "INSERT INTO invoice (customer) SELECT 'dr-plain-' || g FROM generate_series(1, 7) g");
        var pointInTime = await Text(plain, """SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""");
        await Execute(plain, "DELETE FROM invoice WHERE customer LIKE 'dr-plain-%'");

        var run = await stack.RunAsync("disaster-recovery.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["pointInTime"] = pointInTime,
            ["newInstance"] = "prod-plain-pit",
            ["database"] = "plain",
            ["databaseUrlSecret"] = "plain-database-url",
            ["directUrlSecret"] = "plain-direct-url",
            ["criticalTables"] = new JsonArray("invoice", "invoice_line"),
        }, approve: true);

        Assert.True(run.Exit == 0, run.Output);
        var result = run.Result!;
        Assert.All(result["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.StartsWith("2 sequences ahead of the 2 columns that draw from them (2 nextval default)",
            (string?)Check(result, "sequences.ahead")["detail"], StringComparison.Ordinal);
        var restored = stack.Connection(await stack.InstanceAsync("prod-plain-pit"), "plain");
        Assert.Equal(7L, await Count(restored, "SELECT count(*) FROM invoice WHERE customer LIKE 'dr-plain-%'"));
        // The restored sequence is past the rows it gave: the next insert through the default works.
        await Execute(restored, "INSERT INTO invoice (customer) VALUES ('after-recovery')");

        // The approver saw the lost rows by table, with no tenant lines: the schema has no tenants.
        var asked = run.Output.IndexOf("APPROVAL NEEDED: prod-plain-pit", StringComparison.Ordinal);
        var approvedAt = run.Output.IndexOf("approved by ci-approver", StringComparison.Ordinal);
        Assert.True(asked >= 0 && approvedAt > asked, run.Output);
        var shown = run.Output[asked..approvedAt].Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Contains(shown, l => l is ["table", "tenant", "restored", "production", "difference"]);
        Assert.Equal("+7", Assert.Single(shown, l => l is ["invoice", _, _, _, _])[4]);
        Assert.Equal("(all)", Assert.Single(shown, l => l is ["invoice", _, _, _, _])[1]);
        var differences = result["evidence"]!["production"]!["differences"]!.AsArray();
        var lost = Assert.Single(differences);
        Assert.Equal(("invoice", 7L), ((string)lost!["table"]!, (long)lost["difference"]!));
        Assert.Null(lost["tenant"]);
        Assert.Equal(url.Replace(stack.Address(prod), stack.Address(await stack.InstanceAsync("prod-plain-pit")), StringComparison.Ordinal), stack.Secret("plain-database-url", 2));
        Assert.DoesNotContain("app-secret-5", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clone_to_staging_completes_on_a_schema_without_the_tenant_column_and_the_staging_user_inserts_through_its_defaults()
    {
        var plain = await stack.EnsurePlainDatabaseAsync();
        await stack.EnsureStagingAsync();
        const string Password = "plain-app-pw-93a2";
        await stack.PutSecretAsync("plain-app-password", Password);

        var run = await stack.RunAsync("clone-prod-to-staging.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["sourceDatabase"] = "plain",
            ["stagingInstance"] = "staging",
            ["stagingDatabase"] = "plain_staging",
            ["appUser"] = "plain_app",
            ["appPasswordSecret"] = "plain-app-password",
            ["criticalTables"] = new JsonArray("invoice", "invoice_line"),
        }, approve: false);

        Assert.True(run.Exit == 0, run.Output);
        var result = run.Result!;
        Assert.True((bool)result["exported"]!);
        Assert.All(result["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.Equal(PlainSchema.TenantsNotApplicable, (string?)Check(result, "content.tenants")["detail"]);
        var invoices = await Count(plain, "SELECT count(*) FROM invoice");
        var lines = await Count(plain, "SELECT count(*) FROM invoice_line");
        Assert.Equal($"2 tables, {invoices + lines} rows: counts and contents equal", (string?)Check(result, "content.tables")["detail"]);
        Assert.StartsWith("2 sequences ahead of the 2 columns that draw from them (2 nextval default)",
            (string?)Check(result, "sequences.ahead")["detail"], StringComparison.Ordinal);

        // The staging user reads the copy and inserts through the nextval defaults: granted, and past every id.
        var staging = new NpgsqlConnectionStringBuilder(stack.Connection(await stack.InstanceAsync("staging"), "plain_staging")) { Username = "plain_app", Password = Password }.ConnectionString;
        Assert.Equal(invoices, await Count(staging, "SELECT count(*) FROM invoice"));
        Assert.Equal(lines, await Count(staging, "SELECT count(*) FROM invoice_line"));
        await Execute(staging, "INSERT INTO invoice (customer) VALUES ('staging-write')");
        await Execute(staging, "INSERT INTO invoice_line (invoice_id, amount) SELECT id, 1 FROM invoice WHERE customer = 'staging-write'");
        Assert.Equal(lines + 1, await Count(staging, "SELECT count(*) FROM invoice_line"));
        Assert.DoesNotContain(Password, run.Output, StringComparison.Ordinal);
    }
}
