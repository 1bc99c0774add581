using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Inspection;
using Commissable.Backup.Core.Tenants;
using Commissable.Backup.Postgres.Tenants;
using Npgsql;
using static Commissable.Backup.Postgres.Tests.VerificationRestores;

namespace Commissable.Backup.Postgres.Tests.Tenants;

/// <summary>
/// The plan step of a per-tenant restore against real databases: "staged" is a copy of production
/// (CREATE DATABASE ... TEMPLATE) taken before production is damaged for one tenant.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TenantPlannerTests(TestPostgres postgres)
{
    /// <summary>
    /// A schema with every corner the issue names: the tenant table keyed by <c>id</c>; a generated
    /// stored column and a <c>GENERATED ALWAYS</c> identity (<c>"User"</c>); a deferrable
    /// self-reference (<c>"managerId"</c>, with a two-row cycle); ON DELETE CASCADE children; a
    /// partitioned table (<c>"Event"</c>); a table without a primary key holding duplicate rows
    /// (<c>"LoginLog"</c>); row-level security forced on <c>"Secret"</c>; a child without the tenant
    /// column (<c>"ContactTag"</c>); and a shared table the tenant's rows reference (<c>"Country"</c>).
    /// Per tenant: 1 tenant, 3 users, 2 accounts, 4 contacts, 4 tags, 4 events, 3 log rows, 2 secrets.
    /// </summary>
    private const string Schema = """
        CREATE TABLE "Tenant" (id text PRIMARY KEY, name text NOT NULL);
        CREATE TABLE "Country" (code text PRIMARY KEY);
        CREATE TABLE "User" (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            email text NOT NULL CONSTRAINT "User_email_key" UNIQUE,
            "managerId" integer CONSTRAINT "User_managerId_fkey" REFERENCES "User"(id) DEFERRABLE,
            "firstName" text NOT NULL,
            "lastName" text NOT NULL,
            "fullName" text GENERATED ALWAYS AS ("firstName" || ' ' || "lastName") STORED);
        CREATE TABLE "Account" (
            id text PRIMARY KEY,
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            "countryCode" text REFERENCES "Country"(code),
            name text NOT NULL,
            balance numeric NOT NULL CONSTRAINT "Account_balance_check" CHECK (balance >= 0));
        CREATE TABLE "Contact" (
            id serial PRIMARY KEY,
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            "accountId" text NOT NULL REFERENCES "Account"(id) ON DELETE CASCADE,
            name text NOT NULL);
        CREATE TABLE "ContactTag" (
            id serial PRIMARY KEY,
            "contactId" integer NOT NULL REFERENCES "Contact"(id) ON DELETE CASCADE,
            tag text NOT NULL);
        CREATE TABLE "Event" (
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            id bigint NOT NULL,
            at date NOT NULL,
            kind text NOT NULL,
            PRIMARY KEY ("tenantId", id, at)) PARTITION BY RANGE (at);
        CREATE TABLE "Event_early" PARTITION OF "Event" FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
        CREATE TABLE "Event_late" PARTITION OF "Event" FOR VALUES FROM ('2026-07-01') TO ('2028-01-01');
        CREATE TABLE "LoginLog" (
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            at timestamptz NOT NULL,
            note jsonb);
        CREATE TABLE "Secret" (
            id serial PRIMARY KEY,
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            value text NOT NULL);
        ALTER TABLE "Secret" ENABLE ROW LEVEL SECURITY;
        ALTER TABLE "Secret" FORCE ROW LEVEL SECURITY;
        CREATE POLICY "Secret_tenant" ON "Secret" USING ("tenantId" = current_setting('app.tenant', true));

        INSERT INTO "Country" VALUES ('FR'), ('US');
        INSERT INTO "Tenant" VALUES ('t1', 'One'), ('t2', 'Two'), ('t3', 'Three');
        INSERT INTO "User" ("tenantId", email, "firstName", "lastName")
            SELECT t, t || '-u' || n || '@example.com', 'F' || n, 'L' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 3) AS n ORDER BY t, n;
        UPDATE "User" AS u SET "managerId" = (SELECT m.id FROM "User" AS m WHERE m.email = u."tenantId" || '-u1@example.com')
            WHERE u.email NOT LIKE '%-u1@%';
        UPDATE "User" AS u SET "managerId" = (SELECT m.id FROM "User" AS m WHERE m.email = u."tenantId" || '-u2@example.com')
            WHERE u.email LIKE '%-u1@%';
        INSERT INTO "Account" SELECT t || '-a' || n, t, 'FR', 'Account ' || n, n * 10
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 2) AS n;
        INSERT INTO "Contact" ("tenantId", "accountId", name)
            SELECT a."tenantId", a.id, a.id || '-c' || n FROM "Account" AS a, generate_series(1, 2) AS n ORDER BY a.id, n;
        INSERT INTO "ContactTag" ("contactId", tag) SELECT id, 'tag-' || name FROM "Contact" ORDER BY id;
        INSERT INTO "Event" SELECT t, n, DATE '2026-01-01' + n * 100, 'kind' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 4) AS n;
        INSERT INTO "LoginLog" SELECT t, TIMESTAMPTZ '2026-01-01 00:00Z', '{"ok": true}'
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 2) AS n;
        INSERT INTO "LoginLog" SELECT t, TIMESTAMPTZ '2026-01-02 00:00Z', NULL FROM unnest(ARRAY['t1', 't2', 't3']) AS t;
        INSERT INTO "Secret" ("tenantId", value) SELECT t, 's' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 2) AS n;
        """;

    /// <summary>
    /// Tenant t2 loses an account (and by cascade its 2 contacts and their 2 tags), a user, an event,
    /// a secret and one of two identical log rows; one account and one user change (the user's
    /// generated column with it); a contact and an event are created. Tenant t1 is damaged too, so a
    /// plan that leaked other tenants would count it.
    /// </summary>
    private const string Damage = """
        DELETE FROM "Account" WHERE id = 't2-a1';
        DELETE FROM "User" WHERE email = 't2-u3@example.com';
        DELETE FROM "Event" WHERE "tenantId" = 't2' AND id = 3;
        DELETE FROM "Secret" WHERE id = (SELECT min(id) FROM "Secret" WHERE "tenantId" = 't2');
        DELETE FROM "LoginLog" WHERE ctid = (SELECT min(ctid) FROM "LoginLog" WHERE "tenantId" = 't2' AND note IS NOT NULL);
        UPDATE "Account" SET name = 'Renamed' WHERE id = 't2-a2';
        UPDATE "User" SET "lastName" = 'Changed' WHERE email = 't2-u2@example.com';
        INSERT INTO "Contact" ("tenantId", "accountId", name) VALUES ('t2', 't2-a2', 'created after');
        INSERT INTO "Event" VALUES ('t2', 99, '2026-02-01', 'new');
        DELETE FROM "Account" WHERE id = 't1-a1';
        UPDATE "User" SET "lastName" = 'Other' WHERE email = 't1-u2@example.com';
        INSERT INTO "LoginLog" VALUES ('t1', now(), NULL);
        """;

    private static readonly TenantPlanOptions MissingOnly = new();

    [Fact]
    public async Task The_closure_holds_every_tenant_table_the_tenant_table_and_reachable_children_in_foreign_key_order()
    {
        var production = await CreateAsync(Schema);
        await using var connection = new NpgsqlConnection(production);
        await connection.OpenAsync();

        var shape = await TenantClosure.DiscoverAsync(connection, "tenantId", CancellationToken.None);

        var names = shape.Tables.Select(t => t.Name).ToList();
        Assert.Equal(["Account", "Contact", "ContactTag", "Event", "LoginLog", "Secret", "Tenant", "User"], names.Order(StringComparer.Ordinal));
        Assert.Empty(shape.Problems);
        Assert.Equal("Tenant", shape.TenantTable);
        Assert.Equal("id", shape.TenantKey);
        Assert.Equal(ClosureRole.TenantTable, shape.Get("Tenant").Role);
        Assert.Equal(ClosureRole.Reachable, shape.Get("ContactTag").Role);
        Assert.Equal("Contact", Assert.Single(shape.Get("ContactTag").Membership).Parent);
        Assert.True(names.IndexOf("Tenant") < names.IndexOf("Account"));
        Assert.True(names.IndexOf("Account") < names.IndexOf("Contact"));
        Assert.True(names.IndexOf("Contact") < names.IndexOf("ContactTag"));
        var user = shape.Get("User");
        Assert.DoesNotContain("fullName", user.Columns);
        Assert.True(user.HasAlwaysIdentity);
        Assert.Equal(["id"], user.PrimaryKey);
        Assert.Empty(shape.Get("LoginLog").PrimaryKey);
        Assert.Equal(["tenantId", "id", "at"], shape.Get("Event").PrimaryKey);
        Assert.True(shape.Get("Secret").HasRowSecurity);
    }

    [Fact]
    public async Task A_plan_counts_the_damaged_tenants_rows_exactly_ignores_other_tenants_and_leaves_production_unchanged()
    {
        var production = await CreateAsync(Schema);
        var staged = await CopyAsync(production);
        await ExecuteAsync(production, Damage);
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(production);
        var before = await TableHashes.ComputeAsync(productionSource);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly, CancellationToken.None);
        var exact = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly with { Mode = TenantRestoreMode.Exact }, CancellationToken.None);
        var report = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly with { Mode = TenantRestoreMode.Report }, CancellationToken.None);

        var after = await TableHashes.ComputeAsync(productionSource);
        Assert.Empty(before.Differences(after));
        Assert.Equal(before.Combined, after.Combined);

        var expected = new Dictionary<string, (long Missing, long Changed, long Extra)>
        {
            ["Tenant"] = (0, 0, 0),
            ["User"] = (1, 1, 0),
            ["Account"] = (1, 1, 0),
            ["Contact"] = (2, 0, 1),
            ["ContactTag"] = (2, 0, 0),
            ["Event"] = (1, 0, 1),
            ["LoginLog"] = (1, 0, 0),
            ["Secret"] = (1, 0, 0),
        };
        Assert.Equal(expected, plan.Tables.ToDictionary(t => t.Table, t => (t.Missing, t.Changed, t.Extra)));
        Assert.Equal(expected, exact.Tables.ToDictionary(t => t.Table, t => (t.Missing, t.Changed, t.Extra)));
        Assert.All(plan.Tables, t => Assert.Equal(t.Missing, t.Writes));
        Assert.All(exact.Tables, t => Assert.Equal(t.Missing + t.Changed + t.Extra, t.Writes));
        Assert.All(report.Tables, t => Assert.Equal(0, t.Writes));
        foreach (var p in new[] { plan, exact, report })
        {
            Assert.True(p.CanApply, string.Join("; ", p.Problems.Concat(p.Tables.Select(t => $"{t.Table}: {t.Problem}"))));
            Assert.Empty(p.Problems);
        }

        Assert.Equal(["missing id=t2-a1", "changed id=t2-a2"], plan.Tables.Single(t => t.Table == "Account").ExampleKeys);
        Assert.Equal(["missing tenantId=t2, id=3, at=2026-10-28", "extra tenantId=t2, id=99, at=2026-02-01"], plan.Tables.Single(t => t.Table == "Event").ExampleKeys);
        Assert.Equal(["missing row #1"], plan.Tables.Single(t => t.Table == "LoginLog").ExampleKeys);
        Assert.DoesNotContain(plan.Tables.SelectMany(t => t.ExampleKeys), k => k.Contains("t1", StringComparison.Ordinal) || k.Contains("t3", StringComparison.Ordinal) || k.Contains('@', StringComparison.Ordinal));
        Assert.Matches("^[0-9a-f]{64}$", plan.Digest);
        Assert.NotEqual(plan.Digest, exact.Digest);
        Assert.Equal(plan.Digest, (await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly, CancellationToken.None)).Digest);
    }

    [Fact]
    public async Task A_plan_of_an_undamaged_tenant_finds_nothing_to_write_and_no_problem()
    {
        var production = await CreateAsync(Schema);
        var staged = await CopyAsync(production);
        await ExecuteAsync(production, Damage);
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(production);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t3", MissingOnly with { Mode = TenantRestoreMode.Exact }, CancellationToken.None);

        Assert.Equal(8, plan.Tables.Count);
        Assert.All(plan.Tables, t =>
        {
            Assert.Equal((0L, 0L, 0L, 0L), (t.Missing, t.Changed, t.Extra, t.Writes));
            Assert.Empty(t.ExampleKeys);
            Assert.Null(t.Problem);
        });
        Assert.True(plan.CanApply);
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public async Task A_restored_rows_unique_email_held_by_a_new_row_is_reported_for_its_table_with_the_constraint_and_blocks_the_plan()
    {
        var production = await CreateAsync(Schema);
        var staged = await CopyAsync(production);
        await ExecuteAsync(production, """
            DELETE FROM "User" WHERE email = 't2-u3@example.com';
            INSERT INTO "User" ("tenantId", email, "firstName", "lastName") VALUES ('t1', 't2-u3@example.com', 'New', 'Person');
            """);
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(production);
        var before = await TableHashes.ComputeAsync(productionSource);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly, CancellationToken.None);

        Assert.Empty(before.Differences(await TableHashes.ComputeAsync(productionSource)));
        Assert.False(plan.CanApply);
        var user = plan.Tables.Single(t => t.Table == "User");
        Assert.Equal((1L, 0L, 0L), (user.Missing, user.Changed, user.Extra));
        Assert.Equal("unique-key conflict on constraint \"User_email_key\" (SQLSTATE 23505)", user.Problem);
        Assert.All(plan.Tables.Where(t => t.Table != "User"), t => Assert.Null(t.Problem));
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public async Task A_check_failure_is_reported_for_its_table_and_the_rows_that_depend_on_it_fail_on_their_foreign_key()
    {
        var production = await CreateAsync(Schema);
        var staged = await CopyAsync(production);
        // Production's rules changed after the restore point: the lost account (balance 10) breaks the new check.
        await ExecuteAsync(production, """
            DELETE FROM "Account" WHERE id = 't2-a1';
            ALTER TABLE "Account" ADD CONSTRAINT "Account_small_check" CHECK (balance < 5) NOT VALID;
            """);
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(production);
        var before = await TableHashes.ComputeAsync(productionSource);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly, CancellationToken.None);

        Assert.Empty(before.Differences(await TableHashes.ComputeAsync(productionSource)));
        Assert.False(plan.CanApply);
        var problems = plan.Tables.Where(t => t.Problem is not null).ToDictionary(t => t.Table, t => t.Problem);
        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["Account"] = "check failure on constraint \"Account_small_check\" (SQLSTATE 23514)",
                ["Contact"] = "foreign-key failure on constraint \"Contact_accountId_fkey\" (SQLSTATE 23503)",
                ["ContactTag"] = "foreign-key failure on constraint \"ContactTag_contactId_fkey\" (SQLSTATE 23503)",
            },
            problems);
    }

    [Fact]
    public async Task A_table_that_changed_shape_since_the_restore_point_is_a_problem_of_that_table_and_the_others_are_still_planned()
    {
        var production = await CreateAsync(Schema);
        var staged = await CopyAsync(production);
        await ExecuteAsync(production, """
            ALTER TABLE "Secret" ADD COLUMN rotated boolean NOT NULL DEFAULT false;
            DELETE FROM "Account" WHERE id = 't2-a1';
            """);
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(production);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly, CancellationToken.None);

        Assert.False(plan.CanApply);
        Assert.Equal(
            "the staged rows could not be copied into production's table shape: a column is missing (SQLSTATE 42703)",
            plan.Tables.Single(t => t.Table == "Secret").Problem);
        var missing = plan.Tables.ToDictionary(t => t.Table, t => t.Missing);
        Assert.Equal((1L, 2L, 2L), (missing["Account"], missing["Contact"], missing["ContactTag"]));
        Assert.All(plan.Tables.Where(t => t.Table != "Secret"), t => Assert.Null(t.Problem));
    }

    [Fact]
    public async Task A_cycle_through_non_deferrable_foreign_keys_alone_is_a_problem_of_the_closure_and_one_deferrable_key_on_it_is_enough()
    {
        // "Deal" references "A" without being on the cycle: it is ordered after it, never part of it.
        const string Cycle = """
            CREATE TABLE "Tenant" (id text PRIMARY KEY);
            CREATE TABLE "A" (id int PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant"(id), "bId" int);
            CREATE TABLE "B" (id int PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant"(id), "aId" int);
            CREATE TABLE "Deal" (id int PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant"(id), "aId" int REFERENCES "A"(id));
            ALTER TABLE "A" ADD CONSTRAINT "A_bId_fkey" FOREIGN KEY ("bId") REFERENCES "B"(id) {0};
            ALTER TABLE "B" ADD CONSTRAINT "B_aId_fkey" FOREIGN KEY ("aId") REFERENCES "A"(id) {1};
            """;
        (string AToB, string BToA, string[] Order, string? Problem)[] cases =
        [
            ("DEFERRABLE", "DEFERRABLE", ["Tenant", "A", "B", "Deal"], null),
            // Only the non-deferrable key orders the cycle: B's rows go first, A's may reference them.
            ("", "DEFERRABLE", ["Tenant", "B", "A", "Deal"], null),
            ("", "", ["Tenant", "A", "B", "Deal"], "foreign keys form a cycle through non-deferrable constraints (A_bId_fkey, B_aId_fkey) between A, B: a restore in two phases is not supported"),
        ];
        foreach (var (aToB, bToA, order, problem) in cases)
        {
            var database = await CreateAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Cycle, aToB, bToA));
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();

            var shape = await TenantClosure.DiscoverAsync(connection, "tenantId", CancellationToken.None);

            Assert.Equal(order, shape.Tables.Select(t => t.Name));
            Assert.Equal(problem is null ? [] : [problem], shape.Problems);
        }
    }

    [Fact]
    public async Task A_deferrable_cycle_of_two_tables_plans_and_writes_with_a_table_that_references_it_through_a_plain_key()
    {
        // User <-> Team through deferrable keys, and Deal -> User through a plain one (the usual ownerId).
        var production = await CreateAsync("""
            CREATE TABLE "Tenant" (id text PRIMARY KEY);
            CREATE TABLE "User" (id int PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant"(id), "teamId" int);
            CREATE TABLE "Team" (id int PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant"(id), "ownerId" int REFERENCES "User"(id) DEFERRABLE);
            ALTER TABLE "User" ADD CONSTRAINT "User_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"(id) DEFERRABLE;
            CREATE TABLE "Deal" (id int PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant"(id), "ownerId" int NOT NULL REFERENCES "User"(id) ON DELETE CASCADE);
            INSERT INTO "Tenant" VALUES ('t1'), ('t2');
            BEGIN;
            SET CONSTRAINTS ALL DEFERRED;
            INSERT INTO "User" VALUES (1, 't1', 10), (2, 't2', 20);
            INSERT INTO "Team" VALUES (10, 't1', 1), (20, 't2', 2);
            COMMIT;
            INSERT INTO "Deal" VALUES (100, 't1', 1), (200, 't2', 2);
            """);
        var staged = await CopyAsync(production);
        await ExecuteAsync(production, """
            UPDATE "Team" SET "ownerId" = NULL WHERE id = 20;
            DELETE FROM "User" WHERE id = 2;
            """);
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(production);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly, CancellationToken.None);

        Assert.True(plan.CanApply, string.Join("; ", plan.Problems.Concat(plan.Tables.Select(t => $"{t.Table}: {t.Problem}"))));
        Assert.Equal(["Tenant", "Team", "User", "Deal"], plan.Tables.Select(t => t.Table));
        var counts = plan.Tables.ToDictionary(t => t.Table, t => (t.Missing, t.Changed));
        Assert.Equal(((1L, 0L), (1L, 0L), (0L, 1L)), (counts["User"], counts["Deal"], counts["Team"]));
    }

    [Fact]
    public async Task A_table_whose_row_level_security_hides_rows_from_the_production_login_gets_a_problem()
    {
        var production = await CreateAsync(Schema);
        var staged = await CopyAsync(production);
        await ExecuteAsync(production, Damage);
        var role = $"planner_{Guid.NewGuid():N}"[..20];
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var database = new NpgsqlConnectionStringBuilder(production).Database!;
        await ExecuteAsync(production, $"""
            CREATE ROLE "{role}" LOGIN PASSWORD '{password}';
            GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{role}";
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}";
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}";
            """);
        var asRole = new NpgsqlConnectionStringBuilder(production) { Username = role, Password = password }.ConnectionString;
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(asRole);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, "t2", MissingOnly, CancellationToken.None);

        Assert.False(plan.CanApply);
        var secret = plan.Tables.Single(t => t.Table == "Secret");
        Assert.Contains("row-level security", secret.Problem, StringComparison.Ordinal);
        Assert.Contains("production login", secret.Problem, StringComparison.Ordinal);
        Assert.All(plan.Tables.Where(t => t.Table != "Secret"), t => Assert.Null(t.Problem));
        await ExecuteAsync(production, $"""
            REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}";
            REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}";
            REVOKE ALL ON DATABASE "{database}" FROM "{role}";
            """);
        await ExecuteAsync(postgres.ConnectionString(), $"DROP ROLE \"{role}\"");
    }

    [Fact]
    public async Task On_the_demo_a_deleted_tenant_is_planned_back_in_every_tenant_table_with_exact_counts()
    {
        var production = await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny);
        var staged = await CopyAsync(production);
        await using var stagedSource = DataSource(staged);
        await using var productionSource = DataSource(production);
        var census = await TenantCensus.TakeAsync(stagedSource);
        var tenant = census.TenantIds[1];
        var deletes = string.Concat(DemoDatabase.BusinessTables.Select(t => $"DELETE FROM \"{t}\" WHERE \"tenantId\" = '{tenant}';\n"));
        // Foreign keys are switched off for the deletion only, so the tables can go in any order.
        await ExecuteAsync(production, $"""
            SET session_replication_role = replica;
            {deletes}DELETE FROM "Tenant" WHERE id = '{tenant}';
            """);
        var before = await TableHashes.ComputeAsync(productionSource);

        var plan = await TenantPlanner.PlanAsync(stagedSource, productionSource, tenant, MissingOnly, CancellationToken.None);

        Assert.Empty(before.Differences(await TableHashes.ComputeAsync(productionSource)));
        Assert.True(plan.CanApply, string.Join("; ", plan.Problems.Concat(plan.Tables.Select(t => $"{t.Table}: {t.Problem}"))));
        Assert.Equal(DemoDatabase.BusinessTables.Append(DemoDatabase.TenantTable).Order(StringComparer.Ordinal), plan.Tables.Select(t => t.Table).Order(StringComparer.Ordinal));
        Assert.Equal("Tenant", plan.Tables[0].Table);
        foreach (var table in plan.Tables.Where(t => t.Table != DemoDatabase.TenantTable))
        {
            var expected = census.Tables.Single(t => t.Name == table.Table).RowsByTenant.GetValueOrDefault(tenant);
            Assert.Equal((expected, 0L, 0L, expected), (table.Missing, table.Changed, table.Extra, table.Writes));
        }
        Assert.Equal(census.Tables.Sum(t => t.RowsByTenant.GetValueOrDefault(tenant)) + 1, plan.Tables.Sum(t => t.Missing));
        Assert.Equal((1L, 0L, 0L), plan.Tables.Where(t => t.Table == "Tenant").Select(t => (t.Missing, t.Changed, t.Extra)).Single());
    }

    private async Task<string> CreateAsync(string sql)
    {
        var connectionString = await postgres.CreateDatabaseAsync("tenant");
        await ExecuteAsync(connectionString, sql);
        return connectionString;
    }

    /// <summary>A copy of the database (no connection may be open on it).</summary>
    private async Task<string> CopyAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        var source = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var name = $"staged_{Guid.NewGuid():N}"[..30];
        await ExecuteAsync(postgres.ConnectionString(), $"CREATE DATABASE \"{name}\" TEMPLATE \"{source}\"");
        return postgres.ConnectionString(name);
    }
}
