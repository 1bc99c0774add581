using System.Text.Json.Nodes;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Commissable.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Commissable.Functions.Tests.Completion;

/// <summary>
/// The functions against a local cloud with one instance <c>prod</c> (backups and PITR on) holding
/// a small tenant database <see cref="SourceDatabase"/>, and the real local backup store. The
/// database is dumped once, for every test to copy into the backup bucket under its own name: by
/// the local cloud's export (plain SQL, gzip, and a parallel export's directory format, so toc.dat
/// and the data files are pg_dump's own) and by <c>pg_dump --format=custom</c>. Its row counts are
/// read from the database itself, for the recorded content manifests to be compared with.
/// </summary>
public sealed class CompletionEnvironment : LocalFunctionsEnvironment, IAsyncLifetime
{
    public const string SourceDatabase = "crm";
    public const string TenantColumn = "tenantId";

    /// <summary>Where the fixture's exports go: another bucket, so the backup bucket holds only what a test writes.</summary>
    private const string FixtureBucket = "completion-fixtures";

    private const string Schema = """
        CREATE TABLE "Tenant" (id text PRIMARY KEY, name text NOT NULL);
        CREATE TABLE "Contact" (id bigserial PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant" (id), email text, created timestamptz NOT NULL);
        CREATE TABLE invoice_line (id serial PRIMARY KEY, "tenantId" text NOT NULL REFERENCES "Tenant" (id), amount numeric(12,2), note text);
        CREATE TABLE audit_note (at timestamptz NOT NULL, body text);
        INSERT INTO "Tenant" VALUES ('t-alpha', 'Alpha'), ('t-beta', 'Beta'), ('t-gamma', 'Gamma');
        INSERT INTO "Contact" ("tenantId", email, created)
          SELECT CASE i % 3 WHEN 0 THEN 't-alpha' WHEN 1 THEN 't-beta' ELSE 't-alpha' END, 'c' || i || '@example.com',
                 timestamptz '2026-01-01 00:00:00+00' + i * interval '97 minutes'
          FROM generate_series(1, 130) i;
        INSERT INTO invoice_line ("tenantId", amount, note)
          SELECT CASE WHEN i <= 40 THEN 't-gamma' ELSE 't-beta' END, i * 1.25, CASE WHEN i % 5 = 0 THEN NULL ELSE E'line\t' || i END
          FROM generate_series(1, 57) i;
        INSERT INTO audit_note SELECT timestamptz '2026-02-01 00:00:00+00' + i * interval '1 day', 'note ' || i FROM generate_series(1, 9) i;
        """;

    public IBackupStore Store => Services.GetRequiredService<IBackupStore>();
    public BackupCatalog Catalog => Services.GetRequiredService<BackupCatalog>();

    /// <summary>The local cloud's plain SQL export of <see cref="SourceDatabase"/>.</summary>
    public byte[] PlainDump { get; private set; } = [];

    /// <summary>The local cloud's gzip export of <see cref="SourceDatabase"/> (a <c>.sql.gz</c> URI).</summary>
    public byte[] GzipDump { get; private set; } = [];

    /// <summary><c>pg_dump --format=custom</c> of <see cref="SourceDatabase"/> (the strategy's <c>.dump</c>).</summary>
    public byte[] CustomDump { get; private set; } = [];

    /// <summary>The files of the local cloud's parallel export (pg_dump's directory format), by name inside the directory; <c>toc.dat</c> last.</summary>
    public IReadOnlyList<(string File, byte[] Bytes)> DirectoryDump { get; private set; } = [];

    /// <summary>Rows per table of <see cref="SourceDatabase"/>, named as pg_dump names them (<c>public."Contact"</c>).</summary>
    public IReadOnlyDictionary<string, long> SourceRows { get; private set; } = new Dictionary<string, long>();

    /// <summary>Rows per table and tenant, for the tables with <see cref="TenantColumn"/>.</summary>
    public IReadOnlyDictionary<(string Table, string Tenant), long> SourceTenantRows { get; private set; } = new Dictionary<(string, string), long>();

