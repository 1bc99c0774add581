using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests.Dumps;

/// <summary>
/// One source database (the Tiny demo plus what dumps print in unusual ways: a partitioned table,
/// bytea, awkward text, a large object, populated and unpopulated materialized views, comments, a
/// sequence drawn by a plain nextval default, an empty table, a name with spaces and quotes) and
/// the same database exported by real pg_dump in the four formats into a local bucket, as the
/// local cloud's export writes them. Built once per test cluster; read-only for the tests, which
/// copy an object before damaging it.
/// </summary>
internal static class DumpExports
{
    public const string Bucket = "dumps";
    public const string Plain = "backups/source.sql";
    public const string Gzip = "backups/source.sql.gz";
    public const string Custom = "backups/source.dump";
    public const string DirectoryExport = "backups/source";

    /// <summary>Rows of the big table: its COPY text alone is far more than a pipe holds (64 KiB).</summary>
    public const int BigRows = 20_000;

    private static readonly ConditionalWeakTable<TestPostgres, Lazy<Task<Exports>>> Built = [];

    public sealed record Exports(string SourceConnection, string StateDirectory, LocalBackupStore Store, PostgresBinaries Tools)
    {
        public string BucketDirectory => Path.Combine(StateDirectory, "buckets", Bucket);

        /// <summary>An object's file in the bucket directory.</summary>
        public string PathOf(string objectName) => Path.Combine(BucketDirectory, objectName);
    }

    public static Task<Exports> GetAsync(TestPostgres postgres) =>
        Built.GetValue(postgres, p => new Lazy<Task<Exports>>(() => BuildAsync(p))).Value;

    /// <summary>The login the functions would use, as the cluster's superuser, with its password in a file.</summary>
    public static DatabaseLoginOptions Login(TestPostgres postgres, string directory)
    {
        var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString());
        var passwordFile = Path.Combine(directory, "password");
        File.WriteAllText(passwordFile, builder.Password + "\n");
        return new DatabaseLoginOptions { User = builder.Username!, PasswordFile = passwordFile };
    }

    /// <summary>The test cluster as a Cloud SQL instance reached by its IP address.</summary>
    public static DatabaseInstance Instance(TestPostgres postgres) => new()
    {
        Name = "source",
        IpAddresses = [new IpMapping { IpAddress = postgres.Cluster.Layout.ListenAddress, Type = "PRIMARY" }],
    };

    public static string DatabaseOf(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    /// <summary>A client program aimed at one database, in UTC; the password travels in PGPASSWORD (test code only).</summary>
    public static ExternalProcess Tool(TestPostgres postgres, string program, string connectionString, params string[] arguments) =>
        VerificationRestores.ToolInZone(postgres, program, connectionString, "UTC", arguments);

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<Exports> BuildAsync(TestPostgres postgres)
    {
        var source = await DemoTemplates.CloneAsync(postgres, DemoDatabaseOptions.Tiny);
        await ExecuteAsync(source, $"""
            CREATE TABLE "Measurement" ("tenantId" text NOT NULL, day date NOT NULL, amount numeric(12,2), payload bytea) PARTITION BY RANGE (day);
            CREATE TABLE "Measurement_2026a" PARTITION OF "Measurement" FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
            CREATE TABLE "Measurement_2026b" PARTITION OF "Measurement" FOR VALUES FROM ('2026-07-01') TO ('2027-01-01');
            INSERT INTO "Measurement" SELECT 't' || (i % 3), date '2026-01-01' + (i % 360), i * 1.25, CASE WHEN i % 7 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END
              FROM generate_series(1, 2000) i;
            CREATE SEQUENCE plain_counter;
            CREATE TABLE "Ticket" (id bigint DEFAULT nextval('plain_counter') PRIMARY KEY, note text, at timestamptz);
            INSERT INTO "Ticket" (note, at) SELECT CASE i % 4 WHEN 0 THEN E'tab\there' WHEN 1 THEN E'line\nbreak \\ backslash' WHEN 2 THEN 'ünïcødé ✓' ELSE NULL END,
              timestamptz '2026-03-01 12:00:00+00' + i * interval '17 minutes' FROM generate_series(1, 500) i;
            CREATE TABLE big (id int PRIMARY KEY, label text);
            INSERT INTO big SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, {BigRows}) i;
            CREATE TABLE "Odd ""name"" here" (v int);
            INSERT INTO "Odd ""name"" here" VALUES (1), (2), (2);
            CREATE TABLE nothing_here (v int);
            CREATE MATERIALIZED VIEW ticket_count AS SELECT count(*) AS n FROM "Ticket";
            CREATE MATERIALIZED VIEW ticket_later AS SELECT id FROM "Ticket" WITH NO DATA;
            COMMENT ON TABLE "Ticket" IS 'support tickets';
            COMMENT ON COLUMN "Ticket".note IS 'free text';
            SELECT lo_from_bytea(0, convert_to(repeat('large object ', 100), 'UTF8'));
            ANALYZE;
            """);

        var state = postgres.CreateScratchDirectory("exports");
        var paths = new BucketPaths(state);
        paths.Prepare();
        var backups = Path.Combine(paths.BucketDirectory(Bucket), "backups");
        paths.CreatePrivateDirectory(backups);
        var exports = new Exports(source, state, new LocalBackupStore(paths, Bucket), PostgresBinaries.LocateClient());

        await Tool(postgres, "pg_dump", source, "--file", exports.PathOf(Plain)).RunAsync();
        await using (var plain = File.OpenRead(exports.PathOf(Plain)))
        await using (var gzipFile = File.Create(exports.PathOf(Gzip)))
        await using (var gzip = new GZipStream(gzipFile, CompressionLevel.Fastest))
        {
            await plain.CopyToAsync(gzip);
        }
        await Tool(postgres, "pg_dump", source, "--format=custom", "--file", exports.PathOf(Custom)).RunAsync();
        await Tool(postgres, "pg_dump", source, "--format=directory", "--jobs=2", "--file", exports.PathOf(DirectoryExport)).RunAsync();
        BucketPaths.Restrict(paths.Root);
        return exports;
    }
}
