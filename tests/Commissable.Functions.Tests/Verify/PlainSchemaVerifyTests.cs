using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Verification;
using Commissable.Testing;

namespace Commissable.Functions.Tests.Verify;

/// <summary>
/// restore-verify, both modes, through the real host, on a schema that is not the demo's: no
/// tenant column, sequences drawn through plain <c>nextval</c> defaults with no <c>OWNED BY</c>.
/// </summary>
[Collection(VerifyEnvironment.Collection)]
public sealed class PlainSchemaVerifyTests(VerifyEnvironment env)
{
    private const string NotApplicable = PlainSchema.TenantsNotApplicable;

    private static readonly SemaphoreSlim BackupGate = new(1, 1);
    private static string? _backup;

    private async Task<(HttpStatusCode Status, JsonObject Body)> VerifyAsync(string json)
    {
        using var response = await env.Client.PostAsync("/restore-verify", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static JsonObject Check(JsonObject body, string name) =>
        body["checks"]!.AsArray().Single(c => (string?)c!["name"] == name)!.AsObject();

    /// <summary>A pre-deploy export of <c>prod/plain</c>, made once: the database written with <see cref="PlainSchema.Sql"/>.</summary>
    private async Task<string> PlainBackupAsync()
    {
        await BackupGate.WaitAsync();
        try
        {
            if (_backup is null)
            {
                await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api("instances/prod/databases"), """{"name":"plain"}""");
                await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync("prod", "plain"), PlainSchema.Sql);
                _backup = await env.ExportAsync("verify-plain-schema", "plain");
            }
            return _backup;
        }
        finally
        {
            BackupGate.Release();
        }
    }

    [Fact]
    public async Task Import_mode_passes_a_schema_without_the_tenant_column_saying_tenants_did_not_apply()
    {
        var uri = await PlainBackupAsync();

        var (status, body) = await VerifyAsync($$"""{"backup":"{{uri}}"}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        Assert.Equal(NotApplicable, (string?)Check(body, ContentComparison.Tenants)["detail"]);
        Assert.StartsWith("2 sequences ahead of the 2 columns that draw from them (2 nextval default)",
            (string?)Check(body, RestoreChecks.SequencesAhead)["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Live_mode_passes_a_schema_without_the_tenant_column_with_and_without_a_backup_and_names_a_plain_sequence_set_behind()
    {
        var uri = await PlainBackupAsync();
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "live_plain", uri);
        var live = $$"""{"mode":"live","instance":"prod","verificationInstance":"{{VerifyEnvironment.Target}}","database":"live_plain" """;

        foreach (var request in new[] { live + "}", live + $$""","backup":"{{uri}}"}""" })
        {
            var (status, body) = await VerifyAsync(request);
            Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
            Assert.True((bool)body["passed"]!, body.ToJsonString());
        }
        var (_, compared) = await VerifyAsync(live + $$""","backup":"{{uri}}"}""");
        Assert.Equal(NotApplicable, (string?)Check(compared, ContentComparison.Tenants)["detail"]);

        await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, "live_plain"), "SELECT setval('invoice_seq', 1)");
        var (_, broken) = await VerifyAsync(live + "}");
        Assert.False((bool)broken["passed"]!, broken.ToJsonString());
        var sequences = Check(broken, RestoreChecks.SequencesAhead);
        Assert.False((bool)sequences["passed"]!);
        Assert.Contains("\"public\".\"invoice_seq\" for \"public\".\"invoice\".\"id\": next value 2, column max 20", (string?)sequences["detail"], StringComparison.Ordinal);
    }
}
