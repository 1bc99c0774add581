using System.Net.Sockets;
using Npgsql;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Tenants;
using Commissable.Backup.Postgres.Verification;

namespace Commissable.Backup.Postgres.Tenants;

/// <summary>
/// <see cref="ITenantRestorer"/> over SQL: <see cref="TenantPlanner"/>, <see cref="TenantApplier"/>
/// and its proof, reaching both instances with one login.
/// </summary>
/// <remarks>
/// The login must see every row of the closure on both sides (a superuser, a role with BYPASSRLS,
/// or the tables' owner where row-level security is not forced; otherwise the plan reports the
/// table) and may write production's tables and move their sequences. Sessions carry the
/// application name <see cref="ApplicationName"/>, so an operator can find them in
/// <c>pg_stat_activity</c>.
/// </remarks>
/// <param name="login">The login for both instances.</param>
public sealed class PostgresTenantRestorer(DatabaseLoginOptions login) : ITenantRestorer
{
    /// <summary>The <c>application_name</c> of every session the restorer opens.</summary>
    public const string ApplicationName = "commissable-tenant-restore";

    private readonly PostgresDatabaseInspector _connections = new(login ?? throw new ArgumentNullException(nameof(login)));

    public Task<TenantPlan> PlanAsync(TenantDatabases databases, string tenantId, TenantPlanOptions options, CancellationToken cancellationToken) =>
        RunAsync(databases, (staged, production) => TenantPlanner.PlanAsync(staged, production, tenantId, options, cancellationToken), cancellationToken);

    public Task<TenantApplyResult> ApplyAsync(TenantDatabases databases, string tenantId, string approvedDigest, TenantPlanOptions options, CancellationToken cancellationToken) =>
        RunAsync(databases, (staged, production) => TenantApplier.ApplyAsync(staged, production, tenantId, approvedDigest, options, cancellationToken), cancellationToken);

    private async Task<T> RunAsync<T>(TenantDatabases databases, Func<NpgsqlDataSource, NpgsqlDataSource, Task<T>> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(databases);
        var staged = ConnectionString(databases.Staged, databases.StagedDatabase, "staged");
        var production = ConnectionString(databases.Production, databases.ProductionDatabase, "production");
        if (staged.Host == production.Host && staged.Database == production.Database)
        {
            throw new ArgumentException($"the staged copy ({databases.Staged.Name}/{databases.StagedDatabase}) is the production database", nameof(databases));
        }
        await using var stagedSource = NpgsqlDataSource.Create(staged);
        await using var productionSource = NpgsqlDataSource.Create(production);
        try
        {
            return await body(stagedSource, productionSource).ConfigureAwait(false);
        }
        catch (Exception error) when (error is NpgsqlException or IOException or TimeoutException or SocketException && !cancellationToken.IsCancellationRequested)
        {
            throw new DatabaseUnreachableException(
                $"the tenant restore could not reach or read staged {databases.Staged.Name}/{databases.StagedDatabase} or production {databases.Production.Name}/{databases.ProductionDatabase}: {Describe(error)}",
                error);
        }
    }

    private NpgsqlConnectionStringBuilder ConnectionString(DatabaseInstance instance, string database, string side)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentException.ThrowIfNullOrEmpty(database);
        try
        {
            return new NpgsqlConnectionStringBuilder(_connections.ConnectionString(instance, database)) { ApplicationName = ApplicationName };
        }
        catch (Exception error) when (error is ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new DatabaseUnreachableException($"the {side} database {instance.Name}/{database} cannot be reached: {error.Message}", error);
        }
    }

    /// <summary>
    /// The failure in words that quote no row value and no password: the server's own message only
    /// for connection, login, missing-database, resource and shutdown errors; otherwise its code.
    /// </summary>
    private static string Describe(Exception error) => error switch
    {
        PostgresException pg when pg.SqlState[..2] is "08" or "28" or "3D" or "53" or "57" => $"SQLSTATE {pg.SqlState}: {pg.MessageText}",
        PostgresException pg => $"SQLSTATE {pg.SqlState}",
        _ when error.InnerException is { } inner => $"{error.Message} ({inner.Message})",
        _ => error.Message,
    };
}
