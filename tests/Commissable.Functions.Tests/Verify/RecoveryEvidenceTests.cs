using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Testing;

namespace Commissable.Functions.Tests.Verify;

/// <summary>
/// restore-verify live mode with <c>evidence</c>, through the real host: the checked database
/// against the newest backup before the point in time and against production now.
/// </summary>
[Collection(VerifyEnvironment.Collection)]
public sealed class RecoveryEvidenceTests(VerifyEnvironment env)
{
    private const string TenantSchema = """
        CREATE TABLE "Tenant" (id text PRIMARY KEY);
        CREATE TABLE "Deal" (id serial PRIMARY KEY, "tenantId" text REFERENCES "Tenant", amount integer NOT NULL);
        CREATE TABLE setting (key text PRIMARY KEY, value text);
        INSERT INTO "Tenant" VALUES ('t-alpha'), ('t-beta');
        INSERT INTO "Deal" ("tenantId", amount) SELECT CASE WHEN g % 2 = 0 THEN 't-alpha' ELSE 't-beta' END, g FROM generate_series(1, 20) g;
        INSERT INTO "Deal" ("tenantId", amount) VALUES (NULL, 0);
        INSERT INTO setting VALUES ('a', 'secret-value-1'), ('b', 'secret-value-2');
        """;

    private const string PlainSchema = """
        CREATE SEQUENCE invoice_seq;
        CREATE TABLE invoice (id bigint PRIMARY KEY DEFAULT nextval('invoice_seq'), customer text NOT NULL);
        CREATE TABLE invoice_line (id serial PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoice, amount numeric NOT NULL);
        INSERT INTO invoice (customer) SELECT 'customer ' || g FROM generate_series(1, 20) g;
        INSERT INTO invoice_line (invoice_id, amount) SELECT 1 + g % 20, g FROM generate_series(1, 50) g;
        """;

