using System.Text.RegularExpressions;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Google.CloudSql;

namespace Commissable.Functions.Hosting.Configuration;

/// <summary>
/// What the functions need to know about their deployment, read from environment variables once at
/// start-up by <see cref="Load"/> and injected as a singleton. A missing or invalid required
/// variable stops the host before it serves anything, with a message naming the variable.
/// </summary>
/// <remarks>
/// To add a setting: add a property here with XML docs naming its variable, read and check it in
/// <see cref="Load"/> (through the reader, so its problems are collected with the others), and add
/// it to the README's configuration table.
/// </remarks>
public sealed partial record FunctionSettings
{
    /// <summary>Default of <see cref="BackupPrefix"/>.</summary>
    public const string DefaultBackupPrefix = "backups";

    /// <summary>Default of <see cref="MaxBackupAge"/>: a daily backup plus two hours of slack.</summary>
    public static readonly TimeSpan DefaultMaxBackupAge = TimeSpan.FromHours(26);

    /// <summary>Default of <see cref="ExportWait"/>.</summary>
    public static readonly TimeSpan DefaultExportWait = TimeSpan.FromMinutes(30);

    /// <summary>
    /// <c>GOOGLE_CLOUD_PROJECT</c> (required): the project that owns the Cloud SQL instances and the
    /// backup bucket; also the project of trace ids in log lines.
    /// </summary>
    public required string ProjectId { get; init; }

    /// <summary><c>BACKUP_BUCKET</c> (required): the Cloud Storage bucket holding backups and manifests, a bare name without <c>gs://</c>.</summary>
    public required string BackupBucket { get; init; }

    /// <summary><c>BACKUP_PREFIX</c> (default <c>backups</c>): the folder inside the bucket under which every backup lives, without leading or trailing slash.</summary>
    public string BackupPrefix { get; init; } = DefaultBackupPrefix;

    /// <summary>
    /// <c>ENVIRONMENT_NAME</c> (required): the environment these functions serve (<c>prod</c>,
    /// <c>staging</c>...), a slug <c>[a-z0-9][a-z0-9-]{0,62}</c>; it appears in backup names and log labels.
    /// </summary>
    public required string EnvironmentName { get; init; }

    /// <summary>
    /// <c>CLOUDSQL_API_ENDPOINT</c> (default <c>https://sqladmin.googleapis.com/</c>): root of the
    /// Cloud SQL Admin API, overridden like gcloud's <c>api_endpoint_overrides/sql</c>, for example
    /// with the local cloud's <c>http://127.0.0.1:8123/</c>: https, or http on a loopback address
    /// only; any endpoint but Google's needs <see cref="CloudSqlTokenFile"/>. Always ends with a slash.
    /// </summary>
    public Uri CloudSqlApiEndpoint { get; init; } = CloudSqlAdminClient.DefaultBaseUri;

    /// <summary>
    /// <c>CLOUDSQL_TOKEN_FILE</c> (optional): a file holding a bearer token for the Cloud SQL API
    /// (the local cloud writes one); when null, Application Default Credentials are used. The file
    /// need not exist at start-up: it is read per request.
    /// </summary>
    public string? CloudSqlTokenFile { get; init; }

    /// <summary>
    /// <c>PRODUCTION_INSTANCES</c> (required, comma-separated Cloud SQL instance ids): the instances
    /// holding production data. No function ever restores into, drops from or verifies against one;
    /// they are only ever a source.
    /// </summary>
    public required IReadOnlySet<string> ProductionInstances { get; init; }

    /// <summary>
    /// <c>VERIFY_INSTANCE</c> (optional, a Cloud SQL instance id): the scratch instance restore
    /// verification restores into. Must not be one of <see cref="ProductionInstances"/>; the
    /// restore-verify function refuses to run without it.
    /// </summary>
    public string? VerifyInstance { get; init; }

    /// <summary>
    /// <c>MAX_BACKUP_AGE_HOURS</c> (default 26, 1 to 8760): an instance whose newest successful
    /// backup is older than this fails the pre-deploy precondition and is flagged overdue.
    /// </summary>
    public TimeSpan MaxBackupAge { get; init; } = DefaultMaxBackupAge;

    /// <summary>
    /// <c>EXPORT_WAIT_SECONDS</c> (default 1800, 1 to 3600): how long pre-deploy-export waits for the
    /// Cloud SQL export operation before answering 503. Keep it below the Cloud Run request timeout.
    /// </summary>
    public TimeSpan ExportWait { get; init; } = DefaultExportWait;

    /// <summary>
    /// <c>RETENTION_ALLOW_RELAXED_OVERRIDES</c> (default false): whether a <c>retention-sweeper</c>
    /// request may override the policy to delete more than the strategy's defaults allow (a shorter
    /// age, fewer kept, a younger minimum age, a larger share per run, orphans). Off, such an
    /// override is a 403 naming the field and the default it would undercut; overrides that keep
    /// more are always accepted. Turn it on only where whoever can call the sweeper may also
    /// decide what is deleted (a test environment).
    /// </summary>
    public bool RetentionAllowRelaxedOverrides { get; init; }

