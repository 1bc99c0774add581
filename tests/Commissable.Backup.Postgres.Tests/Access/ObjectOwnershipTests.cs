using Commissable.Backup.Core.Databases;
using Commissable.Backup.Postgres.Access;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests.Access;

/// <summary>
/// The app user made the owner of a restored database's objects, by an admin that is not a
/// superuser (as Cloud SQL's <c>postgres</c>: <c>CREATEDB CREATEROLE</c>, no <c>SUPERUSER</c>), and
/// proven by what only an owner may do, done as the app user.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ObjectOwnershipTests(TestPostgres postgres)
{
    private const string Password = "owner-test-pw-3c9d";

    /// <summary>Every kind of object a Prisma database holds, and some it might, made by the admin in its own new database.</summary>
    private const string Schema = """
        CREATE EXTENSION citext;
        CREATE SCHEMA billing;
        CREATE SCHEMA "we""ird schema";
        CREATE TYPE "Status" AS ENUM ('open', 'closed');
        CREATE DOMAIN billing.positive AS integer CHECK (VALUE > 0);
        CREATE TYPE billing.span AS RANGE (subtype = integer);
        CREATE TYPE billing.money_pair AS (amount numeric, currency text);
        CREATE TABLE "Account" (id serial PRIMARY KEY, "tenantId" text NOT NULL, email citext, status "Status" NOT NULL DEFAULT 'open');
        CREATE TABLE billing."Invoice" (id bigint GENERATED ALWAYS AS IDENTITY, "tenantId" text NOT NULL, amount billing.positive,
            issued date NOT NULL, PRIMARY KEY (id, issued)) PARTITION BY RANGE (issued);
        CREATE TABLE billing."Invoice_2025" PARTITION OF billing."Invoice" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE billing."Invoice_2026" PARTITION OF billing."Invoice" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE SEQUENCE "invoice_numbers";
        CREATE TABLE "we""ird schema"."Mixed Case""T" (v text);
        CREATE VIEW "OpenAccounts" AS SELECT id, email FROM "Account" WHERE status = 'open';
        CREATE MATERIALIZED VIEW "AccountCounts" AS SELECT "tenantId", count(*) AS n FROM "Account" GROUP BY "tenantId";
        CREATE FUNCTION billing.total(text) RETURNS numeric LANGUAGE sql AS $$ SELECT sum(amount) FROM billing."Invoice" WHERE "tenantId" = $1 $$;
        CREATE PROCEDURE billing.close_all() LANGUAGE sql AS $$ UPDATE "Account" SET status = 'closed' $$;
        CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
            migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),
            applied_steps_count integer NOT NULL DEFAULT 0);
        INSERT INTO "Account" ("tenantId", email) VALUES ('t1', 'a@example.com'), ('t2', 'b@example.com');
        INSERT INTO billing."Invoice" ("tenantId", amount, issued) VALUES ('t1', 5, '2025-03-01'), ('t2', 7, '2026-03-01');
        REFRESH MATERIALIZED VIEW "AccountCounts";
        """;

    /// <summary>Objects of the database's own schemas (extension members left out) and their owners.</summary>
    private const string Owners = """
        SELECT kind, name, owner FROM (
            SELECT 'schema' AS kind, n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner, n.oid AS oid, 'pg_namespace'::regclass AS cls
            FROM pg_namespace n WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
            UNION ALL
            SELECT c.relkind::text, n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner)::text, c.oid, 'pg_class'::regclass
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'c')
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, pg_get_userbyid(p.proowner)::text, p.oid, 'pg_proc'::regclass
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT 'type ' || t.typtype::text, n.nspname || '.' || t.typname, pg_get_userbyid(t.typowner)::text, t.oid, 'pg_type'::regclass
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
        ) o
        -- Extension members stay the extension's; what is part of another object (citext's array
        -- type, a range's constructors) is not an object of its own.
        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.cls AND d.objid = o.oid AND d.deptype IN ('e', 'i'))
        ORDER BY 1, 2
        """;

    private async Task<(string Admin, string App, string Database)> PrepareAsync(string suffix, string adminAttributes = "CREATEDB CREATEROLE")
    {
        var (admin, app, database) = ($"cloud_admin_{suffix}", $"crm_app_{suffix}", $"restored_{suffix}");
        await VerificationRestores.ExecuteAsync(postgres.ConnectionString(), $"CREATE ROLE {admin} LOGIN NOSUPERUSER {adminAttributes} PASSWORD '{Password}'");
        if (adminAttributes.Contains("CREATEDB", StringComparison.Ordinal))
        {
            await VerificationRestores.ExecuteAsync(AdminOn("postgres", admin), $"CREATE DATABASE {database}");
        }
        else
        {
            await VerificationRestores.ExecuteAsync(postgres.ConnectionString(), $"CREATE DATABASE {database} OWNER {admin}");
        }
        // The app's login is created by the superuser, as the Cloud SQL users API does: the admin is not its creator.
        await VerificationRestores.ExecuteAsync(postgres.ConnectionString(), $"CREATE ROLE {app} LOGIN PASSWORD '{Password}'");
        await VerificationRestores.ExecuteAsync(AdminOn(database, admin), Schema);
        return (admin, app, database);
    }

    private string AdminOn(string database, string admin) => postgres.Cluster.ConnectionString(admin, Password, database);

    private static async Task<List<(string Kind, string Name, string Owner)>> OwnersAsync(string connectionString)
    {
        var rows = new List<(string, string, string)>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(Owners, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }
        return rows;
    }

    private static async Task<OwnershipTransfer> TransferAsync(string connectionString, string app)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return await ObjectOwnership.TransferAsync(connection, app);
    }

    /// <summary>What a migration does that only an owner may: each statement alone, so the first refusal shows which.</summary>
    private static readonly string[] OwnerOnly =
    [
        "ALTER TABLE \"Account\" ADD COLUMN \"phone\" text",
        "ALTER SEQUENCE \"Account_id_seq\" RESTART WITH 50",
        "CREATE INDEX \"Account_email_idx\" ON \"Account\" (email)",
        "REFRESH MATERIALIZED VIEW \"AccountCounts\"",
        "ALTER TABLE billing.\"Invoice\" ADD COLUMN note text",
        "ALTER TABLE billing.\"Invoice_2025\" ADD CONSTRAINT small CHECK (amount < 1000)",
        "ALTER TYPE \"Status\" ADD VALUE 'archived'",
        "CREATE OR REPLACE VIEW \"OpenAccounts\" AS SELECT id, email, \"tenantId\" FROM \"Account\" WHERE status = 'open'",
        "ALTER FUNCTION billing.total(text) STABLE",
        "ALTER SEQUENCE invoice_numbers RESTART WITH 100",
        "ALTER TABLE \"we\"\"ird schema\".\"Mixed Case\"\"T\" ADD COLUMN w int",
    ];

    [Fact]
    public async Task A_non_superuser_admin_makes_the_app_user_own_every_object_so_it_can_migrate_and_a_second_call_changes_nothing()
    {
        var (admin, app, database) = await PrepareAsync("own");
        var asApp = postgres.Cluster.ConnectionString(app, Password, database);
        await VerificationRestores.ExecuteAsync(AdminOn(database, admin), $"GRANT USAGE, CREATE ON SCHEMA public, billing, \"we\"\"ird schema\" TO {app}");

        // Before: the app user may use the schemas but owns nothing, so the first owner-only statement is refused.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => VerificationRestores.ExecuteAsync(asApp, OwnerOnly[0]));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.Contains("must be owner", refused.MessageText, StringComparison.Ordinal);
        const string CitextOwner = "SELECT pg_get_userbyid(typowner)::text FROM pg_type WHERE typname = 'citext'";
        var citextOwner = await VerificationRestores.ScalarAsync<string>(AdminOn(database, admin), CitextOwner);
        Assert.NotEqual(app, citextOwner);

        var transfer = await TransferAsync(AdminOn(database, admin), app);

        Assert.True(transfer.MembershipGranted);
        Assert.Equal($"GRANT {app} TO {admin}", transfer.Statements[0]);
        Assert.Contains($"GRANT CREATE ON DATABASE {database} TO {app}", transfer.Statements);
        Assert.Contains($"ALTER TABLE \"we\"\"ird schema\".\"Mixed Case\"\"T\" OWNER TO {app}", transfer.Statements);
        Assert.Contains($"ALTER ROUTINE billing.total(text) OWNER TO {app}", transfer.Statements);
        Assert.Equal(3, transfer.Objects["schema"]);
        Assert.Equal(2, transfer.Objects["partition"]);
        Assert.Equal(1, transfer.Objects["view"]);
        Assert.Equal(1, transfer.Objects["materialized view"]);
        Assert.Equal(1, transfer.Objects["sequence"]);
        Assert.Equal(2, transfer.Objects["routine"]);
        Assert.Equal(5, transfer.Objects["type"]);

        // Every object (extension members aside) now has the app user as owner: the tables' own
        // sequences, indexes and row types followed their tables.
        var owners = await OwnersAsync(AdminOn(database, admin));
        Assert.All(owners, o => Assert.True(o.Owner == app, $"{o.Kind} {o.Name} is owned by {o.Owner}"));
        Assert.Contains(owners, o => o is { Kind: "S", Name: "public.Account_id_seq" });
        Assert.Contains(owners, o => o is { Kind: "S", Name: "public.invoice_numbers" });
        Assert.Equal(app, await VerificationRestores.ScalarAsync<string>(AdminOn(database, admin),
            "SELECT pg_get_userbyid(typowner)::text FROM pg_type WHERE typname = 'span_multirange'"));
        // The extension's objects stay as the extension made them.
        Assert.Equal(citextOwner, await VerificationRestores.ScalarAsync<string>(AdminOn(database, admin), CitextOwner));

        // As the app user, what a migration does now works, a prisma migrate deploy-shaped one included.
        foreach (var statement in OwnerOnly)
        {
            await VerificationRestores.ExecuteAsync(asApp, statement);
        }
        await VerificationRestores.ExecuteAsync(asApp, """
            BEGIN;
            ALTER TABLE "Account" ADD COLUMN "lastSeen" timestamptz;
            INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
            VALUES ('0b0e7c1e-0000-4000-8000-000000000001', 'c0ffee', '20260101000000_add_last_seen', now(), 1);
            COMMIT;
            """);
        Assert.Equal(1L, await VerificationRestores.ScalarAsync<long>(asApp, "SELECT count(*) FROM \"_prisma_migrations\""));

        // The admin kept the membership it granted itself, so it still reads what the app user owns.
        Assert.Equal(2L, await VerificationRestores.ScalarAsync<long>(AdminOn(database, admin), "SELECT count(*) FROM billing.\"Invoice\""));

        var again = await TransferAsync(AdminOn(database, admin), app);
        Assert.False(again.MembershipGranted);
        Assert.Empty(again.Statements);
        Assert.Equal(0, again.Total);
        Assert.Contains("already owns every object", again.Summary(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_that_may_not_make_itself_a_member_of_the_app_user_is_refused_and_nothing_changes()
    {
        // Owns the database and everything in it, but has no CREATEROLE: it cannot grant itself the app user's role.
        var (admin, app, database) = await PrepareAsync("weak", adminAttributes: "");
        var before = await OwnersAsync(AdminOn(database, admin));

        var refused = await Assert.ThrowsAsync<AppUserGrantException>(() => TransferAsync(AdminOn(database, admin), app));

        Assert.Equal(AppUserGrantFailure.NotPermitted, refused.Failure);
        Assert.Contains($"is not a member of the role '{app}' and may not make itself one", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, await OwnersAsync(AdminOn(database, admin)));
        Assert.False(await VerificationRestores.ScalarAsync<bool>(postgres.ConnectionString(), $"SELECT pg_has_role('{admin}', '{app}', 'MEMBER')"));
    }

    [Fact]
    public async Task A_missing_or_reserved_role_is_refused_before_anything_changes()
    {
        var (admin, _, database) = await PrepareAsync("bad");

        var missing = await Assert.ThrowsAsync<AppUserGrantException>(() => TransferAsync(AdminOn(database, admin), "nobody_here"));
        Assert.Equal(AppUserGrantFailure.UserNotFound, missing.Failure);
        await Assert.ThrowsAsync<ArgumentException>(() => TransferAsync(AdminOn(database, admin), "postgres"));
        await Assert.ThrowsAsync<ArgumentException>(() => TransferAsync(AdminOn(database, admin), "cloudsqlsuperuser"));
        await Assert.ThrowsAsync<ArgumentException>(() => TransferAsync(AdminOn(database, admin), "app\"; DROP TABLE x; --"));
        Assert.All(await OwnersAsync(AdminOn(database, admin)), o => Assert.Equal(o.Name == "public" ? "pg_database_owner" : admin, o.Owner));
    }
}
