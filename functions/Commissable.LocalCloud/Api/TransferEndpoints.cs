using System.Text.Json.Nodes;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Transfer;
using static Commissable.LocalCloud.Api.ApiResults;
using static Commissable.LocalCloud.Api.RequestValidation;

namespace Commissable.LocalCloud.Api;

/// <summary>The export and import methods of an instance: a SQL dump to or from the local bucket, run by <see cref="SqlTransfer"/> in an operation.</summary>
internal sealed class TransferEndpoints(InstanceManager instances, SqlTransfer transfer, OperationStarter starter)
{
    public async Task<IResult> ExportAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Export).ConfigureAwait(false);
        var export = body["exportContext"] as JsonObject ?? throw ApiException.BadRequest("exportContext is required.");
        ValidateExport(export);
        var target = transfer.ValidateExport(record, export);
        export["kind"] = "sql#exportContext";
        return Json(starter.Start(project, [record.Name], "EXPORT", BaseUrl(context),
            (scope, ct) => transfer.ExportAsync(record, export, target, scope, ct),
            op => op["exportContext"] = export.DeepClone()));
    }

    public async Task<IResult> ImportAsync(HttpContext context, string project, string instance)
    {
        var record = instances.GetRunnable(project, instance);
        var body = await RequestJson.ReadAsync(context, RequestShapes.Import).ConfigureAwait(false);
        var import = body["importContext"] as JsonObject ?? throw ApiException.BadRequest("importContext is required.");
        ValidateImport(import);
        var source = transfer.ValidateImport(record, import);
        import["kind"] = "sql#importContext";
        return Json(starter.Start(project, [record.Name], "IMPORT", BaseUrl(context),
            (scope, ct) => transfer.ImportAsync(record, import, source, scope, ct),
            op => op["importContext"] = import.DeepClone()));
    }
}
