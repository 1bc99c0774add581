using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Postgres.Demo;
using Commissable.Testing;
using Xunit.Abstractions;

namespace Commissable.Functions.Tests.Verify;

/// <summary>
/// The first acceptance: production is written to all through its pre-deploy export, and
/// the backup still verifies exactly, because its content manifest is read from the dump itself.
/// </summary>
[Collection(VerifyEnvironment.Collection)]
public sealed class ContinuousWritesVerifyTests(VerifyEnvironment env, ITestOutputHelper output)
{
    private const string Activity = "public.\"Activity\"";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_database_under_continuous_inserts_during_its_export_verifies_exactly_with_every_count_the_dumps()
    {
        // Its own demo database on prod, so the rows written here reach no other test's backup.
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/databases"), """{"name":"busy"}""");
        var busy = await env.Cloud.ConnectionStringAsync("prod", "busy");
        await DemoDatabase.CreateAsync(busy, DemoDatabaseOptions.Tiny);
        var atStart = await ActivityWriter.CountByTenantAsync(busy);

        // A migration holds a lock on _prisma_migrations: the export's pg_dump will take its snapshot,
        // then wait for that lock while the writer goes on committing.
        await using var migration = await MigrationLock.TakeAsync(busy, DemoDatabase.MigrationsTable);
        await using var writer = await ActivityWriter.StartAsync(busy, "continuous-write");
        var tenants = writer.Tenants.Count;
        // A round over every tenant, twice, committed before the export is asked for: in its snapshot.
        await writer.WhenCommittedAsync(2 * tenants, Bound);
        var beforeExport = writer.Committed;

        var export = env.Client.PostAsync("/pre-deploy-export",
            new StringContent("""{"instance":"prod","database":"busy","change":"continuous-writes"}""", Encoding.UTF8, "application/json"));
        var waiting = await migration.WaitForWaiterAsync(Bound);
        var afterSnapshot = writer.Committed;
        // Two more rounds over the tenants while the dump waits, its snapshot taken: not in the dump.
        await writer.WhenCommittedAsync(afterSnapshot + 2 * tenants, Bound);
        await migration.ReleaseAsync();
        using var answer = await export;
        var exported = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!.AsObject();
        var written = await writer.StopAsync();
        var atEnd = await ActivityWriter.CountByTenantAsync(busy);

        Assert.Equal("pg_dump", waiting);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, exported.ToJsonString());
        Assert.Equal(["lease", "export", "check", "content", "manifest"], exported["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        var uri = (string)exported["backupUri"]!;
        var content = JsonSerializer.Deserialize<BackupManifest>(await File.ReadAllTextAsync(env.LocalPath(uri + ".manifest.json")), CatalogJson.Options)!.Content!;
        var dumped = content.Tables[Activity];

        // The writes overlapped the dump: it holds every row committed before the export was asked
        // for and none committed while it waited, and production ended with more than it holds.
        long Total(IReadOnlyDictionary<string, long> counts) => counts.Values.Sum();
        output.WriteLine($"Activity rows: {Total(atStart)} at the start, {dumped.Rows} in the dump, {Total(atEnd)} at the end; "
            + $"the writer committed {beforeExport} before the export, {afterSnapshot} when pg_dump was seen waiting, {written} in all");
        Assert.InRange(dumped.Rows, Total(atStart) + beforeExport, Total(atStart) + afterSnapshot);
        Assert.Equal(Total(atStart) + written, Total(atEnd));
        Assert.True(Total(atEnd) > dumped.Rows, $"production ended with {Total(atEnd)} rows, the dump holds {dumped.Rows}");
        Assert.True(dumped.Rows > Total(atStart), $"the dump holds {dumped.Rows} rows, production started with {Total(atStart)}");
        // So for every tenant the writer wrote for.
        Assert.Equal(tenants, dumped.Tenants!.Count);
        foreach (var (tenant, rows) in dumped.Tenants)
        {
            Assert.InRange(rows.Rows, atStart[tenant] + 1, atEnd[tenant] - 1);
        }

        // Import mode: the scratch copy read back equals the dump exactly, table by table and tenant by tenant.
        using var response = await env.Client.PostAsync("/restore-verify", new StringContent($$"""{"backup":"{{uri}}"}""", Encoding.UTF8, "application/json"));
        var verified = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True(response.StatusCode == HttpStatusCode.OK, verified.ToJsonString());
        Assert.True((bool)verified["passed"]!, verified.ToJsonString());
        Assert.All(verified["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.Equal($"{content.Tables.Count} tables, {content.TotalRows} rows: counts and contents equal", (string?)Check(verified, ContentComparison.Tables)["detail"]);
        Assert.Equal($"{content.Tables.Values.Count(t => t.Tenants is not null)} tables with \"tenantId\", {tenants} tenants: per-tenant rows and contents equal",
            (string?)Check(verified, ContentComparison.Tenants)["detail"]);

        // The same backup imported on its own and counted in SQL: the dump's count, not production's at the end.
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "busy_restored", uri);
        var restored = await ActivityWriter.CountByTenantAsync(await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, "busy_restored"));
        Assert.Equal(dumped.Rows, Total(restored));
        Assert.Equal(dumped.Tenants.ToDictionary(t => t.Key, t => t.Value.Rows), restored);
        Assert.NotEqual(Total(atEnd), Total(restored));
    }

    private static JsonObject Check(JsonObject body, string name) =>
        body["checks"]!.AsArray().Single(c => (string?)c!["name"] == name)!.AsObject();
}
