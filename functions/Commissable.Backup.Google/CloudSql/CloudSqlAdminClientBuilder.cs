using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.Rest;

namespace Commissable.Backup.Google.CloudSql;

/// <summary>
/// Builds a <see cref="CloudSqlAdminClient"/>. Build one client per process and reuse it: it is
/// thread-safe and owns a pooled <see cref="System.Net.Http.HttpClient"/> unless one is supplied.
/// </summary>
/// <example>
/// <code>
/// var client = new CloudSqlAdminClientBuilder
/// {
///     ProjectId = "commissable-prod",
///     BaseUri = new Uri("http://127.0.0.1:8123/"),          // local cloud; omit for Google
///     TokenSource = new FileTokenSource("/var/lib/localcloud/token"), // omit for ADC
/// }.Build();
/// </code>
/// </example>
public sealed class CloudSqlAdminClientBuilder : GoogleRestClientBuilder
{
    /// <summary>A builder for Google's endpoint, <c>https://sqladmin.googleapis.com/</c>.</summary>
    public CloudSqlAdminClientBuilder()
        : base(CloudSqlAdminClient.DefaultBaseUri)
    {
    }

    /// <summary>The Google Cloud project every call addresses. Required.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Operation polling of <see cref="CloudSqlAdminClient.WaitForOperationAsync"/>.</summary>
    public CloudSqlPollSettings PollSettings { get; set; } = CloudSqlPollSettings.Default;

    /// <summary>Validates the settings and creates the client.</summary>
    /// <exception cref="InvalidOperationException">A required setting is missing or two settings conflict.</exception>
    public CloudSqlAdminClient Build()
    {
        if (string.IsNullOrWhiteSpace(ProjectId))
        {
            throw new InvalidOperationException("ProjectId is required: the Google Cloud project the Cloud SQL instances belong to.");
        }

        ArgumentNullException.ThrowIfNull(PollSettings);
        PollSettings.Validate();
        var transport = BuildTransport(
            [ApplicationDefaultTokenSource.SqlServiceAdminScope, ApplicationDefaultTokenSource.CloudPlatformScope],
            "Cloud SQL Admin API", static (status, reason, message) => new CloudSqlApiException(status, reason, message));
        return new CloudSqlAdminClient(ProjectId.Trim(), transport, PollSettings, TimeProvider);
    }
}
