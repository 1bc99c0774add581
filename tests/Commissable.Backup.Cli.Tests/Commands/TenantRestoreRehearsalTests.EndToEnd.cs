using System.Diagnostics;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Local;
using Npgsql;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// The issue's acceptance for the workflow, end to end on the drill's demo database in the local
/// cloud's prod instance, with the tenant-restore function and its Postgres restorer: a tenant
/// deleted with everything that hangs off it comes back as it was at T (each table's rows of that
/// tenant, as text, equal to what they were before the deletion), the other tenants unchanged, the
/// scratch instance gone; report mode and a run nobody approved change nothing and leave no
/// scratch; a backup (a pre-deploy export) works as the restore point through a scratch database
/// on the verification instance. The demo has three tenants: each test uses its own and leaves it
/// as it found it.
/// </summary>
public sealed partial class TenantRestoreRehearsalTests
{
    [Fact]
    public async Task Missing_only_to_a_point_in_time_puts_a_deleted_tenant_back_as_it_was_and_leaves_the_others_and_no_scratch()
    {
        var prod = await ProductionAsync();
        var tenant = (await TenantsAsync(prod))[0];
        var before = await SnapshotAsync(prod, tenant, others: false);
        var othersBefore = await SnapshotAsync(prod, tenant, others: true);
        Assert.True(before.Count(t => !t.Value.StartsWith("0:", StringComparison.Ordinal)) >= 10, string.Join('\n', before));
        var pointInTime = await ServerTimeAsync(prod);
        await DeleteTenantAsync(prod, tenant);
        Assert.All(await SnapshotAsync(prod, tenant, others: false), t => Assert.StartsWith("0:", t.Value, StringComparison.Ordinal));
        var instances = await stack.InstanceNamesAsync();

        // Approved at the terminal, by typing the tenant's id where the prompt asks for it.
        var clock = Stopwatch.StartNew();
        var run = await stack.RunAsync("tenant-restore.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["tenantId"] = tenant,
            ["pointInTime"] = pointInTime,
            ["requestedBy"] = "rehearsal",
        }, approve: false, typed: tenant + "\n");
        output.WriteLine($"missing-only to a point in time: {clock.Elapsed.TotalSeconds:F1} s");

        Assert.True(run.Exit == 0, run.Output);
        Assert.Equal(before, await SnapshotAsync(prod, tenant, others: false));
        Assert.Equal(othersBefore, await SnapshotAsync(prod, tenant, others: true));
        Assert.Equal(instances, await stack.InstanceNamesAsync());

