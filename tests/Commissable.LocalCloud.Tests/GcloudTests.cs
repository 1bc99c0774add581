using System.IO.Compression;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Npgsql;
using Xunit.Abstractions;

namespace Commissable.LocalCloud.Tests;

/// <summary>
/// Acceptance: the Google Cloud SDK drives the local cloud as it drives Google. Each command is the
/// real <c>gcloud</c> (528+) with the sql endpoint overridden; its effects are checked in the
/// PostgreSQL clusters themselves (or, for API-level effects, in the local cloud's answers).
/// Instances that are only a test's setup are made over REST (faster); <c>instances create</c>
/// itself is driven by gcloud in the first test.
/// </summary>
public sealed class GcloudTests : IClassFixture<LocalCloudFixture>, IDisposable
{
    private const string RootPassword = "root-pw";
    private readonly LocalCloudFixture _cloud;
    private readonly Gcloud _gcloud;

    public GcloudTests(LocalCloudFixture cloud, ITestOutputHelper output)
    {
        _cloud = cloud;
        _gcloud = new Gcloud(cloud, output);
    }

    public void Dispose() => _gcloud.Dispose();

    [GcloudFact]
    public async Task Instances_create_describe_patch_and_delete_change_the_instance_and_its_cluster()
    {
        await _gcloud.RunAsync("sql", "instances", "create", "gc-life", "--database-version=POSTGRES_15", "--tier=db-custom-1-3840",
            "--region=us-central1", $"--root-password={RootPassword}", "--backup-start-time=02:00", "--enable-point-in-time-recovery");

        var instance = await _gcloud.JsonAsync("sql", "instances", "describe", "gc-life");
        Assert.Equal("gc-life", (string?)instance["name"]);
        Assert.Equal("RUNNABLE", (string?)instance["state"]);
        Assert.Equal("POSTGRES_15", (string?)instance["databaseVersion"]);
        Assert.Equal("us-central1", (string?)instance["region"]);
        Assert.Equal("db-custom-1-3840", (string?)instance["settings"]!["tier"]);
        var backup = instance["settings"]!["backupConfiguration"]!;
        Assert.True((bool?)backup["enabled"], "gcloud turns automated backups on with --backup-start-time");
        Assert.True((bool?)backup["pointInTimeRecoveryEnabled"]);
        Assert.Equal("02:00", (string?)backup["startTime"]);
        var address = instance["ipAddresses"]!.AsArray().Single(a => (string?)a!["type"] == "PRIMARY")!["ipAddress"]!.GetValue<string>();
        var postgres = ConnectionString(address, "postgres", "postgres", RootPassword);
        Assert.Equal("on", await Sql.ScalarAsync<string>(postgres, "SHOW archive_mode"));

        await _gcloud.RunAsync("beta", "sql", "instances", "patch", "gc-life", "--update-labels=env=test,team=sre");
        Assert.Equal("""{"env":"test","team":"sre"}""", (await LabelsAsync("gc-life")).ToJsonString());
        await _gcloud.RunAsync("beta", "sql", "instances", "patch", "gc-life", "--remove-labels=env");
        Assert.Equal("""{"team":"sre"}""", (await LabelsAsync("gc-life")).ToJsonString());

        await _gcloud.RunAsync("sql", "instances", "patch", "gc-life", "--no-enable-point-in-time-recovery");
        backup = (await _gcloud.JsonAsync("sql", "instances", "describe", "gc-life"))["settings"]!["backupConfiguration"]!;
        Assert.False((bool?)backup["pointInTimeRecoveryEnabled"]);
        Assert.True((bool?)backup["enabled"]);
        Assert.Equal("off", await Sql.ScalarAsync<string>(postgres, "SHOW archive_mode"));

        await _gcloud.RunAsync("sql", "instances", "delete", "gc-life");
        var describe = await _gcloud.TryRunAsync("sql", "instances", "describe", "gc-life");
        Assert.True(describe.ExitCode != 0, $"describe after delete should fail: {describe}");
        Assert.Contains("NOT_FOUND", describe.Stderr, StringComparison.Ordinal);
        Assert.Equal(404, (await _cloud.SendAsync(HttpMethod.Get, _cloud.Api("instances/gc-life"))).Status);
        var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(() => Sql.ScalarAsync<int>(postgres, "SELECT 1"));
        Assert.IsNotType<PostgresException>(refused);
        Assert.IsType<SocketException>(refused.InnerException);
    }

