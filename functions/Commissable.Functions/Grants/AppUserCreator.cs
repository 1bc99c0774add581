using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Secrets;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;
using Commissable.Functions.Secrets;
using Commissable.Functions.Verify;

namespace Commissable.Functions.Grants;

/// <summary>
/// Creates the staging app user through the Cloud SQL users API with the password from Secret
/// Manager, only when it is missing (an existing user keeps its password). The password is read
/// here and sent only in the <c>users.insert</c> body: never logged, answered or put in an error.
/// Production is refused by name and by label before anything is read, as grant-app-user does.
/// </summary>
internal sealed class AppUserCreator(ICloudSqlAdmin sql, ISecretManager secrets, FunctionSettings settings, ILogger<AppUserCreator> logger)
{
    private static readonly EventId Created = new(64, "database.user.created");
    private static readonly EventId Present = new(65, "database.user.present");
    private static readonly EventId Refused = new(66, "database.user.refused");

    /// <summary>Whether this call created <paramref name="user"/> (false: it existed).</summary>
    /// <exception cref="VerificationRefusedException">The instance is production.</exception>
    /// <exception cref="FunctionException">404 unknown instance or secret; 412 secret not readable; 503 unavailable.</exception>
    public async Task<bool> EnsureAsync(string instanceName, string user, string passwordSecret, CancellationToken cancellationToken)
    {
        Refuse(VerificationTargetGuard.ProductionNameFailures(instanceName, settings.ProductionInstances), instanceName, user);
        var instance = await SecretValues.CloudSqlAsync(sql, instanceName, () => sql.GetInstanceAsync(instanceName, cancellationToken)).ConfigureAwait(false);
        Refuse(VerificationTargetGuard.LabelFailures(instance, instanceName), instanceName, user);
        var users = await SecretValues.CloudSqlAsync(sql, instanceName, () => sql.ListUsersAsync(instanceName, cancellationToken)).ConfigureAwait(false);
        if (users.Any(u => string.Equals(u.Name, user, StringComparison.Ordinal)))
        {
            logger.LogInformation(Present, "database.user.present {Instance} {User}: kept as it is, password unchanged", instanceName, user);
            return false;
        }

        var notCreated = $"{user} was not created";
        var (passwordVersion, password) = await SecretValues.ReadTextAsync(secrets, passwordSecret, notCreated, cancellationToken).ConfigureAwait(false);
        if (password.Length == 0)
        {
            throw FunctionException.PreconditionFailed($"secret {passwordSecret} ({passwordVersion}) is empty; {notCreated}.", "SECRET_NOT_TEXT");
        }

        try
        {
            var operation = await sql.InsertUserAsync(instanceName, new User { Name = user, Password = password }, cancellationToken).ConfigureAwait(false);
            await sql.WaitForOperationAsync(operation, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {SecretRedactor.Redact(error.ApiMessage)}", TimeSpan.FromSeconds(30));
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 400 or 403)
        {
            // A password the instance's policy refuses, or a missing role: the operator can act on it.
            throw FunctionException.PreconditionFailed(error.HttpStatus == 403
                ? $"the function may not create users on {instanceName}: grant its service account users.create there ({SecretRedactor.Redact(error.ApiMessage)}); {user} was not created."
                : $"Cloud SQL refused to create {user} on {instanceName}: {SecretRedactor.Redact(error.ApiMessage)}", error.HttpStatus == 403 ? "USER_NOT_PERMITTED" : "USER_REFUSED");
        }
        catch (CloudSqlOperationFailedException error)
        {
            throw FunctionException.Unavailable($"creating {user} on {instanceName} failed: {SecretRedactor.Redact(error.Message)}", TimeSpan.FromSeconds(30));
        }
        logger.LogNotice(Created, "database.user.created {Instance} {User} {PasswordVersion}", instanceName, user, passwordVersion);
        return true;
    }

    private void Refuse(IReadOnlyList<Backup.Core.Backups.CheckResult> refusals, string instance, string user)
    {
        if (refusals.Count > 0)
        {
            logger.LogWarning(Refused, "database.user.refused {Instance} {User}: {Reasons}",
                instance, user, string.Join(" ", refusals.Select(r => $"[{r.Name}] {r.Detail}")));
            throw new VerificationRefusedException(instance, refusals);
        }
    }
}
