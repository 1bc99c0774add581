using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Core.Tenants;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;
using Commissable.Functions.Verify;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// The stages of a per-tenant restore the workflow calls one by one: <c>plan</c>
/// (<c>TenantRestoreRunner.Plan.cs</c>), <c>apply</c> (<c>.Apply.cs</c>) and <c>record</c>
/// (<c>.Record.cs</c>). This part holds what they share: the login check, the safety rail of the
/// staged instance, resolving the instances and databases through the Cloud SQL API, and the
/// run's objects.
/// </summary>
/// <remarks>
/// <para>
/// The staged instance is refused (412 <c>VERIFICATION_TARGET_REFUSED</c>, the rail of
/// <see cref="VerificationTargetGuard"/>, as restore-verify and grant-app-user refuse) when it is
/// the source instance, listed in <c>PRODUCTION_INSTANCES</c> or labelled production, before any
/// database is reached: the staged copy is read as the truth and must never be production itself.
/// </para>
/// <para>
/// <paramref name="restorer"/> is registered only when <c>TENANT_RESTORE_DB_USER</c> and
/// <c>TENANT_RESTORE_DB_PASSWORD_FILE</c> are set; without it every request is a 503 naming them.
/// </para>
/// </remarks>
internal sealed partial class TenantRestoreRunner(
    ICloudSqlAdmin sql,
    IBackupStore store,
    BackupCatalog catalog,
    FunctionSettings settings,
    TimeProvider clock,
    ILogger<TenantRestoreRunner> logger,
    ITenantRestorer? restorer = null)
{
    private static readonly EventId Planned = new(70, "tenant.restore.planned");
    private static readonly EventId Applied = new(71, "tenant.restore.applied");
    private static readonly EventId Refused = new(72, "tenant.restore.refused");
    private static readonly EventId Recorded = new(73, "tenant.restore.recorded");

    private readonly TenantRestoreObjects _objects = new(store, settings.BackupPrefix);

    /// <summary>503 naming the two variables when the function has no login to reach the databases with.</summary>
    public ITenantRestorer RequireRestorer() => restorer ?? throw FunctionException.Unavailable(
        $"tenant-restore is not configured: set {BackupFunctions.TenantRestoreUser} and {BackupFunctions.TenantRestorePasswordFile} "
        + "(a login row-level security does not hide rows from, with write privileges on production).",
        code: "TENANT_RESTORE_NOT_CONFIGURED");

    /// <summary>
    /// The databases of <paramref name="request"/>, after the staged instance passed the rail
    /// (name first, then labels) and both instances and databases exist.
    /// </summary>
    /// <exception cref="VerificationRefusedException">The staged instance is the source or production.</exception>
    /// <exception cref="FunctionException">404 unknown instance or database; 503 Cloud SQL unavailable.</exception>
    private async Task<TenantDatabases> ResolveAsync(TenantRestoreRequest request, CancellationToken cancellationToken)
    {
        var (sourceName, stagedName) = (request.SourceInstance!, request.StagedInstance!);
        Refuse(request, [.. VerificationTargetGuard.SourceFailures(stagedName, sourceName), .. VerificationTargetGuard.ProductionNameFailures(stagedName, settings.ProductionInstances)]);
        var source = await CloudSqlAsync(() => sql.GetInstanceAsync(sourceName, cancellationToken),
            $"The source instance '{sourceName}' does not exist in project '{sql.Project}'.").ConfigureAwait(false);
        var staged = await CloudSqlAsync(() => sql.GetInstanceAsync(stagedName, cancellationToken),
            $"The staged instance '{stagedName}' does not exist in project '{sql.Project}'.").ConfigureAwait(false);
        Refuse(request, VerificationTargetGuard.LabelFailures(staged, stagedName));
        await CloudSqlAsync(() => sql.GetDatabaseAsync(sourceName, request.ProductionDatabase, cancellationToken),
            $"The database '{request.ProductionDatabase}' does not exist on the source instance '{sourceName}'.").ConfigureAwait(false);
        await CloudSqlAsync(() => sql.GetDatabaseAsync(stagedName, request.StagedDatabase!, cancellationToken),
            $"The database '{request.StagedDatabase}' does not exist on the staged instance '{stagedName}'.").ConfigureAwait(false);
        return new TenantDatabases(staged, request.StagedDatabase!, source, request.ProductionDatabase);
    }

    private TenantPlanOptions Options(TenantRestoreRequest request) => new() { TenantColumn = settings.TenantColumn, Mode = request.ParsedMode };

    private void Refuse(TenantRestoreRequest request, IReadOnlyList<CheckResult> refusals)
    {
        if (refusals.Count > 0)
        {
            logger.LogWarning(Refused, "tenant.restore.refused {Action} {RunId} {SourceInstance} {StagedInstance} {Outcome}: {Reasons}",
                request.Action, request.RunId, request.SourceInstance, request.StagedInstance, "staged-instance-refused",
                string.Join(" ", refusals.Select(r => $"[{r.Name}] {r.Detail}")));
            throw new VerificationRefusedException(request.StagedInstance!, refusals);
        }
    }

    /// <summary>A 409 logged as <c>tenant.restore.refused</c>: nothing was written to production.</summary>
    private FunctionException Conflict(TenantRestoreRequest request, string reason, string code)
    {
        logger.LogWarning(Refused, "tenant.restore.refused {Action} {RunId} {SourceInstance} {TenantId} {Outcome}: {Reasons}",
            request.Action, request.RunId, request.SourceInstance, CloudNamesPrintable(request.TenantId), code, reason);
        return FunctionException.Conflict(reason, code: code);
    }

    /// <summary>503 for a database that could not be reached; the reason redacted.</summary>
    private static FunctionException Unreachable(TenantDatabases databases, DatabaseUnreachableException error, string consequence) =>
        FunctionException.Unavailable(
            $"Could not reach '{databases.ProductionDatabase}' on '{databases.Production.Name}' or '{databases.StagedDatabase}' on '{databases.Staged.Name}', so {consequence}: {SecretRedactor.Redact(error.Message)}",
            TimeSpan.FromSeconds(30));

    private static string CloudNamesPrintable(string? value) => value is null ? "" : Backup.Core.Naming.CloudNames.Printable(value);

    private static async Task<T> CloudSqlAsync<T>(Func<Task<T>> call, string notFound)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            throw FunctionException.NotFound(notFound);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {error.ApiMessage}", TimeSpan.FromSeconds(30));
        }
    }
}
