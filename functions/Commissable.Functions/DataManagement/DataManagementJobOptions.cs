using Commissable.Backup.Core.Executions;
using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;

namespace Commissable.Functions.DataManagement;

/// <summary>
/// What <c>data-management</c>'s jobs start, fixed at deploy so the CRM can name nothing but a
/// reason, a backup id or a tenant: the workflows' region, the production instance and database
/// the backups and restores are of, and the staging target of clone-to-staging. The workflows are
/// <see cref="BackupWorkflow"/>, <see cref="StagingWorkflow"/> and <see cref="TenantWorkflow"/>
/// of the function's project.
/// </summary>
internal sealed record DataManagementJobOptions
{
    public const string LocationVariable = DataManagementVariables.Location;
    public const string SourceInstanceVariable = DataManagementVariables.SourceInstance;
    public const string DatabaseVariable = DataManagementVariables.Database;
    public const string StagingInstanceVariable = DataManagementVariables.StagingInstance;
    public const string StagingDatabaseVariable = DataManagementVariables.StagingDatabase;
    public const string StagingAppUserVariable = DataManagementVariables.StagingAppUser;
    public const string StagingAppPasswordSecretVariable = DataManagementVariables.StagingAppPasswordSecret;
    public const string CriticalTablesVariable = DataManagementVariables.CriticalTables;
    public const string ExecutionsEndpointVariable = DataManagementVariables.ExecutionsEndpoint;
    /// <summary>The functions' token file (<see cref="FunctionSettings.CloudSqlTokenFile"/>), which the executions client sends too.</summary>
    public const string TokenFileVariable = "CLOUDSQL_TOKEN_FILE";

    public const string BackupWorkflow = "on-demand-backup";
    public const string StagingWorkflow = "clone-prod-to-staging";
    public const string TenantWorkflow = "tenant-restore";

    private static readonly string[] Required =
    [
        LocationVariable, SourceInstanceVariable, DatabaseVariable, StagingInstanceVariable, StagingDatabaseVariable,
        StagingAppUserVariable, StagingAppPasswordSecretVariable,
    ];

    public required string Project { get; init; }
    public required string Location { get; init; }
    public required string SourceInstance { get; init; }
    public required string Database { get; init; }
    public required string StagingInstance { get; init; }
    public required string StagingDatabase { get; init; }
    public required string StagingAppUser { get; init; }
    public required string StagingAppPasswordSecret { get; init; }
    public IReadOnlyList<string> CriticalTables { get; init; } = [];
    public Uri? ExecutionsEndpoint { get; init; }

    public WorkflowName Workflow(string id) => new(Project, Location, id);

