using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Local;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// on-demand-backup, what data-management's POST /backups starts, run by <c>workflows run</c>
/// against the drill's local cloud and functions: the backup is in the catalog with the requester
/// and change ui-request; the same job asked again is the same backup; bad arguments and the
/// export's refusals end the run with a message saying why.
/// </summary>
public sealed partial class WorkflowRehearsalTests
{
    [Fact]
    public async Task An_on_demand_backup_is_in_the_catalog_with_its_requester_and_change_ui_request()
    {
        var jobId = "job-" + Guid.NewGuid().ToString("N");
        var arguments = new JsonObject
        {
            ["instance"] = "prod",
            ["database"] = "crm",
            ["requestedBy"] = "alice@example.com",
            ["reason"] = "before the bulk import",
            ["jobId"] = jobId,
        };

        var run = await stack.RunAsync("on-demand-backup.yaml", arguments, approve: false);

        Assert.True(run.Exit == 0, run.Output);
        var result = run.Result!;
        var backupUri = (string)result["backupUri"]!;
        Assert.EndsWith("_before_ui-request.sql.gz", backupUri, StringComparison.Ordinal);
        Assert.Equal(backupUri + ".manifest.json", (string?)result["manifestUri"]);
        Assert.Equal("prod", (string?)result["instance"]);
        Assert.Equal("crm", (string?)result["database"]);
        Assert.Equal("ui-request", (string?)result["change"]);
        Assert.Equal("alice@example.com", (string?)result["requestedBy"]);
        Assert.Equal("before the bulk import", (string?)result["reason"]);
        Assert.Equal(jobId, (string?)result["jobId"]);
        Assert.True((double)result["seconds"]! > 0, result.ToJsonString());

        // The catalog lists it as a complete backup that names the requester, the change and the job.
        var entry = Assert.Single(await stack.Catalog().ListAsync("prod", LocalStack.ProdInstance).ToListAsync(), e => e.Manifest?.Uri == backupUri);
        Assert.True(entry.IsComplete);
        Assert.Equal("alice@example.com", entry.Manifest!.Trigger.RequestedBy);
        Assert.Equal("ui-request", entry.Manifest.Trigger.Change);
        Assert.Equal(jobId, entry.Manifest.Trigger.PipelineRunId);
        Assert.True(File.Exists(stack.LocalPath(backupUri)));

        // The job's id is the Idempotency-Key: the same job asked again is the same backup, not a second one.
        var backupsBefore = stack.BackupsOfProd("_before_ui-request.sql.gz");
        var again = await stack.RunAsync("on-demand-backup.yaml", arguments, approve: false);

        Assert.True(again.Exit == 0, again.Output);
        Assert.Equal(backupUri, (string?)again.Result!["backupUri"]);
        Assert.Equal(backupsBefore, stack.BackupsOfProd("_before_ui-request.sql.gz"));
    }

    [Theory]
    [InlineData("""{"instance":"prod","database":"crm","requestedBy":"alice"}""", "jobId is required: the data-management job's id")]
    [InlineData("""{"instance":"prod","database":"crm","requestedBy":"alice","jobId":"job-1","tenantId":"t-1"}""", "unknown field 'tenantId': on-demand-backup takes instance, database, requestedBy, reason and jobId")]
    [InlineData("""{"instance":"prod","database":"crm","jobId":"job-2"}""", "requestedBy is required: who asked for the backup")]
    [InlineData("""{"instance":"prod","database":"crm","requestedBy":"alice","jobId":"job 3"}""", "jobId 'job 3' is not the data-management job's id")]
    [InlineData("""{"instance":"Prod_1","database":"crm","requestedBy":"alice","jobId":"job-4"}""", "instance 'Prod_1' is not a Cloud SQL instance name")]
    [InlineData("""{"instance":"prod","database":"crm","requestedBy":"alice","jobId":"job-5","reason":7}""", "reason must be text: why the backup is asked for")]
    // Refused by pre-deploy-export itself: the run ends with the export's own reason.
    [InlineData("""{"instance":"nope","database":"crm","requestedBy":"alice","jobId":"job-6"}""", "was refused by pre-deploy-export (HTTP 404): The Cloud SQL instance 'nope' does not exist")]
    public async Task A_bad_on_demand_backup_request_ends_with_a_message_naming_the_problem_and_no_backup(string json, string message)
    {
        var before = stack.BackupsOfProd(".sql.gz");

        var run = await stack.RunAsync("on-demand-backup.yaml", JsonNode.Parse(json)!.AsObject(), approve: false);

        Assert.Equal(1, run.Exit);
        Assert.Contains("workflow failed", run.Output, StringComparison.Ordinal);
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
        Assert.Equal(before, stack.BackupsOfProd(".sql.gz"));
    }
}