    /// <summary>
    /// <c>LOCAL_STATE_DIR</c> (optional, only with <c>LOCAL_MODE=true</c>): the local cloud's state
    /// directory; when set, backups go to its bucket directories instead of Cloud Storage. Set
    /// without local mode it stops the start: in a deployment the backups would land on the
    /// container's throwaway disk.
    /// </summary>
    public string? LocalStateDirectory { get; init; }

    /// <summary>
    /// <c>TENANT_COLUMN</c> (default <c>tenantId</c>): the column that marks a multi-tenant table,
    /// exactly as in the catalog (case-sensitive), a letter or '_' then letters, digits, '_' and
    /// '$', at most 63 characters. The manifest's tenants are its values, and the tenant checks of
    /// restore-verify apply where a table in <c>public</c> has it; a database without it is
    /// verified on everything else.
    /// </summary>
    public string TenantColumn { get; init; } = RestoreCheckOptions.DefaultTenantColumn;

    /// <summary>Reads and validates the settings.</summary>
    /// <exception cref="FunctionStartupException">A variable is missing or invalid; the message names each one.</exception>
    public static FunctionSettings Load(IFunctionEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var reader = new EnvironmentReader(environment);
        var settings = Read(reader);
        reader.ThrowIfInvalid();
        return settings;
    }

    /// <summary>Reads the settings, recording problems in <paramref name="reader"/> instead of throwing.</summary>
    internal static FunctionSettings Read(EnvironmentReader reader)
    {
        var projectId = reader.Required("GOOGLE_CLOUD_PROJECT", "the Google Cloud project id, e.g. commissable-prod");
        if (projectId.Length > 0 && !CloudNames.IsProject(projectId))
        {
            reader.Problem("GOOGLE_CLOUD_PROJECT",
                $"GOOGLE_CLOUD_PROJECT must be a project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter); got '{EnvironmentReader.Shown(projectId)}'");
        }

        var bucket = reader.Required("BACKUP_BUCKET", "the Cloud Storage bucket that holds backups, e.g. commissable-prod-backups");
        if (bucket.StartsWith("gs://", StringComparison.OrdinalIgnoreCase))
        {
            reader.Problem("BACKUP_BUCKET", $"BACKUP_BUCKET must be a bare bucket name without gs://; got '{EnvironmentReader.Shown(bucket)}'");
        }
        else if (bucket.Length > 0 && !CloudNames.IsBucket(bucket))
        {
            reader.Problem("BACKUP_BUCKET",
                $"BACKUP_BUCKET must be a bucket name (3 to 63 lowercase letters, digits, '.', '_' and '-'); got '{EnvironmentReader.Shown(bucket)}'");
        }

        var prefix = reader.Optional("BACKUP_PREFIX") ?? DefaultBackupPrefix;
        if (!PrefixPattern().IsMatch(prefix))
        {
            reader.Problem("BACKUP_PREFIX",
                $"BACKUP_PREFIX must be a folder path such as 'backups' or 'db/backups' (letters, digits, '.', '_' and '-', no leading or trailing slash, no '..'); got '{EnvironmentReader.Shown(prefix)}'");
        }

        var environmentName = reader.Required("ENVIRONMENT_NAME", "the environment these functions serve, e.g. prod or staging");
        if (environmentName.Length > 0 && !SlugPattern().IsMatch(environmentName))
        {
            reader.Problem("ENVIRONMENT_NAME",
                $"ENVIRONMENT_NAME must match [a-z0-9][a-z0-9-]{{0,29}} (it is part of backup names, which hold at most 30 characters of it); got '{EnvironmentReader.Shown(environmentName)}'");
        }

        var endpoint = ReadEndpoint(reader);
        var tokenFile = reader.Optional("CLOUDSQL_TOKEN_FILE");
        if (tokenFile is null && !ApiEndpoints.IsGoogleApi(endpoint))
        {
            // Application Default Credentials are the service's identity: only Google's API gets them.
            reader.Problem("CLOUDSQL_TOKEN_FILE",
                "CLOUDSQL_API_ENDPOINT is not Google's API (https on googleapis.com), so CLOUDSQL_TOKEN_FILE must name the token to send it: Application Default Credentials go to Google only");
        }

        var productionInstances = new HashSet<string>(StringComparer.Ordinal);
        var production = reader.List("PRODUCTION_INSTANCES");
        if (production.Count == 0)
        {
            reader.Problem("PRODUCTION_INSTANCES",
                "PRODUCTION_INSTANCES is not set: the comma-separated Cloud SQL instance ids that hold production data, which are never restored into or verified against");
        }

        foreach (var instance in production)
        {
            if (CloudNames.IsInstance(instance))
            {
                productionInstances.Add(instance);
            }
            else
            {
                reader.Problem("PRODUCTION_INSTANCES",
                    $"PRODUCTION_INSTANCES must list Cloud SQL instance ids (lowercase letters, digits and hyphens, starting with a letter); '{EnvironmentReader.Shown(instance)}' is not one");
            }
        }

        var verifyInstance = reader.Optional("VERIFY_INSTANCE");
        if (verifyInstance is not null)
        {
            if (!CloudNames.IsInstance(verifyInstance))
            {
                reader.Problem("VERIFY_INSTANCE",
                    $"VERIFY_INSTANCE must be a Cloud SQL instance id (lowercase letters, digits and hyphens, starting with a letter); got '{EnvironmentReader.Shown(verifyInstance)}'");
            }
            else if (productionInstances.Contains(verifyInstance))
            {
                reader.Problem("VERIFY_INSTANCE",
                    $"VERIFY_INSTANCE '{verifyInstance}' is listed in PRODUCTION_INSTANCES: verification restores into its instance, which must never hold production data");
            }
        }

        var maxAgeHours = reader.Integer("MAX_BACKUP_AGE_HOURS", (int)DefaultMaxBackupAge.TotalHours, 1, 8760, "a whole number of hours");
        var exportWaitSeconds = reader.Integer("EXPORT_WAIT_SECONDS", (int)DefaultExportWait.TotalSeconds, 1, 3600, "a whole number of seconds");
        var allowRelaxedOverrides = reader.Boolean("RETENTION_ALLOW_RELAXED_OVERRIDES", defaultValue: false);

        var tenantColumn = reader.Optional("TENANT_COLUMN") ?? RestoreCheckOptions.DefaultTenantColumn;
        if (!ColumnPattern().IsMatch(tenantColumn))
        {
            reader.Problem("TENANT_COLUMN",
                $"TENANT_COLUMN must be a column name as in the catalog, such as tenantId or org_id (a letter or '_', then letters, digits, '_' and '$', at most 63 characters); got '{EnvironmentReader.Shown(tenantColumn)}'");
            tenantColumn = RestoreCheckOptions.DefaultTenantColumn;
        }

        var localState = reader.Optional("LOCAL_STATE_DIR");
        if (localState is not null && !reader.IsTrue("LOCAL_MODE"))
        {
            reader.Problem(["LOCAL_STATE_DIR", "LOCAL_MODE"],
                "LOCAL_STATE_DIR is set but LOCAL_MODE is not true: the local cloud's bucket directories are honoured only in local mode (a developer's machine), since in a deployment backups would land on the container's throwaway disk; unset LOCAL_STATE_DIR, or set LOCAL_MODE=true");
            localState = null;
        }

        return new FunctionSettings
        {
            ProjectId = projectId,
            BackupBucket = bucket,
            BackupPrefix = prefix,
            EnvironmentName = environmentName,
            CloudSqlApiEndpoint = endpoint,
            CloudSqlTokenFile = tokenFile,
            ProductionInstances = productionInstances,
            VerifyInstance = verifyInstance,
            MaxBackupAge = TimeSpan.FromHours(maxAgeHours),
            ExportWait = TimeSpan.FromSeconds(exportWaitSeconds),
            RetentionAllowRelaxedOverrides = allowRelaxedOverrides,
            LocalStateDirectory = localState,
            TenantColumn = tenantColumn,
        };
    }

