namespace Commissable.Functions.DataManagement;

/// <summary>
/// The names of the variables <c>data-management</c> reads: its token settings
/// (<see cref="DataManagementOptions"/>) and its jobs' (<see cref="DataManagementJobOptions"/>).
/// One list, for the function and for whoever configures it (<c>local up</c>).
/// </summary>
public static class DataManagementVariables
{
    public const string Issuer = "DATA_MANAGEMENT_ISSUER";
    public const string Audience = "DATA_MANAGEMENT_AUDIENCE";
    public const string JwksFile = "DATA_MANAGEMENT_JWKS_FILE";
    public const string Location = "DATA_MANAGEMENT_LOCATION";
    public const string SourceInstance = "DATA_MANAGEMENT_SOURCE_INSTANCE";
    public const string Database = "DATA_MANAGEMENT_DATABASE";
    public const string StagingInstance = "DATA_MANAGEMENT_STAGING_INSTANCE";
    public const string StagingDatabase = "DATA_MANAGEMENT_STAGING_DATABASE";
    public const string StagingAppUser = "DATA_MANAGEMENT_STAGING_APP_USER";
    public const string StagingAppPasswordSecret = "DATA_MANAGEMENT_STAGING_APP_PASSWORD_SECRET";
    public const string CriticalTables = "DATA_MANAGEMENT_CRITICAL_TABLES";
    /// <summary>The Workflow Executions API's root; unset is Google's. Local mode points it at <c>local up</c>'s.</summary>
    public const string ExecutionsEndpoint = "DATA_MANAGEMENT_EXECUTIONS_ENDPOINT";

    /// <summary>Every variable above.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Issuer, Audience, JwksFile, Location, SourceInstance, Database, StagingInstance, StagingDatabase,
        StagingAppUser, StagingAppPasswordSecret, CriticalTables, ExecutionsEndpoint,
    ];
}
