using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Core.Tenants;
using Commissable.Backup.FileStore;
using Commissable.Functions.DataManagement;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.TenantRestore;
using Commissable.Functions.Tests.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Commissable.Testing;

namespace Commissable.Functions.Tests.DataManagement;

/// <summary>
/// data-management's jobs through the real host on a real local cloud and store, with the Workflow
/// Executions API recorded: what each request starts, one running job per kind, the two-person
/// approval of a tenant restore, the jobs' and the audit trail's answers, one audit record per call.
/// </summary>
public sealed class DataManagementJobsTests(SweeperEnvironment env) : IClassFixture<SweeperEnvironment>
{
    private const string AuditPrefix = SweeperHost.Prefix + "/.audit/data-management/";
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 30, 0, TimeSpan.Zero);

    private sealed class Host(LocalFunctions functions, TestTokens tokens, FakeTimeProvider clock, RecordingExecutions executions) : IAsyncDisposable
    {
        public LocalFunctions Functions => functions;
        public FakeTimeProvider Clock => clock;
        public RecordingExecutions Executions => executions;
        public SweeperHost Writer { get; } = new(functions, new BucketPaths(functions.Services.GetRequiredService<FunctionSettings>().LocalStateDirectory!));
        public IBackupStore Store => functions.Services.GetRequiredService<IBackupStore>();
        public List<string> Minted { get; } = [];
        public int Calls { get; private set; }

        public string Token(string user, params string[] permissions)
        {
            var claims = TestTokens.Claims(clock.GetUtcNow(), permissions);
            claims["sub"] = user;
            claims["email"] = user + "@example.com";
            var token = tokens.Mint(claims);
            Minted.Add(token);
            return token;
        }

        public async Task<(HttpStatusCode Status, JsonNode? Body, string Text)> SendAsync(string? token, HttpMethod method, string path, string? body = null)
        {
            Calls++;
            using var request = new HttpRequestMessage(method, "/data-management" + path);
            if (token is not null) request.Headers.Add("X-Acting-User-Token", token);
            if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await functions.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), text);
        }

        public async Task<List<JsonObject>> AuditAsync()
        {
            var records = new List<JsonObject>();
            await foreach (var item in Store.ListAsync(AuditPrefix))
            {
                await using var stream = await Store.OpenReadAsync(item.Name);
                var text = await new StreamReader(stream).ReadToEndAsync();
                foreach (var token in Minted) Assert.DoesNotContain(token, text, StringComparison.Ordinal);
                records.Add(JsonNode.Parse(text)!.AsObject());
            }
            return records;
        }

        public async ValueTask DisposeAsync()
        {
            // Every call, allowed or refused, is exactly one audit record; none holds a token.
            Assert.Equal(Calls, (await AuditAsync()).Count);
            functions.Secrets.AssertClean(functions.Logs.Lines, Minted);
            await functions.DisposeAsync();
            tokens.Dispose();
        }
    }

    private async Task<Host> StartAsync(bool jobs = true)
    {
        var tokens = new TestTokens();
        var clock = new FakeTimeProvider(Now);
        var executions = new RecordingExecutions();
        var bucket = $"dj-{Guid.NewGuid():N}"[..20];
        var variables = tokens.Variables();
        if (jobs)
        {
            foreach (var (name, value) in JobVariables()) variables[name] = value;
            variables[DataManagementVariables.CriticalTables] = "Account,Contact";
            // The host holds the local cloud's token file, which goes only to a local executions API
            // (the recording one below answers instead).
            variables[DataManagementVariables.ExecutionsEndpoint] = "http://127.0.0.1:9/";
        }
        var functions = await LocalFunctions.StartAsync(env.Cloud, bucket, variables, clock, services => services.AddSingleton<IWorkflowExecutions>(executions));
        return new Host(functions, tokens, clock, executions);
    }

    /// <summary>The jobs' settings the tests' hosts share: production prod/crm, staging staging/crm_staging.</summary>
    internal static Dictionary<string, string?> JobVariables() => new()
    {
        [DataManagementVariables.Location] = "us-central1",
        [DataManagementVariables.SourceInstance] = "prod",
        [DataManagementVariables.Database] = "crm",
        [DataManagementVariables.StagingInstance] = "staging",
        [DataManagementVariables.StagingDatabase] = "crm_staging",
        [DataManagementVariables.StagingAppUser] = "crm_app",
        [DataManagementVariables.StagingAppPasswordSecret] = "staging-app-password",
    };

    [Fact]
    public async Task A_backup_request_starts_on_demand_backup_with_the_requester_and_reason_and_answers_202_with_a_job()
    {
        await using var host = await StartAsync();

        var (status, body, text) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"before the import of the Q4 price list"}""");

        Assert.True(status == HttpStatusCode.Accepted, text);
        var jobId = (string)body!["id"]!;
        Assert.Matches("^job-[0-9a-f]{32}$", jobId);
        Assert.Equal("backup", (string?)body["kind"]);
        Assert.Equal("running", (string?)body["state"]);
        Assert.Equal("ada", (string?)body["requestedBy"]!["id"]);
        var run = host.Executions.Single("on-demand-backup");
        Assert.Equal(("us-central1", "on-demand-backup"), (run.Name.Workflow.Location, run.Name.Workflow.Workflow));
        Assert.Equal("prod", (string?)run.Argument!["instance"]);
        Assert.Equal("crm", (string?)run.Argument["database"]);
        Assert.Equal("ada@example.com (ada)", (string?)run.Argument["requestedBy"]);
        Assert.Equal("before the import of the Q4 price list", (string?)run.Argument["reason"]);
        Assert.Equal(jobId, (string?)run.Argument["jobId"]);
        var record = Assert.Single(await host.AuditAsync());
        Assert.Equal("backups.create", (string?)record["action"]);
        Assert.Equal(202, (int)record["outcome"]!["status"]!);
        Assert.Equal(jobId, (string?)record["jobId"]);
        Assert.Equal("admin.backup", (string?)record["permission"]);
    }

    [Fact]
    public async Task Each_action_without_its_permission_is_403_and_starts_nothing()
    {
        await using var host = await StartAsync();
        var restoreOnly = () => host.Token("rita", "admin.restore");
        var backupOnly = () => host.Token("bob", "admin.backup");

        var refused = new[]
        {
            await host.SendAsync(restoreOnly(), HttpMethod.Post, "/backups", """{"reason":"x"}"""),
            await host.SendAsync(backupOnly(), HttpMethod.Post, "/restores/staging", "{}"),
            await host.SendAsync(backupOnly(), HttpMethod.Post, "/restores/tenant", """{"tenantId":"t1","pointInTime":"2026-12-07T09:00:00Z"}"""),
            await host.SendAsync(backupOnly(), HttpMethod.Get, "/audit"),
            await host.SendAsync(host.Token("eve", "contacts.read"), HttpMethod.Get, "/jobs"),
            await host.SendAsync(backupOnly(), HttpMethod.Post, "/jobs/job-0123456789abcdef0123456789abcdef/approve", """{"digest":"x"}"""),
        };

        Assert.All(refused, r => Assert.True(r.Status == HttpStatusCode.Forbidden, r.Text));
        Assert.All(refused, r => Assert.Equal("PERMISSION_DENIED", (string?)r.Body!["error"]!["status"]));
        Assert.Empty(host.Executions.Runs);
        Assert.All(await host.AuditAsync(), r => Assert.Equal(403, (int)r["outcome"]!["status"]!));
    }

    [Fact]
    public async Task A_second_job_of_a_kind_while_one_runs_is_409_with_the_running_job_and_another_kind_still_starts()
    {
        await using var host = await StartAsync();
        var (_, first, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"one"}""");

        var (status, body, text) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"two"}""");
        var (staging, _, stagingText) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/staging", "");

        Assert.True(status == HttpStatusCode.Conflict, text);
        Assert.Equal("JOB_RUNNING", (string?)body!["error"]!["status"]);
        Assert.Equal((string?)first!["id"], (string?)body["job"]!["id"]);
        Assert.Equal("ada", (string?)body["job"]!["requestedBy"]!["id"]);
        Assert.True(staging == HttpStatusCode.Accepted, stagingText);
        Assert.Single(host.Executions.Runs, r => r.Name.Workflow.Workflow == "on-demand-backup");

        // Once the first has ended, the next one starts.
        host.Executions.Single("on-demand-backup").State = ExecutionStates.Succeeded;
        var (again, next, againText) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"two"}""");
        Assert.True(again == HttpStatusCode.Accepted, againText);
        Assert.NotEqual((string?)first["id"], (string?)next!["id"]);
        var conflict = Assert.Single(await host.AuditAsync(), r => (int)r["outcome"]!["status"]! == 409);
        Assert.Equal((string?)first["id"], (string?)conflict["jobId"]);
    }

    [Fact]
    public async Task A_lease_whose_job_never_got_its_record_holds_for_two_minutes_and_is_then_taken_back()
    {
        await using var host = await StartAsync();
        // An instance took the lease and died before it wrote the job's record.
        var lease = $$"""{"jobId":"job-0123456789abcdef0123456789abcdef","kind":"backup","since":"{{Now:O}}"}""";
        await using (var content = new MemoryStream(Encoding.UTF8.GetBytes(lease)))
        {
            await host.Store.WriteAsync(SweeperHost.Prefix + "/.data-management/running/backup.json", content, "application/json", ifGenerationMatch: 0);
        }

        var (starting, startingBody, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"one"}""");
        host.Clock.Advance(TimeSpan.FromMinutes(3));
        var (started, _, startedText) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"one"}""");

        Assert.Equal(HttpStatusCode.Conflict, starting);
        Assert.Equal("JOB_STARTING", (string?)startingBody!["error"]!["status"]);
        Assert.True(started == HttpStatusCode.Accepted, startedText);
        Assert.Single(host.Executions.Runs);
    }

    [Fact]
    public async Task A_workflow_that_cannot_be_started_is_503_and_leaves_no_job_running()
    {
        await using var host = await StartAsync();
        host.Executions.FailCreate = new WorkflowExecutionsApiException(403, "forbidden", "The caller does not have permission");

        var (status, body, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"one"}""");
        host.Executions.FailCreate = null;
        var (retry, _, retryText) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"one"}""");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("WORKFLOW_UNAVAILABLE", (string?)body!["error"]!["status"]);
        Assert.True(retry == HttpStatusCode.Accepted, retryText);

        // A tenant restore whose callbacks cannot be listed (the account lacks the permission) is a 503 naming that, not a 500.
        var (_, tenant, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/tenant", """{"tenantId":"t1","pointInTime":"2026-12-07T08:00:00Z"}""");
        host.Executions.FailCallbacks = new WorkflowExecutionsApiException(403, "forbidden", "Permission 'workflows.callbacks.list' denied");
        var (seen, seenBody, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Get, $"/jobs/{tenant!["id"]}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, seen);
        Assert.Contains("callbacks could not be listed (Workflow Executions API answered 403)", (string?)seenBody!["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_staging_restore_of_a_listed_backup_passes_its_uri_to_clone_prod_to_staging_and_an_unknown_id_is_404()
    {
        await using var host = await StartAsync();
        var name = BackupObjectName.PreDeploy(SweeperHost.Prefix, "prod", "prod", Now.AddDays(-1), "add-index");
        await host.Writer.WriteBackupAsync(name, BackupKinds.PreDeployExport);
        var other = BackupObjectName.PreDeploy(SweeperHost.Prefix, "prod", "staging", Now.AddDays(-1), "add-index");
        await host.Writer.WriteBackupAsync(other, BackupKinds.PreDeployExport);
        var (_, list, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Get, "/backups");
        var id = (string)list!["backups"]!.AsArray().Single(b => (string?)b!["sourceInstance"] == "prod")!["id"]!;
        var otherId = (string)list["backups"]!.AsArray().Single(b => (string?)b!["sourceInstance"] == "staging")!["id"]!;

        var (unknown, unknownBody, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/staging", """{"backup":"bk-0123456789abcdef0123"}""");
        var (wrongSource, wrongBody, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/staging", $$"""{"backup":"{{otherId}}"}""");
        var (status, body, text) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/staging", $$"""{"backup":"{{id}}"}""");

        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal("BACKUP_NOT_FOUND", (string?)unknownBody!["error"]!["status"]);
        Assert.Equal(HttpStatusCode.BadRequest, wrongSource);
        Assert.Contains("not of the production instance prod", (string?)wrongBody!["error"]!["message"], StringComparison.Ordinal);
        Assert.True(status == HttpStatusCode.Accepted, text);
        Assert.Equal(id, (string?)body!["request"]!["backupId"]);
        Assert.DoesNotContain("gs://", text, StringComparison.Ordinal);
        var run = host.Executions.Single("clone-prod-to-staging");
        Assert.Equal($"gs://{host.Functions.Bucket}/{name.Name}", (string?)run.Argument!["backup"]);
        Assert.Equal("staging", (string?)run.Argument["stagingInstance"]);
        Assert.Equal("crm_staging", (string?)run.Argument["stagingDatabase"]);
        Assert.Equal("staging-app-password", (string?)run.Argument["appPasswordSecret"]);
        Assert.Equal(["Account", "Contact"], run.Argument["criticalTables"]!.AsArray().Select(t => (string?)t));
    }

    [Fact]
    public async Task A_tenant_restore_is_approved_only_by_a_second_admin_restore_user_for_the_plan_shown_and_both_appear_in_the_job_and_the_audit()
    {
        await using var host = await StartAsync();
        var (status, started, text) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/tenant",
            """{"tenantId":"tenant-7","pointInTime":"2026-12-07T08:00:00Z","mode":"exact"}""");
        Assert.True(status == HttpStatusCode.Accepted, text);
        var jobId = (string)started!["id"]!;
        var run = host.Executions.Single("tenant-restore");
        Assert.Equal("tenant-7", (string?)run.Argument!["tenantId"]);
        Assert.Equal("2026-12-07T08:00:00.000000Z", (string?)run.Argument["pointInTime"]);
        Assert.Equal("exact", (string?)run.Argument["mode"]);
        Assert.Equal("rita@example.com (rita)", (string?)run.Argument["requestedBy"]);

        // Before the plan: nothing to approve.
        var digest = new string('a', 64);
        var (early, earlyBody, _) = await host.SendAsync(host.Token("sam", "admin.restore"), HttpMethod.Post, $"/jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        Assert.Equal(HttpStatusCode.Conflict, early);
        Assert.Equal("NOT_AWAITING_APPROVAL", (string?)earlyBody!["error"]!["status"]);

        // The workflow plans and waits: its plan object and a callback with a waiter.
        var objects = new TenantRestoreObjects(host.Store, SweeperHost.Prefix);
        var plan = new TenantPlan("tenant-7", TenantRestoreMode.Exact,
            [new TablePlan("Contact", 3, 1, 0, 4, ["missing id=41", "missing id=42", "changed id=7"], "k", null)], [], digest);
        await objects.TryCreateAsync(objects.PlanName(DataManagementJobs.RunId(run.Name.Id), digest),
            new StoredPlan(DataManagementJobs.RunId(run.Name.Id), "prod", "crm", "verify", "scratch_1", "tenant-7", TenantRestoreMode.Exact, "tenantId", "2026-12-07T08:00:00Z", "rita", plan) { PlannedAt = Now },
            CancellationToken.None);
        run.WaitingCallback = "0123456789abcdef0123456789abcdef";
        var (_, shown, shownText) = await host.SendAsync(host.Token("sam", "admin.restore"), HttpMethod.Get, $"/jobs/{jobId}");
        Assert.Equal("awaiting-approval", (string?)shown!["state"]);
        Assert.Equal(digest, (string?)shown["plan"]!["digest"]);
        Assert.Equal(4, (long)shown["plan"]!["writes"]!);
        Assert.Equal("Contact", (string?)shown["plan"]!["tables"]![0]!["table"]);
        Assert.DoesNotContain("gs://", shownText, StringComparison.Ordinal);

        var (own, ownBody, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, $"/jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        var (backupOnly, _, _) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Post, $"/jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        var (otherPlan, otherBody, _) = await host.SendAsync(host.Token("sam", "admin.restore"), HttpMethod.Post, $"/jobs/{jobId}/approve", $$"""{"digest":"{{new string('b', 64)}}"}""");
        Assert.Equal(HttpStatusCode.Forbidden, own);
        Assert.Equal("TWO_PERSON_RULE", (string?)ownBody!["error"]!["status"]);
        Assert.Equal(HttpStatusCode.Forbidden, backupOnly);
        Assert.Equal(HttpStatusCode.Conflict, otherPlan);
        Assert.Equal("PLAN_CHANGED", (string?)otherBody!["error"]!["status"]);
        Assert.Empty(run.Received);

        var (approved, approvedBody, approvedText) = await host.SendAsync(host.Token("sam", "admin.restore"), HttpMethod.Post, $"/jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");
        Assert.True(approved == HttpStatusCode.OK, approvedText);
        var received = Assert.Single(run.Received);
        Assert.True((bool)received["approved"]!);
        Assert.Equal("sam@example.com (sam)", (string?)received["approvedBy"]);
        Assert.Equal(digest, (string?)received["digest"]);
        Assert.Equal("sam", (string?)approvedBody!["approvals"]![0]!["approvedBy"]!["id"]);

        // The workflow applies and ends: the job shows the requester, the approver and the result.
        run.State = ExecutionStates.Succeeded;
        run.Result = $$"""{"tenantId":"tenant-7","mode":"exact","outcome":"applied","approvedBy":"sam@example.com (sam)","proven":true,"writes":{"Contact":4},"recordUri":"gs://{{host.Functions.Bucket}}/x/record.json"}""";
        var (_, done, doneText) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Get, $"/jobs/{jobId}");
        Assert.Equal("succeeded", (string?)done!["state"]);
        Assert.Equal("rita", (string?)done["requestedBy"]!["id"]);
        Assert.Equal("sam", (string?)done["approvals"]![0]!["approvedBy"]!["id"]);
        Assert.Equal("applied", (string?)done["result"]!["outcome"]);
        Assert.True((bool)done["result"]!["proven"]!);
        Assert.DoesNotContain("gs://", doneText, StringComparison.Ordinal);

        var audit = await host.AuditAsync();
        var approval = Assert.Single(audit, r => (string?)r["action"] == "jobs.approve" && (int)r["outcome"]!["status"]! == 200);
        Assert.Equal("sam", (string?)approval["user"]!["id"]);
        Assert.Equal(jobId, (string?)approval["jobId"]);
        var request = Assert.Single(audit, r => (string?)r["action"] == "restores.tenant");
        Assert.Equal("rita", (string?)request["user"]!["id"]);
        Assert.Equal(jobId, (string?)request["jobId"]);
        Assert.Equal("TWO_PERSON_RULE", (string?)Assert.Single(audit, r => (int)r["outcome"]!["status"]! == 403 && (string?)r["user"]!["id"] == "rita")["outcome"]!["code"]);
    }

    [Fact]
    public async Task The_requester_may_reject_a_waiting_tenant_restore_which_then_takes_no_approval()
    {
        await using var host = await StartAsync();
        var (_, started, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/tenant", """{"tenantId":"t1","pointInTime":"2026-12-07T08:00:00Z"}""");
        var jobId = (string)started!["id"]!;
        var run = host.Executions.Single("tenant-restore");
        var digest = new string('c', 64);
        var objects = new TenantRestoreObjects(host.Store, SweeperHost.Prefix);
        var plan = new TenantPlan("t1", TenantRestoreMode.MissingOnly, [new TablePlan("Contact", 2, 0, 0, 2, ["missing id=1"], "k", null)], [], digest);
        await objects.TryCreateAsync(objects.PlanName(DataManagementJobs.RunId(run.Name.Id), digest),
            new StoredPlan(DataManagementJobs.RunId(run.Name.Id), "prod", "crm", "verify", "scratch_2", "t1", TenantRestoreMode.MissingOnly, "tenantId", "2026-12-07T08:00:00Z", "rita", plan) { PlannedAt = Now },
            CancellationToken.None);
        run.WaitingCallback = "fedcba9876543210fedcba9876543210";

        var (backupOnly, _, _) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Post, $"/jobs/{jobId}/reject", $$"""{"digest":"{{digest}}"}""");
        var (rejected, rejectedBody, rejectedText) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, $"/jobs/{jobId}/reject", $$"""{"digest":"{{digest}}"}""");
        // The workflow would be ending: a waiting callback again, and a second user's approval of the rejected plan.
        run.WaitingCallback = "fedcba9876543210fedcba9876543211";
        var (late, lateBody, _) = await host.SendAsync(host.Token("sam", "admin.restore"), HttpMethod.Post, $"/jobs/{jobId}/approve", $$"""{"digest":"{{digest}}"}""");

        Assert.Equal(HttpStatusCode.Forbidden, backupOnly);
        Assert.True(rejected == HttpStatusCode.OK, rejectedText);
        var sent = Assert.Single(run.Received);
        Assert.False((bool)sent["approved"]!);
        Assert.Equal("rita@example.com (rita)", (string?)sent["approvedBy"]);
        Assert.False((bool)rejectedBody!["approvals"]![0]!["approved"]!);
        Assert.Equal(HttpStatusCode.Conflict, late);
        Assert.Equal("ALREADY_DECIDED", (string?)lateBody!["error"]!["status"]);
        Assert.Contains("already rejected by another user", (string?)lateBody["error"]!["message"], StringComparison.Ordinal);
        Assert.Single(run.Received);
        Assert.Single(await host.AuditAsync(), r => (string?)r["action"] == "jobs.reject" && (int)r["outcome"]!["status"]! == 200 && (string?)r["user"]!["id"] == "rita");
    }

    [Fact]
    public async Task A_job_is_seen_only_with_its_kinds_permission_and_the_list_holds_only_visible_kinds_newest_first()
    {
        await using var host = await StartAsync();
        var (_, backup, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"one"}""");
        host.Clock.Advance(TimeSpan.FromSeconds(1));
        var (_, staging, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/staging", "");
        host.Clock.Advance(TimeSpan.FromSeconds(1));
        var (_, tenant, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Post, "/restores/tenant", """{"tenantId":"t1","pointInTime":"2026-12-07T08:00:00Z"}""");

        var (seen, _, _) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Get, $"/jobs/{backup!["id"]}");
        var (hidden, hiddenBody, _) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Get, $"/jobs/{tenant!["id"]}");
        var (missing, _, _) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Get, "/jobs/job-0123456789abcdef0123456789abcdef");
        var (_, backupList, _) = await host.SendAsync(host.Token("bob", "admin.backup"), HttpMethod.Get, "/jobs");
        var (_, both, _) = await host.SendAsync(host.Token("root", "admin.backup", "admin.restore"), HttpMethod.Get, "/jobs?limit=2");

        Assert.Equal(HttpStatusCode.OK, seen);
        Assert.Equal(HttpStatusCode.Forbidden, hidden);
        Assert.Contains("admin.restore", (string?)hiddenBody!["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal([(string?)backup["id"]], backupList!["jobs"]!.AsArray().Select(j => (string?)j!["id"]));
        Assert.Equal([(string?)tenant["id"], (string?)staging!["id"]], both!["jobs"]!.AsArray().Select(j => (string?)j!["id"]));
        Assert.True((bool)both["truncated"]!);
    }

    [Fact]
    public async Task A_finished_backup_job_names_the_backup_by_its_id_and_a_failed_one_its_reason_without_object_uris()
    {
        await using var host = await StartAsync();
        var name = BackupObjectName.PreDeploy(SweeperHost.Prefix, "prod", "prod", Now, "ui-request");
        var (_, job, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"one"}""");
        var run = host.Executions.Single("on-demand-backup");
        run.State = ExecutionStates.Succeeded;
        run.Result = $$"""{"backupUri":"gs://{{host.Functions.Bucket}}/{{name.Name}}","instance":"prod","database":"crm","change":"ui-request","requestedBy":"ada@example.com (ada)","reason":"one","seconds":42}""";

        var (_, done, doneText) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Get, $"/jobs/{job!["id"]}");

        Assert.Equal("succeeded", (string?)done!["state"]);
        Assert.Equal(DataManagementBackup.IdOf(name), (string?)done["result"]!["backupId"]);
        Assert.Equal(42, (int)done["result"]!["seconds"]!);
        Assert.DoesNotContain("gs://", doneText, StringComparison.Ordinal);

        var (_, second, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"two"}""");
        var failed = host.Executions.Runs.Single(r => r.State == ExecutionStates.Active);
        failed.State = ExecutionStates.Failed;
        failed.ErrorPayload = $$"""{"message":"pre-deploy-export refused: gs://{{host.Functions.Bucket}}/x.sql.gz is older than 24 h","tags":["HttpError"]}""";
        var (_, failedView, failedText) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Get, $"/jobs/{second!["id"]}");
        Assert.Equal("failed", (string?)failedView!["state"]);
        Assert.Contains("pre-deploy-export refused: <backup object> is older", (string?)failedView["error"], StringComparison.Ordinal);
        Assert.DoesNotContain("gs://", failedText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_audit_trail_is_newest_first_filtered_by_since_and_limited()
    {
        await using var host = await StartAsync();
        await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Get, "/backups");
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        await host.SendAsync(null, HttpMethod.Get, "/backups");
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        await host.SendAsync(host.Token("bob", "contacts.read"), HttpMethod.Get, "/backups");
        host.Clock.Advance(TimeSpan.FromMinutes(10));

        var (status, all, text) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Get, "/audit");
        var (_, since, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Get, "/audit?since=2026-12-07T09:35:00Z");
        var (_, limited, _) = await host.SendAsync(host.Token("rita", "admin.restore"), HttpMethod.Get, "/audit?limit=1");

        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Equal([403, 401, 200], all!["records"]!.AsArray().Select(r => (int)r!["outcome"]!["status"]!));
        Assert.Equal(["bob", null, "ada"], all["records"]!.AsArray().Select(r => (string?)r!["user"]?["id"]));
        // The audit list itself is audited: the second call sees the first one's record.
        Assert.Equal([200, 403, 401], since!["records"]!.AsArray().Select(r => (int)r!["outcome"]!["status"]!));
        Assert.Equal("audit.list", (string?)since["records"]![0]!["action"]);
        Assert.Single(limited!["records"]!.AsArray());
        Assert.True((bool)limited["truncated"]!);
    }

    [Fact]
    public async Task A_replayed_token_starts_nothing_and_is_a_401_before_any_other_answer()
    {
        await using var host = await StartAsync();
        var backup = host.Token("ada", "admin.backup");
        var (first, _, _) = await host.SendAsync(backup, HttpMethod.Post, "/backups", """{"reason":"one"}""");
        host.Executions.Single("on-demand-backup").State = ExecutionStates.Succeeded;

        var (again, againBody, _) = await host.SendAsync(backup, HttpMethod.Post, "/backups", """{"reason":"one"}""");
        // A read-only action runs while the jti is recorded: the replay still wins over its 403 and its answer.
        var reader = host.Token("bob", "contacts.read");
        var (denied, _, _) = await host.SendAsync(reader, HttpMethod.Get, "/jobs");
        var (replayed, replayedBody, replayedText) = await host.SendAsync(reader, HttpMethod.Get, "/jobs");
        var lister = host.Token("rita", "admin.restore");
        await host.SendAsync(lister, HttpMethod.Get, "/audit");
        var (relisted, _, relistedText) = await host.SendAsync(lister, HttpMethod.Get, "/audit");

        Assert.Equal(HttpStatusCode.Accepted, first);
        Assert.Equal(HttpStatusCode.Unauthorized, again);
        Assert.Contains("used before", (string?)againBody!["error"]!["message"], StringComparison.Ordinal);
        Assert.Single(host.Executions.Runs);
        Assert.Equal(HttpStatusCode.Forbidden, denied);
        Assert.True(replayed == HttpStatusCode.Unauthorized, replayedText);
        Assert.Equal(HttpStatusCode.Unauthorized, relisted);
        Assert.DoesNotContain("records", relistedText, StringComparison.Ordinal);
        var audit = await host.AuditAsync();
        Assert.Equal(3, audit.Count(r => (int)r["outcome"]!["status"]! == 401 && r["user"] is null));
    }

    [Fact]
    public async Task Without_the_job_settings_the_job_actions_are_503_and_the_backups_still_list()
    {
        await using var host = await StartAsync(jobs: false);

        var (status, body, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Post, "/backups", """{"reason":"x"}""");
        var (list, _, _) = await host.SendAsync(host.Token("ada", "admin.backup"), HttpMethod.Get, "/backups");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("JOBS_NOT_CONFIGURED", (string?)body!["error"]!["status"]);
        Assert.Equal(HttpStatusCode.OK, list);
    }
}