    [GcloudFact]
    public async Task Databases_and_users_made_with_gcloud_are_real_in_the_cluster_and_a_new_password_replaces_the_old()
    {
        await _cloud.CreateInstanceAsync("gc-data", pitr: false, rootPassword: RootPassword);
        var address = await _cloud.AddressOfAsync("gc-data");
        var admin = ConnectionString(address, "postgres", "postgres", RootPassword);

        await _gcloud.RunAsync("sql", "databases", "create", "crm", "--instance=gc-data");
        Assert.Equal(1L, await Sql.ScalarAsync<long>(admin, "SELECT count(*) FROM pg_database WHERE datname = 'crm'"));
        var listed = (await _gcloud.JsonAsync("sql", "databases", "list", "--instance=gc-data")).AsArray().Select(d => (string?)d!["name"]).ToList();
        Assert.Contains("crm", listed);
        Assert.Contains("postgres", listed);
        await _gcloud.RunAsync("sql", "databases", "delete", "crm", "--instance=gc-data");
        Assert.Equal(0L, await Sql.ScalarAsync<long>(admin, "SELECT count(*) FROM pg_database WHERE datname = 'crm'"));
        listed = (await _gcloud.JsonAsync("sql", "databases", "list", "--instance=gc-data")).AsArray().Select(d => (string?)d!["name"]).ToList();
        Assert.DoesNotContain("crm", listed);

        await _gcloud.RunAsync("sql", "users", "create", "app", "--instance=gc-data", "--password=First-pw-1");
        Assert.Equal("app", await Sql.ScalarAsync<string>(ConnectionString(address, "postgres", "app", "First-pw-1"), "SELECT current_user::text"));
        var users = (await _gcloud.JsonAsync("sql", "users", "list", "--instance=gc-data")).AsArray().Select(u => (string?)u!["name"]).ToList();
        Assert.Contains("app", users);

        await _gcloud.RunAsync("sql", "users", "set-password", "app", "--instance=gc-data", "--password=Second-pw-2");
        var old = await Assert.ThrowsAsync<PostgresException>(() => Sql.ScalarAsync<string>(ConnectionString(address, "postgres", "app", "First-pw-1"), "SELECT current_user::text"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, old.SqlState);
        Assert.Equal("app", await Sql.ScalarAsync<string>(ConnectionString(address, "postgres", "app", "Second-pw-2"), "SELECT current_user::text"));
    }

    [GcloudFact]
    public async Task Export_sql_writes_a_gzip_dump_to_the_bucket_and_import_sql_loads_it_into_another_database()
    {
        await _cloud.CreateInstanceAsync("gc-transfer", pitr: false, rootPassword: RootPassword);
        await _cloud.RunAsync(HttpMethod.Post, _cloud.Api("instances/gc-transfer/databases"), """{"name":"crm"}""");
        await _cloud.RunAsync(HttpMethod.Post, _cloud.Api("instances/gc-transfer/databases"), """{"name":"crm_copy"}""");
        var address = await _cloud.AddressOfAsync("gc-transfer");
        await Sql.ExecuteAsync(ConnectionString(address, "crm", "postgres", RootPassword),
            "CREATE TABLE \"Deal\" (id int PRIMARY KEY, amount numeric(12,2) NOT NULL); INSERT INTO \"Deal\" SELECT g, g * 1.5 FROM generate_series(1, 250) g;");

        await _gcloud.RunAsync("sql", "export", "sql", "gc-transfer", "gs://gc-bucket/exports/crm.sql.gz", "--database=crm");
        var file = Path.Combine(_cloud.StateDirectory, "buckets", "gc-bucket", "exports", "crm.sql.gz");
        Assert.True(File.Exists(file), $"{file} should exist after the export");
        var bytes = await File.ReadAllBytesAsync(file);
        Assert.True(bytes is [0x1f, 0x8b, ..], "the export of a .gz URI is gzip");
        using (var reader = new StreamReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)))
        {
            var dump = await reader.ReadToEndAsync();
            Assert.Contains("CREATE TABLE public.\"Deal\"", dump, StringComparison.Ordinal);
            Assert.Contains("amount numeric(12,2) NOT NULL", dump, StringComparison.Ordinal);
        }