        var result = run.Result!;
        output.WriteLine(result["timings"]!.ToJsonString());
        Assert.Equal("applied", (string?)result["outcome"]);
        Assert.True((bool)result["proven"]!, result.ToJsonString());
        // Proven over every table that holds the tenant's rows (the closure may add tables that reach them), not over none.
        Assert.Superset(new HashSet<string>(before.Keys), result["proof"]!.AsArray().Select(p => (string)p!["table"]!).ToHashSet());
        Assert.All(result["proof"]!.AsArray(), p => Assert.True((bool)p!["equal"]!, p!.ToJsonString()));
        Assert.Equal("sre-on-call", (string?)result["approvedBy"]);
        var deleted = before.Values.Sum(v => long.Parse(v[..v.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(deleted, (long)result["plan"]!["totals"]!["missing"]!);
        Assert.Equal(deleted, result["writes"]!.AsArray().Sum(w => (long)w!["inserted"]!));
        Assert.True((bool)result["scratch"]!["dropped"]!);
        Assert.StartsWith("prod-tr-", (string?)result["scratch"]!["instance"], StringComparison.Ordinal);
        Assert.True(File.Exists(stack.LocalPath((string)result["recordUri"]!)));
        Assert.Contains("_before_tenant-restore-", (string?)result["safetyBackup"], StringComparison.Ordinal);
        Assert.True(File.Exists(stack.LocalPath((string)result["safetyBackup"]!)));

        // The approver saw the plan (counts, example keys, digest) before the prompt for the tenant's id.
        var asked = run.Output.IndexOf($"APPROVAL NEEDED: restore tenant '{tenant}' of prod/crm", StringComparison.Ordinal);
        var prompt = run.Output.IndexOf($"Type '{tenant}' to approve", StringComparison.Ordinal);
        Assert.True(asked >= 0 && prompt > asked, run.Output);
        Assert.Contains($"Plan {(string)result["plan"]!["digest"]!} (", run.Output[asked..prompt], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_mode_writes_nothing_and_drops_its_scratch_instance()
    {
        var (_, run) = await RunChangingNothingAsync("tr-report-", new JsonObject { ["mode"] = "report" });

        Assert.True(run.Exit == 0, run.Output);
        Assert.Equal("reported", (string?)run.Result!["outcome"]);
        Assert.Equal(3L, (long)run.Result!["plan"]!["tables"]!.AsArray().Single(t => (string)t!["table"]! is "Activity" or "public.Activity")!["extra"]!);
        Assert.DoesNotContain("APPROVAL NEEDED", run.Output, StringComparison.Ordinal);
        Assert.Null(run.Result!["safetyBackup"]);
        Assert.True(File.Exists(stack.LocalPath((string)run.Result!["recordUri"]!)));
    }

    [Fact]
    public async Task Without_an_approval_an_exact_restore_writes_nothing_records_why_and_drops_its_scratch_instance()
    {
        // Exact mode would remove the rows created after the restore point, were it approved.
        var (tenant, run) = await RunChangingNothingAsync("tr-unapproved-", new JsonObject { ["mode"] = "exact", ["approvalTimeoutSeconds"] = 600 });

        Assert.Equal(1, run.Exit);
        Assert.Contains($"tenant '{tenant}' was not restored: no approval of plan ", run.Output, StringComparison.Ordinal);
        Assert.Contains("APPROVAL NEEDED", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("step  main/restore_tenant/rounds/safety_backup", run.Output, StringComparison.Ordinal);
        var record = run.Output[(run.Output.IndexOf("record gs://", StringComparison.Ordinal) + "record ".Length)..];
        var stored = JsonNode.Parse(await File.ReadAllTextAsync(stack.LocalPath(record[..record.IndexOf(';', StringComparison.Ordinal)])))!;
        Assert.Equal("not-approved", (string?)stored["outcome"]);
    }

    /// <summary>
    /// Runs the workflow, unapproved, to a point in time after which the third tenant gained three
    /// "Activity" rows (subjects starting with <paramref name="marker"/>: "extra" rows, which only
    /// an approved exact restore would remove); asserts that production (that tenant, the others)
    /// and the instances are as before the run, and removes those rows again.
    /// </summary>
    private async Task<(string Tenant, RehearsalStack.Run Run)> RunChangingNothingAsync(string marker, JsonObject options)
    {
        var prod = await ProductionAsync();
        var tenant = (await TenantsAsync(prod))[2];
        var pointInTime = await ServerTimeAsync(prod);
        await AddActivityAsync(prod, tenant, marker);
        try
        {
            var production = await SnapshotAsync(prod, tenant, others: false);
            var others = await SnapshotAsync(prod, tenant, others: true);
            var instances = await stack.InstanceNamesAsync();
            var arguments = new JsonObject { ["sourceInstance"] = "prod", ["tenantId"] = tenant, ["pointInTime"] = pointInTime };
            foreach (var (name, value) in options)
            {
                arguments[name] = value?.DeepClone();
            }

            var run = await stack.RunAsync("tenant-restore.yaml", arguments, approve: false);

            Assert.Equal(production, await SnapshotAsync(prod, tenant, others: false));
            Assert.Equal(others, await SnapshotAsync(prod, tenant, others: true));
            Assert.Equal(instances, await stack.InstanceNamesAsync());
            return (tenant, run);
        }
        finally
        {
            await ExecuteAsync(prod, $"""DELETE FROM "Activity" WHERE "subject" LIKE '{marker}%'""");
        }
    }

    [Fact]
    public async Task From_a_pre_deploy_export_a_deleted_tenant_comes_back_through_a_scratch_database_on_the_verification_instance()
    {
        var prod = await ProductionAsync();
        var tenant = (await TenantsAsync(prod))[1];
        // The drill's pre-deploy export: taken before any test here changed anything.
        var backup = stack.BackupsOfProd("_before_drill-*.sql.gz")[^1];
        var before = await SnapshotAsync(prod, tenant, others: false);
        var othersBefore = await SnapshotAsync(prod, tenant, others: true);
        await DeleteTenantAsync(prod, tenant);
        var instances = await stack.InstanceNamesAsync();
        var verifyDatabases = await stack.DatabaseNamesAsync(LocalStack.VerifyInstance);

        var clock = Stopwatch.StartNew();
        var run = await stack.RunAsync("tenant-restore.yaml", new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["tenantId"] = tenant,
            ["backup"] = backup,
        }, approve: true);
        output.WriteLine($"missing-only from a backup: {clock.Elapsed.TotalSeconds:F1} s");

        Assert.True(run.Exit == 0, run.Output);
        Assert.Equal(before, await SnapshotAsync(prod, tenant, others: false));
        Assert.Equal(othersBefore, await SnapshotAsync(prod, tenant, others: true));
        Assert.Equal(instances, await stack.InstanceNamesAsync());
        Assert.Equal(verifyDatabases, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));
        var result = run.Result!;
        output.WriteLine(result["timings"]!.ToJsonString());
        Assert.True((bool)result["proven"]!, result.ToJsonString());
        Assert.Equal(backup, (string?)result["backup"]);
        Assert.Equal(LocalStack.VerifyInstance, (string?)result["scratch"]!["instance"]);
        Assert.StartsWith("tr_", (string?)result["scratch"]!["database"], StringComparison.Ordinal);
        Assert.True((bool)result["scratch"]!["dropped"]!);
        Assert.Contains("step  main/restore_tenant/stage", run.Output, StringComparison.Ordinal);
    }

    private async Task<string> ProductionAsync() => stack.Connection(await stack.InstanceAsync(LocalStack.ProdInstance), "crm");

    private static async Task<List<string>> TenantsAsync(string connectionString)
    {
        var tenants = new List<string>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT id FROM "Tenant" ORDER BY id""", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tenants.Add(reader.GetString(0));
        }

        Assert.True(tenants.Count >= 3, $"the demo has {tenants.Count} tenants; these tests use three");
        return tenants;
    }

    /// <summary>The server's clock now, to the microsecond, in UTC: read after what came before committed and before what follows starts.</summary>
    private static async Task<string> ServerTimeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static Task ExecuteAsync(string connectionString, string sql) => Commissable.Testing.Sql.ExecuteAsync(connectionString, sql);

    /// <summary>Three new "Activity" rows for <paramref name="tenant"/>, subjects starting with <paramref name="marker"/>.</summary>
    private static async Task AddActivityAsync(string connectionString, string tenant, string marker)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO "Activity" ("tenantId", "type", "subject", "userId", "occurredAt")
            SELECT "tenantId", "type", $2 || "id", "userId", now() FROM "Activity" WHERE "tenantId" = $1 ORDER BY "id" LIMIT 3
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        command.Parameters.Add(new NpgsqlParameter { Value = marker });
        Assert.Equal(3, await command.ExecuteNonQueryAsync());
    }

    /// <summary>
    /// Per table of public: the rows of <paramref name="tenant"/> (<paramref name="others"/>: of every
    /// other tenant, and every row of a table without the tenant column) as "count:md5 of the rows'
    /// text in order". The tenant table is keyed by <c>id</c>.
    /// </summary>
    private static async Task<SortedDictionary<string, string>> SnapshotAsync(string connectionString, string tenant, bool others)
    {
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var (table, hasTenantColumn) in await TablesAsync(connection))
        {
            var column = hasTenantColumn ? "\"tenantId\"" : table == "Tenant" ? "id" : null;
            if (column is null && !others)
            {
                continue;
            }

            var filter = column is null ? "" : $"WHERE {column} {(others ? "<>" : "=")} $1";
            await using var command = new NpgsqlCommand(
                $"""SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') FROM public."{table}" t {filter}""", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = tenant });
            snapshot[table] = (string)(await command.ExecuteScalarAsync())!;
        }

        return snapshot;
    }

    /// <summary>The tables of public (not partitions) and whether each has the tenant column.</summary>
    private static async Task<List<(string Table, bool HasTenantColumn)>> TablesAsync(NpgsqlConnection connection)
    {
        var tables = new List<(string, bool)>();
        await using var command = new NpgsqlCommand("""
            SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenantId' AND NOT a.attisdropped)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY 1
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tables.Add((reader.GetString(0), reader.GetBoolean(1)));
        }

        return tables;
    }

    /// <summary>
    /// The incident: every row of <paramref name="tenant"/> deleted, in one transaction, table by
    /// table until none is left (a table whose rows other rows still reference waits for a later
    /// round; ON DELETE CASCADE takes what hangs off), the tenant's own row last.
    /// </summary>
    private static async Task DeleteTenantAsync(string connectionString, string tenant)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = (await TablesAsync(connection)).Where(t => t.HasTenantColumn).Select(t => (t.Table, Column: "\"tenantId\"")).Append(("Tenant", "id")).ToList();
        await using var transaction = await connection.BeginTransactionAsync();
        for (var round = 0; round <= tables.Count && tables.Count > 0; round++)
        {
            foreach (var (table, column) in tables.ToList())
            {
                await transaction.SaveAsync("tenant_delete");
                try
                {
                    await using var delete = new NpgsqlCommand($"""DELETE FROM public."{table}" WHERE {column} = $1""", connection, transaction);
                    delete.Parameters.Add(new NpgsqlParameter { Value = tenant });
                    await delete.ExecuteNonQueryAsync();
                    await transaction.ReleaseAsync("tenant_delete");
                    tables.Remove((table, column));
                }
                catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.ForeignKeyViolation)
                {
                    await transaction.RollbackAsync("tenant_delete");
                }
            }
        }

        Assert.Empty(tables);
        await transaction.CommitAsync();
    }
}
