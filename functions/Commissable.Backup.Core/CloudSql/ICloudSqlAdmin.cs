using System.Text.Json.Nodes;

namespace Commissable.Backup.Core.CloudSql;

/// <summary>
/// The Cloud SQL Admin API v1beta4, as the project uses it. Mutating calls return the started
/// <see cref="Operation"/>; use <see cref="WaitForOperationAsync"/> to wait for it. Errors the API
/// answers are thrown as <see cref="CloudSqlApiException"/> after bounded retries of the transient
/// ones (409 operationInProgress, 429, 5xx).
/// </summary>
public interface ICloudSqlAdmin
{
    /// <summary>The project every call addresses.</summary>
    string Project { get; }

    Task<DatabaseInstance> GetInstanceAsync(string instance, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<DatabaseInstance>> ListInstancesAsync(CancellationToken cancellationToken = default);
    Task<Operation> InsertInstanceAsync(DatabaseInstance instance, CancellationToken cancellationToken = default);
    /// <summary>Partial update: only the fields set in <paramref name="patch"/> change.</summary>
    Task<Operation> PatchInstanceAsync(string instance, DatabaseInstance patch, CancellationToken cancellationToken = default);
    Task<Operation> DeleteInstanceAsync(string instance, CancellationToken cancellationToken = default);
    Task<Operation> ExportAsync(string instance, ExportContext context, CancellationToken cancellationToken = default);
    Task<Operation> ImportAsync(string instance, ImportContext context, CancellationToken cancellationToken = default);
    /// <summary>Clones into a new instance; with a point in time this is point-in-time recovery.</summary>
    Task<Operation> CloneAsync(string instance, CloneContext context, CancellationToken cancellationToken = default);
    /// <summary>Restores a backup run onto <paramref name="targetInstance"/>, overwriting its data.</summary>
    Task<Operation> RestoreBackupAsync(string targetInstance, RestoreBackupContext context, CancellationToken cancellationToken = default);

    Task<Database> GetDatabaseAsync(string instance, string database, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<Database>> ListDatabasesAsync(string instance, CancellationToken cancellationToken = default);
    Task<Operation> InsertDatabaseAsync(string instance, Database database, CancellationToken cancellationToken = default);
    Task<Operation> DeleteDatabaseAsync(string instance, string database, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<User>> ListUsersAsync(string instance, CancellationToken cancellationToken = default);
    Task<Operation> InsertUserAsync(string instance, User user, CancellationToken cancellationToken = default);
    /// <summary>Updates a user (for example its password); <paramref name="host"/> is null for PostgreSQL.</summary>
    Task<Operation> UpdateUserAsync(string instance, string name, string? host, User user, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<BackupRun>> ListBackupRunsAsync(string instance, CancellationToken cancellationToken = default);
    Task<BackupRun> GetBackupRunAsync(string instance, long id, CancellationToken cancellationToken = default);
    Task<Operation> InsertBackupRunAsync(string instance, BackupRun backupRun, CancellationToken cancellationToken = default);
    Task<Operation> DeleteBackupRunAsync(string instance, long id, CancellationToken cancellationToken = default);

    Task<Operation> GetOperationAsync(string operation, CancellationToken cancellationToken = default);
    /// <summary>Operations of the project, newest first; <paramref name="instance"/> filters when set.</summary>
    Task<IReadOnlyList<Operation>> ListOperationsAsync(string? instance, CancellationToken cancellationToken = default);

    /// <summary>
    /// Polls the operation until it is DONE (first after 1 s, then ×1.25, at most 60 s apart) and
    /// throws <see cref="CloudSqlOperationFailedException"/> when it finished with errors, or
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/> (default 1800 s, as the
    /// Workflows connectors).
    /// </summary>
    Task<Operation> WaitForOperationAsync(Operation operation, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Calls any method of the API in <see cref="Project"/> and answers its JSON as is, for callers
    /// that speak the API from its discovery document (the Workflows connector) rather than through
    /// the typed methods. <paramref name="pathInProject"/> is the method's path after
    /// <c>sql/v1beta4/projects/{project}/</c>, its segments escaped, its query included
    /// (<c>instances/prod/clone</c>, <c>instances/prod/users?name=app</c>). Authentication, retries and
    /// <see cref="CloudSqlApiException"/> are as for every other call; an answer that is an
    /// <see cref="Operation"/> is waited on with <see cref="WaitForOperationAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="pathInProject"/> is absolute, or has an empty, <c>.</c> or <c>..</c> segment.</exception>
    Task<JsonNode> SendJsonAsync(HttpMethod method, string pathInProject, JsonNode? body, CancellationToken cancellationToken = default);
}

/// <summary>An error answer of the Cloud SQL Admin API: HTTP status, Google's reason and message.</summary>
public sealed class CloudSqlApiException(int httpStatus, string? reason, string message)
    : GoogleApiException("Cloud SQL Admin API", httpStatus, reason, message);

/// <summary>An operation that finished DONE with <c>error.errors[]</c>.</summary>
public sealed class CloudSqlOperationFailedException : Exception
{
    public CloudSqlOperationFailedException(Operation operation)
        : base($"Operation {operation.Name} ({operation.OperationType}) failed: " +
               string.Join("; ", operation.Error?.Errors?.Select(e => $"{e.Code}: {e.Message}") ?? []))
    {
        Operation = operation;
    }

    public Operation Operation { get; }
}
