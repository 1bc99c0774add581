using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Postgres.Access;
using Commissable.Functions.Tests.Verify;
using Commissable.Testing;
using Npgsql;

namespace Commissable.Functions.Tests.Grants;

/// <summary>grant-app-user through the real host, against the local cloud; the grants are proven by logging in as the user.</summary>
[Collection(VerifyEnvironment.Collection)]
public sealed class GrantAppUserTests(VerifyEnvironment env)
{
    private const string AppPassword = "app-user-pw-7f3a";

    private async Task<(HttpStatusCode Status, JsonObject Body)> GrantAsync(string json)
    {
        using var response = await env.Client.PostAsync("/grant-app-user", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private static string Request(string database, string user, string instance = VerifyEnvironment.Target) =>
        $$"""{"instance":"{{instance}}","database":"{{database}}","user":"{{user}}"}""";

    /// <summary>A database restored from the backup (tables owned by postgres) and a login created through the users API.</summary>
    private async Task PrepareAsync(string database, string user)
    {
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, database);
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api($"instances/{VerifyEnvironment.Target}/users"), $$"""{"name":"{{user}}","password":"{{AppPassword}}"}""");
    }

    private async Task<string> ConnectionStringAsync(string user, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = await env.Cloud.AddressOfAsync(VerifyEnvironment.Target),
        Port = 5432,
        Username = user,
        Password = AppPassword,
        Database = database,
        Pooling = false,
    }.ConnectionString;

    private async Task<NpgsqlConnection> ConnectAsAsync(string user, string database)
    {
        var connection = new NpgsqlConnection(await ConnectionStringAsync(user, database));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task The_user_can_then_read_write_and_use_sequences_and_a_second_call_changes_nothing()
    {
        await PrepareAsync("grant_crm", "crm_app");
        await using (var before = await ConnectAsAsync("crm_app", "grant_crm"))
        {
            // Without the grants the login cannot read the imported tables: the function is what makes the difference.
            var denied = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(before, "SELECT count(*) FROM \"Permission\""));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        }

        var (status, body) = await GrantAsync(Request("grant_crm", "crm_app"));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(VerifyEnvironment.Target, (string?)body["instance"]);
        Assert.Equal("grant_crm", (string?)body["database"]);
        Assert.Equal("crm_app", (string?)body["user"]);
        var privileges = body["privileges"]!.AsArray().Select(p => (string)p!).ToList();
        Assert.Equal(AppUserGrants.Statements("grant_crm", "crm_app", ["postgres"]), privileges);
        Assert.Contains("GRANT USAGE, CREATE ON SCHEMA \"public\" TO \"crm_app\"", privileges);

        await using (var app = await ConnectAsAsync("crm_app", "grant_crm"))
        {
            Assert.True((long)(await ScalarAsync(app, "SELECT count(*) FROM \"Permission\""))! > 0);
            var id = (int)(await ScalarAsync(app, "INSERT INTO \"Permission\" (code, name, category) VALUES ('grant.test', 'Grant test', 'test') RETURNING id"))!;
            Assert.Equal(1, Convert.ToInt32(await ScalarAsync(app, $"WITH u AS (UPDATE \"Permission\" SET name = 'Grant test 2' WHERE id = {id} RETURNING 1) SELECT count(*) FROM u")));
            Assert.Equal(1, Convert.ToInt32(await ScalarAsync(app, $"WITH d AS (DELETE FROM \"Permission\" WHERE id = {id} RETURNING 1) SELECT count(*) FROM d")));
            Assert.True((long)(await ScalarAsync(app, "SELECT nextval('\"Permission_id_seq\"')"))! > id);
            // prisma migrate deploy creates tables in public.
            await ScalarAsync(app, "CREATE TABLE \"AppMade\" (id int); DROP TABLE \"AppMade\"");
        }

        // Default privileges: a table the import user creates later is usable at once.
        await Sql.ExecuteAsync(await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, "grant_crm"),
            "CREATE TABLE \"LaterImport\" (id serial PRIMARY KEY, v text); INSERT INTO \"LaterImport\" (v) VALUES ('x')");
        await using (var app = await ConnectAsAsync("crm_app", "grant_crm"))
        {
            await ScalarAsync(app, "INSERT INTO \"LaterImport\" (v) VALUES ('y')");
            Assert.Equal(2L, await ScalarAsync(app, "SELECT count(*) FROM \"LaterImport\""));
        }

