using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Secrets;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.Rest;

namespace Commissable.Backup.Google.SecretManager;

/// <summary>Builds a <see cref="SecretManagerClient"/>. Build one per process and reuse it.</summary>
/// <example>
/// <code>
/// var secrets = new SecretManagerClientBuilder { ProjectId = "commissable-prod" }.Build();
/// </code>
/// </example>
public sealed class SecretManagerClientBuilder : GoogleRestClientBuilder
{
    /// <summary>A builder for Google's endpoint, <c>https://secretmanager.googleapis.com/</c>.</summary>
    public SecretManagerClientBuilder()
        : base(SecretManagerClient.DefaultBaseUri)
    {
    }

    /// <summary>The project whose secrets the client reads and writes (required).</summary>
    public string? ProjectId { get; set; }

    /// <summary>Validates the settings and creates the client.</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid or two settings conflict.</exception>
    public SecretManagerClient Build()
    {
        if (!CloudNames.IsProject(ProjectId))
        {
            throw new InvalidOperationException($"ProjectId must be a Google Cloud project id; got '{ProjectId}'.");
        }

        return new(BuildTransport(
            [ApplicationDefaultTokenSource.CloudPlatformScope],
            "Secret Manager API", static (status, reason, message) => new SecretManagerApiException(status, reason, message)), ProjectId);
    }
}
