using System.Net;
using System.Text.Json.Nodes;
using Commissable.Functions.Completion;
using Commissable.Functions.Tests.Hosting;

namespace Commissable.Functions.Tests.Completion;

/// <summary>Cloud SQL audit-log entries as Eventarc delivers them to on-backup-audited, for the completion tests and the sweeper's.</summary>
internal static class AuditEntries
{
    /// <summary>The last entry of a <c>cloudsql.backupRuns.create</c> operation that made run <paramref name="id"/> of <paramref name="instance"/>.</summary>
    public static JsonObject BackupRun(string operation, string id, string instance = "prod") => Create("cloudsql.backupRuns.create", operation,
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.cloud.sql.v1beta4.SqlBackupRunsInsertRequest",
            ["instance"] = instance,
            ["project"] = "test-project",
            ["body"] = new JsonObject { ["kind"] = "sql#backupRun", ["description"] = "before the import" },
        },
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.cloud.sql.v1beta4.Operation",
            ["kind"] = "sql#operation",
            ["name"] = operation,
            ["operationType"] = "BACKUP_VOLUME",
            ["status"] = "DONE",
            ["backupContext"] = new JsonObject { ["kind"] = "sql#backupContext", ["backupId"] = id },
        },
        instance);

    /// <summary>The last entry of a Cloud SQL operation, in the shape of the audit-log sample in contracts/cloudevents.</summary>
    public static JsonObject Create(string method, string operation, JsonObject request, JsonObject response, string instance = "prod") => new()
    {
        ["insertId"] = Guid.NewGuid().ToString("N")[..10],
        ["logName"] = "projects/test-project/logs/cloudaudit.googleapis.com%2Factivity",
        ["operation"] = new JsonObject { ["id"] = operation, ["producer"] = "cloudsql.googleapis.com", ["last"] = true },
        ["protoPayload"] = new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.cloud.audit.AuditLog",
            ["authenticationInfo"] = new JsonObject { ["principalEmail"] = "scheduler@test-project.iam.gserviceaccount.com" },
            ["authorizationInfo"] = new JsonArray(new JsonObject { ["granted"] = true, ["permission"] = method, ["resource"] = $"instances/{instance}" }),
            ["methodName"] = method,
            ["request"] = request,
            ["requestMetadata"] = new JsonObject { ["callerIp"] = "192.168.0.1", ["callerSuppliedUserAgent"] = "google-cloud-sdk" },
            ["resourceName"] = $"projects/test-project/instances/{instance}",
            ["response"] = response,
            ["serviceName"] = "cloudsql.googleapis.com",
            ["status"] = new JsonObject(),
        },
        ["receiveTimestamp"] = "2026-11-25T02:03:01.5Z",
        ["resource"] = new JsonObject
        {
            ["type"] = "cloudsql_database",
            ["labels"] = new JsonObject { ["project_id"] = "test-project", ["database_id"] = $"test-project:{instance}", ["region"] = "us-central1" },
        },
        ["severity"] = "NOTICE",
        ["timestamp"] = "2026-11-25T02:03:01Z",
    };

    /// <summary>Posts the entry to on-backup-audited as a binary-mode CloudEvent and returns the status.</summary>
    public static async Task<HttpStatusCode> SendAsync(HttpClient client, JsonObject entry)
    {
        var resource = (string?)entry["protoPayload"]!["resourceName"];
        using var request = CloudEventRequests.Binary(entry.ToJsonString(), "/" + CompletionNames.OnBackupAudited, CompletionNames.AuditLogWritten, headers: new Dictionary<string, string?>
        {
            ["ce-id"] = Guid.NewGuid().ToString(),
            ["ce-source"] = "//cloudaudit.googleapis.com/projects/test-project/logs/activity",
            ["ce-subject"] = $"sql.googleapis.com/{resource}",
            ["ce-methodname"] = (string?)entry["protoPayload"]!["methodName"],
            ["ce-servicename"] = "cloudsql.googleapis.com",
        });
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
