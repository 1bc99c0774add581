using System.Net;
using System.Text.Json.Nodes;
using Commissable.Testing;

namespace Commissable.Functions.Tests.TenantRestore;

/// <summary>
/// tenant-restore composed as in production (the Postgres restorer, <c>TENANT_RESTORE_DB_*</c> set
/// to the instances' <c>postgres</c> login) through the real host, against real clusters of the
/// local cloud: a small schema on the source and the same rows on the staged instance, one
/// tenant deleted from the source (with its cascade), then plan, apply and record.
/// </summary>
[Collection(TenantRestoreEnvironment.Collection)]
public sealed class TenantRestoreEndToEndTests(TenantRestoreEnvironment env)
{
    private const string Schema = """
        CREATE TABLE "Tenant" (id text PRIMARY KEY, name text NOT NULL);
        CREATE TABLE "Contact" (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            email text NOT NULL UNIQUE,
            "emailDomain" text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED);
        INSERT INTO "Tenant" VALUES ('t-1', 'Acme'), ('t-2', 'Globex');
        INSERT INTO "Contact" ("tenantId", email) VALUES ('t-1', 'a@acme.test'), ('t-2', 'c@globex.test'), ('t-1', 'b@acme.test'), ('t-1', 'd@acme.test');
        """;

    /// <summary>A tenant's rows, in key order, as one text: what "equal" means for the test.</summary>
    private static Task<string> TenantRowsAsync(string connectionString, string tenant) => Sql.ScalarAsync<string>(connectionString, $"""
        SELECT coalesce((SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM "Tenant" WHERE id = '{tenant}'), '') || '|' ||
               coalesce((SELECT string_agg(id || ':' || email || ':' || "emailDomain", ',' ORDER BY id) FROM "Contact" WHERE "tenantId" = '{tenant}'), '')
        """);

    private static JsonObject Request(string action, string runId) => new()
    {
        ["action"] = action,
        ["runId"] = runId,
        ["sourceInstance"] = TenantRestoreEnvironment.Source,
        ["database"] = "tr_e2e",
        ["stagedInstance"] = TenantRestoreEnvironment.Staged,
        ["stagedDatabase"] = "tr_e2e_staged",
        ["tenantId"] = "t-1",
        ["requestedBy"] = "alice@example.com",
        ["restorePoint"] = "2026-11-25T03:00:00Z",
    };

    [Fact]
    public async Task A_deleted_tenant_is_planned_applied_proven_and_recorded_and_the_other_tenant_is_untouched()
    {
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api($"instances/{TenantRestoreEnvironment.Source}/databases"), """{"name":"tr_e2e"}""");
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api($"instances/{TenantRestoreEnvironment.Staged}/databases"), """{"name":"tr_e2e_staged"}""");
        var production = await env.Cloud.ConnectionStringAsync(TenantRestoreEnvironment.Source, "tr_e2e");
        var staged = await env.Cloud.ConnectionStringAsync(TenantRestoreEnvironment.Staged, "tr_e2e_staged");
        await Sql.ExecuteAsync(production, Schema);
        await Sql.ExecuteAsync(staged, Schema);
        var expected = await TenantRowsAsync(staged, "t-1");
        Assert.Equal("t-1:Acme|1:a@acme.test:acme.test,3:b@acme.test:acme.test,4:d@acme.test:acme.test", expected);
        // The incident: one tenant deleted with its cascade; meanwhile the other tenant keeps working.
        await Sql.ExecuteAsync(production, """DELETE FROM "Tenant" WHERE id = 't-1'; INSERT INTO "Contact" ("tenantId", email) VALUES ('t-2', 'e@globex.test')""");
        var otherBefore = await TenantRowsAsync(production, "t-2");
        var runId = TenantRestoreEnvironment.NewRunId("e2e");

        var (status, plan) = await TenantRestoreEnvironment.PostAsync(env.Client, Request("plan", runId).ToJsonString());

        Assert.True(status == HttpStatusCode.OK, plan.ToJsonString());
        Assert.True((bool)plan["canApply"]!, plan.ToJsonString());
        var tables = plan["tables"]!.AsArray().ToDictionary(t => (string)t!["table"]!, t => t!.AsObject());
        Assert.Equal((1L, 3L), ((long)tables["Tenant"]["missing"]!, (long)tables["Contact"]["missing"]!));
        Assert.Equal(4L, (long)plan["totals"]!["writes"]!);
        Assert.Contains("Contact", (string?)plan["text"], StringComparison.Ordinal);
        Assert.DoesNotContain("acme.test", plan.ToJsonString(), StringComparison.Ordinal);
        // Planning wrote nothing.
        Assert.Equal("|", await TenantRowsAsync(production, "t-1"));

        var apply = Request("apply", runId);
        apply["planUri"] = (string)plan["planUri"]!;
        apply["digest"] = (string)plan["digest"]!;
        apply["approvedBy"] = "bob@example.com";
        apply["safetyBackup"] = TenantRestoreEnvironment.SafetyBackup;
        var (applyStatus, applied) = await TenantRestoreEnvironment.PostAsync(env.Client, apply.ToJsonString());

        Assert.True(applyStatus == HttpStatusCode.OK, applied.ToJsonString());
        Assert.Equal(("applied", true), ((string)applied["outcome"]!, (bool)applied["proven"]!));
        // Proven over both tables of the tenant, not over none.
        Assert.Equal(["Contact", "Tenant"], applied["proof"]!.AsArray().Select(p => (string)p!["table"]!).Order(StringComparer.Ordinal));
        Assert.All(applied["proof"]!.AsArray(), p => Assert.True((bool)p!["equal"]!, p.ToJsonString()));
        Assert.Equal(3L, applied["writes"]!.AsArray().Single(w => (string)w!["table"]! == "Contact")!["inserted"]!.GetValue<long>());
        Assert.Equal(expected, await TenantRowsAsync(production, "t-1"));
        Assert.Equal(otherBefore, await TenantRowsAsync(production, "t-2"));
        Assert.True(File.Exists(env.LocalPath((string)applied["appliedUri"]!)));
        Assert.True(File.Exists(env.LocalPath(TenantRestoreEnvironment.RunObject(runId, $"approval-{(string)plan["digest"]!}.json"))));

        var record = Request("record", runId);
        record["outcome"] = "applied";
        record["approvedBy"] = "bob@example.com";
        record["planUri"] = (string)plan["planUri"]!;
        record["appliedUri"] = (string)applied["appliedUri"]!;
        record["timings"] = new JsonObject { ["plan"] = 1.0 };
        var (recordStatus, recorded) = await TenantRestoreEnvironment.PostAsync(env.Client, record.ToJsonString());
        Assert.True(recordStatus == HttpStatusCode.OK, recorded.ToJsonString());
        Assert.True((bool)env.Stored((string)recorded["recordUri"]!)["proven"]!);

        Assert.DoesNotContain(env.Logs.Lines, l => l.Contains("acme.test", StringComparison.Ordinal));
    }
}
