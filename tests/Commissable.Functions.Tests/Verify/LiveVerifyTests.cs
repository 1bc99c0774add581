using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Verification;
using Commissable.Functions.Verify;
using Commissable.Testing;

namespace Commissable.Functions.Tests.Verify;

/// <summary>restore-verify in live mode: read-only checks of a database in place, through the real host.</summary>
[Collection(VerifyEnvironment.Collection)]
public sealed class LiveVerifyTests(VerifyEnvironment env)
{
    private static readonly string Critical = string.Join(",", DemoDatabase.CriticalTables.Select(t => $"\"{t}\""));

    private async Task<(HttpStatusCode Status, JsonObject Body)> VerifyAsync(string json)
    {
        using var response = await env.Client.PostAsync("/restore-verify", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private static string Live(string database, string extra = "", string target = VerifyEnvironment.Target) =>
        $$"""{"mode":"live","instance":"prod","verificationInstance":"{{target}}","database":"{{database}}"{{extra}}}""";

    private static JsonObject Check(JsonObject body, string name) =>
        body["checks"]!.AsArray().Single(c => (string?)c!["name"] == name)!.AsObject();

    private static IEnumerable<string> Names(JsonObject body, string array, string field) =>
        body[array]!.AsArray().Select(c => (string)c![field]!);

    [Fact]
    public async Task A_restored_database_passes_against_its_backup_and_the_record_lands_beside_the_manifest()
    {
        var uri = await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "live_good");

        var (status, body) = await VerifyAsync(Live("live_good", $",\"backup\":\"{uri}\",\"criticalTables\":[{Critical}]"));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        Assert.Equal("live", (string?)body["mode"]);
        Assert.Equal(uri, (string?)body["backupUri"]);
        Assert.Equal("prod", (string?)body["instance"]);
        Assert.Equal(VerifyEnvironment.Target, (string?)body["verificationInstance"]);
        Assert.Equal("live_good", (string?)body["database"]);
        Assert.Null(body["scratchDatabase"]);
        Assert.Equal(["resolve", "connect", "checks"], Names(body, "stages", "stage"));
        Assert.All(body["stages"]!.AsArray(), s => Assert.True((long)s!["durationMs"]! >= 0));
        Assert.Equal([RestoreVerifier.DatabaseReachable, .. ContentComparison.All, .. RestoreChecks.All], Names(body, "checks", "name"));
        Assert.Equal($"head {DemoDatabase.LatestMigration} ({DemoDatabase.MigrationNames.Count} applied)", (string?)Check(body, ContentComparison.MigrationsHead)["detail"]);
        Assert.EndsWith("counts and contents equal", (string?)Check(body, ContentComparison.Tables)["detail"], StringComparison.Ordinal);

        var recordUri = (string)body["recordUri"]!;
        Assert.StartsWith(uri + ".verifications/", recordUri, StringComparison.Ordinal);
        var record = JsonNode.Parse(await File.ReadAllTextAsync(env.LocalPath(recordUri)))!;
        Assert.Equal("live", (string?)record["mode"]);
        Assert.Equal("live_good", (string?)record["database"]);
        Assert.Equal(VerifyEnvironment.Target, (string?)record["verificationInstance"]);
        Assert.True((bool)record["passed"]!);

        // Read-only: the database is still there, and no scratch database was made.
        var databases = await env.DatabasesAsync(VerifyEnvironment.Target);
        Assert.Contains("live_good", databases);
        Assert.DoesNotContain(databases, d => d.StartsWith("verify_", StringComparison.Ordinal));
        Assert.Contains(env.Logs.WithEvent("backup.verify.passed"), e => e.ToString().Contains("live_good", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_backup_only_the_checks_of_the_database_on_its_own_terms_run_and_nothing_is_recorded()
    {
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "live_nobackup");

        var (status, body) = await VerifyAsync(Live("live_nobackup", $",\"criticalTables\":[{Critical}]"));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        Assert.Null(body["backupUri"]);
        Assert.Null(body["recordUri"]);
        // Nothing to compare contents with, so no content check is claimed.
        Assert.Equal([RestoreVerifier.DatabaseReachable, .. RestoreChecks.All], Names(body, "checks", "name"));
        Assert.StartsWith("connected to live_nobackup", (string?)Check(body, RestoreVerifier.DatabaseReachable)["detail"], StringComparison.Ordinal);
        Assert.Contains("critical tables present", (string?)Check(body, RestoreChecks.TablesCritical)["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rolled_back_migration_fails_with_the_migration_named()
    {
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "live_rolledback");
        await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, "live_rolledback"),
            $"UPDATE \"_prisma_migrations\" SET rolled_back_at = now() WHERE migration_name = '{DemoDatabase.LatestMigration}'");

        var (status, body) = await VerifyAsync(Live("live_rolledback"));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!);
        var check = Check(body, RestoreChecks.MigrationsFinished);
        Assert.False((bool)check["passed"]!);
        Assert.Contains($"{DemoDatabase.LatestMigration} rolled back and not applied again", (string?)check["detail"], StringComparison.Ordinal);
        Assert.Contains($"[{RestoreChecks.MigrationsFinished}]", (string?)body["failure"], StringComparison.Ordinal);
        Assert.Contains(env.Logs.WithEvent("backup.verify.failed"), e => e.GetProperty("severity").GetString() == "ERROR" && e.ToString().Contains("live_rolledback", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_sequence_behind_its_column_fails_with_the_sequence_named()
    {
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "live_sequence");
        await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, "live_sequence"),
            "SELECT setval('\"Permission_id_seq\"', 1)");

        var (status, body) = await VerifyAsync(Live("live_sequence"));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!);
        var check = Check(body, RestoreChecks.SequencesAhead);
        Assert.False((bool)check["passed"]!);
        Assert.Contains("Permission_id_seq", (string?)check["detail"], StringComparison.Ordinal);
        Assert.True((bool)Check(body, RestoreChecks.MigrationsFinished)["passed"]!);
    }

    [Fact]
    public async Task An_empty_database_checked_against_the_backup_fails_naming_the_missing_tables()
    {
        var uri = await env.SharedBackupAsync();
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api($"instances/{VerifyEnvironment.Target}/databases"), """{"name":"live_empty"}""");

        var (status, body) = await VerifyAsync(Live("live_empty", $",\"backup\":\"{uri}\""));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!);
        var tables = Check(body, ContentComparison.Tables);
        Assert.False((bool)tables["passed"]!);
        Assert.Contains("22 of 22 tables differ: public.\"Account\": missing", (string?)tables["detail"], StringComparison.Ordinal);
        Assert.False((bool)Check(body, ContentComparison.Tenants)["passed"]!);
        Assert.True((bool)Check(body, RestoreVerifier.DatabaseReachable)["passed"]!);
    }

    [Theory]
    [InlineData("a changed value", "UPDATE \"Payout\" SET amount = amount + 1 WHERE id = (SELECT min(id) FROM \"Payout\")", ContentComparison.Tables, "public.\"Payout\": same ")]
    [InlineData("a value set to NULL", "UPDATE \"Reconciliation\" SET notes = NULL WHERE id = (SELECT min(id) FROM \"Reconciliation\" WHERE notes IS NOT NULL)", ContentComparison.Tables, "public.\"Reconciliation\": same ")]
    [InlineData("a row moved to another tenant", "UPDATE \"Note\" SET \"tenantId\" = (SELECT max(id) FROM \"Tenant\") WHERE id = (SELECT min(id) FROM \"Note\" WHERE \"tenantId\" <> (SELECT max(id) FROM \"Tenant\"))", ContentComparison.Tenants, "public.\"Note\" tenant ")]
    [InlineData("an index dropped", "DROP INDEX \"User_tenantId_status_idx\"", ContentComparison.Schema, "User_tenantId_status_idx")]
    [InlineData("a row deleted", "DELETE FROM \"AuditLog\" WHERE id = (SELECT min(id) FROM \"AuditLog\")", ContentComparison.Tables, "public.\"AuditLog\": backup ")]
    public async Task A_damaged_copy_fails_against_its_backup_naming_the_table(string damage, string sql, string check, string named)
    {
        var uri = await env.SharedBackupAsync();
        var database = "live_damage_" + Guid.NewGuid().ToString("N")[..8];
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, database, uri);
        await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, database), sql);

        var (status, body) = await VerifyAsync(Live(database, $",\"backup\":\"{uri}\""));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!, damage);
        var failed = Check(body, check);
        Assert.False((bool)failed["passed"]!, $"{damage}: {body.ToJsonString()}");
        Assert.Contains(named, (string?)failed["detail"], StringComparison.Ordinal);
        Assert.False((bool)JsonNode.Parse(await File.ReadAllTextAsync(env.LocalPath((string)body["recordUri"]!)))!["passed"]!);
    }

    [Fact]
    public async Task An_instance_labelled_production_is_checked_because_nothing_is_written()
    {
        // A disaster-recovery restore inherits production's labels; live mode only reads.
        await env.RestoredDatabaseAsync(VerifyEnvironment.Labelled, "crm");

        var (status, body) = await VerifyAsync(Live("crm", target: VerifyEnvironment.Labelled));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        Assert.Equal(VerifyEnvironment.Labelled, (string?)body["verificationInstance"]);
    }

    [Fact]
    public async Task Checking_the_source_instance_itself_is_refused_with_412_before_anything_is_read()
    {
        var (status, body) = await VerifyAsync(Live("crm", target: "prod"));

        Assert.True(status == HttpStatusCode.PreconditionFailed, body.ToJsonString());
        Assert.Equal("VERIFICATION_TARGET_REFUSED", (string?)body["error"]!["status"]);
        Assert.Equal(["target.not-source"], body["error"]!["preconditions"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Contains("nothing was read", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_instance_or_database_is_404_and_a_backup_of_another_source_is_400()
    {
        var (status, body) = await VerifyAsync(Live("crm", target: "missing-instance"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("'missing-instance' does not exist", (string?)body["error"]!["message"], StringComparison.Ordinal);

        (status, body) = await VerifyAsync(Live("no_such_db"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("The database 'no_such_db' does not exist on instance 'verify-target'", (string?)body["error"]!["message"], StringComparison.Ordinal);

        var uri = await env.SharedBackupAsync();
        (status, body) = await VerifyAsync($$"""{"mode":"live","instance":"other","verificationInstance":"{{VerifyEnvironment.Target}}","database":"crm","backup":"{{uri}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is a backup of instance 'prod', not of 'other'", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"mode":"replay","backup":"latest","instance":"prod"}""", "'mode' must be \"import\"")]
    [InlineData("""{"mode":"live","verificationInstance":"verify-target","database":"crm"}""", "'instance' is required in live mode")]
    [InlineData("""{"mode":"live","instance":"prod","database":"crm"}""", "'verificationInstance' is required in live mode")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target"}""", "'database' is required in live mode")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm; DROP"}""", "'database' must be a database name")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","backup":"latest"}""", "'backup' in live mode is optional and must be a gs://")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","kind":"pre-deploy-export"}""", "'kind' only applies")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"Verify_Target","database":"crm"}""", "'verificationInstance' must be a Cloud SQL instance ID")]
    [InlineData("""{"mode":"live","instance":"prod","verificationInstance":"verify-target","database":"crm","rowCountTolerance":-1}""", "'rowCountTolerance' is not accepted")]
    [InlineData("""{"backup":"latest","instance":"prod","database":"crm"}""", "'database' only applies to live mode")]
    public async Task A_malformed_live_request_is_400_naming_the_problem(string json, string message)
    {
        var (status, body) = await VerifyAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
    }
}
