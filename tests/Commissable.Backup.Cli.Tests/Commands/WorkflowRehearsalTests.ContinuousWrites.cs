using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Postgres.Demo;
using Commissable.Testing;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>clone-to-staging while production is written to all through the clone's export.</summary>
public sealed partial class WorkflowRehearsalTests
{
    [Fact]
    public async Task Clone_to_staging_passes_while_production_is_written_to_throughout_its_export()
    {
        await stack.EnsureStagingAsync();
        await stack.PutSecretAsync("busy-app-password", "busy-app-pw-51c0");
        var prod = stack.Connection(await stack.InstanceAsync(LocalStack.ProdInstance), "crm");
        var atStart = await ActivityWriter.CountByTenantAsync(prod);
        // The bound covers the workflow's own wait: an earlier clone in this minute holds the backup
        // name, and the workflow asks again 30 s later, until the next minute's name is free.
        var bound = TimeSpan.FromMinutes(3);

        // A migration holds _prisma_migrations: the clone's pg_dump takes its snapshot, then waits
        // for that lock while the writer goes on committing rows for every tenant.
        await using var migration = await MigrationLock.TakeAsync(prod, DemoDatabase.MigrationsTable);
        await using var writer = await ActivityWriter.StartAsync(prod, "clone-write");
        var tenants = writer.Tenants.Count;
        await writer.WhenCommittedAsync(2 * tenants, bound);
        var beforeClone = writer.Committed;

        var clone = stack.RunAsync("clone-prod-to-staging.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["stagingInstance"] = "staging",
            ["stagingDatabase"] = "crm_busy",
            ["appUser"] = "crm_app",
            ["appPasswordSecret"] = "busy-app-password",
            ["criticalTables"] = new JsonArray("Tenant", "Activity"),
        }, approve: false);
        var waiting = await migration.WaitForWaiterAsync(bound);
        var afterSnapshot = writer.Committed;
        await writer.WhenCommittedAsync(afterSnapshot + 2 * tenants, bound);
        await migration.ReleaseAsync();
        var run = await clone;
        var written = await writer.StopAsync();
        var atEnd = await ActivityWriter.CountByTenantAsync(prod);

        Assert.Equal("pg_dump", waiting);
        Assert.True(run.Exit == 0, run.Output);
        var result = run.Result!;
        Assert.True((bool)result["exported"]!);
        Assert.All(result["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.EndsWith("counts and contents equal", (string?)Check(result, "content.tables")["detail"], StringComparison.Ordinal);
        Assert.EndsWith($"{tenants} tenants: per-tenant rows and contents equal", (string?)Check(result, "content.tenants")["detail"], StringComparison.Ordinal);

        // The export the clone loaded holds what was committed before the clone started and nothing
        // committed while its dump waited; production ended with more than it holds.
        var uri = (string)result["backupUri"]!;
        var dumped = JsonSerializer.Deserialize<BackupManifest>(await File.ReadAllTextAsync(stack.LocalPath(uri + ".manifest.json")), CatalogJson.Options)!
            .Content!.Tables["public.\"Activity\""];
        var start = atStart.Values.Sum();
        var end = atEnd.Values.Sum();
        output.WriteLine($"Activity rows: {start} at the start, {dumped.Rows} in the export, {end} at the end; the writer committed "
            + $"{beforeClone} before the clone, {afterSnapshot} when pg_dump was seen waiting, {written} in all; the clone took {result["durationSeconds"]} s");
        Assert.InRange(dumped.Rows, start + beforeClone, start + afterSnapshot);
        Assert.Equal(start + written, end);
        Assert.True(end > dumped.Rows && dumped.Rows > start, $"production {start} rows at the start, {end} at the end; the export {dumped.Rows}");
        foreach (var (tenant, rows) in dumped.Tenants!)
        {
            Assert.InRange(rows.Rows, atStart[tenant] + 1, atEnd[tenant] - 1);
        }

        // Staging holds exactly the export, tenant by tenant: not production as it ended.
        var staging = await ActivityWriter.CountByTenantAsync(stack.Connection(await stack.InstanceAsync("staging"), "crm_busy"));
        Assert.Equal(dumped.Tenants.ToDictionary(t => t.Key, t => t.Value.Rows), staging);
        Assert.NotEqual(end, staging.Values.Sum());
    }

    private static JsonObject Check(JsonObject result, string name) =>
        result["checks"]!.AsArray().Single(c => (string?)c!["name"] == name)!.AsObject();
}
