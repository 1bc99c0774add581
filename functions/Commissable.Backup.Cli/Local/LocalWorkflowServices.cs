using System.Text.Json.Nodes;
using Commissable.Backup.FileStore;
using Commissable.Workflows.Local.CloudRun;
using Commissable.Workflows.Local.CloudSql;
using Commissable.Workflows.Local;
using Commissable.Workflows.Local.Secrets;
using Commissable.Workflows.Local.Storage;
using Commissable.Workflows.Runtime;

namespace Commissable.Backup.Cli.Local;

/// <summary>
/// What a workflow run on the local stack calls and sees, shared by <c>workflows run</c> and the
/// local Workflow Executions API: the Cloud SQL, Secret Manager, Cloud Run and Storage connectors
/// over the local cloud and its state directory, <c>http.*</c> to the functions, and the
/// environment variables the deployment gives the workflows.
/// </summary>
internal static class LocalWorkflowServices
{
    /// <summary>The connectors (callbacks are the caller's: terminal approval or HTTP callbacks).</summary>
    public static IReadOnlyList<IWorkflowCallHandler> Handlers(LocalStack stack, string project, TimeProvider time, HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(stack);
        return
        [
            // Clients are made on the first call, when the local cloud listens (a port of 0 is picked then).
            new CloudSqlConnector(p => stack.CloudSql(p, time)),
            new SecretManagerConnector(new LocalSecretStore(Path.Combine(stack.State, "secrets")), project),
            new CloudRunConnector(new LocalRunServices(Path.Combine(stack.State, "run", "services"), time)),
            new StorageConnector(bucket => new LocalBackupStore(new BucketPaths(stack.State), bucket)),
            new HttpCalls(http),
        ];
    }

    /// <summary>The CRM app's stand-in service name in <paramref name="project"/>.</summary>
    public static string AppService(string project) => $"projects/{project}/locations/local/services/crm-app";

    /// <summary>The CRM app is a stand-in service: created on first use so a DR rehearsal can roll it.</summary>
    public static void EnsureAppService(LocalStack stack, string project, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(stack);
        new LocalRunServices(Path.Combine(stack.State, "run", "services"), time).Ensure(AppService(project), new JsonObject
        {
            ["labels"] = new JsonObject(),
            ["containers"] = new JsonArray(new JsonObject { ["name"] = "crm-app", ["image"] = "local/crm-app:latest" }),
        });
    }

    /// <summary>The environment of a run of <paramref name="workflow"/> (execution <paramref name="execution"/>) on the started stack.</summary>
    public static Dictionary<string, string> Environment(LocalStack stack, string project, string workflow, string execution)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var functions = stack.FunctionsUrl.ToString();
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["GOOGLE_CLOUD_PROJECT_ID"] = project,
            ["GOOGLE_CLOUD_LOCATION"] = "local",
            ["GOOGLE_CLOUD_WORKFLOW_ID"] = workflow,
            ["GOOGLE_CLOUD_WORKFLOW_REVISION_ID"] = LocalWorkflowExecutions.RevisionId,
            ["GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID"] = execution,
            ["PRE_DEPLOY_EXPORT_URL"] = functions + "pre-deploy-export",
            ["RESTORE_VERIFY_URL"] = functions + "restore-verify",
            ["GRANT_APP_USER_URL"] = functions + "grant-app-user",
            ["SECRET_CHECK_URL"] = functions + "secret-check",
            ["SECRET_REPOINT_URL"] = functions + "secret-repoint",
            ["STAGING_APP_USER_URL"] = functions + "staging-app-user",
            ["TENANT_RESTORE_URL"] = functions + "tenant-restore",
            ["VERIFY_INSTANCE"] = LocalStack.VerifyInstance,
            ["PRODUCTION_INSTANCES"] = LocalStack.ProdInstance,
            ["APP_SERVICE"] = AppService(project),
            ["BACKUP_BUCKET"] = LocalStack.Bucket,
        };
    }
}
