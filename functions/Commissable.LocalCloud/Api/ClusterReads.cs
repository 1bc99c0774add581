using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Npgsql;

namespace Commissable.LocalCloud.Api;

/// <summary>Reads an instance's cluster on behalf of a request, answering a refused connection as Google would.</summary>
internal sealed class ClusterReads(InstanceManager instances, OperationManager operations, ILogger<CloudSqlApi> logger)
{
    /// <summary>
    /// Reads from an instance's cluster for a request. A cluster that refuses the connection is
    /// being deleted, stopped or restarted by an operation: the request learns which (404 gone,
    /// 400 invalidState, 409 operationInProgress) instead of a 500.
    /// </summary>
    public async Task<T> ReadAsync<T>(InstanceRecord record, Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception error) when (error is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            logger.LogWarning("instance {Instance} refused a request's connection: {Error}", record.Name, OperationErrors.ForLog(error));
            if (instances.Find(record.Project, record.Name) is not { } current)
            {
                throw ApiException.NotFound($"The Cloud SQL instance '{record.Name}' does not exist in project '{record.Project}'.");
            }
            if (current.State != "RUNNABLE")
            {
                throw new ApiException(400, "invalidState", $"The instance '{record.Name}' is {current.State}, not RUNNABLE.");
            }
            if (operations.IsBusy(record.Project, record.Name))
            {
                throw ApiException.Busy(record.Name);
            }
            throw new ApiException(503, "backendError", $"The instance '{record.Name}' is not accepting connections. Retry the request.");
        }
    }

    /// <summary>The first column of a catalog query on the instance's admin connection, in the query's order.</summary>
    public Task<List<string>> NamesAsync(InstanceRecord record, string sql, IEnumerable<object> parameters, CancellationToken ct) =>
        ReadAsync(record, async () =>
        {
            await using var connection = await instances.OpenAdminAsync(record, cancellationToken: ct).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var value in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var names = new List<string>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                names.Add(reader.GetString(0));
            }
            return names;
        });
}
