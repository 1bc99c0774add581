using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Commissable.LocalCloud.Transfer;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Commissable.LocalCloud.Tests;

/// <summary>
/// What an imported file can do: act as the import user, nothing more. No superuser role, no
/// program on the server, no backslash command in psql; and no database name can steer a tool
/// to another server.
/// </summary>
public sealed class ImportSafetyTests(ImportSafetyTests.Instance instance) : IClassFixture<ImportSafetyTests.Instance>
{
    private LocalCloudFixture cloud => instance.Cloud;

    /// <summary>One local cloud with an instance <c>safe</c>, a database <c>app</c> and a user <c>importer</c>.</summary>
    public sealed class Instance : IAsyncLifetime
    {
        public LocalCloudFixture Cloud { get; } = new();

        public async Task InitializeAsync()
        {
            await Cloud.InitializeAsync();
            await Cloud.CreateInstanceAsync("safe", pitr: false);
            await Cloud.RunAsync(HttpMethod.Post, Cloud.Api("instances/safe/databases"), """{"name":"app"}""");
            await Cloud.RunAsync(HttpMethod.Post, Cloud.Api("instances/safe/users"), """{"name":"importer","password":"importer-pw"}""");
        }

        public Task DisposeAsync() => Cloud.DisposeAsync();
    }