    /// <summary>
    /// The options, or null when none of the required variables is set (the job actions then
    /// answer 503 <c>JOBS_NOT_CONFIGURED</c>; GET /backups and GET /audit still work). Some set and
    /// some not, or any invalid, is a start-up error naming each.
    /// </summary>
    /// <exception cref="FunctionStartupException">Partly set or invalid.</exception>
    public static DataManagementJobOptions? Read(IFunctionEnvironment environment, string project)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var reader = new EnvironmentReader(environment);
        if (Required.All(v => reader.Optional(v) is null)) return null;
        var missing = Required.Where(v => reader.Optional(v) is null).ToList();
        if (missing.Count > 0)
        {
            throw new FunctionStartupException(
                $"{string.Join(" and ", missing)} must be set too: data-management's jobs need all of {string.Join(", ", Required)} (or none, and the job actions answer 503).", missing);
        }
        var location = reader.Optional(LocationVariable)!;
        if (!LocationPattern(location)) reader.Problem(LocationVariable, $"{LocationVariable} must be a Google Cloud region such as us-central1; got '{EnvironmentReader.Shown(location)}'");
        Check(reader, SourceInstanceVariable, CloudNames.InstanceProblem(reader.Optional(SourceInstanceVariable), SourceInstanceVariable));
        Check(reader, DatabaseVariable, CloudNames.DatabaseProblem(reader.Optional(DatabaseVariable), DatabaseVariable));
        Check(reader, StagingInstanceVariable, CloudNames.InstanceProblem(reader.Optional(StagingInstanceVariable), StagingInstanceVariable));
        // The clone workflow takes only plain identifiers for these two (it creates and grants them):
        // a name it would refuse must stop the deployment, not every staging job later.
        foreach (var variable in new[] { StagingDatabaseVariable, StagingAppUserVariable })
        {
            var value = reader.Optional(variable);
            if (!CloudNames.IsPlainIdentifier(value))
            {
                reader.Problem(variable, $"{variable} must be letters, digits and underscores, starting with a letter or underscore, at most 63 (as clone-prod-to-staging takes it); got '{EnvironmentReader.Shown(value ?? "")}'");
            }
        }
        if (!CloudNames.IsSecretId(reader.Optional(StagingAppPasswordSecretVariable)))
        {
            reader.Problem(StagingAppPasswordSecretVariable, $"{StagingAppPasswordSecretVariable} must be a Secret Manager secret id (letters, digits, - and _, at most 255)");
        }
        if (reader.Optional(SourceInstanceVariable) == reader.Optional(StagingInstanceVariable))
        {
            reader.Problem([SourceInstanceVariable, StagingInstanceVariable], $"{StagingInstanceVariable} must not be the production instance {SourceInstanceVariable} names: clone-to-staging replaces the staging database");
        }
        var critical = reader.List(CriticalTablesVariable);
        foreach (var table in critical)
        {
            if (table.Length is 0 or > 63 || table.Any(char.IsControl) || table.Contains('"', StringComparison.Ordinal))
            {
                reader.Problem(CriticalTablesVariable, $"{CriticalTablesVariable} must list table names (at most 63 printable characters each, no quotes), comma-separated; got '{EnvironmentReader.Shown(table)}'");
            }
        }
        Uri? endpoint = null;
        if (reader.Optional(ExecutionsEndpointVariable) is { } text)
        {
            if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(endpoint.Query))
            {
                reader.Problem(ExecutionsEndpointVariable, $"{ExecutionsEndpointVariable} must be the Workflow Executions API's root URL (http(s)://host:port/); got '{EnvironmentReader.Shown(text)}'");
            }
            else if (endpoint.UserInfo.Length > 0)
            {
                // Never quoted back: the user info may be a password.
                reader.Problem(ExecutionsEndpointVariable, $"{ExecutionsEndpointVariable} must not contain credentials (user:password@)");
            }
            else if (!ApiEndpoints.CarriesCredentialsSafely(endpoint))
            {
                reader.Problem(ExecutionsEndpointVariable, $"{ExecutionsEndpointVariable} must be https, or plain http on a loopback address only (the token would cross the network in clear); got a plain http URL for '{EnvironmentReader.Shown(endpoint.Host)}'");
            }
        }
        // The executions client sends CLOUDSQL_TOKEN_FILE's token when it is set, else the service's
        // Application Default Credentials: each only to the API it is for.
        var hasTokenFile = reader.Optional(TokenFileVariable) is not null;
        if (!hasTokenFile && endpoint is not null && ApiEndpoints.CarriesCredentialsSafely(endpoint) && !ApiEndpoints.IsGoogleApi(endpoint))
        {
            reader.Problem(ExecutionsEndpointVariable, $"{ExecutionsEndpointVariable} is not Google's API (https on googleapis.com), so {TokenFileVariable} must name the token to send it: Application Default Credentials go to Google only");
        }
        else if (hasTokenFile && endpoint is null)
        {
            reader.Problem(ExecutionsEndpointVariable, $"{ExecutionsEndpointVariable} must be set when {TokenFileVariable} is: that token is the local cloud's, never sent to Google's API");
        }
        reader.ThrowIfInvalid();
        return new DataManagementJobOptions
        {
            Project = project,
            Location = location,
            SourceInstance = reader.Optional(SourceInstanceVariable)!,
            Database = reader.Optional(DatabaseVariable)!,
            StagingInstance = reader.Optional(StagingInstanceVariable)!,
            StagingDatabase = reader.Optional(StagingDatabaseVariable)!,
            StagingAppUser = reader.Optional(StagingAppUserVariable)!,
            StagingAppPasswordSecret = reader.Optional(StagingAppPasswordSecretVariable)!,
            CriticalTables = critical,
            ExecutionsEndpoint = endpoint,
        };
    }

    private static void Check(EnvironmentReader reader, string variable, string? problem)
    {
        if (problem is not null) reader.Problem(variable, problem);
    }

    private static bool LocationPattern(string value) =>
        value.Length is > 0 and <= 40 && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && char.IsAsciiLetterLower(value[0]);
}
