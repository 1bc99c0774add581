using System.Globalization;
using System.Text;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Rest;

namespace Commissable.Backup.Google.CloudSql;

/// <summary>
/// The Cloud SQL Admin API v1beta4 over REST, for Google Cloud and for the local cloud alike (only
/// <see cref="CloudSqlAdminClientBuilder.BaseUri"/> differs). Build it with
/// <see cref="CloudSqlAdminClientBuilder"/>; one instance is thread-safe and meant to be reused.
/// </summary>
public sealed partial class CloudSqlAdminClient : ICloudSqlAdmin, IDisposable
{
    /// <summary>Google's endpoint, the root every <c>sql/v1beta4/...</c> path is relative to.</summary>
    public static Uri DefaultBaseUri { get; } = new("https://sqladmin.googleapis.com/");

    private readonly GoogleRestTransport _transport;
    private readonly CloudSqlPollSettings _poll;
    private readonly TimeProvider _time;
    private readonly string _projectPath;

    internal CloudSqlAdminClient(string project, GoogleRestTransport transport, CloudSqlPollSettings poll, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(project);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(poll);
        ArgumentNullException.ThrowIfNull(time);
        Project = project;
        _transport = transport;
        _poll = poll;
        _time = time;
        _projectPath = "sql/v1beta4/projects/" + Segment(project, nameof(project));
    }

    /// <inheritdoc />
    public string Project { get; }

    /// <summary>The API root requests go to.</summary>
    public Uri BaseUri => _transport.BaseUri;

    // ---- instances ----

