using System.Text;
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

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Whether this call created <paramref name="user"/> (false: it existed).</summary>
    /// <exception cref="VerificationRefusedException">The instance is production.</exception>
    /// <exception cref="FunctionException">404 unknown instance or secret; 412 secret not readable; 503 unavailable.</exception>
    public async Task<bool> EnsureAsync(string instanceName, string user, string passwordSecret, CancellationToken cancellationToken)
    {
        Refuse(VerificationTargetGuard.ProductionNameFailures(instanceName, settings.ProductionInstances), instanceName, user);
        var instance = await CloudSqlAsync(() => sql.GetInstanceAsync(instanceName, cancellationToken), instanceName).ConfigureAwait(false);
        Refuse(VerificationTargetGuard.LabelFailures(instance, instanceName), instanceName, user);
        var users = await CloudSqlAsync(() => sql.ListUsersAsync(instanceName, cancellationToken), instanceName).ConfigureAwait(false);
        if (users.Any(u => string.Equals(u.Name, user, StringComparison.Ordinal)))
        {
            logger.LogInformation(Present, "database.user.present {Instance} {User}: kept as it is, password unchanged", instanceName, user);
            return false;
        }

        SecretPayload payload;
        try
        {
            payload = await secrets.AccessLatestAsync(passwordSecret, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretManagerApiException error)
        {
            throw error.HttpStatus switch
            {
                404 => FunctionException.NotFound($"secret {passwordSecret} does not exist in project {secrets.Project} or has no enabled version, so {user} was not created: {SecretRedactor.Redact(error.ApiMessage)}", "SECRET_NOT_FOUND"),
                403 => FunctionException.PreconditionFailed($"the function may not read secret {passwordSecret}: grant its service account roles/secretmanager.secretAccessor on it; {user} was not created.", "SECRET_NOT_PERMITTED"),
                _ => FunctionException.Unavailable($"Secret Manager did not answer for secret {passwordSecret}: {SecretRedactor.Redact(error.ApiMessage)}", TimeSpan.FromSeconds(30)),
            };
        }

        string password;
        try
        {
            password = StrictUtf8.GetString(payload.Data.Span);
        }
        catch (DecoderFallbackException)
        {
            throw FunctionException.PreconditionFailed($"secret {passwordSecret} ({payload.VersionName}) is not UTF-8 text; {user} was not created.", "SECRET_NOT_TEXT");
        }
        if (password.Length == 0)
        {
            throw FunctionException.PreconditionFailed($"secret {passwordSecret} ({payload.VersionName}) is empty; {user} was not created.", "SECRET_NOT_TEXT");
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
        logger.LogNotice(Created, "database.user.created {Instance} {User} {PasswordVersion}", instanceName, user, payload.VersionName);
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

    private static async Task<T> CloudSqlAsync<T>(Func<Task<T>> call, string instance)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            throw FunctionException.NotFound($"The instance '{instance}' does not exist.", "INSTANCE_NOT_FOUND");
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {error.ApiMessage}", TimeSpan.FromSeconds(30));
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 403)
        {
            throw FunctionException.PreconditionFailed(
                $"the function may not read instance '{instance}' or its users: grant its service account roles/cloudsql.viewer ({SecretRedactor.Redact(error.ApiMessage)}).", "INSTANCE_NOT_PERMITTED");
        }
    }
}
