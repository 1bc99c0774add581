using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Tests;

/// <summary>
/// workflows/on-demand-backup.yaml on the local runner's interpreter against a scripted
/// pre-deploy-export: the export is followed through 202 and 409 answers with the job's id as the
/// Idempotency-Key on every ask, and each way it can end without a backup (refused, failed,
/// unreachable, never finished, not configured) raises a map that says why. The run against the
/// real function is WorkflowRehearsalTests.OnDemandBackup (Commissable.Backup.Cli.Tests).
/// </summary>
public sealed class OnDemandBackupWorkflowTests
{
    private const string ExportUrl = "https://pre-deploy-export.run.app";
    private const string Backup = "gs://crm-backups/backups/prod/crm-prod/backup_20261207_0930_prod_before_ui-request.sql.gz";

    private static readonly Lazy<WorkflowProgram> Program = new(() =>
        WorkflowProgram.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Workflows(), "on-demand-backup.yaml")), "on-demand-backup.yaml"));

    private readonly Harness _harness = new();

    private static JsonObject Argument() => new()
    {
        ["instance"] = "crm-prod",
        ["database"] = "crm",
        ["requestedBy"] = "alice@example.com",
        ["reason"] = "before the bulk import",
        ["jobId"] = "job-7f3a",
    };

    private FakeHandler Export(Func<int, JsonNode?> answer)
    {
        var export = new FakeHandler("http.", (_, n) => answer(n));
        _harness.Handlers.Add(export);
        _harness.Environment["PRE_DEPLOY_EXPORT_URL"] = ExportUrl;
        return export;
    }

    private Task<JsonNode?> RunAsync(JsonObject argument) => _harness.Interpreter().RunAsync(Program.Value, argument, CancellationToken.None);

    private static JsonObject Answer(int code, JsonObject body) => new() { ["code"] = code, ["body"] = body, ["headers"] = new JsonObject() };

    private static JsonObject Running() => Answer(202, new JsonObject { ["status"] = "running", ["backupUri"] = Backup });

    private static JsonObject Done(bool withManifest = true)
    {
        var body = new JsonObject { ["status"] = "succeeded", ["backupUri"] = Backup, ["change"] = "ui-request" };
        if (withManifest) body["manifestUri"] = Backup + ".manifest.json";
        return Answer(200, body);
    }

    private static WorkflowErrorException HttpError(int code, string status, string message) =>
        WorkflowErrors.Http(code, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["status"] = status, ["message"] = message } }, new JsonObject());

    [Fact]
    public async Task The_export_is_followed_through_running_and_busy_answers_with_the_job_as_its_key_until_it_completes()
    {
        var export = Export(n => n switch
        {
            1 => Running(),
            2 => throw HttpError(409, "INSTANCE_BUSY", "Instance 'crm-prod' is busy."),
            _ => Done(),
        });

        var result = (await RunAsync(Argument()))!.AsObject();

        Assert.Equal(3, export.Calls.Count);
        Assert.All(export.Calls, call =>
        {
            Assert.Equal("http.post", call.Function);
            Assert.Equal(ExportUrl, (string?)call.Arguments["url"]);
            Assert.Equal("OIDC", (string?)call.Arguments["auth"]!["type"]);
            Assert.Equal("job-7f3a", (string?)call.Arguments["headers"]!["Idempotency-Key"]);
            Assert.Equal("""{"instance":"crm-prod","database":"crm","change":"ui-request","pipelineRunId":"job-7f3a","requestedBy":"alice@example.com"}""",
                call.Arguments["body"]!.ToJsonString());
        });
        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)], _harness.Delays);
        Assert.Equal(Backup, (string?)result["backupUri"]);
        Assert.Equal(Backup + ".manifest.json", (string?)result["manifestUri"]);
        Assert.Equal("ui-request", (string?)result["change"]);
        Assert.Equal("alice@example.com", (string?)result["requestedBy"]);
        Assert.Equal("before the bulk import", (string?)result["reason"]);
        Assert.Equal("job-7f3a", (string?)result["jobId"]);
        Assert.Equal("crm-prod", (string?)result["instance"]);
        Assert.Equal("crm", (string?)result["database"]);
        Assert.True((double)result["seconds"]! >= 0);
    }

    [Fact]
    public async Task An_answer_without_a_manifest_uri_leaves_it_out_and_a_missing_reason_is_null()
    {
        Export(_ => Done(withManifest: false));
        var argument = Argument();
        argument.Remove("reason");

        var result = (await RunAsync(argument))!.AsObject();

        Assert.False(result.ContainsKey("manifestUri"), result.ToJsonString());
        Assert.True(result.ContainsKey("reason"));
        Assert.Null(result["reason"]);
        Assert.Empty(_harness.Delays);
    }

    [Theory]
    [InlineData(412, "FAILED_PRECONDITION", "The change-management checklist failed; no export was started: [backups-enabled] automated backups are off.", 400, "EXPORT_REFUSED", "was refused by pre-deploy-export (HTTP 412): The change-management checklist failed")]
    [InlineData(422, "IDEMPOTENCY_KEY_REUSED", "The Idempotency-Key 'job-7f3a' was already used for a different request (it differs in database).", 400, "EXPORT_REFUSED", "was refused by pre-deploy-export (HTTP 422): The Idempotency-Key 'job-7f3a' was already used")]
    [InlineData(502, "EXPORT_FAILED", "The export gs://b/x failed: the instance ran out of disk.", 502, "EXPORT_FAILED", "failed (pre-deploy-export answered HTTP 502): The export gs://b/x failed: the instance ran out of disk.")]
    public async Task A_refusal_or_a_failure_raises_a_map_with_the_exports_reason(int http, string status, string reason, int code, string raisedStatus, string message)
    {
        var export = Export(_ => throw HttpError(http, status, reason));

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(Argument()));

        var error = Assert.IsType<JsonObject>(failure.Error);
        Assert.Equal(code, (int)error["code"]!);
        Assert.Equal(raisedStatus, (string?)error["status"]);
        Assert.Equal(http, (int)error["httpStatus"]!);
        Assert.Equal(status, (string?)error["exportStatus"]);
        Assert.Equal("job-7f3a", (string?)error["jobId"]);
        Assert.StartsWith("the on-demand backup of crm-prod/crm (job job-7f3a) ", (string)error["message"]!, StringComparison.Ordinal);
        Assert.Contains(message, (string)error["message"]!, StringComparison.Ordinal);
        Assert.Single(export.Calls);
        Assert.Empty(_harness.Delays);
    }

    [Fact]
    public async Task No_answer_at_all_raises_a_map_saying_the_export_could_not_be_reached()
    {
        Export(_ => throw new WorkflowErrorException(new JsonObject { ["message"] = "POST https://pre-deploy-export.run.app/: Connection refused", ["tags"] = new JsonArray("ConnectionError") }));

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(Argument()));

        Assert.Equal(503, (int)failure.Error!["code"]!);
        Assert.Equal("EXPORT_UNREACHABLE", (string?)failure.Error!["status"]);
        Assert.Contains("could not reach pre-deploy-export: POST https://pre-deploy-export.run.app/: Connection refused", (string)failure.Error!["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_export_still_running_after_an_hour_of_asking_raises_a_timeout()
    {
        var export = Export(_ => Running());

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(Argument()));

        Assert.Equal(504, (int)failure.Error!["code"]!);
        Assert.Contains("did not complete within an hour of asking pre-deploy-export", (string)failure.Error!["message"]!, StringComparison.Ordinal);
        Assert.Equal(120, export.Calls.Count);
        Assert.Equal(120, _harness.Delays.Count);
    }

    [Fact]
    public async Task Without_the_export_url_nothing_is_asked()
    {
        var export = new FakeHandler("http.", (_, _) => throw new InvalidOperationException("no call expected"));
        _harness.Handlers.Add(export);

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(Argument()));

        Assert.Equal("NOT_CONFIGURED", (string?)failure.Error!["status"]);
        Assert.Contains("no PRE_DEPLOY_EXPORT_URL", (string)failure.Error!["message"]!, StringComparison.Ordinal);
        Assert.Empty(export.Calls);
    }

    [Theory]
    [InlineData("""{"instance":"crm-prod","database":"crm","requestedBy":"alice"}""", "jobId", "jobId is required")]
    [InlineData("""{"instance":"crm-prod","database":"crm","requestedBy":"alice","jobId":"j1","mode":"x"}""", "mode", "unknown field 'mode'")]
    [InlineData("""{"instance":"crm-prod","database":"crm","requestedBy":"alice","jobId":"j1","reason":"a\nb"}""", "reason", "reason must not contain control characters")]
    [InlineData("""{"instance":"crm-prod","database":"crm","requestedBy":"   ","jobId":"j1"}""", "requestedBy", "requestedBy must not be only spaces")]
    [InlineData("""{"instance":"crm-prod","database":"crm;drop","requestedBy":"alice","jobId":"j1"}""", "database", "database 'crm;drop' is not a PostgreSQL database name")]
    [InlineData("""{"instance":"crm-prod","database":"crm","requestedBy":"alice","jobId":"../../etc"}""", "jobId", "jobId '../../etc' is not the data-management job's id")]
    public async Task A_bad_argument_raises_an_invalid_argument_map_naming_the_field_before_anything_is_asked(string json, string field, string message)
    {
        var export = Export(_ => throw new InvalidOperationException("no call expected"));

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(JsonNode.Parse(json)!.AsObject()));

        Assert.Equal(400, (int)failure.Error!["code"]!);
        Assert.Equal("INVALID_ARGUMENT", (string?)failure.Error!["status"]);
        Assert.Equal(field, (string?)failure.Error!["field"]);
        Assert.Contains(message, (string)failure.Error!["message"]!, StringComparison.Ordinal);
        Assert.Empty(export.Calls);
    }
}