    private static Uri ReadEndpoint(EnvironmentReader reader)
    {
        var text = reader.Optional("CLOUDSQL_API_ENDPOINT");
        if (text is null)
        {
            return CloudSqlAdminClient.DefaultBaseUri;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            reader.Problem("CLOUDSQL_API_ENDPOINT",
                $"CLOUDSQL_API_ENDPOINT must be an absolute http or https URL such as http://127.0.0.1:8123/; got '{EnvironmentReader.Shown(text)}'");
            return CloudSqlAdminClient.DefaultBaseUri;
        }

        if (!ApiEndpoints.CarriesCredentialsSafely(uri))
        {
            reader.Problem("CLOUDSQL_API_ENDPOINT",
                $"CLOUDSQL_API_ENDPOINT must be https, or plain http on a loopback address only (a token in clear text never leaves the machine); got a plain http URL for '{EnvironmentReader.Shown(uri.Host)}'");
            return CloudSqlAdminClient.DefaultBaseUri;
        }

        if (uri.UserInfo.Length > 0)
        {
            // Never quote it back: the user info may be a password.
            reader.Problem("CLOUDSQL_API_ENDPOINT", "CLOUDSQL_API_ENDPOINT must not contain credentials (user:password@); use CLOUDSQL_TOKEN_FILE or Application Default Credentials");
            return CloudSqlAdminClient.DefaultBaseUri;
        }

        // Relative request paths resolve under the endpoint only when it ends with a slash.
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    [GeneratedRegex(@"\A[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();

    // At most 30 characters: a backup's name holds the environment twice, and BackupObjectName reads
    // no longer one, so a longer name would write backups the catalog can never list.
    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,29}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();

    /// <summary>A column name the checks quote into SQL: PostgreSQL's identifier characters, its length limit.</summary>
    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_$]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ColumnPattern();
}
