using System.Text.RegularExpressions;

namespace Commissable.Workflows.Local.CloudSql;

/// <summary>One method of the Cloud SQL Admin API v1beta4 as its Workflows connector exposes it.</summary>
/// <param name="Name">The connector's name after <c>googleapis.sqladmin.v1beta4.</c> (<c>instances.clone</c>).</param>
/// <param name="HttpMethod">As in the discovery document.</param>
/// <param name="Path">The discovery document's path template, relative to the API root.</param>
/// <param name="Query">The query parameters the method takes (connector arguments of the same name).</param>
/// <param name="ReturnsOperation">Whether the answer is an <c>Operation</c> the connector waits on (every such method but <c>operations.get</c>, the poll itself).</param>
/// <param name="TakesBody">Whether the method has a request body (the <c>body</c> argument).</param>
internal sealed partial record SqlAdminMethod(string Name, string HttpMethod, string Path, string[] Query, bool ReturnsOperation, bool TakesBody)
{
    /// <summary>The path parameters, in template order (the connector's required arguments).</summary>
    public IReadOnlyList<string> PathParameters { get; } = ParameterPattern().Matches(Path).Select(m => m.Groups[1].Value).ToArray();

    [GeneratedRegex(@"\{([A-Za-z]+)\}")]
    private static partial Regex ParameterPattern();
}

/// <summary>
/// The methods the local runner serves, typed from the discovery document in
/// <c>shared/contracts/sqladmin.v1beta4.json</c> (a contract test keeps the two in step).
/// </summary>
internal static class SqlAdminMethods
{
    public const string Prefix = "googleapis.sqladmin.v1beta4.";

    private const string Instance = "sql/v1beta4/projects/{project}/instances/{instance}";

    public static IReadOnlyDictionary<string, SqlAdminMethod> All { get; } = new SqlAdminMethod[]
    {
        new("instances.get", "GET", Instance, [], false, false),
        new("instances.list", "GET", "sql/v1beta4/projects/{project}/instances", ["filter", "maxResults", "pageToken"], false, false),
        new("instances.insert", "POST", "sql/v1beta4/projects/{project}/instances", [], true, true),
        new("instances.patch", "PATCH", Instance, [], true, true),
        new("instances.update", "PUT", Instance, [], true, true),
        new("instances.delete", "DELETE", Instance, ["enableFinalBackup", "finalBackupDescription", "finalBackupExpiryTime", "finalBackupTtlDays"], true, false),
        new("instances.clone", "POST", Instance + "/clone", [], true, true),
        new("instances.restoreBackup", "POST", Instance + "/restoreBackup", [], true, true),
        new("instances.import", "POST", Instance + "/import", [], true, true),
        new("instances.export", "POST", Instance + "/export", [], true, true),
        new("backupRuns.list", "GET", Instance + "/backupRuns", ["maxResults", "pageToken"], false, false),
        new("backupRuns.get", "GET", Instance + "/backupRuns/{id}", [], false, false),
        new("backupRuns.insert", "POST", Instance + "/backupRuns", [], true, true),
        new("backupRuns.delete", "DELETE", Instance + "/backupRuns/{id}", [], true, false),
        new("databases.list", "GET", Instance + "/databases", [], false, false),
        new("databases.get", "GET", Instance + "/databases/{database}", [], false, false),
        new("databases.insert", "POST", Instance + "/databases", [], true, true),
        new("databases.delete", "DELETE", Instance + "/databases/{database}", [], true, false),
        new("users.list", "GET", Instance + "/users", [], false, false),
        new("users.get", "GET", Instance + "/users/{name}", ["host"], false, false),
        new("users.insert", "POST", Instance + "/users", [], true, true),
        new("users.update", "PUT", Instance + "/users", ["databaseRoles", "host", "name", "revokeExistingRoles"], true, true),
        new("users.delete", "DELETE", Instance + "/users", ["host", "name"], true, false),
        new("operations.get", "GET", "sql/v1beta4/projects/{project}/operations/{operation}", [], false, false),
        new("operations.list", "GET", "sql/v1beta4/projects/{project}/operations", ["instance", "maxResults", "pageToken"], false, false),
    }.ToDictionary(m => m.Name, StringComparer.Ordinal);
}
