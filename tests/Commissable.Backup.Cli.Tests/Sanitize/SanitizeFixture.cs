using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Processes;
using Commissable.Testing;
using Npgsql;

namespace Commissable.Backup.Cli.Tests.Sanitize;

/// <summary>
/// One local cloud instance (a real PostgreSQL cluster) holding the Tiny demo CRM as the source of
/// the sanitize tests, its custom-format dump, and a second small database whose column names look
/// harmless while its values are e-mail addresses and phone numbers. The instance is also the
/// scratch server (<see cref="ScratchUrl"/>) and where the tests restore the masked copies.
/// </summary>
public sealed class SanitizeFixture : IAsyncLifetime
{
    public const string Instance = "sanitize-src";
    public const string Password = "root-pw";

    public LocalCloudFixture Cloud { get; } = new();
    public PostgresBinaries Tools { get; } = PostgresBinaries.LocateClient();
    public string Work { get; } = Directory.CreateTempSubdirectory("sanitize-tests-").FullName;
    public string Address { get; private set; } = "";

    /// <summary>The demo CRM's dump (custom format).</summary>
    public string DemoDump => Path.Combine(Work, "demo.dump");

    /// <summary>A dump whose columns' names look harmless and whose values are personal.</summary>
    public string LeadsDump => Path.Combine(Work, "leads.dump");

    /// <summary>The scratch server's URL (its password is the test instance's).</summary>
    public string ScratchUrl => $"postgresql://postgres:{Password}@{Address}:5432/postgres";

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = Address, Port = 5432, Username = "postgres", Password = Password, Database = database, Pooling = false,
    }.ConnectionString;

    public async Task InitializeAsync()
    {
        await Cloud.InitializeAsync();
        await Cloud.CreateInstanceAsync(Instance, pitr: false, rootPassword: Password);
        Address = await Cloud.AddressOfAsync(Instance);
        await ExecuteAsync("postgres", "CREATE DATABASE crm");
        await DemoDatabase.CreateAsync(ConnectionString("crm"), DemoDatabaseOptions.Tiny);
        // Three contacts with the address of a user of the same tenant, in capitals: one person in
        // two tables, which the masked copy must still show as one.
        await ExecuteAsync("crm", """
            INSERT INTO "Contact" (id, "tenantId", "accountId", "firstName", "lastName", email, "updatedAt")
            SELECT 'cdup' || u.id, u."tenantId", (SELECT a.id FROM "Account" a WHERE a."tenantId" = u."tenantId" ORDER BY a.id LIMIT 1),
                   'Dup', 'Licate', upper(u.email), timestamp '2025-01-01'
            FROM (SELECT * FROM "User" ORDER BY id LIMIT 3) u
            """);
        await DumpAsync("crm", DemoDump);

        await ExecuteAsync("postgres", "CREATE DATABASE leads");
        await ExecuteAsync("leads", """
            CREATE TABLE "Lead" (id integer PRIMARY KEY, handle text, reference text, source text);
            INSERT INTO "Lead" SELECT i, 'lead' || i || '@prospects.example.net', '+44 20 7946 ' || lpad(i::text, 4, '0'), 'web' FROM generate_series(1, 50) i;
            """);
        await DumpAsync("leads", LeadsDump);
    }

    public async Task DisposeAsync()
    {
        await Cloud.DisposeAsync();
        Directory.Delete(Work, recursive: true);
    }

    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<List<object?[]>> QueryAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A client program against the instance (test code: the password travels in PGPASSWORD).</summary>
    public ExternalProcess Tool(string program, params string[] arguments) => new()
    {
        FileName = Tools.Path(program),
        Arguments = ["-h", Address, "-p", "5432", "-U", "postgres", .. arguments],
        Environment = new Dictionary<string, string> { ["PGPASSWORD"] = Password, ["PGTZ"] = "UTC" },
        InheritPostgresVariables = false,
    };

    private async Task DumpAsync(string database, string file) => await Tool("pg_dump", "--format=custom", "--file", file, database).RunAsync();

    /// <summary>The SQL text of a dump file (pg_restore -f -).</summary>
    public Task<string> TextOfAsync(string dump) => new ExternalProcess { FileName = Tools.Path("pg_restore"), Arguments = ["--file=-", dump], InheritPostgresVariables = false }.RunAsync();

    /// <summary>Restores <paramref name="dump"/> into a new database and returns its name; every statement must succeed (constraints included).</summary>
    public async Task<string> RestoreAsync(string dump)
    {
        var database = $"restored_{Guid.NewGuid():N}"[..24];
        await ExecuteAsync("postgres", $"CREATE DATABASE {database}");
        await Tool("pg_restore", "--exit-on-error", "--no-owner", "--dbname", database, dump).RunAsync();
        return database;
    }
}