    private async Task<(HttpStatusCode Status, JsonObject Body)> VerifyAsync(string json)
    {
        using var response = await env.Client.PostAsync("/restore-verify", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static string Live(string instance, string database, DateTimeOffset pointInTime, string extra = "") =>
        $$"""{"mode":"live","instance":"{{instance}}","verificationInstance":"{{VerifyEnvironment.Target}}","database":"{{database}}","evidence":{"pointInTime":"{{Rfc3339(pointInTime)}}"}{{extra}}}""";

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// <paramref name="database"/> on <c>prod</c> written with <paramref name="schema"/>, exported,
    /// and restored from that export into <c>verify-target</c>; returns the backup URI and the
    /// moment after the export ended.
    /// </summary>
    private async Task<(string Uri, DateTimeOffset After)> SourceExportedAndRestoredAsync(string database, string schema)
    {
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/databases"), $$"""{"name":"{{database}}"}""");
        await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync("prod", database), schema);
        var uri = await env.ExportAsync($"evidence-{database.Replace('_', '-')}", database);
        var after = DateTimeOffset.UtcNow;
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, database, uri);
        return (uri, after);
    }

    private static JsonObject Evidence(JsonObject body) => body["evidence"]!.AsObject();

    private static List<JsonObject> Differences(JsonObject evidence) =>
        [.. evidence["production"]!["differences"]!.AsArray().Select(d => d!.AsObject())];

    [Fact]
    public async Task Rows_deleted_in_production_after_the_point_in_time_show_as_restored_rows_per_table_and_tenant_and_the_record_carries_them()
    {
        var (uri, after) = await SourceExportedAndRestoredAsync("evidence_tenants", TenantSchema);
        // The incident, after the point in time: production loses t-beta's deals and one setting.
        var prod = await env.Cloud.ConnectionStringAsync("prod", "evidence_tenants");
        await Sql.ExecuteAsync(prod, """DELETE FROM "Deal" WHERE "tenantId" = 't-beta'; DELETE FROM setting WHERE key = 'b';""");

        var (status, body) = await VerifyAsync(Live("prod", "evidence_tenants", after, $",\"backup\":\"{uri}\""));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        Assert.Contains("evidence", body["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        var evidence = Evidence(body);
        var backup = evidence["backup"]!;
        Assert.True((bool)backup["found"]!, backup.ToJsonString());
        Assert.Equal(uri, (string?)backup["uri"]);
        Assert.Empty(backup["tablesMissing"]!.AsArray());
        Assert.Empty(backup["tablesExtra"]!.AsArray());
        Assert.Contains("all 3 tables of the backup present, none added", (string?)backup["detail"], StringComparison.Ordinal);

        var production = evidence["production"]!;
        Assert.True((bool)production["read"]!);
        Assert.Equal(25L, (long)production["restoredRows"]!);
        Assert.Equal(14L, (long)production["productionRows"]!);
        Assert.Equal(11L, (long)production["difference"]!);
        Assert.Equal(2, (int)production["tenantsRestored"]!);
        Assert.Equal(1, (int)production["tenantsProduction"]!);
        var lines = Differences(evidence).Select(d => ((string)d["table"]!, (string?)d["tenant"], (long?)d["restored"], (long?)d["production"], (long)d["difference"]!)).ToList();
        Assert.Equal(
            [("Deal", null, 21L, 11L, 10L), ("Deal", "t-beta", 10L, 0L, 10L), ("setting", null, 2L, 1L, 1L)],
            lines);

        var table = ((string)evidence["table"]!).Split('\n');
        Assert.Equal(["table", "tenant", "restored", "production", "difference"], table[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["Deal", "(all)", "21", "11", "+10"], table[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["Deal", "t-beta", "10", "0", "+10"], table[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["setting", "(all)", "2", "1", "+1"], table[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["total", "(all)", "25", "14", "+11"], table[4].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(5, table.Length);
        Assert.DoesNotContain("secret-value", body.ToJsonString(), StringComparison.Ordinal);

        // Recorded beside the backup, evidence included.
        var record = JsonNode.Parse(await File.ReadAllTextAsync(env.LocalPath((string)body["recordUri"]!)))!;
        Assert.Equal(evidence["table"]!.ToJsonString(), record["evidence"]!["table"]!.ToJsonString());
        Assert.Contains(env.Logs.WithEvent("backup.verify.evidence"), e => e.ToString().Contains("evidence_tenants", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_point_in_time_before_every_backup_says_there_is_no_backup_to_compare_with_and_still_compares_production()
    {
        await SourceExportedAndRestoredAsync("evidence_early", TenantSchema);

        var (status, body) = await VerifyAsync(Live("prod", "evidence_early", new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero)));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        var evidence = Evidence(body);
        Assert.False((bool)evidence["backup"]!["found"]!);
        Assert.Contains("no backup of evidence_early on 'prod'", (string?)evidence["backup"]!["detail"], StringComparison.Ordinal);
        Assert.Contains("ended by 2001-01-01T00:00:00Z: the restore was compared with no backup", (string?)evidence["backup"]!["detail"], StringComparison.Ordinal);
        Assert.True((bool)evidence["production"]!["read"]!);
        Assert.Empty(Differences(evidence));
        Assert.Contains("every table and tenant has as many rows as in the restore", (string?)evidence["production"]!["detail"], StringComparison.Ordinal);
        Assert.Equal(2, ((string)evidence["table"]!).Split('\n').Length);
        // Nothing to record beside: no backup was named.
        Assert.Null(body["recordUri"]);
    }

    [Fact]
    public async Task When_production_cannot_be_read_the_evidence_says_why_and_the_verification_still_runs()
    {
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "evidence_orphan");

        // The source has no such database.
        var (status, body) = await VerifyAsync(Live("prod", "evidence_orphan", DateTimeOffset.UtcNow));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        var production = Evidence(body)["production"]!;
        Assert.False((bool)production["read"]!);
        Assert.Contains("database evidence_orphan on 'prod'", (string?)production["reason"], StringComparison.Ordinal);
        Assert.Contains("does not exist", (string?)production["reason"], StringComparison.Ordinal);
        Assert.StartsWith("production could not be read: ", (string?)Evidence(body)["table"], StringComparison.Ordinal);
        Assert.Null(production["restoredRows"]);

        // The source instance itself is gone.
        (status, body) = await VerifyAsync(Live("prod-gone", "evidence_orphan", DateTimeOffset.UtcNow));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        var evidence = Evidence(body);
        Assert.Equal($"the instance 'prod-gone' does not exist in project '{env.Cloud.Project}'", (string?)evidence["production"]!["reason"]);
        Assert.Equal($"production could not be read: the instance 'prod-gone' does not exist in project '{env.Cloud.Project}'", (string?)evidence["table"]);
        Assert.False((bool)evidence["backup"]!["found"]!);
        Assert.Contains("production could not be read", (string?)evidence["text"], StringComparison.Ordinal);
        Assert.False((bool)body["stages"]!.AsArray().Single(s => (string?)s!["stage"] == "evidence")!["succeeded"]!);
    }

    [Fact]
    public async Task A_schema_without_the_tenant_column_gets_per_table_lines_only()
    {
        var (_, after) = await SourceExportedAndRestoredAsync("evidence_plain", PlainSchema);
        await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync("prod", "evidence_plain"), "DELETE FROM invoice_line WHERE id <= 5");

        var (status, body) = await VerifyAsync(Live("prod", "evidence_plain", after));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        var evidence = Evidence(body);
        Assert.True((bool)evidence["backup"]!["found"]!);
        var line = Assert.Single(Differences(evidence));
        Assert.Equal("invoice_line", (string?)line["table"]);
        Assert.Null(line["tenant"]);
        Assert.Equal(5L, (long)line["difference"]!);
        Assert.Equal(0, (int)evidence["production"]!["tenantsRestored"]!);
        Assert.DoesNotContain("tenants:", (string?)evidence["production"]!["detail"], StringComparison.Ordinal);
        var table = ((string)evidence["table"]!).Split('\n');
        Assert.Equal(["invoice_line", "(all)", "50", "45", "+5"], table[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(3, table.Length);
    }

    [Theory]
    [InlineData("""{"backup":"latest","instance":"prod","evidence":{"pointInTime":"2026-01-01T00:00:00Z"}}""", "'evidence' only applies to live mode")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","evidence":{}}""", "'evidence.pointInTime' is required")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","evidence":{"pointInTime":"2026-01-01T00:00:00"}}""", "must be an RFC 3339 timestamp with seconds and a zone")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","evidence":{"pointInTime":"2026-01-01 00:00:00Z"}}""", "must be an RFC 3339 timestamp")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","evidence":{"pointInTime":"2026-02-30T00:00:00Z"}}""", "must be an RFC 3339 timestamp")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","evidence":{"pointInTime":"yesterday\n"}}""", "(got 'yesterday?')")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","evidence":{"pointInTime":"2026-01-01T00:00:00Z","table":"x"}}""", "table")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","evidence":"2026-01-01T00:00:00Z"}""", "evidence")]
    public async Task Bad_evidence_is_a_400_that_says_what_is_accepted(string json, string message)
    {
        var (status, body) = await VerifyAsync(json);

        Assert.True(status == HttpStatusCode.BadRequest, body.ToJsonString());
        Assert.Contains(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
    }
}
