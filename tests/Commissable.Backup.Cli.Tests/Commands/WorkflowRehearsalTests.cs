using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Verification;
using Commissable.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// The issue's acceptance for the two workflows, run by <c>workflows run</c> on one drill's local
/// cloud: the DR rehearsal to a point in time (approved, and not approved), clone-to-staging, and
/// bad input that each workflow refuses with its own message before it creates anything; beside
/// this file, clone-to-staging under continuous writes and both workflows on a schema without the
/// tenant column.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed partial class WorkflowRehearsalTests(RehearsalStack stack, ITestOutputHelper output) : IClassFixture<RehearsalStack>
{
    [Fact]
    public async Task Disaster_recovery_to_a_point_in_time_with_approval_yields_a_verified_new_instance_holding_the_lost_rows()
    {
        var prod = await stack.InstanceAsync(LocalStack.ProdInstance);
        var url = $"postgresql://crm_app:app-secret-1@{stack.Address(prod)}:5432/crm?schema=public";
        await stack.PutSecretAsync("pit-database-url", url);
        await stack.PutSecretAsync("pit-direct-url", url);
        var rolloutsBefore = stack.AppRollouts();

        // Rows written, the moment noted, then the incident: the rows are deleted. The moment is the
        // server's own clock, read after the insert committed and before the delete began, to the
        // microsecond: the insert's commit is at or before it, the delete's after it.
        var source = stack.Connection(prod, "crm");
        await Execute(source, """INSERT INTO "Activity" ("tenantId", "type", "subject", "userId", "occurredAt") SELECT "tenantId", "type", 'dr-rehearsal-' || "id", "userId", now() FROM "Activity" ORDER BY "id" LIMIT 25""");
        var pointInTime = await Text(source, """SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""");
        var lostByTenant = await RehearsalRowsByTenant(source);
        await Execute(source, """DELETE FROM "Activity" WHERE "subject" LIKE 'dr-rehearsal-%'""");

        var run = await stack.RunAsync("disaster-recovery.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["pointInTime"] = pointInTime,
            ["newInstance"] = "prod-pit",
            ["databaseUrlSecret"] = "pit-database-url",
            ["directUrlSecret"] = "pit-direct-url",
            ["criticalTables"] = new JsonArray("Tenant", "Account"),
        }, approve: true);

        Assert.True(run.Exit == 0, run.Output);
        var restored = await stack.InstanceAsync("prod-pit");
        Assert.Equal("RUNNABLE", (string?)restored["state"]);
        Assert.Equal(25L, await Count(stack.Connection(restored, "crm"), """SELECT count(*) FROM "Activity" WHERE "subject" LIKE 'dr-rehearsal-%'"""));
        Assert.Equal(0L, await Count(source, """SELECT count(*) FROM "Activity" WHERE "subject" LIKE 'dr-rehearsal-%'"""));

        // At the approval step, before anyone approved, the approver saw the lost rows: Activity has
        // 25 rows more in the restore than in production, spread over the tenants they belonged to.
        var asked = run.Output.IndexOf("APPROVAL NEEDED: prod-pit", StringComparison.Ordinal);
        var approvedAt = run.Output.IndexOf("approved by ci-approver", StringComparison.Ordinal);
        Assert.True(asked >= 0 && approvedAt > asked, run.Output);
        var shown = run.Output[asked..approvedAt].Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Contains(shown, l => l is ["table", "tenant", "restored", "production", "difference"]);
        Assert.Equal("+25", Assert.Single(shown, l => l is ["Activity", "(all)", _, _, _])[4]);
        Assert.Equal(lostByTenant, shown.Where(l => l is ["Activity", _, _, _, _] && l[1] != "(all)")
            .ToDictionary(l => l[1], l => long.Parse(l[4].TrimStart('+'), NumberStyles.AllowThousands, CultureInfo.InvariantCulture)));
        Assert.Single(shown, l => l is ["total", "(all)", _, _, "+25"]);
        Assert.Contains(shown, l => l is ["backup:", ..]);

        // The summary carries the same evidence: only Activity differs; the backup before the point
        // in time has every table the restore has, at the same migration head.
        var evidence = run.Result!["evidence"]!;
        var differences = evidence["production"]!["differences"]!.AsArray();
        Assert.All(differences, d => Assert.Equal("Activity", (string?)d!["table"]));
        Assert.Equal(25L, (long)differences.Single(d => d!["tenant"] is null)!["difference"]!);
        Assert.Equal(lostByTenant, differences.Where(d => d!["tenant"] is not null)
            .ToDictionary(d => (string)d!["tenant"]!, d => (long)d!["difference"]!));
        Assert.Equal(25L, (long)evidence["production"]!["difference"]!);
        var backup = evidence["backup"]!;
        Assert.True((bool)backup["found"]!, backup.ToJsonString());
        Assert.Empty(backup["tablesMissing"]!.AsArray());
        Assert.Empty(backup["tablesExtra"]!.AsArray());
        Assert.Equal((string?)backup["migrationHeadBackup"], (string?)backup["migrationHeadRestored"]);
        Assert.NotNull((string?)backup["migrationHeadRestored"]);
        Assert.DoesNotContain("dr-rehearsal-", run.Output, StringComparison.Ordinal);

        // The result: verified, approved by whom, when restored to, the recovery time.
        var result = run.Result!;
        // Verified: the checks of a database without a backup to compare with all ran, and passed.
        Assert.Equal(["database.reachable", .. RestoreChecks.All], result["checks"]!.AsArray().Select(c => (string)c!["name"]!));
        Assert.All(result["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        Assert.Equal("ci-approver", (string?)result["approvedBy"]);
        Assert.StartsWith(pointInTime[..19], (string?)result["pointInTime"], StringComparison.Ordinal);
        Assert.True((double)result["recoveryTime"]!["totalSeconds"]! > 0);

        // The secrets point at the new instance; the app rolled after them; the old instance is only labelled.
        foreach (var secret in new[] { "pit-database-url", "pit-direct-url" })
        {
            Assert.Equal(url.Replace(stack.Address(prod), stack.Address(restored), StringComparison.Ordinal), stack.Secret(secret, 2));
        }
        Assert.Equal(rolloutsBefore + 1, stack.AppRollouts());
        var old = await stack.InstanceAsync(LocalStack.ProdInstance);
        Assert.Equal("RUNNABLE", (string?)old["state"]);
        Assert.Equal("preserved-for-forensics", (string?)old["settings"]!["userLabels"]!["commissable-dr"]);
        Assert.Equal("prod-pit", (string?)old["settings"]!["userLabels"]!["replaced-by"]);
        Assert.Equal(prod["settings"]!["tier"]!.ToJsonString(), old["settings"]!["tier"]!.ToJsonString());
        Assert.DoesNotContain("app-secret-1", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_approval_the_run_stops_at_the_wait_and_swaps_nothing()
    {
        var prod = await stack.InstanceAsync(LocalStack.ProdInstance);
        var url = $"postgresql://crm_app:app-secret-2@{stack.Address(prod)}:5432/crm";
        await stack.PutSecretAsync("wait-database-url", url);
        await stack.PutSecretAsync("wait-direct-url", url);
        var labelsBefore = prod["settings"]!["userLabels"]?.ToJsonString();
        var rolloutsBefore = stack.AppRollouts();
        var backupRun = await stack.NewestBackupRunAsync(LocalStack.ProdInstance);

        // From a backup run this time: a new instance, then restoreBackup into it.
        var run = await stack.RunAsync("disaster-recovery.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["backupRunId"] = backupRun,
            ["newInstance"] = "prod-unapproved",
            ["databaseUrlSecret"] = "wait-database-url",
            ["directUrlSecret"] = "wait-direct-url",
        }, approve: false);

        Assert.Equal(1, run.Exit);
        Assert.Contains("no approval within 86400 s: nothing was swapped", run.Output, StringComparison.Ordinal);
        Assert.Contains("APPROVAL NEEDED", run.Output, StringComparison.Ordinal);
        Assert.Contains("evidence for the restore to ", run.Output, StringComparison.Ordinal);
        Assert.Equal("RUNNABLE", (string?)(await stack.InstanceAsync("prod-unapproved"))["state"]);
        Assert.Equal(1, stack.SecretVersions("wait-database-url"));
        Assert.Equal(1, stack.SecretVersions("wait-direct-url"));
        Assert.Equal(rolloutsBefore, stack.AppRollouts());
        Assert.Equal(labelsBefore, (await stack.InstanceAsync(LocalStack.ProdInstance))["settings"]!["userLabels"]?.ToJsonString());
    }

    [Theory]
    [InlineData("""{"sourceInstance":"prod","pointInTime":"NOW","newInstance":"prod","databaseUrlSecret":"a","directUrlSecret":"b"}""", "newInstance must not be the source instance 'prod'")]
    [InlineData("""{"sourceInstance":"prod","pointInTime":"2001-01-01T00:00:00Z","newInstance":"prod-early","databaseUrlSecret":"a","directUrlSecret":"b"}""", "is outside the recovery window of prod")]
    [InlineData("""{"sourceInstance":"prod","pointInTime":"2999-01-01T00:00:00Z","newInstance":"prod-late","databaseUrlSecret":"a","directUrlSecret":"b"}""", "is in the future")]
    [InlineData("""{"sourceInstance":"prod","pointInTime":"yesterday","newInstance":"prod-vague","databaseUrlSecret":"a","directUrlSecret":"b"}""", "is not an RFC 3339 timestamp")]
    [InlineData("""{"sourceInstance":"prod","backupRunId":"424242","newInstance":"prod-nobackup","databaseUrlSecret":"a","directUrlSecret":"b"}""", "backup run 424242 of instance prod does not exist")]
    [InlineData("""{"sourceInstance":"prod","pointInTime":"NOW","newInstance":"verify","databaseUrlSecret":"a","directUrlSecret":"b"}""", "newInstance 'verify' already exists")]
    [InlineData("""{"sourceInstance":"nope","pointInTime":"NOW","newInstance":"prod-x","databaseUrlSecret":"a","directUrlSecret":"b"}""", "sourceInstance 'nope' does not exist")]
    [InlineData("""{"sourceInstance":"prod","newInstance":"prod-y","databaseUrlSecret":"a","directUrlSecret":"b"}""", "give exactly one of pointInTime")]
    [InlineData("""{"sourceInstance":"Prod_1","pointInTime":"NOW","newInstance":"prod-z","databaseUrlSecret":"a","directUrlSecret":"b"}""", "sourceInstance 'Prod_1' is not a Cloud SQL instance name")]
    public async Task Bad_disaster_recovery_input_ends_with_the_workflows_own_error_before_anything_is_created(string json, string message)
    {
        var arguments = JsonNode.Parse(json.Replace("NOW", DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), StringComparison.Ordinal))!.AsObject();
        var before = await stack.InstanceNamesAsync();

        var run = await stack.RunAsync("disaster-recovery.yaml", arguments, approve: true);

        Assert.Equal(1, run.Exit);
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
        Assert.Equal(before, await stack.InstanceNamesAsync());
    }

    [Theory]
    [InlineData("never-stored", "secret never-stored cannot be read")]
    [InlineData("elsewhere-url", "secret elsewhere-url names neither the connection name nor the address of prod")]
    public async Task A_secret_the_swap_could_not_point_at_the_new_instance_stops_the_run_before_the_restore(string databaseUrlSecret, string message)
    {
        var prod = await stack.InstanceAsync(LocalStack.ProdInstance);
        await stack.PutSecretAsync("preflight-direct-url", $"postgresql://crm_app:app-secret-3@{stack.Address(prod)}:5432/crm");
        await stack.PutSecretAsync("elsewhere-url", "postgresql://crm_app:app-secret-4@10.9.8.7:5432/crm");
        var before = await stack.InstanceNamesAsync();

        var run = await stack.RunAsync("disaster-recovery.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["pointInTime"] = DateTime.UtcNow.AddSeconds(-2).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["newInstance"] = "prod-preflight",
            ["databaseUrlSecret"] = databaseUrlSecret,
            ["directUrlSecret"] = "preflight-direct-url",
        }, approve: true);

        Assert.Equal(1, run.Exit);
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
        Assert.Contains("nothing was created", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("app-secret-", run.Output, StringComparison.Ordinal);
        Assert.Equal(before, await stack.InstanceNamesAsync());
    }

    [Fact]
    public async Task Clone_to_staging_loads_production_data_for_a_staging_user_that_can_read_and_write_and_prints_no_password()
    {
        await stack.EnsureStagingAsync();
        const string Password = "staging-app-pw-7d1e";
        await stack.PutSecretAsync("staging-app-password", Password);

        var run = await stack.RunAsync("clone-prod-to-staging.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["stagingInstance"] = "staging",
            ["stagingDatabase"] = "crm_staging",
            ["appUser"] = "crm_app",
            ["appPasswordSecret"] = "staging-app-password",
            ["criticalTables"] = new JsonArray("Tenant"),
            ["appUserOwns"] = true,
        }, approve: false);

        Assert.True(run.Exit == 0, run.Output);
        var result = run.Result!;
        Assert.True((bool)result["exported"]!);
        // The app user was made the owner before the live verification, which still passed (below) reading as the granting login.
        Assert.Equal("crm_app", (string?)result["ownership"]!["owner"]);
        Assert.True((int)result["ownership"]!["total"]! > 10, result["ownership"]!.ToJsonString());
        Assert.Contains("_before_clone-to-staging.sql.gz", (string?)result["backupUri"], StringComparison.Ordinal);
        // The comparison with the backup and the checks of the database on its own terms all ran, and passed.
        Assert.Superset(new HashSet<string>([.. ContentComparison.All, .. RestoreChecks.All]), result["checks"]!.AsArray().Select(c => (string)c!["name"]!).ToHashSet());
        Assert.All(result["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c!.ToJsonString()));
        var template = (string)result["envLocal"]!["DATABASE_URL"]!;
        Assert.Contains("crm_app:<PASSWORD>@", template, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, run.Output, StringComparison.Ordinal);

        // The staging user reads production's data and writes.
        var prod = stack.Connection(await stack.InstanceAsync(LocalStack.ProdInstance), "crm");
        var staging = new NpgsqlConnectionStringBuilder(stack.Connection(await stack.InstanceAsync("staging"), "crm_staging")) { Username = "crm_app", Password = Password }.ConnectionString;
        Assert.Equal(await Count(prod, """SELECT count(*) FROM "Account" """), await Count(staging, """SELECT count(*) FROM "Account" """));
        await Execute(staging, """INSERT INTO "Activity" ("tenantId", "type", "subject", "userId", "occurredAt") SELECT "tenantId", "type", 'staging-write', "userId", now() FROM "Activity" LIMIT 1""");
        await Execute(staging, """UPDATE "Activity" SET "subject" = 'staging-updated' WHERE "subject" = 'staging-write'""");
        Assert.Equal(1L, await Count(staging, """SELECT count(*) FROM "Activity" WHERE "subject" = 'staging-updated'"""));

        // It owns what was imported, so a migration runs on staging as the app user, as in production.
        await Execute(staging, """ALTER TABLE "Activity" ADD COLUMN "stagingNote" text""");
        await Execute(staging, """CREATE INDEX "Activity_stagingNote_idx" ON "Activity" ("stagingNote")""");
    }

    [Theory]
    [InlineData("""{"sourceInstance":"prod","stagingInstance":"prod","stagingDatabase":"crm","appUser":"crm_app","appPasswordSecret":"s"}""", "stagingInstance must not be the production instance 'prod'")]
    [InlineData("""{"sourceInstance":"prod","stagingInstance":"staging","stagingDatabase":"crm_staging","appUser":"crm_app","appPasswordSecret":"s","backup":"gs://drill-backups/backups/prod/prod/backup_20000101_0000_prod_missing.sql.gz"}""", "does not exist; nothing was changed on staging")]
    [InlineData("""{"sourceInstance":"prod","stagingInstance":"nowhere","stagingDatabase":"crm","appUser":"crm_app","appPasswordSecret":"s"}""", "stagingInstance 'nowhere' does not exist")]
    [InlineData("""{"sourceInstance":"prod","stagingInstance":"staging","stagingDatabase":"crm staging","appUser":"crm_app","appPasswordSecret":"s"}""", "stagingDatabase 'crm staging' is not a database name")]
    public async Task Bad_clone_input_ends_with_the_workflows_own_error_before_staging_changes(string json, string message)
    {
        await stack.EnsureStagingAsync();
        var before = await stack.DatabaseNamesAsync("staging");

        var run = await stack.RunAsync("clone-prod-to-staging.yaml", JsonNode.Parse(json)!.AsObject(), approve: false);

        Assert.Equal(1, run.Exit);
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
        Assert.Equal(before, await stack.DatabaseNamesAsync("staging"));
    }

    private static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> Text(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>How many of the rehearsal's rows each tenant has (read before they are deleted).</summary>
    private static async Task<Dictionary<string, long>> RehearsalRowsByTenant(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "tenantId"::text, count(*) FROM "Activity" WHERE "subject" LIKE 'dr-rehearsal-%' GROUP BY 1""", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var tenants = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            tenants[reader.GetString(0)] = reader.GetInt64(1);
        }
        return tenants;
    }

    private static async Task<long> Count(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

/// <summary>One drill's local cloud, kept running for the class; workflow runs reuse it.</summary>
#pragma warning disable CA1001 // xunit disposes the fixture through IAsyncLifetime.DisposeAsync.
public sealed class RehearsalStack : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"rehearse-{Guid.NewGuid():N}"[..17]);
    private readonly string _prefix = Commissable.Testing.LocalCloudFixture.NextAddressPrefix();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _outputs = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _secrets = new();
    private LocalStack _stack = null!;
    private int _port;

    public sealed record Run(int Exit, string Output, JsonObject? Result);

    public async Task InitializeAsync()
    {
        Assert.Equal(0, await DrillCommand.RunAsync(["--state", _state, "--port", "0", "--address-prefix", _prefix]));
        // The cloud the workflow runs reuse binds its own port; they are given the one it bound.
        _stack = new LocalStack(_state, 0, _prefix);
        await _stack.StartCloudAsync();
        _port = _stack.CloudUrl.Port;
        // The drill's option reached the local cloud: its instances live in this test's own address block.
        Assert.StartsWith(_prefix + ".", (string?)(await InstanceAsync(LocalStack.ProdInstance))["ipAddresses"]![0]!["ipAddress"], StringComparison.Ordinal);
    }

    /// <param name="typed">What an operator types at the terminal approval prompt (as sre-on-call); null: no terminal.</param>
    public async Task<Run> RunAsync(string workflow, JsonObject arguments, bool approve, string? typed = null)
    {
        using var output = new StringWriter();
        var context = new CommandContext(output, output, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
        List<string> args = [Path.Combine(Repository(), "workflows", workflow), "--args", arguments.ToJsonString(), "--state", _state, "--port", _port.ToString(CultureInfo.InvariantCulture)];
        if (approve) args.AddRange(["--approve", "--approver", "ci-approver"]);
        if (typed is not null) args.AddRange(["--approver", "sre-on-call"]);
        var exit = await WorkflowsRunCommand.RunAsync([.. args], context, typed is null ? TextReader.Null : new StringReader(typed), inputIsTerminal: typed is not null);
        var text = output.ToString();
        _outputs.Enqueue(text);
        var marker = text.LastIndexOf("result:\n", StringComparison.Ordinal);
        return new Run(exit, text, exit == 0 && marker >= 0 ? JsonNode.Parse(text[(marker + "result:\n".Length)..])!.AsObject() : null);
    }

    public async Task<JsonObject> InstanceAsync(string name) =>
        (await _stack.Sql.GetFromJsonAsync<JsonObject>($"sql/v1beta4/projects/{LocalStack.DefaultProject}/instances/{name}"))!;

    public async Task<IReadOnlyList<string>> InstanceNamesAsync() =>
        ((await _stack.Sql.GetFromJsonAsync<JsonObject>($"sql/v1beta4/projects/{LocalStack.DefaultProject}/instances"))!["items"]?.AsArray() ?? [])
            .Select(i => (string)i!["name"]!).Order(StringComparer.Ordinal).ToList();

    public async Task<IReadOnlyList<string>> DatabaseNamesAsync(string instance) =>
        ((await _stack.Sql.GetFromJsonAsync<JsonObject>($"sql/v1beta4/projects/{LocalStack.DefaultProject}/instances/{instance}/databases"))!["items"]?.AsArray() ?? [])
            .Select(i => (string)i!["name"]!).Order(StringComparer.Ordinal).ToList();

    public async Task<string> NewestBackupRunAsync(string instance) =>
        ((await _stack.Sql.GetFromJsonAsync<JsonObject>($"sql/v1beta4/projects/{LocalStack.DefaultProject}/instances/{instance}/backupRuns"))!["items"]!.AsArray())
            .Where(r => (string?)r!["status"] == "SUCCESSFUL").Select(r => (string)r!["id"]!).First();

    /// <summary>A staging instance (not production-labelled), created once.</summary>
    public async Task EnsureStagingAsync()
    {
        if ((await InstanceNamesAsync()).Contains("staging")) return;
        using var created = await _stack.Sql.PostAsJsonAsync($"sql/v1beta4/projects/{LocalStack.DefaultProject}/instances", new JsonObject
        {
            ["name"] = "staging",
            ["databaseVersion"] = "POSTGRES_15",
            ["rootPassword"] = _stack.RootPassword(),
            ["settings"] = new JsonObject { ["tier"] = "db-custom-1-3840", ["userLabels"] = new JsonObject { ["env"] = "staging" } },
        });
        await WaitForOperationAsync(created);
    }

    /// <summary>
    /// A database <c>plain</c> on prod written with <see cref="PlainSchema.Sql"/> (no tenant column,
    /// plain <c>nextval</c> defaults), created once; returns its connection string.
    /// </summary>
    public async Task<string> EnsurePlainDatabaseAsync()
    {
        var connection = Connection(await InstanceAsync(LocalStack.ProdInstance), "plain");
        if ((await DatabaseNamesAsync(LocalStack.ProdInstance)).Contains("plain")) return connection;
        using var created = await _stack.Sql.PostAsJsonAsync($"sql/v1beta4/projects/{LocalStack.DefaultProject}/instances/{LocalStack.ProdInstance}/databases",
            new JsonObject { ["name"] = "plain" });
        await WaitForOperationAsync(created);
        await Sql.ExecuteAsync(connection, PlainSchema.Sql);
        return connection;
    }

    /// <summary>Waits, by a bounded poll, for the operation a request answered with, and asserts it succeeded.</summary>
    private async Task WaitForOperationAsync(HttpResponseMessage answered)
    {
        var operation = (await answered.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(answered.IsSuccessStatusCode, operation.ToJsonString());
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((string?)operation["status"] != "DONE" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            operation = (await _stack.Sql.GetFromJsonAsync<JsonObject>($"sql/v1beta4/projects/{LocalStack.DefaultProject}/operations/{operation["name"]}"))!;
        }
        Assert.True((string?)operation["status"] == "DONE" && operation["error"] is null, operation.ToJsonString());
    }

    /// <summary>The <c>gs://</c> URIs of the backups of prod whose object names end with <paramref name="suffix"/> (each with a manifest), oldest first.</summary>
    public IReadOnlyList<string> BackupsOfProd(string suffix)
    {
        var folder = Path.Combine(_state, "buckets", LocalStack.Bucket, "backups", "prod", LocalStack.ProdInstance);
        return [.. Directory.GetFiles(folder, "*" + suffix).Where(f => File.Exists(f + ".manifest.json")).Order(StringComparer.Ordinal)
            .Select(f => $"gs://{LocalStack.Bucket}/backups/prod/{LocalStack.ProdInstance}/{Path.GetFileName(f)}")];
    }

    /// <summary>The catalog of the drill's bucket, as the functions read it.</summary>
    public BackupCatalog Catalog() => new(new LocalBackupStore(new BucketPaths(_state), LocalStack.Bucket), "backups", TimeProvider.System);

    /// <summary>The local file behind a <c>gs://</c> URI of the local cloud's buckets.</summary>
    public string LocalPath(string uri) => Path.Combine(_state, "buckets", uri["gs://".Length..]);

    public async Task PutSecretAsync(string name, string value)
    {
        _secrets.Enqueue(value);
        var context = new CommandContext(TextWriter.Null, TextWriter.Null, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None);
        Assert.Equal(0, await SecretsPutCommand.RunAsync([name, "--state", _state], context, new MemoryStream(Encoding.UTF8.GetBytes(value)), null));
    }

    private string SecretDirectory(string name) => Path.Combine(_state, "secrets", LocalStack.DefaultProject, name);

    public string Secret(string name, int version) => File.ReadAllText(Path.Combine(SecretDirectory(name), version.ToString(CultureInfo.InvariantCulture)));

    public int SecretVersions(string name) => Directory.GetFiles(SecretDirectory(name)).Count(f => int.TryParse(Path.GetFileName(f), out _));

    /// <summary>
    /// The app's revisions that a disaster recovery rolled out (labelled <c>commissable-dr-rollout</c>):
    /// not the first, which <c>workflows run</c> makes when it creates the stand-in service on first use.
    /// </summary>
    public int AppRollouts()
    {
        var revisions = Path.Combine(_state, "run", "services", LocalStack.DefaultProject, "local", "crm-app.revisions");
        return Directory.Exists(revisions)
            ? Directory.GetFiles(revisions).Count(f => JsonNode.Parse(File.ReadAllText(f))!["template"]?["labels"]?["commissable-dr-rollout"] is not null)
            : 0;
    }

    public string Address(JsonObject instance) => (string)instance["ipAddresses"]![0]!["ipAddress"]!;

    public string Connection(JsonObject instance, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = Address(instance),
        Port = 5432,
        Database = database,
        Username = "postgres",
        Password = _stack.RootPassword(),
        Pooling = false,
        Timeout = 15,
    }.ConnectionString;

    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "workflows", "disaster-recovery.yaml"))) return dir.FullName;
        }
        throw new InvalidOperationException("workflows/disaster-recovery.yaml not found above the test binaries");
    }

    /// <summary>
    /// Every run's output and every line the functions logged (the drill's and all the workflows'),
    /// against the root password, the local cloud's token and each secret value stored. The output
    /// is not checked for URL shapes: clone-to-staging prints connection templates by design, with
    /// the password as a placeholder (the known secrets are what must not appear).
    /// </summary>
    private void AssertNothingSecretWasSaid()
    {
        // A stored URL is a secret whole, and its password is one on its own.
        var secrets = _secrets
            .SelectMany(v => Uri.TryCreate(v, UriKind.Absolute, out var url) && url.UserInfo.Split(':') is [_, var password] ? [v, password] : new[] { v })
            .Append(_stack.RootPassword())
            .Append(File.ReadAllText(Commissable.LocalCloud.LocalCloudHost.TokenFile(_state)).Trim())
            .ToList();
        var logs = File.ReadLines(Path.Combine(_state, "drill", "functions.log")).Select(l => ("functions log line", l));
        SecretScan.AssertClean(logs, secrets, SecretScan.CredentialShapes);
        SecretScan.AssertClean(_outputs.Select(o => ("workflows run output", o)), secrets, ["Password=", "PGPASSWORD=", "Bearer "]);
    }

    public async Task DisposeAsync()
    {
        await _stack.DisposeAsync();
        AssertNothingSecretWasSaid();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
