using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Verification;
using Commissable.Functions.Verify;

namespace Commissable.Functions.Tests.Verify;

/// <summary>restore-verify through the real host, against the local cloud.</summary>
[Collection(VerifyEnvironment.Collection)]
public sealed class RestoreVerifyTests(VerifyEnvironment env)
{
    private async Task<(HttpStatusCode Status, JsonObject Body)> VerifyAsync(string json)
    {
        using var response = await env.Client.PostAsync("/restore-verify", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private static string Request(string backup, string extra = "") => $$"""{"backup":"{{backup}}"{{extra}}}""";

    private static JsonObject Check(JsonObject body, string name) =>
        body["checks"]!.AsArray().Single(c => (string?)c!["name"] == name)!.AsObject();

    private async Task AssertNoScratchDatabaseLeftAsync()
    {
        var databases = await env.DatabasesAsync(VerifyEnvironment.Target);
        Assert.DoesNotContain(databases, d => d.StartsWith("verify_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fresh_pre_deploy_export_verifies_is_recorded_and_leaves_no_scratch_database()
    {
        var uri = await env.SharedBackupAsync();
        var critical = string.Join(",", DemoDatabase.CriticalTables.Select(t => $"\"{t}\""));

        var (status, body) = await VerifyAsync(Request(uri, ",\"criticalTables\":[" + critical + "]"));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["passed"]!, body.ToJsonString());
        Assert.Equal(uri, (string?)body["backupUri"]);
        Assert.Equal(VerifyEnvironment.Target, (string?)body["verificationInstance"]);
        Assert.Matches(@"^verify_\d{14}_[0-9a-f]{8}$", (string?)body["scratchDatabase"]);
        Assert.Equal(["resolve", "create-db", "import", "checks", "cleanup"], body["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        Assert.All(body["stages"]!.AsArray(), s => Assert.True((bool)s!["succeeded"]!));
        Assert.Equal([RestoreVerifier.ImportSucceeded, .. ContentComparison.All, .. RestoreChecks.All], body["checks"]!.AsArray().Select(c => (string)c!["name"]!));
        Assert.All(body["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.Contains("critical tables present", (string?)Check(body, RestoreChecks.TablesCritical)["detail"], StringComparison.Ordinal);
        Assert.InRange((long)body["recoveryTimeMs"]!, 1, 60_000);

        var recordUri = (string)body["recordUri"]!;
        Assert.StartsWith(uri + ".verifications/", recordUri, StringComparison.Ordinal);
        var record = JsonNode.Parse(await File.ReadAllTextAsync(env.LocalPath(recordUri)))!;
        Assert.True((bool)record["passed"]!);
        Assert.Equal(VerifyEnvironment.Target, (string?)record["verificationInstance"]);
        Assert.Equal(1 + ContentComparison.All.Count + RestoreChecks.All.Count, record["checks"]!.AsArray().Count);

        await AssertNoScratchDatabaseLeftAsync();
        Assert.Contains(env.Logs.WithEvent("backup.verify.passed"), e => e.ToString().Contains(uri, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Latest_resolves_to_the_newest_complete_backup_of_the_instance_and_kind()
    {
        // Named to sort after every other change of this class, in case they share the minute.
        var uri = await env.ExportAsync("verify-latest");

        var (status, body) = await VerifyAsync("""{"backup":"latest","instance":"prod","kind":"pre-deploy-export"}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(uri, (string?)body["backupUri"]);
        Assert.True((bool)body["passed"]!, body.ToJsonString());
    }

    [Fact]
    public async Task Latest_of_an_instance_without_backups_is_404()
    {
        var (status, body) = await VerifyAsync("""{"backup":"latest","instance":"nowhere"}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("No complete backup of instance 'nowhere'", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prod", "target.not-source", "is the backup's source instance")]
    [InlineData("prod-replica", "target.not-production-instance", "is listed in PRODUCTION_INSTANCES")]
    [InlineData(VerifyEnvironment.Labelled, "target.not-production-labelled", "env=prod")]
    public async Task A_verification_instance_that_could_hold_production_data_is_refused_with_412(string instance, string rule, string message)
    {
        var uri = await env.SharedBackupAsync();

        var (status, body) = await VerifyAsync(Request(uri, ",\"verificationInstance\":\"" + instance + "\""));

        Assert.True(status == HttpStatusCode.PreconditionFailed, body.ToJsonString());
        Assert.Equal("VERIFICATION_TARGET_REFUSED", (string?)body["error"]!["status"]);
        Assert.Contains(rule, body["error"]!["preconditions"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Contains($"[{rule}]", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.DoesNotContain(await env.DatabasesAsync(VerifyEnvironment.Labelled), d => d.StartsWith("verify_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_backup_or_verification_instance_is_404()
    {
        var (status, body) = await VerifyAsync(Request($"gs://{VerifyEnvironment.Bucket}/backups/prod/prod/backup_20200101_0000_prod_before_never.sql.gz"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no complete backup at gs://", (string?)body["error"]!["message"], StringComparison.Ordinal);

        (status, body) = await VerifyAsync(Request("gs://other-bucket/backups/prod/prod/backup_20200101_0000_prod_before_never.sql.gz"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no complete backup at", (string?)body["error"]!["message"], StringComparison.Ordinal);

        var uri = await env.SharedBackupAsync();
        (status, body) = await VerifyAsync(Request(uri, ",\"verificationInstance\":\"missing-instance\""));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("'missing-instance' does not exist", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_backup_fails_verification_at_the_import_and_its_scratch_database_is_dropped()
    {
        var uri = await env.ExportAsync("corrupt-truncated");
        var file = env.LocalPath(uri);
        var size = new FileInfo(file).Length;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(size / 2);
        }

        var (status, body) = await VerifyAsync(Request(uri));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!, body.ToJsonString());
        var import = Check(body, RestoreVerifier.ImportSucceeded);
        Assert.False((bool)import["passed"]!);
        Assert.Contains("(truncated)", (string?)import["detail"], StringComparison.Ordinal);
        Assert.False(body["stages"]!.AsArray().Single(s => (string?)s!["stage"] == "import")!["succeeded"]!.GetValue<bool>());
        Assert.True(body["stages"]!.AsArray().Single(s => (string?)s!["stage"] == "cleanup")!["succeeded"]!.GetValue<bool>());
        Assert.NotNull((string?)body["recordUri"]);
        Assert.False((bool)JsonNode.Parse(await File.ReadAllTextAsync(env.LocalPath((string)body["recordUri"]!)))!["passed"]!);
        await AssertNoScratchDatabaseLeftAsync();
        Assert.Contains(env.Logs.WithEvent("backup.verify.failed"), e => e.GetProperty("severity").GetString() == "ERROR" && e.ToString().Contains(uri, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bit_flipped_backup_fails_verification_with_a_reason_not_a_500()
    {
        var uri = await env.ExportAsync("corrupt-bitflip");
        var file = env.LocalPath(uri);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(file, bytes);

        var (status, body) = await VerifyAsync(Request(uri));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!);
        var failed = body["checks"]!.AsArray().Where(c => !(bool)c!["passed"]!).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, c => Assert.False(string.IsNullOrWhiteSpace((string?)c!["detail"])));
        Assert.False(string.IsNullOrWhiteSpace((string?)body["failure"]));
        Assert.Contains("CRC32C", (string?)Check(body, RestoreVerifier.ImportSucceeded)["detail"], StringComparison.Ordinal);
        await AssertNoScratchDatabaseLeftAsync();
    }

    [Fact]
    public async Task A_same_size_change_with_its_modification_time_put_back_fails_verification_naming_the_checksum()
    {
        // The export read the object's checksums for the manifest; a writer then changes one byte in
        // place and sets the modification time back, so size and time say nothing changed.
        var uri = await env.ExportAsync("corrupt-same-size");
        env.TamperKeepingSizeAndTime(uri);

        var (status, body) = await VerifyAsync(Request(uri));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!, body.ToJsonString());
        var detail = (string?)Check(body, RestoreVerifier.ImportSucceeded)["detail"];
        Assert.Contains("changed after the export", detail, StringComparison.Ordinal);
        Assert.Contains("its CRC32C is", detail, StringComparison.Ordinal);
        Assert.Contains("its MD5 is", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("bytes", detail, StringComparison.Ordinal);
        Assert.Equal(["resolve", "create-db", "import", "cleanup"], body["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        await AssertNoScratchDatabaseLeftAsync();
    }

    [Fact]
    public async Task A_bit_flipped_backup_whose_manifest_records_only_its_size_fails_at_the_import_with_its_error()
    {
        // A manifest with the size but no checksums (as an older or external tool may write), and
        // the good dump's content manifest: the flip keeps the size, so the corruption reaches the
        // import itself. (Without even a size nothing is imported: CompletedBackupVerifyTests.)
        var goodUri = await env.SharedBackupAsync();
        var content = JsonNode.Parse(await File.ReadAllTextAsync(env.LocalPath(goodUri + ".manifest.json")))!["content"]!.ToJsonString();
        var good = await File.ReadAllBytesAsync(env.LocalPath(goodUri));
        good[good.Length / 2] ^= 0x5A;
        var uri = $"gs://{VerifyEnvironment.Bucket}/backups/prod/prod/backup_20260101_0000_prod_flipped-unchecked.sql.gz";
        Directory.CreateDirectory(Path.GetDirectoryName(env.LocalPath(uri))!);
        await File.WriteAllBytesAsync(env.LocalPath(uri), good);
        await File.WriteAllTextAsync(env.LocalPath(uri + ".manifest.json"), $$"""
            {"version":1,"uri":"{{uri}}","kind":"scheduled-export","environment":"prod","sourceInstance":"prod","databases":["crm"],
             "format":"SQL_GZIP","startTime":"2026-01-01T00:00:00Z","endTime":"2026-01-01T00:01:00Z","sizeBytes":{{good.Length}},"content":{{content}}}
            """);

        var (status, body) = await VerifyAsync(Request(uri));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.False((bool)body["passed"]!);
        var import = Check(body, RestoreVerifier.ImportSucceeded);
        Assert.False((bool)import["passed"]!);
        var detail = (string)import["detail"]!;
        Assert.Contains("the import operation failed:", detail, StringComparison.Ordinal);
        // psql quotes the offending row of a COPY: production data never reaches the answer or the record.
        Assert.DoesNotMatch(@"COPY [^,]+, line \d+(?:, column [^:]+)?: """, detail);
        Assert.Equal(["resolve", "create-db", "import", "cleanup"], body["stages"]!.AsArray().Select(s => (string)s!["stage"]!));
        await AssertNoScratchDatabaseLeftAsync();
    }

    [Theory]
    [InlineData("{\"backup\": \"latest\",", "line")]
    [InlineData("", "The request body is empty")]
    [InlineData("{}", "'backup' is required")]
    [InlineData("""{"backup":"latest"}""", "'instance' is required")]
    [InlineData("""{"backup":"/tmp/backup.sql.gz"}""", "gs://<bucket>/<name> URI or \"latest\"")]
    [InlineData("""{"backup":"latest","instance":"prod","verificationInstance":"Bad_Name"}""", "'verificationInstance' must be a Cloud SQL instance ID")]
    [InlineData("""{"backup":"latest","instance":"prod","rowCountTolerance":2}""", "'rowCountTolerance' is not accepted")]
    [InlineData("""{"backup":"latest","instance":"prod","rowCountTolerance":"lots"}""", "rowCountTolerance")]
    [InlineData("""{"backup":"latest","instance":"prod","criticalTables":[""]}""", "'criticalTables' must list")]
    public async Task A_malformed_request_is_400_naming_the_problem(string json, string message)
    {
        var (status, body) = await VerifyAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
    }
}
