using System.Net;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.CloudSql;

/// <summary>
/// Every method of <see cref="ICloudSqlAdmin"/>, called once against the replaying handler, which
/// checks each request against the discovery document; the table names the discovery method each
/// port method must reach.
/// </summary>
public sealed class PortCoverageTests : ReplayTest
{
    private const string R = ClientHarness.Root;
    private const string Running = """{"kind":"sql#operation","name":"op-1","status":"PENDING","operationType":"EXPORT","targetId":"prod"}""";

    private sealed record PortCase(string DiscoveryMethod, Action<ReplayingHandler> Expect, Func<ICloudSqlAdmin, Task> Call);

    private static readonly Dictionary<string, PortCase> Cases = new(StringComparer.Ordinal)
    {
        [nameof(ICloudSqlAdmin.GetInstanceAsync)] = new("sql.instances.get",
            h => h.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK,
                """{"kind":"sql#instance","name":"prod","databaseVersion":"POSTGRES_16","state":"RUNNABLE","settings":{"settingsVersion":"7","backupConfiguration":{"enabled":true,"pointInTimeRecoveryEnabled":true}}}"""),
            async c =>
            {
                var instance = await c.GetInstanceAsync("prod");
                Assert.Equal(7, instance.Settings?.SettingsVersion);
                Assert.True(instance.Settings?.BackupConfiguration?.PointInTimeRecoveryEnabled);
            }),
        [nameof(ICloudSqlAdmin.ListInstancesAsync)] = new("sql.instances.list",
            h => h.Expect(HttpMethod.Get, $"{R}/instances").Respond(HttpStatusCode.OK, """{"items":[{"name":"prod"},{"name":"staging"}]}"""),
            async c => Assert.Equal(["prod", "staging"], (await c.ListInstancesAsync()).Select(i => i.Name))),
        [nameof(ICloudSqlAdmin.InsertInstanceAsync)] = new("sql.instances.insert",
            h => h.Expect(HttpMethod.Post, $"{R}/instances",
                    """{"name":"dr-1","databaseVersion":"POSTGRES_16","region":"us-central1","settings":{"tier":"db-custom-2-7680","backupConfiguration":{"enabled":true,"pointInTimeRecoveryEnabled":true,"startTime":"03:00"},"userLabels":{"purpose":"disaster-recovery"}}}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.InsertInstanceAsync(new DatabaseInstance
            {
                Name = "dr-1",
                DatabaseVersion = "POSTGRES_16",
                Region = "us-central1",
                Settings = new Settings
                {
                    Tier = "db-custom-2-7680",
                    BackupConfiguration = new BackupConfiguration { Enabled = true, PointInTimeRecoveryEnabled = true, StartTime = "03:00" },
                    UserLabels = new Dictionary<string, string> { ["purpose"] = "disaster-recovery" },
                },
            })),
        [nameof(ICloudSqlAdmin.PatchInstanceAsync)] = new("sql.instances.patch",
            h => h.Expect(HttpMethod.Patch, $"{R}/instances/prod",
                    """{"settings":{"backupConfiguration":{"enabled":true,"transactionLogRetentionDays":7,"backupRetentionSettings":{"retainedBackups":14,"retentionUnit":"COUNT"}}}}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.PatchInstanceAsync("prod", new DatabaseInstance
            {
                Settings = new Settings
                {
                    BackupConfiguration = new BackupConfiguration
                    {
                        Enabled = true,
                        TransactionLogRetentionDays = 7,
                        BackupRetentionSettings = new BackupRetentionSettings { RetainedBackups = 14, RetentionUnit = "COUNT" },
                    },
                },
            })),
        [nameof(ICloudSqlAdmin.DeleteInstanceAsync)] = new("sql.instances.delete",
            h => h.Expect(HttpMethod.Delete, $"{R}/instances/scratch-1").Respond(HttpStatusCode.OK, Running),
            c => c.DeleteInstanceAsync("scratch-1")),
        [nameof(ICloudSqlAdmin.ExportAsync)] = new("sql.instances.export",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/prod/export",
                    """{"exportContext":{"uri":"gs://backups/prod/backup_20260301_1200_prod_before_add-index.sql.gz","databases":["commissable"],"fileType":"SQL","offload":false,"sqlExportOptions":{"parallel":false,"postgresExportOptions":{"clean":true,"ifExists":true}}}}""")
                .Respond(HttpStatusCode.OK, Running),
            async c => Assert.Equal("op-1", (await c.ExportAsync("prod", new ExportContext
            {
                Uri = "gs://backups/prod/backup_20260301_1200_prod_before_add-index.sql.gz",
                Databases = ["commissable"],
                FileType = "SQL",
                Offload = false,
                SqlExportOptions = new SqlExportOptions { Parallel = false, PostgresExportOptions = new PostgresExportOptions { Clean = true, IfExists = true } },
            })).Name)),
        [nameof(ICloudSqlAdmin.ImportAsync)] = new("sql.instances.import",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/staging/import",
                    """{"importContext":{"uri":"gs://backups/prod/x.sql.gz","database":"commissable","fileType":"SQL","importUser":"postgres"}}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.ImportAsync("staging", new ImportContext { Uri = "gs://backups/prod/x.sql.gz", Database = "commissable", FileType = "SQL", ImportUser = "postgres" })),
        [nameof(ICloudSqlAdmin.CloneAsync)] = new("sql.instances.clone",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/prod/clone",
                    """{"cloneContext":{"destinationInstanceName":"prod-pitr","pointInTime":"2026-03-01T11:45:00.000Z"}}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.CloneAsync("prod", new CloneContext
            {
                DestinationInstanceName = "prod-pitr",
                PointInTime = new DateTimeOffset(2026, 3, 1, 11, 45, 0, TimeSpan.Zero),
            })),
        [nameof(ICloudSqlAdmin.RestoreBackupAsync)] = new("sql.instances.restoreBackup",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/verify-scratch/restoreBackup",
                    """{"restoreBackupContext":{"backupRunId":"1740000000123","instanceId":"prod","project":"commissable-test"}}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.RestoreBackupAsync("verify-scratch", new RestoreBackupContext { BackupRunId = 1740000000123, InstanceId = "prod", Project = "commissable-test" })),
        [nameof(ICloudSqlAdmin.GetDatabaseAsync)] = new("sql.databases.get",
            h => h.Expect(HttpMethod.Get, $"{R}/instances/prod/databases/commissable").Respond(HttpStatusCode.OK, """{"name":"commissable","charset":"UTF8"}"""),
            async c => Assert.Equal("UTF8", (await c.GetDatabaseAsync("prod", "commissable")).Charset)),
        [nameof(ICloudSqlAdmin.ListDatabasesAsync)] = new("sql.databases.list",
            h => h.Expect(HttpMethod.Get, $"{R}/instances/prod/databases").Respond(HttpStatusCode.OK, """{"items":[{"name":"postgres"},{"name":"commissable"}]}"""),
            async c => Assert.Equal(2, (await c.ListDatabasesAsync("prod")).Count)),
        [nameof(ICloudSqlAdmin.InsertDatabaseAsync)] = new("sql.databases.insert",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/staging/databases", """{"name":"commissable_staging","charset":"UTF8","collation":"en_US.UTF8"}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.InsertDatabaseAsync("staging", new Database { Name = "commissable_staging", Charset = "UTF8", Collation = "en_US.UTF8" })),
        [nameof(ICloudSqlAdmin.DeleteDatabaseAsync)] = new("sql.databases.delete",
            h => h.Expect(HttpMethod.Delete, $"{R}/instances/staging/databases/commissable_staging").Respond(HttpStatusCode.OK, Running),
            c => c.DeleteDatabaseAsync("staging", "commissable_staging")),
        [nameof(ICloudSqlAdmin.ListUsersAsync)] = new("sql.users.list",
            h => h.Expect(HttpMethod.Get, $"{R}/instances/prod/users").Respond(HttpStatusCode.OK, """{"items":[{"name":"postgres","type":"BUILT_IN"}]}"""),
            async c => Assert.Equal("postgres", Assert.Single(await c.ListUsersAsync("prod")).Name)),
        [nameof(ICloudSqlAdmin.InsertUserAsync)] = new("sql.users.insert",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/staging/users", """{"name":"app_staging","password":"s3cret-pw","type":"BUILT_IN"}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.InsertUserAsync("staging", new User { Name = "app_staging", Password = "s3cret-pw", Type = "BUILT_IN" })),
        [nameof(ICloudSqlAdmin.UpdateUserAsync)] = new("sql.users.update",
            h => h.Expect(HttpMethod.Put, $"{R}/instances/staging/users?name=app_staging", """{"name":"app_staging","password":"n3w-pw"}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.UpdateUserAsync("staging", "app_staging", host: null, new User { Name = "app_staging", Password = "n3w-pw" })),
        [nameof(ICloudSqlAdmin.ListBackupRunsAsync)] = new("sql.backupRuns.list",
            h => h.Expect(HttpMethod.Get, $"{R}/instances/prod/backupRuns").Respond(HttpStatusCode.OK,
                """{"items":[{"id":"1740000000123","status":"SUCCESSFUL","type":"AUTOMATED","endTime":"2026-03-01T03:12:00Z"}]}"""),
            async c =>
            {
                var run = Assert.Single(await c.ListBackupRunsAsync("prod"));
                Assert.Equal(1740000000123, run.Id);
                Assert.Equal(new DateTimeOffset(2026, 3, 1, 3, 12, 0, TimeSpan.Zero), run.EndTime);
            }),
        [nameof(ICloudSqlAdmin.GetBackupRunAsync)] = new("sql.backupRuns.get",
            h => h.Expect(HttpMethod.Get, $"{R}/instances/prod/backupRuns/1740000000123").Respond(HttpStatusCode.OK, """{"id":"1740000000123","status":"RUNNING"}"""),
            async c => Assert.Equal("RUNNING", (await c.GetBackupRunAsync("prod", 1740000000123)).Status)),
        [nameof(ICloudSqlAdmin.InsertBackupRunAsync)] = new("sql.backupRuns.insert",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/prod/backupRuns", """{"description":"before add-index"}""")
                .Respond(HttpStatusCode.OK, Running),
            c => c.InsertBackupRunAsync("prod", new BackupRun { Description = "before add-index" })),
        [nameof(ICloudSqlAdmin.DeleteBackupRunAsync)] = new("sql.backupRuns.delete",
            h => h.Expect(HttpMethod.Delete, $"{R}/instances/prod/backupRuns/1740000000123").Respond(HttpStatusCode.OK, Running),
            c => c.DeleteBackupRunAsync("prod", 1740000000123)),
        [nameof(ICloudSqlAdmin.GetOperationAsync)] = new("sql.operations.get",
            h => h.Expect(HttpMethod.Get, $"{R}/operations/op-1").Respond(HttpStatusCode.OK, Running),
            async c => Assert.Equal("PENDING", (await c.GetOperationAsync("op-1")).Status)),
        [nameof(ICloudSqlAdmin.ListOperationsAsync)] = new("sql.operations.list",
            h => h.Expect(HttpMethod.Get, $"{R}/operations?instance=prod").Respond(HttpStatusCode.OK, """{"items":[{"name":"op-2"},{"name":"op-1"}]}"""),
            async c => Assert.Equal(["op-2", "op-1"], (await c.ListOperationsAsync("prod")).Select(o => o.Name))),
        [nameof(ICloudSqlAdmin.WaitForOperationAsync)] = new("sql.operations.get",
            h => h.Expect(HttpMethod.Get, $"{R}/operations/op-1").Respond(HttpStatusCode.OK, """{"name":"op-1","status":"DONE","operationType":"EXPORT"}"""),
            async c => Assert.True((await c.WaitForOperationAsync(new Operation { Name = "op-1", Status = "RUNNING" })).IsDone)),
        [nameof(ICloudSqlAdmin.SendJsonAsync)] = new("sql.instances.clone",
            h => h.Expect(HttpMethod.Post, $"{R}/instances/prod/clone", """{"cloneContext":{"destinationInstanceName":"prod-dr"}}""")
                .Respond(HttpStatusCode.OK, Running),
            async c => Assert.Equal("op-1", (string?)(await c.SendJsonAsync(HttpMethod.Post, "instances/prod/clone",
                System.Text.Json.Nodes.JsonNode.Parse("""{"cloneContext":{"destinationInstanceName":"prod-dr"}}""")))["name"])),
    };

    public static TheoryData<string> PortMethods() => [.. Cases.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public void The_table_covers_every_method_of_the_port()
    {
        var portMethods = typeof(ICloudSqlAdmin).GetMethods().Where(m => !m.IsSpecialName).Select(m => m.Name).Order(StringComparer.Ordinal);
        Assert.Equal(portMethods, Cases.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(PortMethods))]
    public async Task Each_port_method_sends_the_request_the_discovery_document_defines(string portMethod)
    {
        var portCase = Cases[portMethod];
        var harness = NewHarness();
        portCase.Expect(harness.Http);

        await harness.RunAsync(async c => { await portCase.Call(c); return 0; });

        var request = Assert.Single(harness.Http.Requests);
        Assert.Equal(portCase.DiscoveryMethod, request.DiscoveryMethodId);
    }
}
