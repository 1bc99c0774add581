using System.Text;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Secrets;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Secrets;

/// <summary>
/// What the functions that hold secret values share: a secret read as strict UTF-8 text, Secret
/// Manager's and Cloud SQL's error answers as the function's own (404, 412 naming the role to
/// grant, 503), never with a value in them. A <c>consequence</c> ends a message
/// with what did not happen ("it was not changed").
/// </summary>
internal static class SecretValues
{
    // A value that is not UTF-8 is refused, not mangled.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Encode(string text) => StrictUtf8.GetBytes(text);

    /// <summary>The latest version of <paramref name="secret"/>: its resource name and its text.</summary>
    /// <exception cref="FunctionException">404 missing; 412 not readable or not UTF-8; 503 unavailable.</exception>
    public static async Task<(string Version, string Text)> ReadTextAsync(ISecretManager secrets, string secret, string consequence, CancellationToken cancellationToken)
    {
        SecretPayload payload;
        try
        {
            payload = await secrets.AccessLatestAsync(secret, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretManagerApiException error)
        {
            throw Refusal(secrets, error, secret, "roles/secretmanager.secretAccessor", "read", consequence);
        }

        try
        {
            return (payload.VersionName, StrictUtf8.GetString(payload.Data.Span));
        }
        catch (DecoderFallbackException)
        {
            throw FunctionException.PreconditionFailed($"secret {secret} ({payload.VersionName}) is not UTF-8 text; {consequence}.", "SECRET_NOT_TEXT");
        }
    }

    /// <summary>Secret Manager's error answer for <paramref name="what"/> (e.g. "read") on <paramref name="secret"/>, as the function's.</summary>
    public static FunctionException Refusal(ISecretManager secrets, SecretManagerApiException error, string secret, string role, string what, string consequence) => error.HttpStatus switch
    {
        404 => FunctionException.NotFound($"secret {secret} does not exist in project {secrets.Project} or has no enabled version ({SecretRedactor.Redact(error.ApiMessage)}); {consequence}.", "SECRET_NOT_FOUND"),
        403 => FunctionException.PreconditionFailed($"the function may not {what} secret {secret}: grant its service account {role} on it ({SecretRedactor.Redact(error.ApiMessage)}); {consequence}.", "SECRET_NOT_PERMITTED"),
        _ => FunctionException.Unavailable($"Secret Manager did not answer for secret {secret} ({SecretRedactor.Redact(error.ApiMessage)}); {consequence}.", TimeSpan.FromSeconds(30)),
    };

    /// <summary>
    /// <paramref name="call"/> to the Cloud SQL Admin API about <paramref name="instance"/>, its
    /// error answers as the function's: 404 <c>INSTANCE_NOT_FOUND</c>, 403 as 412
    /// <c>INSTANCE_NOT_PERMITTED</c> (<c>roles/cloudsql.viewer</c>), 409/429/5xx as 503.
    /// </summary>
    public static async Task<T> CloudSqlAsync<T>(ICloudSqlAdmin sql, string instance, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 404)
        {
            throw FunctionException.NotFound($"The instance '{instance}' does not exist in project '{sql.Project}'.", "INSTANCE_NOT_FOUND");
        }
        catch (CloudSqlApiException error) when (error.HttpStatus == 403)
        {
            throw FunctionException.PreconditionFailed(
                $"the function may not read instance '{instance}': grant its service account roles/cloudsql.viewer ({SecretRedactor.Redact(error.ApiMessage)}).", "INSTANCE_NOT_PERMITTED");
        }
        catch (CloudSqlApiException error) when (error.HttpStatus is 409 or 429 or >= 500)
        {
            throw FunctionException.Unavailable($"Cloud SQL did not answer: {SecretRedactor.Redact(error.ApiMessage)}", TimeSpan.FromSeconds(30));
        }
    }
}
