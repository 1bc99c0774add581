using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;
using Commissable.Functions.Verify;

namespace Commissable.Functions.Grants;

/// <summary>
/// Grants an application login its privileges on a database, in stages: the instance (and the
/// production rail of <see cref="VerificationTargetGuard"/>), the database and the user through
/// the Cloud SQL API, then <see cref="IAppUserGrants"/> over SQL with the inspector's login.
/// </summary>
/// <remarks>
/// The grants are made by <c>INSPECTOR_DB_USER</c>, so on a staging instance that login must own
/// the imported tables or be a member of their owner (<c>postgres</c>, the import user): a login
/// that can only read is refused with 412 <c>GRANT_NOT_PERMITTED</c>, nothing changed. Default
/// privileges are set for the import user and for that login, so tables a later import creates
/// are usable too. Production is refused before anything is read, by name and by label.
/// </remarks>
internal sealed class AppUserGranter(
    ICloudSqlAdmin sql,
    IAppUserGrants grants,
    FunctionSettings settings,
    ILogger<AppUserGranter> logger)
{
    private static readonly EventId Applied = new(60, "database.grants.applied");
    private static readonly EventId Refused = new(61, "database.grants.refused");
    private static readonly EventId Failed = new(62, "database.grants.failed");
    private static readonly EventId Owned = new(63, "database.ownership.transferred");

    /// <summary>The login the grants are made with.</summary>
    public string GrantingUser => grants.GrantingUser;

    /// <summary>
    /// Applies the grants and, with <paramref name="appUserOwns"/>, makes <paramref name="user"/>
    /// the owner of the database's objects in the same transaction; returns what was applied.
    /// </summary>
    /// <exception cref="VerificationRefusedException">The instance is production.</exception>
    /// <exception cref="FunctionException">404 unknown instance, database or user; 412 not permitted; 503 unreachable.</exception>
    public async Task<AppUserAccess> GrantAsync(string instanceName, string database, string user, bool appUserOwns, CancellationToken cancellationToken)
    {
        Refuse(VerificationTargetGuard.ProductionNameFailures(instanceName, settings.ProductionInstances), instanceName, database, user);
        var instance = await CloudSqlAsync(() => sql.GetInstanceAsync(instanceName, cancellationToken),
            $"The instance '{instanceName}' does not exist in project '{sql.Project}'.").ConfigureAwait(false);
        Refuse(VerificationTargetGuard.LabelFailures(instance, instanceName), instanceName, database, user);
        await CloudSqlAsync(() => sql.GetDatabaseAsync(instanceName, database, cancellationToken),
            $"The database '{database}' does not exist on instance '{instanceName}'.").ConfigureAwait(false);
        var users = await CloudSqlAsync(() => sql.ListUsersAsync(instanceName, cancellationToken), "").ConfigureAwait(false);
        if (!users.Any(u => string.Equals(u.Name, user, StringComparison.Ordinal)))
        {
            throw FunctionException.NotFound($"The user '{user}' does not exist on instance '{instanceName}': create it with the Cloud SQL users API (users.insert) first.");
        }

        AppUserAccess access;
        try
        {
            access = await grants.GrantAsync(instance, database, user, [RestoreVerifier.ImportUser, grants.GrantingUser], appUserOwns, cancellationToken).ConfigureAwait(false);
        }
        catch (AppUserGrantException error) when (error.Failure == AppUserGrantFailure.UserNotFound)
        {
            throw FunctionException.NotFound($"The user '{user}' does not exist in the database cluster of '{instanceName}', though the users API may list it: {error.Message}");
        }
        catch (AppUserGrantException error)
        {
            logger.LogError(Failed, "database.grants.failed {Instance} {Database} {User}: {Error}", instanceName, database, user, error.Message);
            throw FunctionException.PreconditionFailed($"Nothing was granted: {error.Message}", "GRANT_NOT_PERMITTED");
        }
        catch (DatabaseUnreachableException error) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = SecretRedactor.Redact(error.Message);
            logger.LogError(Failed, "database.grants.failed {Instance} {Database} {User}: {Error}", instanceName, database, user, reason);
            throw FunctionException.Unavailable($"Could not reach the database '{database}' on '{instanceName}', so nothing was granted: {reason}", TimeSpan.FromSeconds(30));
        }

        logger.LogNotice(Applied, "database.grants.applied {Instance} {Database} {User} {PrivilegeCount} {Privileges}",
            instanceName, database, user, access.Privileges.Count, string.Join("; ", access.Privileges));
        if (access.Ownership is { } ownership)
        {
            logger.LogNotice(Owned, "database.ownership.transferred {Instance} {Database} {User} {ObjectCount} {Objects} {MembershipGranted}",
                instanceName, database, user, ownership.Total, ownership.Summary(), ownership.MembershipGranted);
        }
        return access;
    }

    private void Refuse(IReadOnlyList<Backup.Core.Backups.CheckResult> refusals, string instance, string database, string user)
    {
        if (refusals.Count > 0)
        {
            logger.LogWarning(Refused, "database.grants.refused {Instance} {Database} {User}: {Reasons}",
                instance, database, user, string.Join(" ", refusals.Select(r => $"[{r.Name}] {r.Detail}")));
            throw new VerificationRefusedException(instance, refusals);
        }
    }

    private static async Task<T> CloudSqlAsync<T>(Func<Task<T>> call, string notFound)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404 && notFound.Length > 0)
        {
            throw FunctionException.NotFound(notFound);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {error.ApiMessage}", TimeSpan.FromSeconds(30));
        }
    }
}
