using Commissable.Backup.Core.Naming;
using Commissable.LocalCloud.Operations;
using static Commissable.LocalCloud.Api.ApiResults;

namespace Commissable.LocalCloud.Api;

/// <summary>The operations of a project: list (optionally of one instance) and get, the resource clients poll.</summary>
internal sealed class OperationEndpoints(OperationManager operations)
{
    public IResult List(HttpContext context, string project) =>
        ApiResults.List("sql#operationsList", operations.List(project, NullIfEmpty(context.Request.Query["instance"])));

    public IResult Get(string project, string operation) =>
        Json(operations.Snapshot(operation) is { } op && (string?)op["targetProject"] == project
            ? op
            : throw ApiException.NotFound($"The operation '{CloudNames.Printable(operation)}' does not exist in project '{project}'."));
}