        await _gcloud.RunAsync("sql", "import", "sql", "gc-transfer", "gs://gc-bucket/exports/crm.sql.gz", "--database=crm_copy", "--user=postgres");
        var copy = ConnectionString(address, "crm_copy", "postgres", RootPassword);
        Assert.Equal(250L, await Sql.ScalarAsync<long>(copy, "SELECT count(*) FROM \"Deal\""));
        Assert.Equal(47_062.5m, await Sql.ScalarAsync<decimal>(copy, "SELECT sum(amount) FROM \"Deal\""));
        Assert.Equal("postgres", await Sql.ScalarAsync<string>(copy, "SELECT tableowner::text FROM pg_tables WHERE tablename = 'Deal'"));
    }

    [GcloudFact]
    public async Task Backups_are_created_listed_deleted_and_restored_with_gcloud_and_a_restore_drops_later_rows()
    {
        await _cloud.CreateInstanceAsync("gc-backup", pitr: false, rootPassword: RootPassword);
        var database = ConnectionString(await _cloud.AddressOfAsync("gc-backup"), "postgres", "postgres", RootPassword);
        await Sql.ExecuteAsync(database, "CREATE TABLE \"Deal\" (id int PRIMARY KEY); INSERT INTO \"Deal\" SELECT generate_series(1, 100);");

        await _gcloud.RunAsync("sql", "backups", "create", "--instance=gc-backup");
        var run = Assert.Single((await _gcloud.JsonAsync("sql", "backups", "list", "--instance=gc-backup")).AsArray())!;
        Assert.Equal("SUCCESSFUL", (string?)run["status"]);
        Assert.Equal("ON_DEMAND", (string?)run["type"]);
        Assert.Equal("gc-backup", (string?)run["instance"]);
        var kept = (string)run["id"]!;

        await Sql.ExecuteAsync(database, "INSERT INTO \"Deal\" SELECT generate_series(101, 150);");
        Assert.Equal(150L, await Sql.ScalarAsync<long>(database, "SELECT count(*) FROM \"Deal\""));
        await _gcloud.RunAsync("sql", "backups", "restore", kept, "--restore-instance=gc-backup", "--backup-instance=gc-backup");
        Assert.Equal(100L, await Sql.ScalarAsync<long>(database, "SELECT count(*) FROM \"Deal\""));

        await _gcloud.RunAsync("sql", "backups", "create", "--instance=gc-backup");
        var ids = (await _gcloud.JsonAsync("sql", "backups", "list", "--instance=gc-backup")).AsArray().Select(r => (string)r!["id"]!).ToList();
        Assert.Equal(2, ids.Count);
        var extra = Assert.Single(ids, id => id != kept);
        await _gcloud.RunAsync("sql", "backups", "delete", extra, "--instance=gc-backup");
        ids = (await _gcloud.JsonAsync("sql", "backups", "list", "--instance=gc-backup")).AsArray().Select(r => (string)r!["id"]!).ToList();
        Assert.Equal([kept], ids);
        Assert.Equal(404, (await _cloud.SendAsync(HttpMethod.Get, _cloud.Api($"instances/gc-backup/backupRuns/{extra}"))).Status);
    }

    [GcloudFact]
    public async Task Instances_clone_to_a_point_in_time_holds_the_rows_deleted_after_it_and_the_source_does_not()
    {
        await _cloud.CreateInstanceAsync("gc-pitr", pitr: true, rootPassword: RootPassword);
        var source = ConnectionString(await _cloud.AddressOfAsync("gc-pitr"), "postgres", "postgres", RootPassword);
        await Sql.ExecuteAsync(source, "CREATE TABLE \"Deal\" (id int PRIMARY KEY); INSERT INTO \"Deal\" SELECT generate_series(1, 300);");
        await _cloud.RunAsync(HttpMethod.Post, _cloud.Api("instances/gc-pitr/backupRuns"), "{}");
        await Sql.ExecuteAsync(source, "INSERT INTO \"Deal\" SELECT generate_series(301, 400);");
        await Task.Delay(1100);
        var pointInTime = DateTimeOffset.UtcNow;
        await Task.Delay(1100);
        await Sql.ExecuteAsync(source, "DELETE FROM \"Deal\" WHERE id > 10;");

        // gcloud prints the new instance it GETs after the operation, as a one-element list.
        var printed = await _gcloud.JsonAsync("sql", "instances", "clone", "gc-pitr", "gc-pitr-clone",
            "--point-in-time=" + pointInTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        var clone = printed is JsonArray list ? Assert.Single(list)! : printed;
        Assert.Equal("gc-pitr-clone", (string?)clone["name"]);
        Assert.Equal("RUNNABLE", (string?)clone["state"]);

        var destination = ConnectionString(await _cloud.AddressOfAsync("gc-pitr-clone"), "postgres", "postgres", RootPassword);
        Assert.Equal(400L, await Sql.ScalarAsync<long>(destination, "SELECT count(*) FROM \"Deal\""));
        Assert.Equal(10L, await Sql.ScalarAsync<long>(source, "SELECT count(*) FROM \"Deal\""));
    }

    private async Task<JsonObject> LabelsAsync(string instance) =>
        (await _gcloud.JsonAsync("sql", "instances", "describe", instance))["settings"]!["userLabels"]?.AsObject() ?? [];

    private static string ConnectionString(string address, string database, string user, string password) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = address,
            Port = 5432,
            Database = database,
            Username = user,
            Password = password,
            Pooling = false,
            Timeout = 15,
        }.ConnectionString;
}