    /// <inheritdoc />
    public Task<DatabaseInstance> GetInstanceAsync(string instance, CancellationToken cancellationToken = default)
        => GetAsync<DatabaseInstance>(InstancePath(instance), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<DatabaseInstance>> ListInstancesAsync(CancellationToken cancellationToken = default)
        => ListAsync<DatabaseInstance>(_projectPath + "/instances", query: [], paged: true, cancellationToken);

    /// <inheritdoc />
    public Task<Operation> InsertInstanceAsync(DatabaseInstance instance, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return SendAsync<Operation>(HttpMethod.Post, _projectPath + "/instances", instance, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> PatchInstanceAsync(string instance, DatabaseInstance patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return SendAsync<Operation>(HttpMethod.Patch, InstancePath(instance), patch, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> DeleteInstanceAsync(string instance, CancellationToken cancellationToken = default)
        => SendAsync<Operation>(HttpMethod.Delete, InstancePath(instance), null, cancellationToken);

    /// <inheritdoc />
    public Task<Operation> ExportAsync(string instance, ExportContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SendAsync<Operation>(HttpMethod.Post, InstancePath(instance) + "/export",
            new InstancesExportRequest(context), cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> ImportAsync(string instance, ImportContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SendAsync<Operation>(HttpMethod.Post, InstancePath(instance) + "/import",
            new InstancesImportRequest(context), cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> CloneAsync(string instance, CloneContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SendAsync<Operation>(HttpMethod.Post, InstancePath(instance) + "/clone",
            new InstancesCloneRequest(context), cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> RestoreBackupAsync(string targetInstance, RestoreBackupContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SendAsync<Operation>(HttpMethod.Post, InstancePath(targetInstance) + "/restoreBackup",
            new InstancesRestoreBackupRequest(context), cancellationToken);
    }

    // ---- databases ----

    /// <inheritdoc />
    public Task<Database> GetDatabaseAsync(string instance, string database, CancellationToken cancellationToken = default)
        => GetAsync<Database>(InstancePath(instance) + "/databases/" + Segment(database, nameof(database)), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Database>> ListDatabasesAsync(string instance, CancellationToken cancellationToken = default)
        // databases.list is not paged: the method defines no pageToken.
        => ListAsync<Database>(InstancePath(instance) + "/databases", query: [], paged: false, cancellationToken);

    /// <inheritdoc />
    public Task<Operation> InsertDatabaseAsync(string instance, Database database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        return SendAsync<Operation>(HttpMethod.Post, InstancePath(instance) + "/databases", database, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> DeleteDatabaseAsync(string instance, string database, CancellationToken cancellationToken = default)
        => SendAsync<Operation>(HttpMethod.Delete,
            InstancePath(instance) + "/databases/" + Segment(database, nameof(database)), null, cancellationToken);

    // ---- users ----

    /// <inheritdoc />
    public Task<IReadOnlyList<User>> ListUsersAsync(string instance, CancellationToken cancellationToken = default)
        // users.list answers a nextPageToken field but defines no pageToken parameter to send it back.
        => ListAsync<User>(InstancePath(instance) + "/users", query: [], paged: false, cancellationToken);

    /// <inheritdoc />
    public Task<Operation> InsertUserAsync(string instance, User user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        return SendAsync<Operation>(HttpMethod.Post, InstancePath(instance) + "/users", user, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> UpdateUserAsync(string instance, string name, string? host, User user, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(user);
        var query = new List<KeyValuePair<string, string>> { new("name", name) };
        if (host is not null)
        {
            query.Add(new("host", host));
        }

        return SendAsync<Operation>(HttpMethod.Put, InstancePath(instance) + "/users" + Query(query), user, cancellationToken);
    }

    // ---- backup runs ----

    /// <inheritdoc />
    public Task<IReadOnlyList<BackupRun>> ListBackupRunsAsync(string instance, CancellationToken cancellationToken = default)
        => ListAsync<BackupRun>(InstancePath(instance) + "/backupRuns", query: [], paged: true, cancellationToken);

    /// <inheritdoc />
    public Task<BackupRun> GetBackupRunAsync(string instance, long id, CancellationToken cancellationToken = default)
        => GetAsync<BackupRun>(BackupRunPath(instance, id), cancellationToken);

    /// <inheritdoc />
    public Task<Operation> InsertBackupRunAsync(string instance, BackupRun backupRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backupRun);
        return SendAsync<Operation>(HttpMethod.Post, InstancePath(instance) + "/backupRuns", backupRun, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Operation> DeleteBackupRunAsync(string instance, long id, CancellationToken cancellationToken = default)
        => SendAsync<Operation>(HttpMethod.Delete, BackupRunPath(instance, id), null, cancellationToken);

    // ---- operations ----

    /// <inheritdoc />
    public Task<Operation> GetOperationAsync(string operation, CancellationToken cancellationToken = default)
        => GetAsync<Operation>(_projectPath + "/operations/" + Segment(operation, nameof(operation)), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Operation>> ListOperationsAsync(string? instance, CancellationToken cancellationToken = default)
    {
        KeyValuePair<string, string>[] query = instance is null ? [] : [new("instance", instance)];
        return ListAsync<Operation>(_projectPath + "/operations", query, paged: true, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<Operation> WaitForOperationAsync(Operation operation, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (string.IsNullOrEmpty(operation.Name))
        {
            throw new ArgumentException("The operation has no name to poll.", nameof(operation));
        }

        var limit = timeout ?? _poll.DefaultTimeout;
        if (limit <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), limit, "The timeout must be positive.");
        }

        var started = _time.GetTimestamp();
        var interval = _poll.InitialDelay;
        var current = operation;
        while (!current.IsDone)
        {
            var remaining = limit - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException(
                    $"Operation {operation.Name} ({current.OperationType ?? "unknown type"} on {current.TargetId ?? "unknown target"}) " +
                    $"did not finish within {limit.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; last status {current.Status ?? "unknown"}.");
            }

            // The last wait is cut to the deadline, so the final poll happens exactly at it.
            await Task.Delay(interval < remaining ? interval : remaining, _time, cancellationToken).ConfigureAwait(false);
            current = await GetOperationAsync(operation.Name, cancellationToken).ConfigureAwait(false);
            interval = _poll.Next(interval, _time.GetElapsedTime(started));
        }

        if (current.Error?.Errors is { Count: > 0 })
        {
            throw new CloudSqlOperationFailedException(current);
        }

        return current;
    }

    /// <summary>Disposes the HTTP client when the builder created it.</summary>
    public void Dispose() => _transport.Dispose();

    // ---- plumbing ----

    private Task<T> GetAsync<T>(string relativeUri, CancellationToken cancellationToken)
        => SendAsync<T>(HttpMethod.Get, relativeUri, null, cancellationToken);

    private Task<T> SendAsync<T>(HttpMethod method, string relativeUri, object? body, CancellationToken cancellationToken)
        => _transport.SendAsync<T>(method, relativeUri, body, cancellationToken);

    private async Task<IReadOnlyList<T>> ListAsync<T>(
        string path, IReadOnlyList<KeyValuePair<string, string>> query, bool paged, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        string? pageToken = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var pageQuery = pageToken is null ? query : [.. query, new("pageToken", pageToken)];
            var page = await GetAsync<ListResponse<T>>(path + Query(pageQuery), cancellationToken).ConfigureAwait(false);
            if (page.Items is not null)
            {
                items.AddRange(page.Items);
            }

            pageToken = paged && !string.IsNullOrEmpty(page.NextPageToken) ? page.NextPageToken : null;
            if (pageToken is not null && !seen.Add(pageToken))
            {
                throw new InvalidOperationException($"Cloud SQL Admin API repeated a page token while listing {path}.");
            }
        }
        while (pageToken is not null);

        return items;
    }

    private string InstancePath(string instance) => _projectPath + "/instances/" + Segment(instance, nameof(instance));

    private string BackupRunPath(string instance, long id)
        => InstancePath(instance) + "/backupRuns/" + id.ToString(CultureInfo.InvariantCulture);

    private static string Segment(string value, string parameterName) => GoogleRestTransport.Segment(value, parameterName);

    private static string Query(IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        if (parameters.Count == 0)
        {
            return "";
        }

        var builder = new StringBuilder();
        foreach (var (key, value) in parameters)
        {
            builder.Append(builder.Length == 0 ? '?' : '&')
                .Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
        }

        return builder.ToString();
    }
}
