using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// Builds the demo CRM: a multi-tenant PostgreSQL database shaped like a Prisma application's
/// (quoted PascalCase tables, <c>"tenantId"</c> on every business table, enums, jsonb,
/// <c>timestamp(3)</c>, cuid text ids and serial/identity integer ids, partial and composite
/// indexes, check constraints, <c>_prisma_migrations</c>). The rest of the project uses it as
/// "production data" to back up, restore and compare.
/// </summary>
public static class DemoDatabase
{
    /// <summary>The schema everything is created in.</summary>
    public const string Schema = "public";

    /// <summary>Prisma's migration history table.</summary>
    public const string MigrationsTable = "_prisma_migrations";

    /// <summary>The table of tenants; every business table's <see cref="TenantColumn"/> references its <c>id</c>.</summary>
    public const string TenantTable = "Tenant";

    /// <summary>The tenant column of every business table.</summary>
    public const string TenantColumn = "tenantId";

    /// <summary>The Prisma migrations the schema is built from, in the order they are applied.</summary>
    public static IReadOnlyList<DemoMigration> Migrations => DemoMigrations.All;

    /// <summary>Names of <see cref="Migrations"/>, in order.</summary>
    public static IReadOnlyList<string> MigrationNames { get; } = [.. DemoMigrations.All.Select(m => m.Name)];

    /// <summary>The last migration: what the Prisma migration head of a demo database is.</summary>
    public static string LatestMigration => MigrationNames[^1];

    /// <summary>Every table the demo creates (including <see cref="MigrationsTable"/>), unquoted names.</summary>
    public static IReadOnlyList<string> TableNames { get; } =
        [.. Enum.GetValues<DemoTable>().Select(t => t.ToString()).Append("Permission").Append(MigrationsTable).Order(StringComparer.Ordinal)];

    /// <summary>Tables with a <c>"tenantId"</c> column (a foreign key to <c>"Tenant"</c>).</summary>
    public static IReadOnlyList<string> BusinessTables { get; } =
        [.. Enum.GetValues<DemoTable>().Where(t => t != DemoTable.Tenant).Select(t => t.ToString()).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Tables a restore must never come back without rows in: tenants and access, and the flows the
    /// strategy's smoke test names (deposits, reconciliation, revenue schedules, commissions).
    /// </summary>
    public static IReadOnlyList<string> CriticalTables { get; } =
    [
        "Account", "Commission", "Deposit", "DepositLineItem", "Opportunity", "Payout", "Permission",
        "Reconciliation", "RevenueSchedule", "Role", "Tenant", "User", "UserRole",
    ];

    /// <summary>The enum types the migrations create.</summary>
    public static IReadOnlyList<string> EnumTypes { get; } =
    [
        "AccountType", "ActivityType", "CommissionStatus", "DepositStatus", "ImportKind", "ImportStatus", "MatchType",
        "OpportunityStage", "PayoutStatus", "ReconciliationStatus", "RevenueScheduleStatus", "TaskPriority", "TaskStatus",
        "TenantStatus", "UserStatus",
    ];

    /// <summary>
    /// Rows each table gets for the given options, without touching a database (the migrations'
    /// rows of <c>"Permission"</c> and <c>_prisma_migrations</c> included).
    /// </summary>
    public static IReadOnlyDictionary<string, long> ExpectedRowCounts(DemoDatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var plan = new DemoPlan(options);
        var counts = Enum.GetValues<DemoTable>().ToDictionary(t => t.ToString(), plan.Total, StringComparer.Ordinal);
        counts["Permission"] = DemoPlan.PermissionCount;
        counts[MigrationsTable] = Migrations.Count;
        return counts;
    }

    /// <summary>
    /// Creates the demo in an existing, empty database: applies the migrations in order (recording
    /// each in <c>_prisma_migrations</c> as Prisma does), then loads the rows with binary COPY in
    /// one transaction, building indexes and foreign keys after the load and setting every
    /// sequence to its column's maximum.
    /// </summary>
    /// <param name="connectionString">A database owner's connection; the database must have no tables in <c>public</c>.</param>
    /// <param name="options">Size and seed.</param>
    /// <param name="progress">Receives one short line per stage (no secrets); may be null.</param>
    /// <param name="cancellationToken">Stops the load; the load transaction is rolled back. Command timeouts are off for the load, so this is what bounds it.</param>
    /// <exception cref="InvalidOperationException">The database already has tables in <c>public</c>.</exception>
    public static async Task CreateAsync(
        string connectionString,
        DemoDatabaseOptions options,
        IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        // Index builds and COPY of a multi-GB demo outlast any default command timeout; the
        // cancellation token is what bounds the load.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 };
        await using var dataSource = NpgsqlDataSource.Create(builder);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Prisma's migration SQL names objects unqualified and runs with the URL's schema first.
        await using (var searchPath = new NpgsqlCommand("SET search_path = public", connection))
        {
            await searchPath.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await EnsureEmptyAsync(connection, cancellationToken).ConfigureAwait(false);
        await ApplyMigrationsAsync(connection, progress, cancellationToken).ConfigureAwait(false);
        await DemoLoader.LoadAsync(connection, new DemoPlan(options), progress, cancellationToken).ConfigureAwait(false);
        progress?.Report(string.Create(CultureInfo.InvariantCulture, $"demo database ready in {clock.Elapsed.TotalSeconds:F1} s"));
    }

    private static async Task EnsureEmptyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')",
            connection);
        var existing = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (existing > 0)
        {
            throw new InvalidOperationException(
                $"The target database already has {existing} tables or views in schema public; the demo is only created in an empty database.");
        }
    }

    /// <summary>
    /// Applies each migration in its own transaction with its history row, the way
    /// <c>prisma migrate deploy</c> records them: started, then finished with one applied step.
    /// Times come from the migration names, so equal seeds give equal history rows.
    /// </summary>
    private static async Task ApplyMigrationsAsync(NpgsqlConnection connection, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        await using (var create = new NpgsqlCommand(DemoMigrations.PrismaMigrationsTable, connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var migration in Migrations)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var id = MigrationId(migration);
            await using (var start = new NpgsqlCommand(
                "INSERT INTO public.\"_prisma_migrations\" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, 0)",
                connection, transaction))
            {
                start.Parameters.Add(new NpgsqlParameter { Value = id });
                start.Parameters.Add(new NpgsqlParameter { Value = migration.Checksum });
                start.Parameters.Add(new NpgsqlParameter { Value = migration.Name });
                start.Parameters.Add(new NpgsqlParameter { Value = migration.StartedAt });
                await start.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var apply = new NpgsqlCommand(migration.Sql, connection, transaction))
            {
                await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var finish = new NpgsqlCommand(
                "UPDATE public.\"_prisma_migrations\" SET finished_at = $2, applied_steps_count = 1 WHERE id = $1",
                connection, transaction))
            {
                finish.Parameters.Add(new NpgsqlParameter { Value = id });
                finish.Parameters.Add(new NpgsqlParameter { Value = migration.StartedAt.AddMilliseconds(180 + (migration.Sql.Length % 700)) });
                await finish.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            progress?.Report($"migration {migration.Name} applied");
        }
    }

    /// <summary>Prisma uses a random UUID; the demo derives one from the checksum so reruns agree.</summary>
    private static string MigrationId(DemoMigration migration)
    {
        var hex = migration.Checksum;
        return $"{hex[..8]}-{hex[8..12]}-4{hex[13..16]}-a{hex[17..20]}-{hex[20..32]}";
    }
}
