using System.Text.Json.Nodes;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Npgsql;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// Starts the operations the API's methods answer with. Logs under <see cref="CloudSqlApi"/>'s
/// category, where an operator looks for the API's failures.
/// </summary>
internal sealed class OperationStarter(OperationManager operations, InstanceManager instances, LocalCloudOptions options, ILogger<CloudSqlApi> logger)
{
    /// <summary>
    /// Starts an operation whose failure, whatever threw it, reaches the caller as a Google-shaped
    /// error (<see cref="OperationErrors"/>) and reaches the log in full.
    /// </summary>
    public JsonObject Start(string project, string[] targets, string operationType, string selfLinkBase,
        Func<OperationScope, CancellationToken, Task> work, Action<JsonObject>? decorate = null) =>
        operations.Start(project, targets, operationType, selfLinkBase, async (scope, ct) =>
        {
            try
            {
                await work(scope, ct).ConfigureAwait(false);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                var (code, message) = OperationErrors.Describe(error, options.StateDirectory);
                logger.LogError("operation {Operation} ({Type}) on {Instance} failed: {Error}", scope.Name, operationType, targets[0], OperationErrors.ForLog(error));
                throw new OperationFailedException(code, message);
            }
        }, decorate);

    /// <summary>
    /// Starts an operation that runs one DROP on the instance. PostgreSQL's refusal (the object is
    /// in use, or others depend on it) is the operation's ERROR_RDBMS, saying that <paramref name="what"/> could not be deleted.
    /// </summary>
    public JsonObject StartDrop(string project, InstanceRecord record, string operationType, string selfLinkBase, string sql, string what) =>
        Start(project, [record.Name], operationType, selfLinkBase, async (scope, ct) =>
        {
            try
            {
                await instances.ExecuteAsync(record, sql, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (PostgresException error)
            {
                throw new OperationFailedException("ERROR_RDBMS", $"The {what} could not be deleted: {error.MessageText}");
            }
        });
}