        var (again, second) = await GrantAsync(Request("grant_crm", "crm_app"));
        Assert.True(again == HttpStatusCode.OK, second.ToJsonString());
        Assert.Equal(privileges, second["privileges"]!.AsArray().Select(p => (string)p!));

        var applied = env.Logs.WithEvent("database.grants.applied");
        Assert.Equal(2, applied.Count(e => e.ToString().Contains("grant_crm", StringComparison.Ordinal)));
        Assert.DoesNotContain(env.Logs.Lines, l => l.Contains(AppPassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_appUserOwns_the_user_also_owns_the_objects_so_it_alters_indexes_refreshes_and_migrates()
    {
        await PrepareAsync("grant_owned", "crm_owner");
        var admin = await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, "grant_owned");
        await Sql.ExecuteAsync(admin, "CREATE MATERIALIZED VIEW \"PermissionsPerCategory\" AS SELECT category, count(*) AS n FROM \"Permission\" GROUP BY category");

        // Grants alone: the user reads and writes, but a migration's ALTER TABLE needs the owner.
        var (plain, plainBody) = await GrantAsync(Request("grant_owned", "crm_owner"));
        Assert.True(plain == HttpStatusCode.OK, plainBody.ToJsonString());
        Assert.Null(plainBody["ownership"]);
        await using (var app = await ConnectAsAsync("crm_owner", "grant_owned"))
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(app, "ALTER TABLE \"Permission\" ADD COLUMN \"note\" text"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }

        var (status, body) = await GrantAsync($$"""{"instance":"{{VerifyEnvironment.Target}}","database":"grant_owned","user":"crm_owner","appUserOwns":true}""");

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var ownership = body["ownership"]!;
        Assert.Equal("crm_owner", (string?)ownership["owner"]);
        Assert.True((bool)ownership["membershipGranted"]!);
        Assert.True((int)ownership["objects"]!["table"]! > 10);
        Assert.Equal(1, (int)ownership["objects"]!["materialized view"]!);
        Assert.Equal((int)ownership["total"]!, ownership["objects"]!.AsObject().Sum(o => (int)o.Value!));
        Assert.Contains(ownership["statements"]!.AsArray(), s => (string?)s == "GRANT crm_owner TO postgres");
        await using (var app = await ConnectAsAsync("crm_owner", "grant_owned"))
        {
            await ScalarAsync(app, "ALTER TABLE \"Permission\" ADD COLUMN \"note\" text");
            await ScalarAsync(app, "CREATE INDEX \"Permission_note_idx\" ON \"Permission\" (\"note\")");
            await ScalarAsync(app, "REFRESH MATERIALIZED VIEW \"PermissionsPerCategory\"");
            await ScalarAsync(app, """
                BEGIN;
                ALTER TABLE "Permission" ADD COLUMN "scope" text;
                INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
                VALUES (gen_random_uuid()::text, 'c0ffee', '20260301000000_permission_scope', now(), now(), 1);
                COMMIT;
                """);
        }
        // The granting login kept the membership it gave itself: it still reads what the user owns (live verification does).
        Assert.True(await Sql.ScalarAsync<long>(admin, "SELECT count(*) FROM \"Permission\"") > 0);
        Assert.Contains(env.Logs.WithEvent("database.ownership.transferred"), e => e.ToString().Contains("grant_owned", StringComparison.Ordinal));

        var (again, second) = await GrantAsync($$"""{"instance":"{{VerifyEnvironment.Target}}","database":"grant_owned","user":"crm_owner","appUserOwns":true}""");
        Assert.True(again == HttpStatusCode.OK, second.ToJsonString());
        Assert.Equal(0, (int)second["ownership"]!["total"]!);
        Assert.False((bool)second["ownership"]!["membershipGranted"]!);
    }

    [Fact]
    public async Task A_granting_login_that_does_not_own_the_tables_is_refused_and_nothing_changes()
    {
        // GRANT ... ON ALL TABLES by a non-owner only warns; the proof afterwards is what catches it.
        await PrepareAsync("grant_notowner", "crm_app2");
        await env.Cloud.RunAsync(HttpMethod.Post, env.Cloud.Api($"instances/{VerifyEnvironment.Target}/users"), $$"""{"name":"not_owner","password":"{{AppPassword}}"}""");
        await using var notOwner = NpgsqlDataSource.Create(await ConnectionStringAsync("not_owner", "grant_notowner"));

        var denied = await Assert.ThrowsAsync<AppUserGrantException>(() => AppUserGrants.ApplyAsync(notOwner, "grant_notowner", "crm_app2", []));
        Assert.Equal(AppUserGrantFailure.NotPermitted, denied.Failure);
        Assert.Contains("may not run 'GRANT SELECT", denied.Message, StringComparison.Ordinal);

        // A login that can read but not grant: PostgreSQL only warns "no privileges were granted".
        var owner = await env.Cloud.ConnectionStringAsync(VerifyEnvironment.Target, "grant_notowner");
        await Sql.ExecuteAsync(owner, "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public TO not_owner; GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO not_owner");
        var lacks = await Assert.ThrowsAsync<AppUserGrantException>(() => AppUserGrants.ApplyAsync(notOwner, "grant_notowner", "crm_app2", []));
        Assert.Equal(AppUserGrantFailure.NotPermitted, lacks.Failure);
        Assert.Contains("still lacks", lacks.Message, StringComparison.Ordinal);
        Assert.Contains("SELECT on ", lacks.Message, StringComparison.Ordinal);

        var member = await Assert.ThrowsAsync<AppUserGrantException>(() => AppUserGrants.ApplyAsync(notOwner, "grant_notowner", "crm_app2", ["postgres"]));
        Assert.Contains("not a member of role 'postgres'", member.Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<AppUserGrantException>(() => AppUserGrants.ApplyAsync(notOwner, "grant_notowner", "nobody_here", []));
        Assert.Equal(AppUserGrantFailure.UserNotFound, missing.Failure);

        // One transaction: the database and schema grants that did succeed were rolled back too.
        Assert.False(await Sql.ScalarAsync<bool>(owner,
            "SELECT coalesce((SELECT datacl::text FROM pg_database WHERE datname = 'grant_notowner'), '') || coalesce((SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'), '') LIKE '%crm_app2%'"));
    }

    [Theory]
    [InlineData("prod", "target.not-production-instance")]
    [InlineData("prod-replica", "target.not-production-instance")]
    [InlineData(VerifyEnvironment.Labelled, "target.not-production-labelled")]
    public async Task A_production_instance_is_refused_with_412_and_nothing_is_granted(string instance, string rule)
    {
        var (status, body) = await GrantAsync(Request("crm", "crm_app", instance));

        Assert.True(status == HttpStatusCode.PreconditionFailed, body.ToJsonString());
        Assert.Equal("VERIFICATION_TARGET_REFUSED", (string?)body["error"]!["status"]);
        Assert.Equal([rule], body["error"]!["preconditions"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Contains("nothing was changed", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains(env.Logs.WithEvent("database.grants.refused"), e => e.ToString().Contains(instance, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_instance_database_or_user_is_404()
    {
        await env.RestoredDatabaseAsync(VerifyEnvironment.Target, "grant_missing");

        var (status, body) = await GrantAsync(Request("grant_missing", "crm_app", "missing-instance"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("'missing-instance' does not exist", (string?)body["error"]!["message"], StringComparison.Ordinal);

        (status, body) = await GrantAsync(Request("no_such_db", "crm_app"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("The database 'no_such_db' does not exist", (string?)body["error"]!["message"], StringComparison.Ordinal);

        (status, body) = await GrantAsync(Request("grant_missing", "nobody_here"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("The user 'nobody_here' does not exist on instance 'verify-target'", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}", "'instance' is required")]
    [InlineData("""{"instance":"verify-target","database":"crm"}""", "'user' is required")]
    [InlineData("""{"instance":"verify-target","user":"crm_app"}""", "'database' is required")]
    [InlineData("""{"instance":"Verify_Target","database":"crm","user":"crm_app"}""", "'instance' must be a Cloud SQL instance ID")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":"app; DROP TABLE \"Tenant\""}""", "'user' must be a PostgreSQL name")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":"app\"name"}""", "'user' must be a PostgreSQL name")]
    [InlineData("""{"instance":"verify-target","database":"crm db","user":"crm_app"}""", "'database' must be a PostgreSQL name")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":"a234567890123456789012345678901234567890123456789012345678901234"}""", "'user' must be a PostgreSQL name")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":"postgres"}""", "not the reserved role 'postgres'")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":"cloudsqlsuperuser"}""", "reserved role")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":"pg_write_all_data"}""", "reserved role")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":["crm_app"]}""", "user")]
    [InlineData("""{"instance":"verify-target","database":"crm","user":"crm_app","appUserOwns":"yes"}""", "appUserOwns")]
    public async Task A_bad_name_is_400_naming_the_problem(string json, string message)
    {
        var (status, body) = await GrantAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
    }
}