    public static TheoryData<string, string> Escapes => new()
    {
        { "reset", "RESET ROLE; SET ROLE NONE; COPY (SELECT 1) TO PROGRAM 'touch {0}';" },
        { "set-role-postgres", "RESET ROLE; SET ROLE postgres; COPY (SELECT 1) TO PROGRAM 'touch {0}';" },
        { "set-role-admin", "SET ROLE cloudsqladmin; COPY (SELECT 1) TO PROGRAM 'touch {0}';" },
        { "session-authorization", "SET SESSION AUTHORIZATION cloudsqladmin; COPY (SELECT 1) TO PROGRAM 'touch {0}';" },
        { "psql-shell", "\\! touch {0}" },
        { "psql-unrestrict", "\\unrestrict guessed\n\\! touch {0}" },
        { "psql-copy", "\\copy (SELECT 1) TO '{0}'" },
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public async Task An_imported_SQL_file_cannot_act_as_a_superuser_or_run_a_program(string name, string template)
    {
        var marker = Marker();
        foreach (var compressed in new[] { false, true })
        {
            var uri = await PlaceAsync($"escape/{name}{(compressed ? ".sql.gz" : ".sql")}", string.Format(System.Globalization.CultureInfo.InvariantCulture, template, marker), compressed);
            var done = await ImportAsync(uri, "importer");
            Assert.NotNull(done["error"]);
            Assert.False(File.Exists(marker), $"{name}: the imported file ran a program on the server");
        }
    }

    [Theory]
    [InlineData("custom")]
    [InlineData("directory")]
    public async Task A_pg_restore_import_cannot_act_as_a_superuser_or_run_a_program(string format)
    {
        var marker = Marker();
        // A real archive whose table comment is replaced, byte for byte, by statements of the same length.
        var database = "archive_" + format;
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/safe/databases"), $$"""{"name":"{{database}}"}""");
        var payload = $"x'; SET ROLE cloudsqladmin; COPY (SELECT 1) TO PROGRAM 'touch {marker}'; --";
        var placeholder = new string('q', payload.Length);
        await using (var connection = new NpgsqlConnection(await cloud.ConnectionStringAsync("safe", database)))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE TABLE planted (id int); COMMENT ON TABLE planted IS '{placeholder}';", connection);
            await create.ExecuteNonQueryAsync();
        }
        var path = Path.Combine(cloud.StateDirectory, "buckets", "safe-bucket", "archives", format);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await new ExternalProcess
        {
            FileName = cloud.Binaries.Path("pg_dump"),
            Arguments = ["-d", LibpqConnection.Build(await cloud.AddressOfAsync("safe"), 5432, "postgres", database), "--no-owner", "-F", format == "custom" ? "c" : "d", "-f", path],
            Environment = new Dictionary<string, string> { ["PGPASSWORD"] = "root-pw" },
        }.RunAsync();
        var toc = format == "custom" ? path : Path.Combine(path, "toc.dat");
        var bytes = await File.ReadAllBytesAsync(toc);
        var at = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(placeholder));
        Assert.True(at >= 0, "the comment is not in the archive's table of contents");
        Encoding.UTF8.GetBytes(payload).CopyTo(bytes, at);
        await File.WriteAllBytesAsync(toc, bytes);

        var done = await ImportAsync($"gs://safe-bucket/archives/{format}", "postgres");
        Assert.NotNull(done["error"]);
        Assert.False(File.Exists(marker), "the archive ran a program on the server");
    }

    [Fact]
    public async Task A_normal_import_creates_objects_owned_by_the_import_user_and_leaves_no_login_behind()
    {
        var uri = await PlaceAsync("normal/owned.sql.gz", "CREATE TABLE owned_by_importer (id int);\nINSERT INTO owned_by_importer VALUES (1);\n", compressed: true);
        var done = await ImportAsync(uri, "importer");
        Assert.True(done["error"] is null, done.ToJsonString());

        await using var connection = new NpgsqlConnection(await cloud.ConnectionStringAsync("safe", "app"));
        await connection.OpenAsync();
        await using (var owner = new NpgsqlCommand("SELECT tableowner FROM pg_tables WHERE tablename = 'owned_by_importer'", connection))
        {
            Assert.Equal("importer", await owner.ExecuteScalarAsync());
        }
        await using (var logins = new NpgsqlCommand($"SELECT count(*) FROM pg_roles WHERE starts_with(rolname, '{ImportLogin.RolePrefix}')", connection))
        {
            Assert.Equal(0L, await logins.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task A_plain_SQL_export_of_pg_dump_imports_although_psql_runs_restricted()
    {
        await using (var connection = new NpgsqlConnection(await cloud.ConnectionStringAsync("safe", "app")))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS restricted_source (t text); INSERT INTO restricted_source VALUES (E'back\\\\slash'), (E'\\\\unrestrict x');", connection);
            await create.ExecuteNonQueryAsync();
        }
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/safe/databases"), """{"name":"restricted_copy"}""");
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/safe/export"),
            """{"exportContext":{"fileType":"SQL","uri":"gs://safe-bucket/dumps/app.sql","databases":["app"],"sqlExportOptions":{"tables":["restricted_source"]}}}""");
        Assert.Contains("\\restrict ", await File.ReadAllTextAsync(Path.Combine(cloud.StateDirectory, "buckets", "safe-bucket", "dumps", "app.sql")), StringComparison.Ordinal);
        var done = await ImportAsync("gs://safe-bucket/dumps/app.sql", "postgres", "restricted_copy");
        Assert.True(done["error"] is null, done.ToJsonString());
        await using var copy = new NpgsqlConnection(await cloud.ConnectionStringAsync("safe", "restricted_copy"));
        await copy.OpenAsync();
        await using var read = new NpgsqlCommand("SELECT string_agg(t, '|' ORDER BY t) FROM restricted_source", copy);
        Assert.Equal("\\unrestrict x|back\\slash", await read.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("cloudsqladmin")]
    [InlineData("pg_execute_server_program")]
    [InlineData("nobody_here")]
    public async Task An_internal_or_unknown_role_is_refused_as_import_user(string user)
    {
        var uri = await PlaceAsync($"refused/{user}.sql", "CREATE TABLE refused_import (id int);\n", compressed: false);
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/safe/import"), ImportBody(uri, user, "app"));
        if (status == 200)
        {
            body = await cloud.WaitAsync(body);
            Assert.NotNull(body["error"]);
        }
        else
        {
            Assert.Equal(400, status);
        }
        await using var connection = new NpgsqlConnection(await cloud.ConnectionStringAsync("safe", "app"));
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT to_regclass('refused_import') IS NULL", connection);
        Assert.Equal(true, await exists.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_database_named_like_a_connection_string_is_only_a_name_to_every_tool(bool parallel)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var database = $"host=127.0.0.1 port={port} dbname=crm{(parallel ? " p" : "")}";
        var instances = cloud.Services.GetRequiredService<InstanceManager>();
        var transfer = cloud.Services.GetRequiredService<SqlTransfer>();
        var operations = cloud.Services.GetRequiredService<OperationManager>();
        var record = instances.Get(cloud.Project, "safe");
        // Straight into the cluster: the API refuses such a name, the tools must not trust that.
        await instances.ExecuteAsync(record, $"CREATE DATABASE \"{database}\" OWNER {InstanceManager.SuperuserRole}");
        await instances.ExecuteAsync(record, "CREATE TABLE injected (id int); INSERT INTO injected VALUES (7);", database);

        var uri = $"gs://safe-bucket/injection/{(parallel ? "parallel" : "plain.sql")}";
        var export = new JsonObject
        {
            ["fileType"] = "SQL",
            ["uri"] = uri,
            ["databases"] = new JsonArray(database),
            ["sqlExportOptions"] = new JsonObject { ["parallel"] = parallel, ["threads"] = 2 },
        };
        var target = transfer.ValidateExport(record, export);
        var exported = await cloud.WaitAsync(operations.Start(cloud.Project, [record.Name], "EXPORT", cloud.BaseUrl.ToString(),
            (scope, ct) => transfer.ExportAsync(record, export, target, scope, ct)));
        Assert.True(exported["error"] is null, exported.ToJsonString());
        // Backups hold every tenant's data: the owner's alone.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(target)!));
        foreach (var file in parallel ? Directory.EnumerateFiles(target) : [target])
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        await instances.ExecuteAsync(record, "DROP TABLE injected", database);
        var import = new JsonObject { ["fileType"] = "SQL", ["uri"] = uri, ["database"] = database, ["importUser"] = "postgres" };
        var source = transfer.ValidateImport(record, import);
        var imported = await cloud.WaitAsync(operations.Start(cloud.Project, [record.Name], "IMPORT", cloud.BaseUrl.ToString(),
            (scope, ct) => transfer.ImportAsync(record, import, source, scope, ct)));
        Assert.True(imported["error"] is null, imported.ToJsonString());

        Assert.False(listener.Pending(), "a tool connected to the address named in the database name");
        await using var connection = await instances.OpenAdminAsync(record, database);
        await using var read = new NpgsqlCommand("SELECT id FROM injected", connection);
        Assert.Equal(7, await read.ExecuteScalarAsync());
    }

    private static string Marker() => Path.Combine(Path.GetTempPath(), $"lc-escape-{Guid.NewGuid():N}");

    private async Task<string> PlaceAsync(string name, string sql, bool compressed)
    {
        var path = Path.Combine(cloud.StateDirectory, "buckets", "safe-bucket", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = Encoding.UTF8.GetBytes(sql + "\n");
        if (compressed)
        {
            await using var file = File.Create(path);
            await using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            await gzip.WriteAsync(bytes);
        }
        else
        {
            await File.WriteAllBytesAsync(path, bytes);
        }
        return $"gs://safe-bucket/{name}";
    }

    private async Task<JsonObject> ImportAsync(string uri, string user, string database = "app")
    {
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/safe/import"), ImportBody(uri, user, database));
        Assert.True(status == 200, body.ToJsonString());
        return await cloud.WaitAsync(body);
    }

    private static string ImportBody(string uri, string user, string database) => new JsonObject
    {
        ["importContext"] = new JsonObject { ["fileType"] = "SQL", ["uri"] = uri, ["database"] = database, ["importUser"] = user },
    }.ToJsonString();
}