    private string? _tenantRestorePasswordFile;

    /// <summary>tenant-restore configured (the instances' postgres login): without it every request is a 503, and the bad-input table checks its 4xx.</summary>
    protected override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            // The jobs configured, with no Workflow Executions API behind them: no malformed request may
            // get as far as starting a workflow (one that did would be a 503, which the table refuses).
            var settings = Commissable.Functions.Tests.DataManagement.DataManagementJobsTests.JobVariables();
            settings[Commissable.Functions.DataManagement.DataManagementVariables.ExecutionsEndpoint] = "http://127.0.0.1:9/";
            settings["TENANT_RESTORE_DB_USER"] = "postgres";
            settings["TENANT_RESTORE_DB_PASSWORD_FILE"] = _tenantRestorePasswordFile;
            foreach (var (name, value) in Commissable.Testing.TestTokens.Shared.Variables()) settings[name] = value;
            return settings;
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (_tenantRestorePasswordFile is not null) File.Delete(_tenantRestorePasswordFile);
    }

    protected override async Task PrepareAsync()
    {
        _tenantRestorePasswordFile = LocalFunctions.WritePasswordFile();
        await Cloud.CreateInstanceAsync("prod");
        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api("instances/prod/databases"), $$"""{"name":"{{SourceDatabase}}"}""");
        var connection = await Cloud.ConnectionStringAsync("prod", SourceDatabase);
        await Sql.ExecuteAsync(connection, Schema);
        await ReadSourceRowsAsync(connection);

        PlainDump = await File.ReadAllBytesAsync(await ExportAsync("crm.sql", parallel: false));
        GzipDump = await File.ReadAllBytesAsync(await ExportAsync("crm.sql.gz", parallel: false));
        var directory = await ExportAsync("crm-parallel", parallel: true);
        var files = new List<(string, byte[])>();
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            files.Add((Path.GetRelativePath(directory, file).Replace('\\', '/'), await File.ReadAllBytesAsync(file)));
        }
        // pg_dump writes the table of contents last; the completion function waits for it.
        DirectoryDump = [.. files.OrderBy(f => f.Item1 == "toc.dat")];
        CustomDump = await SourceDumps.CustomFormatAsync(Cloud, "prod", SourceDatabase);
    }

    /// <summary>Exports <see cref="SourceDatabase"/> through the local cloud's Cloud SQL API; returns the local path of what it wrote.</summary>
    private async Task<string> ExportAsync(string objectName, bool parallel)
    {
        var context = new JsonObject
        {
            ["kind"] = "sql#exportContext",
            ["fileType"] = "SQL",
            ["uri"] = $"gs://{FixtureBucket}/{objectName}",
            ["databases"] = new JsonArray(SourceDatabase),
        };
        if (parallel)
        {
            context["sqlExportOptions"] = new JsonObject { ["parallel"] = true, ["threads"] = 2 };
        }
        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api("instances/prod/export"), new JsonObject { ["exportContext"] = context }.ToJsonString());
        return Path.Combine(Cloud.StateDirectory, "buckets", FixtureBucket, objectName);
    }

    private async Task ReadSourceRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<(string Name, bool Tenanted)>();
        await using (var command = new NpgsqlCommand("""
            SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname = 'public'
            """, connection))
        {
            command.Parameters.AddWithValue(TenantColumn);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add((reader.GetString(0), reader.GetBoolean(1)));
            }
        }
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        var tenantRows = new Dictionary<(string, string), long>();
        foreach (var (table, tenanted) in tables)
        {
            // The names come from quote_ident: safe to put in the statement as they are.
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            rows[table] = (long)(await count.ExecuteScalarAsync())!;
            if (tenanted)
            {
                await using var perTenant = new NpgsqlCommand($"""SELECT "{TenantColumn}", count(*) FROM {table} GROUP BY 1""", connection);
                await using var reader = await perTenant.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    tenantRows[(table, reader.GetString(0))] = reader.GetInt64(1);
                }
            }
        }
        SourceRows = rows;
        SourceTenantRows = tenantRows;
    }
}
