using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Tenants;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Inspection;
using Commissable.Backup.Postgres.Tenants;
using Commissable.Backup.Postgres.Verification;
using Npgsql;
using Commissable.Backup.Postgres.Tests.Dumps;
using static Commissable.Backup.Postgres.Tests.VerificationRestores;

namespace Commissable.Backup.Postgres.Tests.Tenants;

/// <summary>
/// Apply and proof of a per-tenant restore against real databases, through
/// <see cref="PostgresTenantRestorer"/> and the functions' login: "staged" is a copy of production
/// (CREATE DATABASE ... TEMPLATE) taken at the restore point, before production is damaged.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TenantRestorerTests(TestPostgres postgres)
{
    /// <summary>
    /// The corners the issue names: the tenant table keyed by <c>id</c>; a generated stored column,
    /// a <c>GENERATED ALWAYS</c> identity and a deferrable self-reference with a two-row cycle
    /// (<c>"User"</c>); ON DELETE CASCADE children and a child without the tenant column
    /// (<c>"ContactTag"</c>); a key drawn by a plain <c>nextval</c> default from a sequence no column
    /// owns (<c>"Ticket"</c>); a partitioned table (<c>"Event"</c>); a table without a primary key
    /// holding duplicate rows (<c>"LoginLog"</c>); row-level security forced on <c>"Secret"</c>.
    /// Per tenant: 3 users, 2 accounts, 4 contacts, 4 tags, 3 tickets, 4 events, 3 log rows, 2 secrets.
    /// </summary>
    private const string Schema = """
        CREATE TABLE "Tenant" (id text PRIMARY KEY, name text NOT NULL);
        CREATE SEQUENCE ticket_number;
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
            name text NOT NULL);
        CREATE TABLE "Contact" (
            id serial PRIMARY KEY,
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            "accountId" text NOT NULL REFERENCES "Account"(id) ON DELETE CASCADE,
            name text NOT NULL);
        CREATE TABLE "ContactTag" (
            id serial PRIMARY KEY,
            "contactId" integer NOT NULL REFERENCES "Contact"(id) ON DELETE CASCADE,
            tag text NOT NULL);
        CREATE TABLE "Ticket" (
            number bigint PRIMARY KEY DEFAULT nextval('ticket_number'),
            "tenantId" text NOT NULL REFERENCES "Tenant"(id) ON DELETE CASCADE,
            subject text NOT NULL);
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

        INSERT INTO "Tenant" VALUES ('t1', 'One'), ('t2', 'Two'), ('t3', 'Three');
        INSERT INTO "User" ("tenantId", email, "firstName", "lastName")
            SELECT t, t || '-u' || n || '@example.com', 'F' || n, 'L' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 3) AS n ORDER BY t, n;
        UPDATE "User" AS u SET "managerId" = (SELECT m.id FROM "User" AS m WHERE m.email = u."tenantId" || '-u1@example.com')
            WHERE u.email NOT LIKE '%-u1@%';
        UPDATE "User" AS u SET "managerId" = (SELECT m.id FROM "User" AS m WHERE m.email = u."tenantId" || '-u2@example.com')
            WHERE u.email LIKE '%-u1@%';
        INSERT INTO "Account" SELECT t || '-a' || n, t, 'Account ' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 2) AS n;
        INSERT INTO "Contact" ("tenantId", "accountId", name)
            SELECT a."tenantId", a.id, a.id || '-c' || n FROM "Account" AS a, generate_series(1, 2) AS n ORDER BY a.id, n;
        INSERT INTO "ContactTag" ("contactId", tag) SELECT id, 'tag-' || name FROM "Contact" ORDER BY id;
        INSERT INTO "Ticket" ("tenantId", subject) SELECT t, 'ticket ' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 3) AS n ORDER BY t, n;
        INSERT INTO "Event" SELECT t, n, DATE '2026-01-01' + n * 100, 'kind' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 4) AS n;
        INSERT INTO "LoginLog" SELECT t, TIMESTAMPTZ '2026-01-01 00:00Z', '{"ok": true}'
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 2) AS n;
        INSERT INTO "LoginLog" SELECT t, TIMESTAMPTZ '2026-01-02 00:00Z', NULL FROM unnest(ARRAY['t1', 't2', 't3']) AS t;
        INSERT INTO "Secret" ("tenantId", value) SELECT t, 's' || n
            FROM unnest(ARRAY['t1', 't2', 't3']) AS t, generate_series(1, 2) AS n;
        """;

    /// <summary>
    /// After the restore point, tenant t2 loses an account (and by cascade its 2 contacts and their
    /// 2 tags), a user, an event (a partition's row), a ticket, a secret and one of two identical
    /// log rows; an account and a user are changed; a contact, an event and a log row are created.
    /// Tenant t1 is changed too, which no restore of t2 may undo.
    /// </summary>
    private const string Damage = """
        DELETE FROM "Account" WHERE id = 't2-a1';
        DELETE FROM "User" WHERE email = 't2-u3@example.com';
        DELETE FROM "Event" WHERE "tenantId" = 't2' AND id = 3;
        DELETE FROM "Ticket" WHERE number = (SELECT min(number) FROM "Ticket" WHERE "tenantId" = 't2');
        DELETE FROM "Secret" WHERE id = (SELECT min(id) FROM "Secret" WHERE "tenantId" = 't2');
        DELETE FROM "LoginLog" WHERE ctid = (SELECT min(ctid) FROM "LoginLog" WHERE "tenantId" = 't2' AND note IS NOT NULL);
        UPDATE "Account" SET name = 'Renamed' WHERE id = 't2-a2';
        UPDATE "User" SET "lastName" = 'Changed' WHERE email = 't2-u2@example.com';
        INSERT INTO "Contact" ("tenantId", "accountId", name) VALUES ('t2', 't2-a2', 'created after');
        INSERT INTO "Event" VALUES ('t2', 99, '2026-02-01', 'new');
        INSERT INTO "LoginLog" VALUES ('t2', TIMESTAMPTZ '2026-03-01 00:00Z', '{"after": true}');
        DELETE FROM "Account" WHERE id = 't1-a1';
        UPDATE "User" SET "lastName" = 'Other' WHERE email = 't1-u2@example.com';
        """;

    /// <summary>Each table's rows of tenant <c>{0}</c>, as SQL returning one row text per row (generated columns included).</summary>
    private static readonly Dictionary<string, string> TenantRows = new()
    {
        ["Tenant"] = """SELECT x::text FROM "Tenant" AS x WHERE id {0}""",
        ["User"] = """SELECT x::text FROM "User" AS x WHERE "tenantId" {0}""",
        ["Account"] = """SELECT x::text FROM "Account" AS x WHERE "tenantId" {0}""",
        ["Contact"] = """SELECT x::text FROM "Contact" AS x WHERE "tenantId" {0}""",
        ["ContactTag"] = """SELECT x::text FROM "ContactTag" AS x JOIN "Contact" AS c ON c.id = x."contactId" WHERE c."tenantId" {0}""",
        ["Ticket"] = """SELECT x::text FROM "Ticket" AS x WHERE "tenantId" {0}""",
        ["Event"] = """SELECT x.tableoid::regclass::text || x::text FROM "Event" AS x WHERE "tenantId" {0}""",
        ["LoginLog"] = """SELECT x::text FROM "LoginLog" AS x WHERE "tenantId" {0}""",
        ["Secret"] = """SELECT x::text FROM "Secret" AS x WHERE "tenantId" {0}""",
    };

    private static readonly TenantPlanOptions MissingOnly = new();
    private static readonly TenantPlanOptions Exact = new() { Mode = TenantRestoreMode.Exact };

    [Fact]
    public async Task On_the_demo_a_deleted_tenant_comes_back_table_by_table_proven_and_no_other_tenant_changes()
    {
        var production = await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny);
        var staged = await CopyAsync(production);
        TenantCensus census;
        TenantClosureShape shape;
        await using (var stagedSource = DataSource(staged))
        {
            census = await TenantCensus.TakeAsync(stagedSource);
        }
        await using (var connection = new NpgsqlConnection(Unpooled(production)))
        {
            await connection.OpenAsync();
            shape = await TenantClosure.DiscoverAsync(connection, "tenantId", CancellationToken.None);
        }
        var tenant = census.TenantIds[1];
        // The tables are emptied of the tenant's rows in reverse write order, the tenant row last,
        // except the children of an ON DELETE CASCADE foreign key that the cascade empties: a key
        // every row has (NOT NULL), whose parent is deleted before the tables the child restricts.
        var order = shape.Tables.Select(t => t.Name).ToList();
        var keys = new List<(string Child, string Parent, char Action, bool NotNull)>();
        await using (var connection = new NpgsqlConnection(Unpooled(production)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                SELECT c.relname, p.relname, k.confdeltype,
                       (SELECT bool_and(a.attnotnull) FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey))
                FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
                WHERE k.contype = 'f' AND c.relname <> p.relname
                """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                keys.Add((reader.GetString(0), reader.GetString(1), reader.GetChar(2), reader.GetBoolean(3)));
            }
        }
        var cascaded = keys.Where(k => k.Action == 'c' && k.NotNull && order.Contains(k.Child)).GroupBy(k => k.Child)
            .Where(g =>
            {
                var parent = g.Max(k => order.IndexOf(k.Parent));
                return keys.Where(k => k.Child == g.Key && k.Action is 'a' or 'r').All(k => k.Parent == DemoDatabase.TenantTable || order.IndexOf(k.Parent) < parent);
            })
            .Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(cascaded);
        var deletes = string.Concat(shape.Tables.Reverse().Where(t => !cascaded.Contains(t.Name)).Select(t =>
            t.Name == DemoDatabase.TenantTable ? $"DELETE FROM \"Tenant\" WHERE id = '{tenant}';\n" : $"DELETE FROM \"{t.Name}\" WHERE \"tenantId\" = '{tenant}';\n"));
        await ExecuteAsync(production, deletes);
        foreach (var table in DemoDatabase.BusinessTables)
        {
            Assert.Equal(0L, await ScalarAsync<long>(production, $"SELECT count(*) FROM \"{table}\" WHERE \"tenantId\" = '{tenant}'"));
        }
        var others = await SnapshotAsync(production, DemoRows(), $"<> '{tenant}'");
        var restorer = Restorer();

        var plan = await restorer.PlanAsync(Databases(staged, production), tenant, MissingOnly, CancellationToken.None);
        var result = await restorer.ApplyAsync(Databases(staged, production), tenant, plan.Digest, MissingOnly, CancellationToken.None);

        Assert.True(plan.CanApply, Problems(plan));
        Assert.Equal(TenantApplyOutcome.Applied, result.Outcome);
        Assert.True(result.Proven, string.Join("; ", result.Proof.Where(p => !p.Equal).Select(p => p.Table)));
        Assert.Equal(plan.Digest, result.Plan.Digest);
        Assert.Equal(shape.Tables.Select(t => t.Name), result.Proof.Select(p => p.Table));
        foreach (var proof in result.Proof)
        {
            var expected = proof.Table == DemoDatabase.TenantTable ? 1 : census.Tables.Single(t => t.Name == proof.Table).RowsByTenant.GetValueOrDefault(tenant);
            Assert.Equal(expected, proof.Rows);
            Assert.Equal((expected, 0L, 0L), result.Writes.Where(w => w.Table == proof.Table).Select(w => (w.Inserted, w.Updated, w.Deleted)).Single());
        }
        Assert.True(result.Proof.Sum(p => p.Rows) > 100);
        // An independent check: each table's rows of the tenant as text, on both sides.
        Assert.Equal(await SnapshotAsync(staged, DemoRows(), $"= '{tenant}'"), await SnapshotAsync(production, DemoRows(), $"= '{tenant}'"));
        Assert.Equal(others, await SnapshotAsync(production, DemoRows(), $"<> '{tenant}'"));
    }

    [Fact]
    public async Task A_writer_inserting_and_updating_other_tenants_during_the_apply_is_not_blocked_and_loses_nothing()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var restorer = Restorer();
        var options = MissingOnly with { LockTimeout = TimeSpan.FromMinutes(2) };
        var plan = await restorer.PlanAsync(Databases(staged, production), "t2", options, CancellationToken.None);
        Assert.True(plan.CanApply, Problems(plan));

        // The barrier: the tenant's row locked FOR UPDATE, so the apply's first foreign-key check on
        // it (FOR KEY SHARE) waits inside the apply's transaction until the test lets it go.
        await using var barrier = new NpgsqlConnection(Unpooled(production));
        await barrier.OpenAsync();
        await using var hold = await barrier.BeginTransactionAsync();
        await ExecuteOnAsync(barrier, """SELECT 1 FROM "Tenant" WHERE id = 't2' FOR UPDATE""");
        var firstBatch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var applyWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(Unpooled(production));
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await ExecuteOnAsync(connection, """
                INSERT INTO "User" ("tenantId", email, "firstName", "lastName") VALUES ('t1', 't1-new@example.com', 'New', 'One');
                UPDATE "Account" SET name = 'Writer' WHERE id = 't1-a2';
                INSERT INTO "Contact" ("tenantId", "accountId", name) VALUES ('t3', 't3-a1', 'writer contact');
                INSERT INTO "LoginLog" VALUES ('t3', TIMESTAMPTZ '2026-05-01 00:00Z', '{"writer": 1}');
                """);
            firstBatch.SetResult();
            await applyWaits.Task;
            await ExecuteOnAsync(connection, """
                UPDATE "User" SET "lastName" = 'Writer' WHERE email = 't3-u1@example.com';
                INSERT INTO "Ticket" ("tenantId", subject) VALUES ('t1', 'writer ticket');
                INSERT INTO "Event" VALUES ('t3', 50, '2026-08-01', 'writer');
                """);
            await transaction.CommitAsync();
        });
        await firstBatch.Task;

        var apply = restorer.ApplyAsync(Databases(staged, production), "t2", plan.Digest, options, CancellationToken.None);
        var (_, blockers) = await WaitUntilWaitingAsync(production, apply);
        // Waiting on the barrier alone: the writer's uncommitted rows of other tenants block nothing.
        Assert.Equal([barrier.ProcessID], blockers);
        applyWaits.SetResult();
        await writer;
        await hold.CommitAsync();
        var result = await apply;

        Assert.Equal(TenantApplyOutcome.Applied, result.Outcome);
        Assert.True(result.Proven);
        Assert.Equal("t1 New One", await ScalarAsync<string>(production, """SELECT "tenantId" || ' ' || "fullName" FROM "User" WHERE email = 't1-new@example.com'"""));
        Assert.Equal("Writer", await ScalarAsync<string>(production, """SELECT name FROM "Account" WHERE id = 't1-a2'"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Contact" WHERE "tenantId" = 't3' AND name = 'writer contact'"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "LoginLog" WHERE "tenantId" = 't3' AND note = '{"writer": 1}'"""));
        Assert.Equal("Writer", await ScalarAsync<string>(production, """SELECT "lastName" FROM "User" WHERE email = 't3-u1@example.com'"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Ticket" WHERE "tenantId" = 't1' AND subject = 'writer ticket'"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Event" WHERE "tenantId" = 't3' AND id = 50"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Account" WHERE id = 't2-a1'"""));
    }

    [Fact]
    public async Task Missing_only_puts_back_the_missing_rows_and_leaves_rows_changed_or_created_after_the_restore_point_reported_and_untouched()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var restorer = Restorer();
        var plan = await restorer.PlanAsync(Databases(staged, production), "t2", MissingOnly, CancellationToken.None);

        var result = await restorer.ApplyAsync(Databases(staged, production), "t2", plan.Digest, MissingOnly, CancellationToken.None);

        Assert.Equal(TenantApplyOutcome.Applied, result.Outcome);
        Assert.True(result.Proven);
        var counts = result.Plan.Tables.ToDictionary(t => t.Table, t => (t.Missing, t.Changed, t.Extra));
        Assert.Equal((1L, 1L, 0L), counts["Account"]);
        Assert.Equal((1L, 1L, 0L), counts["User"]);
        Assert.Equal((2L, 0L, 1L), counts["Contact"]);
        Assert.Equal((1L, 0L, 1L), counts["Event"]);
        Assert.Equal((1L, 0L, 1L), counts["LoginLog"]);
        Assert.Contains("changed id=t2-a2", result.Plan.Tables.Single(t => t.Table == "Account").ExampleKeys);
        Assert.All(result.Writes, w => Assert.Equal((0L, 0L), (w.Updated, w.Deleted)));
        Assert.Equal(result.Plan.Tables.ToDictionary(t => t.Table, t => t.Missing), result.Writes.ToDictionary(w => w.Table, w => w.Inserted));
        // Proven over the staged rows minus the ones left alone: 3 users and 2 accounts, less one each.
        Assert.Equal(2L, result.Proof.Single(p => p.Table == "User").Rows);
        Assert.Equal(1L, result.Proof.Single(p => p.Table == "Account").Rows);
        Assert.Equal("Renamed", await ScalarAsync<string>(production, """SELECT name FROM "Account" WHERE id = 't2-a2'"""));
        Assert.Equal("F2 Changed", await ScalarAsync<string>(production, """SELECT "fullName" FROM "User" WHERE email = 't2-u2@example.com'"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Contact" WHERE name = 'created after'"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Event" WHERE "tenantId" = 't2' AND id = 99"""));
        Assert.Equal(1L, await ScalarAsync<long>(production, """SELECT count(*) FROM "LoginLog" WHERE note = '{"after": true}'"""));
        Assert.Equal(await RowsAsync(staged, "ContactTag", "= 't2'"), await RowsAsync(production, "ContactTag", "= 't2'"));
        Assert.Equal(await RowsAsync(staged, "Secret", "= 't2'"), await RowsAsync(production, "Secret", "= 't2'"));
    }

    [Fact]
    public async Task Exact_reverts_changed_rows_and_removes_rows_created_after_the_restore_point_for_that_tenant_only()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var restorer = Restorer();
        var others = await SnapshotAsync(production, TenantRows, "<> 't2'");
        var plan = await restorer.PlanAsync(Databases(staged, production), "t2", Exact, CancellationToken.None);

        var result = await restorer.ApplyAsync(Databases(staged, production), "t2", plan.Digest, Exact, CancellationToken.None);

        Assert.Equal(TenantApplyOutcome.Applied, result.Outcome);
        Assert.True(result.Proven);
        var writes = result.Writes.ToDictionary(w => w.Table, w => (w.Inserted, w.Updated, w.Deleted));
        Assert.Equal((1L, 1L, 0L), writes["Account"]);
        Assert.Equal((1L, 1L, 0L), writes["User"]);
        Assert.Equal((2L, 0L, 1L), writes["Contact"]);
        Assert.Equal((1L, 0L, 1L), writes["Event"]);
        Assert.Equal((1L, 0L, 1L), writes["LoginLog"]);
        Assert.Equal(await SnapshotAsync(staged, TenantRows, "= 't2'"), await SnapshotAsync(production, TenantRows, "= 't2'"));
        Assert.Equal(others, await SnapshotAsync(production, TenantRows, "<> 't2'"));
        Assert.Equal("Other", await ScalarAsync<string>(production, """SELECT "lastName" FROM "User" WHERE email = 't1-u2@example.com'"""));
    }

    [Fact]
    public async Task Exact_puts_back_a_deleted_parent_before_reverting_the_rows_whose_reference_the_deletion_set_to_null()
    {
        // The optional relation as Prisma makes it: ON DELETE SET NULL. Deleting the account leaves
        // its contacts changed (no account), and reverting them needs the account back first.
        var (production, staged) = await StagedAsync("""
            ALTER TABLE "Contact" ALTER "accountId" DROP NOT NULL, DROP CONSTRAINT "Contact_accountId_fkey",
                ADD CONSTRAINT "Contact_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"(id) ON DELETE SET NULL;
            """);
        await ExecuteAsync(production, """DELETE FROM "Account" WHERE id = 't2-a1'""");
        Assert.Equal(2L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Contact" WHERE "tenantId" = 't2' AND "accountId" IS NULL"""));

        var result = await PlanAndApplyAsync(staged, production, "t2", Exact);

        var writes = result.Writes.ToDictionary(w => w.Table, w => (w.Inserted, w.Updated, w.Deleted));
        Assert.Equal((1L, 0L, 0L), writes["Account"]);
        Assert.Equal((0L, 2L, 0L), writes["Contact"]);
        Assert.Equal(await SnapshotAsync(staged, TenantRows, "= 't2'"), await SnapshotAsync(production, TenantRows, "= 't2'"));
    }

    [Fact]
    public async Task Exact_removes_a_row_created_again_after_the_restore_point_before_putting_back_the_original_that_shares_its_unique_email()
    {
        var (production, staged) = await StagedAsync();
        // The user was deleted, then created again with the same email: a new id, the old one missing.
        await ExecuteAsync(production, """
            DELETE FROM "User" WHERE email = 't2-u3@example.com';
            INSERT INTO "User" ("tenantId", email, "firstName", "lastName") VALUES ('t2', 't2-u3@example.com', 'Again', 'Created');
            """);
        var others = await SnapshotAsync(production, TenantRows, "<> 't2'");

        var result = await PlanAndApplyAsync(staged, production, "t2", Exact);

        Assert.Equal((1L, 0L, 1L), result.Writes.Where(w => w.Table == "User").Select(w => (w.Inserted, w.Updated, w.Deleted)).Single());
        Assert.Equal(await SnapshotAsync(staged, TenantRows, "= 't2'"), await SnapshotAsync(production, TenantRows, "= 't2'"));
        Assert.Equal(others, await SnapshotAsync(production, TenantRows, "<> 't2'"));
    }

    [Fact]
    public async Task A_row_that_links_two_tenants_is_neither_tenants_and_exact_mode_leaves_it_alone()
    {
        // A table without the tenant column whose rows link two accounts: t2's own referrals are
        // t2's, one between t2 and t1 belongs to neither tenant alone.
        var (production, staged) = await StagedAsync("""
            CREATE TABLE "Referral" (
                id serial PRIMARY KEY,
                "fromAccountId" text NOT NULL REFERENCES "Account"(id) ON DELETE CASCADE,
                "toAccountId" text REFERENCES "Account"(id) ON DELETE CASCADE,
                note text NOT NULL);
            INSERT INTO "Referral" ("fromAccountId", "toAccountId", note) VALUES
                ('t2-a1', 't2-a2', 'own'), ('t2-a2', NULL, 'open'), ('t2-a1', 't1-a2', 'shared');
            """);
        // After the restore point: t2's own referral is deleted; t1's side changes the shared one
        // and makes another with t2.
        await ExecuteAsync(production, """
            DELETE FROM "Referral" WHERE note = 'own';
            UPDATE "Referral" SET note = 'shared, followed up by t1' WHERE note = 'shared';
            INSERT INTO "Referral" ("fromAccountId", "toAccountId", note) VALUES ('t1-a1', 't2-a2', 'new shared');
            """);
        const string Referrals = """SELECT string_agg(note, ',' ORDER BY note) FROM "Referral" """;

        var result = await PlanAndApplyAsync(staged, production, "t2", Exact);

        Assert.Equal((1L, 0L, 0L), result.Writes.Where(w => w.Table == "Referral").Select(w => (w.Inserted, w.Updated, w.Deleted)).Single());
        Assert.Equal("new shared,open,own,shared, followed up by t1", await ScalarAsync<string>(production, Referrals));
    }

    [Fact]
    public async Task A_tenant_the_staged_copy_does_not_hold_is_a_problem_of_the_plan_and_nothing_is_applied()
    {
        var (production, staged) = await StagedAsync();
        var restorer = Restorer();
        var before = await HashesAsync(production);

        // Ids are compared exactly: "T2" is not "t2".
        var plan = await restorer.PlanAsync(Databases(staged, production), "T2", Exact, CancellationToken.None);
        var result = await restorer.ApplyAsync(Databases(staged, production), "T2", plan.Digest, Exact, CancellationToken.None);

        Assert.False(plan.CanApply);
        Assert.Contains(plan.Problems, p => p.Contains("no row in the staged copy's \"Tenant\"", StringComparison.Ordinal));
        Assert.Equal(TenantApplyOutcome.Refused, result.Outcome);
        Assert.Empty(before.Differences(await HashesAsync(production)));
    }

    [Fact]
    public async Task A_tenant_id_that_the_tenant_keys_type_would_change_is_refused_before_anything_is_compared()
    {
        // A cast to varchar(7) cuts 't2-extra' to 't2-extr', another tenant's id, without an error.
        var (production, staged) = await StagedAsync("""
            CREATE TABLE "Org" (id varchar(7) PRIMARY KEY);
            CREATE TABLE "Note" (id serial PRIMARY KEY, "orgId" varchar(7) NOT NULL REFERENCES "Org"(id), body text NOT NULL);
            INSERT INTO "Org" VALUES ('t2-extr'), ('t2');
            INSERT INTO "Note" ("orgId", body) VALUES ('t2-extr', 'a'), ('t2', 'b');
            """);
        await ExecuteAsync(production, """DELETE FROM "Note" WHERE "orgId" = 't2-extr'""");
        var before = await HashesAsync(production);

        var plan = await Restorer().PlanAsync(Databases(staged, production), "t2-extra", MissingOnly with { TenantColumn = "orgId" }, CancellationToken.None);

        Assert.False(plan.CanApply);
        Assert.Empty(plan.Tables);
        Assert.Equal("the tenant id reads as 't2-extr' in the tenant key's type character varying(7): give the id exactly as the key holds it", Assert.Single(plan.Problems));
        Assert.Empty(before.Differences(await HashesAsync(production)));
    }

    [Fact]
    public async Task A_restored_rows_unique_email_now_held_by_another_row_is_refused_and_nothing_is_written()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """DELETE FROM "User" WHERE email = 't2-u3@example.com'""");
        var restorer = Restorer();
        var clean = await restorer.PlanAsync(Databases(staged, production), "t2", MissingOnly, CancellationToken.None);
        Assert.True(clean.CanApply);
        // After the approval, a new row (of another tenant, then of the same) takes the email.
        foreach (var tenant in new[] { "t1", "t2" })
        {
            await ExecuteAsync(production, $"""
                DELETE FROM "User" WHERE email = 't2-u3@example.com';
                INSERT INTO "User" ("tenantId", email, "firstName", "lastName") VALUES ('{tenant}', 't2-u3@example.com', 'New', 'Person');
                """);
            var before = await HashesAsync(production);
            var conflicted = await restorer.PlanAsync(Databases(staged, production), "t2", MissingOnly, CancellationToken.None);

            var result = await restorer.ApplyAsync(Databases(staged, production), "t2", conflicted.Digest, MissingOnly, CancellationToken.None);
            var late = await restorer.ApplyAsync(Databases(staged, production), "t2", clean.Digest, MissingOnly, CancellationToken.None);

            Assert.Empty(before.Differences(await HashesAsync(production)));
            foreach (var refused in new[] { result, late })
            {
                Assert.Equal(TenantApplyOutcome.Refused, refused.Outcome);
                Assert.False(refused.Proven);
                Assert.Empty(refused.Writes);
                Assert.Empty(refused.Proof);
                Assert.Empty(refused.SequencesMoved);
                Assert.Equal("unique-key conflict on constraint \"User_email_key\" (SQLSTATE 23505)", refused.Plan.Tables.Single(t => t.Table == "User").Problem);
            }
        }
    }

    [Fact]
    public async Task Production_changed_for_the_tenant_since_the_approval_gives_plan_changed_with_the_new_plan_and_writes_nothing()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var restorer = Restorer();
        var approved = await restorer.PlanAsync(Databases(staged, production), "t2", MissingOnly, CancellationToken.None);
        await ExecuteAsync(production, """DELETE FROM "Ticket" WHERE "tenantId" = 't2'""");
        var before = await HashesAsync(production);

        var result = await restorer.ApplyAsync(Databases(staged, production), "t2", approved.Digest, MissingOnly, CancellationToken.None);

        Assert.Empty(before.Differences(await HashesAsync(production)));
        Assert.Equal(TenantApplyOutcome.PlanChanged, result.Outcome);
        Assert.False(result.Proven);
        Assert.Empty(result.Writes);
        Assert.NotEqual(approved.Digest, result.Plan.Digest);
        Assert.True(result.Plan.CanApply);
        Assert.Equal(1L, approved.Tables.Single(t => t.Table == "Ticket").Missing);
        Assert.Equal(3L, result.Plan.Tables.Single(t => t.Table == "Ticket").Missing);

        var again = await restorer.ApplyAsync(Databases(staged, production), "t2", result.Plan.Digest, MissingOnly, CancellationToken.None);

        Assert.Equal(TenantApplyOutcome.Applied, again.Outcome);
        Assert.True(again.Proven);
    }

    [Fact]
    public async Task A_write_that_touches_another_number_of_rows_than_the_plan_counted_refuses_the_apply_and_writes_nothing()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var restorer = Restorer();
        var options = Exact with { LockTimeout = TimeSpan.FromMinutes(2) };
        var plan = await restorer.PlanAsync(Databases(staged, production), "t2", options, CancellationToken.None);
        Assert.True(plan.CanApply, Problems(plan));
        // The changed account is locked, so the apply's update of it waits; meanwhile it is put back
        // as it was, and the update then finds no row that differs where the comparison counted one.
        await using var barrier = new NpgsqlConnection(Unpooled(production));
        await barrier.OpenAsync();
        await using var hold = await barrier.BeginTransactionAsync();
        await ExecuteOnAsync(barrier, """SELECT 1 FROM "Account" WHERE id = 't2-a2' FOR UPDATE""");

        var apply = restorer.ApplyAsync(Databases(staged, production), "t2", plan.Digest, options, CancellationToken.None);
        await WaitUntilWaitingAsync(production, apply);
        await ExecuteOnAsync(barrier, """UPDATE "Account" SET name = 'Account 2' WHERE id = 't2-a2'""");
        await hold.CommitAsync();
        var before = await HashesAsync(production);
        var result = await apply;

        Assert.Equal(TenantApplyOutcome.Refused, result.Outcome);
        Assert.Equal("the write updated 0 rows where the comparison counted 1", result.Plan.Tables.Single(t => t.Table == "Account").Problem);
        Assert.Empty(result.Writes);
        Assert.Empty(before.Differences(await HashesAsync(production)));
    }

    [Fact]
    public async Task An_apply_whose_session_is_terminated_mid_transaction_is_unreachable_and_production_is_as_before()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var restorer = Restorer();
        var options = MissingOnly with { LockTimeout = TimeSpan.FromMinutes(5) };
        var plan = await restorer.PlanAsync(Databases(staged, production), "t2", options, CancellationToken.None);
        var before = await HashesAsync(production);
        var sequences = await SequencesAsync(production);
        await using var barrier = new NpgsqlConnection(Unpooled(production));
        await barrier.OpenAsync();
        await using var hold = await barrier.BeginTransactionAsync();
        await ExecuteOnAsync(barrier, """SELECT 1 FROM "Tenant" WHERE id = 't2' FOR UPDATE""");

        var apply = restorer.ApplyAsync(Databases(staged, production), "t2", plan.Digest, options, CancellationToken.None);
        var (pid, _) = await WaitUntilWaitingAsync(production, apply);
        // The apply has written rows by now (the tables before the first one that needs the tenant row).
        Assert.True(await ScalarAsync<bool>(production, $"SELECT pg_terminate_backend({pid})"));
        var error = await Assert.ThrowsAsync<DatabaseUnreachableException>(() => apply);
        await hold.RollbackAsync();

        Assert.Contains("57P01", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password(), error.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(await HashesAsync(production)));
        Assert.Equal(sequences, await SequencesAsync(production));
    }

    [Fact]
    public async Task A_generated_stored_column_is_left_out_of_the_writes_and_computed_again_by_production()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """DELETE FROM "User" WHERE email = 't2-u3@example.com'""");

        var result = await PlanAndApplyAsync(staged, production, "t2", MissingOnly);

        Assert.Equal((1L, 0L, 0L), result.Writes.Where(w => w.Table == "User").Select(w => (w.Inserted, w.Updated, w.Deleted)).Single());
        Assert.Equal("F3 L3", await ScalarAsync<string>(production, """SELECT "fullName" FROM "User" WHERE email = 't2-u3@example.com'"""));
        Assert.Equal(await RowsAsync(staged, "User", "= 't2'"), await RowsAsync(production, "User", "= 't2'"));
    }

    [Fact]
    public async Task A_generated_always_identity_keeps_its_restored_ids_and_its_sequence_moves_past_them()
    {
        var (production, staged) = await StagedAsync();
        // t3's users hold the largest ids (7 to 9); the identity is set back as if they never existed.
        await ExecuteAsync(production, """
            DELETE FROM "User" WHERE "tenantId" = 't3';
            ALTER TABLE "User" ALTER COLUMN id RESTART WITH 7;
            """);

        var result = await PlanAndApplyAsync(staged, production, "t3", MissingOnly);

        Assert.Contains("User_id_seq=9", result.SequencesMoved);
        Assert.Equal(await RowsAsync(staged, "User", "= 't3'"), await RowsAsync(production, "User", "= 't3'"));
        Assert.Equal(10, await ScalarAsync<int>(production, """INSERT INTO "User" ("tenantId", email, "firstName", "lastName") VALUES ('t3', 'next@example.com', 'N', 'X') RETURNING id"""));
    }

    [Fact]
    public async Task A_sequence_drawn_by_a_plain_nextval_default_that_no_column_owns_moves_past_the_restored_values_and_never_back()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """
            DELETE FROM "Ticket" WHERE "tenantId" = 't3';
            SELECT setval('ticket_number', 6);
            DELETE FROM "Ticket" WHERE "tenantId" = 't1';
            """);
        Assert.Equal(0L, await ScalarAsync<long>(production, "SELECT count(*) FROM pg_depend WHERE objid = 'ticket_number'::regclass AND deptype IN ('a', 'i')"));

        var result = await PlanAndApplyAsync(staged, production, "t3", MissingOnly);
        var first = await PlanAndApplyAsync(staged, production, "t1", MissingOnly);

        Assert.Equal(["ticket_number=9"], result.SequencesMoved);
        // t1's tickets (1 to 3) are below where the sequence stands: it is not moved back.
        Assert.Empty(first.SequencesMoved);
        Assert.Equal(10L, await ScalarAsync<long>(production, """INSERT INTO "Ticket" ("tenantId", subject) VALUES ('t3', 'next') RETURNING number"""));
    }

    [Fact]
    public async Task A_deferrable_self_reference_with_a_cycle_of_managers_is_restored_in_one_statement()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """DELETE FROM "User" WHERE "tenantId" = 't2'""");

        var result = await PlanAndApplyAsync(staged, production, "t2", MissingOnly);

        Assert.Equal(3L, result.Writes.Single(w => w.Table == "User").Inserted);
        Assert.Equal(
            "t2-u1@example.com>t2-u2@example.com,t2-u2@example.com>t2-u1@example.com,t2-u3@example.com>t2-u1@example.com",
            await ScalarAsync<string>(production, """
                SELECT string_agg(u.email || '>' || m.email, ',' ORDER BY u.email) FROM "User" AS u JOIN "User" AS m ON m.id = u."managerId" WHERE u."tenantId" = 't2'
                """));
        Assert.Equal(await RowsAsync(staged, "User", "= 't2'"), await RowsAsync(production, "User", "= 't2'"));
    }

    [Fact]
    public async Task A_partitioned_tables_rows_go_back_into_their_partitions()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """DELETE FROM "Event" WHERE "tenantId" = 't2'""");

        var result = await PlanAndApplyAsync(staged, production, "t2", MissingOnly);

        Assert.Equal(4L, result.Writes.Single(w => w.Table == "Event").Inserted);
        Assert.DoesNotContain(result.Proof, p => p.Table.StartsWith("Event_", StringComparison.Ordinal));
        const string ByPartition = """
            SELECT string_agg(p || ' ' || n, ',' ORDER BY p) FROM (SELECT tableoid::regclass::text AS p, count(*) AS n FROM "Event" WHERE "tenantId" = 't2' GROUP BY 1) AS x
            """;
        Assert.Equal("\"Event_early\" 1,\"Event_late\" 3", await ScalarAsync<string>(production, ByPartition));
        Assert.Equal(await ScalarAsync<string>(staged, ByPartition), await ScalarAsync<string>(production, ByPartition));
        Assert.Equal(await RowsAsync(staged, "Event", "= 't2'"), await RowsAsync(production, "Event", "= 't2'"));
    }

    [Fact]
    public async Task A_materialized_view_with_a_unique_index_is_refreshed_concurrently_after_the_commit_and_one_without_is_named_stale()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """
            DELETE FROM "Event" WHERE "tenantId" = 't2';
            CREATE MATERIALIZED VIEW "EventCounts" AS SELECT "tenantId", count(*) AS n FROM "Event" GROUP BY 1;
            CREATE UNIQUE INDEX ON "EventCounts" ("tenantId");
            CREATE MATERIALIZED VIEW "EventTenants" AS SELECT "tenantId" FROM "Event";
            CREATE MATERIALIZED VIEW "Unpopulated" AS SELECT "tenantId" FROM "Event" WITH NO DATA;
            """);

        var result = await PlanAndApplyAsync(staged, production, "t2", MissingOnly);

        Assert.True(result.Proven);
        Assert.Equal(2, result.MaterializedViews.Count);
        Assert.Equal("EventCounts: refreshed", result.MaterializedViews[0]);
        Assert.StartsWith("EventTenants: stale: it has no unique index", result.MaterializedViews[1], StringComparison.Ordinal);
        Assert.Equal(4L, await ScalarAsync<long>(production, """SELECT n FROM "EventCounts" WHERE "tenantId" = 't2'"""));
        Assert.Equal(0L, await ScalarAsync<long>(production, """SELECT count(*) FROM "EventTenants" WHERE "tenantId" = 't2'"""));
    }

    [Fact]
    public async Task A_table_without_a_primary_key_gets_back_the_missing_copy_of_a_duplicate_row_and_exact_removes_a_row_created_after()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """
            DELETE FROM "LoginLog" WHERE ctid = (SELECT min(ctid) FROM "LoginLog" WHERE "tenantId" = 't2' AND note IS NOT NULL);
            INSERT INTO "LoginLog" VALUES ('t2', TIMESTAMPTZ '2026-03-01 00:00Z', '{"after": true}');
            """);

        var missingOnly = await PlanAndApplyAsync(staged, production, "t2", MissingOnly);

        Assert.Equal((1L, 0L, 0L), missingOnly.Writes.Where(w => w.Table == "LoginLog").Select(w => (w.Inserted, w.Updated, w.Deleted)).Single());
        Assert.Equal(3L, missingOnly.Proof.Single(p => p.Table == "LoginLog").Rows);
        Assert.Equal(2L, await ScalarAsync<long>(production, """SELECT count(*) FROM "LoginLog" WHERE "tenantId" = 't2' AND note = '{"ok": true}'"""));
        Assert.Equal(4L, await ScalarAsync<long>(production, """SELECT count(*) FROM "LoginLog" WHERE "tenantId" = 't2'"""));

        var exact = await PlanAndApplyAsync(staged, production, "t2", Exact);

        Assert.Equal((0L, 0L, 1L), exact.Writes.Where(w => w.Table == "LoginLog").Select(w => (w.Inserted, w.Updated, w.Deleted)).Single());
        Assert.Equal(await RowsAsync(staged, "LoginLog", "= 't2'"), await RowsAsync(production, "LoginLog", "= 't2'"));
        Assert.Equal(6L, await ScalarAsync<long>(production, """SELECT count(*) FROM "LoginLog" WHERE "tenantId" <> 't2'"""));
    }

    [Fact]
    public async Task The_tenant_table_keyed_by_id_comes_back_first_with_every_row_its_deletion_cascaded_to()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, """DELETE FROM "Tenant" WHERE id = 't2'""");
        Assert.Equal(0L, await ScalarAsync<long>(production, """SELECT count(*) FROM "ContactTag" AS x JOIN "Contact" AS c ON c.id = x."contactId" WHERE c."tenantId" = 't2'"""));
        Assert.Equal(0L, await ScalarAsync<long>(production, """SELECT count(*) FROM "Secret" WHERE "tenantId" = 't2'"""));

        var result = await PlanAndApplyAsync(staged, production, "t2", MissingOnly);

        Assert.Equal("Tenant", result.Writes[0].Table);
        Assert.Equal(1L, result.Writes[0].Inserted);
        Assert.Equal(await SnapshotAsync(staged, TenantRows, "= 't2'"), await SnapshotAsync(production, TenantRows, "= 't2'"));
        Assert.Equal(26L, result.Proof.Sum(p => p.Rows));
    }

    [Fact]
    public async Task Row_level_security_that_hides_rows_from_the_login_refuses_the_apply_and_a_login_with_bypassrls_applies()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var hidden = await RoleAsync([production, staged], bypassRls: false);
        var bypass = await RoleAsync([production, staged], bypassRls: true);
        var before = await HashesAsync(production);

        var asHidden = Restorer(hidden);
        var refusedPlan = await asHidden.PlanAsync(Databases(staged, production), "t2", MissingOnly, CancellationToken.None);
        var refused = await asHidden.ApplyAsync(Databases(staged, production), "t2", refusedPlan.Digest, MissingOnly, CancellationToken.None);

        Assert.Equal(TenantApplyOutcome.Refused, refused.Outcome);
        Assert.Contains("row-level security", refused.Plan.Tables.Single(t => t.Table == "Secret").Problem, StringComparison.Ordinal);
        Assert.Empty(before.Differences(await HashesAsync(production)));

        var asBypass = Restorer(bypass);
        var plan = await asBypass.PlanAsync(Databases(staged, production), "t2", MissingOnly, CancellationToken.None);
        var applied = await asBypass.ApplyAsync(Databases(staged, production), "t2", plan.Digest, MissingOnly, CancellationToken.None);

        Assert.Equal(TenantApplyOutcome.Applied, applied.Outcome);
        Assert.True(applied.Proven);
        Assert.Equal(1L, applied.Writes.Single(w => w.Table == "Secret").Inserted);
        Assert.Equal(await RowsAsync(staged, "Secret", "= 't2'"), await RowsAsync(production, "Secret", "= 't2'"));
    }

    [Fact]
    public async Task A_proof_fails_for_a_table_production_no_longer_matches_and_a_table_without_a_key_is_proven_as_contained_in_missing_only()
    {
        var (production, staged) = await StagedAsync();
        await ExecuteAsync(production, Damage);
        var applied = await PlanAndApplyAsync(staged, production, "t2", Exact);
        Assert.True(applied.Proven);
        Assert.All(applied.Proof, p => Assert.Matches("^[0-9a-f]{64}$", p.StagedDigest));

        // A row created after the restore point is allowed next to the staged rows in missing-only mode only.
        await ExecuteAsync(production, """INSERT INTO "LoginLog" VALUES ('t2', TIMESTAMPTZ '2026-04-01 00:00Z', NULL)""");
        var exact = await ProveAsync(staged, production, Exact);
        var missingOnly = await ProveAsync(staged, production, MissingOnly);
        Assert.Equal(["LoginLog"], exact.Where(p => !p.Equal).Select(p => p.Table));
        Assert.All(missingOnly, p => Assert.True(p.Equal, p.Table));

        // One copy of a duplicate row gone, one account changed: both modes see it.
        await ExecuteAsync(production, """
            DELETE FROM "LoginLog" WHERE ctid = (SELECT min(ctid) FROM "LoginLog" WHERE "tenantId" = 't2' AND note IS NOT NULL);
            UPDATE "Account" SET name = 'tampered' WHERE id = 't2-a2';
            """);
        foreach (var options in new[] { Exact, MissingOnly })
        {
            var proof = await ProveAsync(staged, production, options);
            Assert.Equal(["Account", "LoginLog"], proof.Where(p => !p.Equal).Select(p => p.Table).Order(StringComparer.Ordinal));
            Assert.Equal(2L, proof.Single(p => p.Table == "Account").Rows);
        }
    }

    [Fact]
    public async Task A_wrong_password_is_unreachable_with_a_message_that_does_not_hold_it()
    {
        var (production, staged) = await StagedAsync();
        var directory = postgres.CreateScratchDirectory("tenant");
        var login = DumpExports.Login(postgres, directory);
        var wrong = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        await File.WriteAllTextAsync(login.PasswordFile, wrong);

        var error = await Assert.ThrowsAsync<DatabaseUnreachableException>(() =>
            new PostgresTenantRestorer(login).ApplyAsync(Databases(staged, production), "t2", new string('0', 64), MissingOnly, CancellationToken.None));

        Assert.Contains("28P01", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password(), error.Message, StringComparison.Ordinal);
    }

    private async Task<TenantApplyResult> PlanAndApplyAsync(string staged, string production, string tenant, TenantPlanOptions options)
    {
        var restorer = Restorer();
        var plan = await restorer.PlanAsync(Databases(staged, production), tenant, options, CancellationToken.None);
        Assert.True(plan.CanApply, Problems(plan));
        var result = await restorer.ApplyAsync(Databases(staged, production), tenant, plan.Digest, options, CancellationToken.None);
        Assert.Equal(TenantApplyOutcome.Applied, result.Outcome);
        Assert.True(result.Proven, string.Join("; ", result.Proof.Where(p => !p.Equal).Select(p => p.Table)));
        return result;
    }

    /// <summary>The proof alone, as the apply runs it after its commit (no row left alone).</summary>
    private static async Task<IReadOnlyList<TableProof>> ProveAsync(string staged, string production, TenantPlanOptions options)
    {
        await using var source = new NpgsqlConnection(Unpooled(staged));
        await using var target = new NpgsqlConnection(Unpooled(production));
        await source.OpenAsync();
        await target.OpenAsync();
        var shape = await TenantClosure.DiscoverAsync(target, options.TenantColumn, CancellationToken.None);
        return await TenantProof.ProveAsync(source, target, shape, "t2", options, new Dictionary<string, string>(), CancellationToken.None);
    }

    /// <summary>
    /// Polls <c>pg_stat_activity</c> until the restorer's session on <paramref name="production"/>
    /// waits for a lock; returns its process id and the processes it waits for. Fails if the apply
    /// ends first or nothing waits within a minute.
    /// </summary>
    private static async Task<(int Pid, int[] Blockers)> WaitUntilWaitingAsync(string production, Task apply)
    {
        var database = DumpExports.DatabaseOf(production);
        await using var connection = new NpgsqlConnection(Unpooled(production));
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            if (apply.IsCompleted)
            {
                await apply;
                Assert.Fail("the apply ended without waiting for the lock");
            }
            await using var command = new NpgsqlCommand("""
                SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity
                WHERE application_name = $1 AND datname = $2 AND wait_event_type = 'Lock'
                """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = PostgresTenantRestorer.ApplicationName });
            command.Parameters.Add(new NpgsqlParameter { Value = database });
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                return (reader.GetInt32(0), reader.GetFieldValue<int[]>(1));
            }
        }
        throw new TimeoutException("the apply did not wait for the lock within a minute");
    }

    private static string Unpooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    private static async Task ExecuteOnAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A login role for both databases: every table and sequence privilege, not the tables' owner.</summary>
    private async Task<DatabaseLoginOptions> RoleAsync(string[] databases, bool bypassRls)
    {
        var role = $"restorer_{Guid.NewGuid():N}"[..20];
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await ExecuteAsync(postgres.ConnectionString(), $"""CREATE ROLE "{role}" LOGIN {(bypassRls ? "BYPASSRLS" : "")} PASSWORD '{password}'""");
        foreach (var database in databases)
        {
            await ExecuteAsync(database, $"""
                GRANT CONNECT, TEMPORARY ON DATABASE "{DumpExports.DatabaseOf(database)}" TO "{role}";
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}";
                GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}";
                """);
        }
        var directory = postgres.CreateScratchDirectory("role");
        var passwordFile = Path.Combine(directory, "password");
        OwnerOnly.WriteNewFile(passwordFile, password);
        return new DatabaseLoginOptions { User = role, PasswordFile = passwordFile };
    }

    private PostgresTenantRestorer Restorer(DatabaseLoginOptions? login = null) =>
        new(login ?? DumpExports.Login(postgres, postgres.CreateScratchDirectory("tenant")));

    private TenantDatabases Databases(string staged, string production) =>
        new(DumpExports.Instance(postgres), DumpExports.DatabaseOf(staged), DumpExports.Instance(postgres), DumpExports.DatabaseOf(production));

    private string Password() => new NpgsqlConnectionStringBuilder(postgres.ConnectionString()).Password!;

    private static string Problems(TenantPlan plan) =>
        string.Join("; ", plan.Problems.Concat(plan.Tables.Where(t => t.Problem is not null).Select(t => $"{t.Table}: {t.Problem}")));

    private static async Task<TableHashes> HashesAsync(string connectionString)
    {
        await using var dataSource = DataSource(connectionString);
        return await TableHashes.ComputeAsync(dataSource);
    }

    /// <summary>Every sequence of the database and where it stands.</summary>
    private static Task<string> SequencesAsync(string connectionString) =>
        ScalarAsync<string>(connectionString, "SELECT string_agg(sequencename || '=' || COALESCE(last_value::text, '-'), ',' ORDER BY sequencename) FROM pg_sequences");

    /// <summary>The demo's tables with the tenant column, and the tenant table.</summary>
    private static Dictionary<string, string> DemoRows()
    {
        var rows = DemoDatabase.BusinessTables.ToDictionary(t => t, t => $"SELECT x::text FROM \"{t}\" AS x WHERE \"tenantId\" {{0}}");
        rows[DemoDatabase.TenantTable] = """SELECT x::text FROM "Tenant" AS x WHERE id {0}""";
        return rows;
    }

    /// <summary>Per table, the md5 of its selected rows' texts in sorted order, and their count.</summary>
    private static async Task<Dictionary<string, string>> SnapshotAsync(string connectionString, Dictionary<string, string> tables, string condition)
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (table, sql) in tables)
        {
            snapshot[table] = await ScalarAsync<string>(connectionString, $"""
                SELECT count(*) || ' ' || COALESCE(md5(string_agg(r, E'\n' ORDER BY r)), '-')
                FROM ({string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, condition)}) AS q(r)
                """);
        }
        return snapshot;
    }

    private static async Task<string> RowsAsync(string connectionString, string table, string condition) =>
        (await SnapshotAsync(connectionString, new Dictionary<string, string> { [table] = TenantRows[table] }, condition))[table];

    /// <summary>Production with <see cref="Schema"/> (then <paramref name="change"/>), and its copy as the staged restore.</summary>
    private async Task<(string Production, string Staged)> StagedAsync(string? change = null)
    {
        var production = await postgres.CreateDatabaseAsync("tenant");
        await ExecuteAsync(production, Schema + (change ?? ""));
        return (production, await CopyAsync(production));
    }

    /// <summary>A copy of the database (no connection may be open on it).</summary>
    private async Task<string> CopyAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        var name = $"staged_{Guid.NewGuid():N}"[..30];
        await ExecuteAsync(postgres.ConnectionString(), $"CREATE DATABASE \"{name}\" TEMPLATE \"{DumpExports.DatabaseOf(connectionString)}\"");
        return postgres.ConnectionString(name);
    }
}
