using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Tenants;

namespace Commissable.Functions.Tests.TenantRestore;

/// <summary>
/// tenant-restore's own logic through the real host and the local cloud's real Cloud SQL API and
/// bucket, with <see cref="ScriptedTenantRestorer"/> answering for the databases: validation,
/// the safety rail, the stored objects (create-only, approval before apply), refusals and 503s.
/// </summary>
[Collection(TenantRestoreEnvironment.Collection)]
public sealed class TenantRestoreFunctionTests : IDisposable
{
    private readonly TenantRestoreEnvironment _env;
    private readonly ScriptedTenantRestorer _restorer;

    public TenantRestoreFunctionTests(TenantRestoreEnvironment env)
    {
        _env = env;
        _restorer = env.Restorer;
        _restorer.Reset();
    }

    public void Dispose() => _restorer.Reset();

    private static JsonObject Request(string action, string runId, string tenant = "t-42", string mode = "missing-only") => new()
    {
        ["action"] = action,
        ["runId"] = runId,
        ["sourceInstance"] = TenantRestoreEnvironment.Source,
        ["database"] = "crm",
        ["stagedInstance"] = TenantRestoreEnvironment.Staged,
        ["stagedDatabase"] = TenantRestoreEnvironment.StagedDatabase,
        ["tenantId"] = tenant,
        ["mode"] = mode,
        ["requestedBy"] = "alice@example.com",
        ["restorePoint"] = "2026-11-25T03:00:00Z",
    };

    private static JsonObject ApplyRequest(string runId, string digest, string tenant = "t-42", string mode = "missing-only")
    {
        var request = Request("apply", runId, tenant, mode);
        request["planUri"] = TenantRestoreEnvironment.RunObject(runId, $"plan-{digest}.json");
        request["digest"] = digest;
        request["approvedBy"] = "bob@example.com";
        request["approvedAt"] = "2026-11-25T04:00:00Z";
        request["safetyBackup"] = TenantRestoreEnvironment.SafetyBackup;
        return request;
    }

    private Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(JsonObject request) =>
        TenantRestoreEnvironment.PostAsync(_env.Scripted.Client, request.ToJsonString());

    /// <summary>Plans <paramref name="plan"/> in run <paramref name="runId"/> and returns the answer.</summary>
    private async Task<JsonObject> PlannedAsync(string runId, TenantPlan plan)
    {
        _restorer.OnPlan = (_, _) => plan;
        var (status, body) = await PostAsync(Request("plan", runId, plan.TenantId, plan.Mode == TenantRestoreMode.Exact ? "exact" : "missing-only"));
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        return body;
    }

    [Fact]
    public async Task Plan_stores_the_plan_create_only_and_answers_counts_example_keys_and_an_aligned_text()
    {
        var runId = TenantRestoreEnvironment.NewRunId("plan");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly, missing: 1234, problem: null);

        var body = await PlannedAsync(runId, plan);

        var planUri = TenantRestoreEnvironment.RunObject(runId, $"plan-{plan.Digest}.json");
        Assert.Equal(runId, (string?)body["runId"]);
        Assert.Equal(planUri, (string?)body["planUri"]);
        Assert.Equal(plan.Digest, (string?)body["digest"]);
        Assert.True((bool)body["canApply"]!);
        Assert.Equal("missing-only", (string?)body["mode"]);
        Assert.Equal("t-42", (string?)body["tenantId"]);
        var contact = body["tables"]!.AsArray()[1]!.AsObject();
        Assert.Equal(["table", "missing", "changed", "extra", "writes", "exampleKeys", "problem"], contact.Select(p => p.Key));
        Assert.Equal(("Contact", 1234L, 2L, 1L, 1234L), ((string)contact["table"]!, (long)contact["missing"]!, (long)contact["changed"]!, (long)contact["extra"]!, (long)contact["writes"]!));
        Assert.Equal(["missing id=7", "missing id=9", "changed id=12"], contact["exampleKeys"]!.AsArray().Select(k => (string)k!));
        Assert.Null(contact["problem"]);
        Assert.Empty(body["problems"]!.AsArray());
        Assert.Equal("""{"missing":1235,"changed":2,"extra":1,"writes":1235}""", body["totals"]!.ToJsonString());

        var text = (string)body["text"]!;
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal($"Tenant t-42 on prod/crm, mode missing-only, can apply: yes", lines[0]);
        Assert.Equal($"Plan digest {plan.Digest}", lines[1]);
        Assert.Equal("table    missing  changed  extra  writes  example keys                               problem", lines[2]);
        Assert.Equal("Tenant         1        0      0       1  missing id=t-42                            -", lines[3]);
        Assert.Equal("Contact    1,234        2      1   1,234  missing id=7, missing id=9, changed id=12  -", lines[4]);
        Assert.Equal("total      1,235        2      1   1,235", lines[5]);

        // The restorer was given the databases resolved through the Cloud SQL API and the options the function chose.
        Assert.Equal(["plan t-42"], _restorer.Calls);
        Assert.Equal((TenantRestoreEnvironment.Source, "crm", TenantRestoreEnvironment.Staged, TenantRestoreEnvironment.StagedDatabase),
            (_restorer.LastDatabases!.Production.Name, _restorer.LastDatabases.ProductionDatabase, _restorer.LastDatabases.Staged.Name, _restorer.LastDatabases.StagedDatabase));
        Assert.Equal(("tenantId", TenantRestoreMode.MissingOnly), (_restorer.LastOptions!.TenantColumn, _restorer.LastOptions.Mode));

        var stored = _env.Stored(planUri);
        Assert.Equal((runId, "prod", "crm", "staged", "tr_staged", "t-42", "missing-only", "tenantId", "2026-11-25T03:00:00Z", "alice@example.com"),
            ((string)stored["runId"]!, (string)stored["sourceInstance"]!, (string)stored["database"]!, (string)stored["stagedInstance"]!, (string)stored["stagedDatabase"]!,
             (string)stored["tenantId"]!, (string)stored["mode"]!, (string)stored["tenantColumn"]!, (string)stored["restorePoint"]!, (string)stored["requestedBy"]!));
        Assert.Equal(plan.Digest, (string?)stored["plan"]!["digest"]);
        Assert.Equal("k2", (string?)stored["plan"]!["tables"]![1]!["keyDigest"]);

        var planned = Assert.Single(_env.Scripted.Logs.WithEvent("tenant.restore.planned"), e => e.ToString().Contains(runId, StringComparison.Ordinal));
        Assert.Equal("NOTICE", planned.GetProperty("severity").GetString());
        Assert.DoesNotContain("missing id=7", planned.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Planning_again_to_the_same_plan_is_fine_and_a_different_plan_object_under_that_name_is_409()
    {
        var runId = TenantRestoreEnvironment.NewRunId("again");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly);
        var first = await PlannedAsync(runId, plan);
        var planUri = (string)first["planUri"]!;
        var before = await File.ReadAllTextAsync(_env.LocalPath(planUri));

        var second = await PlannedAsync(runId, plan);
        Assert.Equal(planUri, (string?)second["planUri"]);

        var other = Request("plan", runId);
        other["requestedBy"] = "mallory";
        var (status, body) = await PostAsync(other);

        Assert.True(status == HttpStatusCode.Conflict, body.ToJsonString());
        Assert.Equal("PLAN_OBJECT_EXISTS", (string?)body["error"]!["status"]);
        Assert.Contains("requestedBy is 'alice@example.com' there, 'mallory' here", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(_env.LocalPath(planUri)));
    }

    [Theory]
    [InlineData(TenantRestoreEnvironment.Source, "target.not-source,target.not-production-instance")]
    [InlineData("prod-replica", "target.not-production-instance")]
    [InlineData(TenantRestoreEnvironment.Labelled, "target.not-production-labelled")]
    public async Task A_staged_instance_that_is_the_source_or_production_is_refused_before_any_database_is_reached(string staged, string rules)
    {
        var rule = rules.Split(',')[0];
        foreach (var action in new[] { "plan", "apply" })
        {
            var request = action == "plan" ? Request("plan", TenantRestoreEnvironment.NewRunId("rail")) : ApplyRequest(TenantRestoreEnvironment.NewRunId("rail"), new string('a', 64));
            request["stagedInstance"] = staged;
            request["stagedDatabase"] = "crm";

            var (status, body) = await PostAsync(request);

            Assert.True(status == HttpStatusCode.PreconditionFailed, body.ToJsonString());
            Assert.Equal("VERIFICATION_TARGET_REFUSED", (string?)body["error"]!["status"]);
            Assert.Equal(rules.Split(','), body["error"]!["preconditions"]!.AsArray().Select(p => (string)p!["name"]!));
            Assert.Contains("nothing was read or written", (string?)body["error"]!["message"], StringComparison.Ordinal);
        }
        Assert.Empty(_restorer.Calls);
        Assert.Contains(_env.Scripted.Logs.WithEvent("tenant.restore.refused"), e => e.ToString().Contains(rule, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("sourceInstance", "no-such-instance", "The source instance 'no-such-instance' does not exist")]
    [InlineData("stagedInstance", "no-such-instance", "The staged instance 'no-such-instance' does not exist")]
    [InlineData("database", "no_such_db", "The database 'no_such_db' does not exist on the source instance 'prod'")]
    [InlineData("stagedDatabase", "no_such_db", "The database 'no_such_db' does not exist on the staged instance 'staged'")]
    public async Task An_unknown_instance_or_database_is_404_and_the_restorer_is_not_called(string field, string value, string message)
    {
        var request = Request("plan", TenantRestoreEnvironment.NewRunId("unknown"));
        request[field] = value;

        var (status, body) = await PostAsync(request);

        Assert.True(status == HttpStatusCode.NotFound, body.ToJsonString());
        Assert.StartsWith(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Empty(_restorer.Calls);
    }

    [Fact]
    public async Task A_bad_request_is_400_listing_every_problem()
    {
        var (status, body) = await PostAsync(new JsonObject { ["action"] = "apply", ["runId"] = "Bad_Run", ["mode"] = "report", ["tenantId"] = "" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = (string)body["error"]!["message"]!;
        foreach (var expected in new[] { "'runId' must be", "'sourceInstance' is required", "'stagedInstance' is required", "'stagedDatabase' is required",
            "'tenantId' must be", "'requestedBy' is required", "'restorePoint' is required", "'mode' \"report\" only plans", "'planUri' is required",
            "'digest' is required", "'approvedBy' is required", "'safetyBackup' is required" })
        {
            Assert.Contains(expected, message, StringComparison.Ordinal);
        }
        Assert.Empty(_restorer.Calls);

        // A misspelt field is not dropped silently.
        (status, body) = await PostAsync(new JsonObject { ["action"] = "plan", ["tenant"] = "t-42" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("tenant", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_stores_the_approval_before_the_restorer_writes_then_the_applied_object_and_answers_the_proof()
    {
        var runId = TenantRestoreEnvironment.NewRunId("apply");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly);
        await PlannedAsync(runId, plan);
        var approvalUri = TenantRestoreEnvironment.RunObject(runId, $"approval-{plan.Digest}.json");
        JsonObject? approvalWhenApplying = null;
        _restorer.OnApply = (digest, options) =>
        {
            // What the restorer sees as it starts writing: the approval is already stored.
            approvalWhenApplying = File.Exists(_env.LocalPath(approvalUri)) ? _env.Stored(approvalUri) : null;
            Assert.Equal((plan.Digest, TenantRestoreMode.MissingOnly), (digest, options.Mode));
            return Task.FromResult(ScriptedTenantRestorer.Applied(plan));
        };

        var (status, body) = await PostAsync(ApplyRequest(runId, plan.Digest));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.NotNull(approvalWhenApplying);
        Assert.Equal(("bob@example.com", "2026-11-25T04:00:00+00:00", plan.Digest, "t-42"),
            ((string)approvalWhenApplying["approvedBy"]!, (string)approvalWhenApplying["approvedAt"]!, (string)approvalWhenApplying["digest"]!, (string)approvalWhenApplying["tenantId"]!));
        Assert.Equal(TenantRestoreEnvironment.SafetyBackup, (string?)approvalWhenApplying["safetyBackup"]);
        Assert.Equal(["plan t-42", $"apply t-42 {plan.Digest}"], _restorer.Calls);

        Assert.Equal(["outcome", "proven", "plan", "writes", "proof", "sequencesMoved", "materializedViews", "appliedUri", "text"], body.Select(p => p.Key));
        Assert.Equal("applied", (string?)body["outcome"]);
        Assert.True((bool)body["proven"]!);
        Assert.Equal(TenantRestoreEnvironment.RunObject(runId, $"plan-{plan.Digest}.json"), (string?)body["plan"]!["planUri"]);
        Assert.Equal("""[{"table":"Tenant","inserted":1,"updated":0,"deleted":0},{"table":"Contact","inserted":3,"updated":0,"deleted":0}]""", body["writes"]!.ToJsonString());
        Assert.Equal("""{"table":"Contact","rows":13,"stagedDigest":"aaaabbbbccccdddd","productionDigest":"aaaabbbbccccdddd","equal":true}""", body["proof"]![1]!.ToJsonString());
        Assert.Equal(["\"Contact_id_seq\"=12"], body["sequencesMoved"]!.AsArray().Select(s => (string)s!));
        var appliedUri = TenantRestoreEnvironment.RunObject(runId, $"applied-{plan.Digest}.json");
        Assert.Equal(appliedUri, (string?)body["appliedUri"]);
        var applied = _env.Stored(appliedUri);
        Assert.Equal((approvalUri, true, 3L), ((string)applied["approvalUri"]!, (bool)applied["proven"]!, (long)applied["writes"]![1]!["inserted"]!));

        var lines = ((string)body["text"]!).TrimEnd('\n').Split('\n');
        Assert.Equal($"Tenant t-42: applied, proven: yes, plan digest {plan.Digest}", lines[0]);
        Assert.Equal("table    inserted  updated  deleted  rows  staged        production    equal", lines[1]);
        Assert.Equal("Contact         3        0        0    13  aaaabbbbcccc  aaaabbbbcccc  yes", lines[3]);
        Assert.Equal("total           4        0        0    24", lines[4]);
        Assert.Equal("Sequences moved: \"Contact_id_seq\"=12", lines[5]);

        Assert.Contains(_env.Scripted.Logs.WithEvent("tenant.restore.applied"),
            e => e.ToString().Contains(runId, StringComparison.Ordinal) && e.GetProperty("severity").GetString() == "NOTICE");
    }

    [Fact]
    public async Task An_apply_whose_proof_does_not_hold_says_so_and_logs_an_error()
    {
        var runId = TenantRestoreEnvironment.NewRunId("unproven");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly);
        await PlannedAsync(runId, plan);
        _restorer.OnApply = (_, _) => Task.FromResult(ScriptedTenantRestorer.Applied(plan, unequalTable: "Contact"));

        var (status, body) = await PostAsync(ApplyRequest(runId, plan.Digest));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(("applied", false, false), ((string)body["outcome"]!, (bool)body["proven"]!, (bool)body["proof"]![1]!["equal"]!));
        Assert.Contains("Contact         3        0        0    13  aaaabbbbcccc  eeeeffff0000  NO", (string?)body["text"], StringComparison.Ordinal);
        Assert.False((bool)_env.Stored((string)body["appliedUri"]!)["proven"]!);
        Assert.Contains(_env.Scripted.Logs.WithEvent("tenant.restore.applied"),
            e => e.ToString().Contains(runId, StringComparison.Ordinal) && e.GetProperty("severity").GetString() == "ERROR");
    }

    [Theory]
    [InlineData("tenantId", "t-43", "its tenantId is 't-42', the request's 't-43'")]
    [InlineData("mode", "exact", "its mode is 'missing-only', the request's 'exact'")]
    [InlineData("database", "postgres", "its database is 'crm', the request's 'postgres'")]
    public async Task Apply_is_409_when_the_plan_object_was_made_for_something_else_and_nothing_is_approved_or_applied(string field, string value, string message)
    {
        var runId = TenantRestoreEnvironment.NewRunId("mismatch");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly);
        await PlannedAsync(runId, plan);
        var request = ApplyRequest(runId, plan.Digest);
        request[field] = value;

        var (status, body) = await PostAsync(request);

        Assert.True(status == HttpStatusCode.Conflict, body.ToJsonString());
        Assert.Equal("PLAN_MISMATCH", (string?)body["error"]!["status"]);
        Assert.Contains(message, (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(["plan t-42"], _restorer.Calls);
        Assert.False(File.Exists(_env.LocalPath(TenantRestoreEnvironment.RunObject(runId, $"approval-{plan.Digest}.json"))));
    }

    [Fact]
    public async Task Apply_of_a_plan_object_that_does_not_exist_is_404_and_of_a_plan_uri_that_is_not_the_digests_is_400()
    {
        var runId = TenantRestoreEnvironment.NewRunId("noplan");
        var digest = new string('c', 64);

        var (status, body) = await PostAsync(ApplyRequest(runId, digest));
        Assert.True(status == HttpStatusCode.NotFound, body.ToJsonString());
        Assert.Contains("There is no plan object at", (string?)body["error"]!["message"], StringComparison.Ordinal);

        var elsewhere = ApplyRequest(runId, digest);
        elsewhere["planUri"] = $"gs://{LocalFunctionsEnvironment.Bucket}/backups/tenant-restores/other-run/plan-{digest}.json";
        (status, body) = await PostAsync(elsewhere);
        Assert.True(status == HttpStatusCode.BadRequest, body.ToJsonString());
        Assert.Contains($"'planUri' must be the plan object of run '{runId}' with digest {digest}", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Empty(_restorer.Calls);
    }

    [Fact]
    public async Task Apply_of_a_plan_with_problems_is_409_and_nothing_is_approved()
    {
        var runId = TenantRestoreEnvironment.NewRunId("problem");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly, problem: "unique constraint \"Contact_email_key\" (23505)");
        var planned = await PlannedAsync(runId, plan);
        Assert.False((bool)planned["canApply"]!);
        Assert.Contains("can apply: NO", (string?)planned["text"], StringComparison.Ordinal);

        var (status, body) = await PostAsync(ApplyRequest(runId, plan.Digest));

        Assert.True(status == HttpStatusCode.Conflict, body.ToJsonString());
        Assert.Equal("PLAN_HAS_PROBLEMS", (string?)body["error"]!["status"]);
        Assert.Contains("Contact: unique constraint \"Contact_email_key\" (23505)", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.False(File.Exists(_env.LocalPath(TenantRestoreEnvironment.RunObject(runId, $"approval-{plan.Digest}.json"))));
        Assert.Equal(["plan t-42"], _restorer.Calls);
    }

    [Theory]
    [InlineData("backups/prod/prod/backup_20261125_0402_prod_before_tenant-restore-none.sql.gz", "has no manifest: it was never recorded as a backup")]
    [InlineData("elsewhere/x.sql.gz", "is not a backup of the catalog")]
    public async Task Apply_naming_a_safety_backup_that_is_not_a_recorded_backup_is_409_and_nothing_is_approved(string objectName, string reason)
    {
        var runId = TenantRestoreEnvironment.NewRunId("unsafe");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly);
        await PlannedAsync(runId, plan);
        var request = ApplyRequest(runId, plan.Digest);
        request["safetyBackup"] = $"gs://{LocalFunctionsEnvironment.Bucket}/{objectName}";

        var (status, body) = await PostAsync(request);

        Assert.True(status == HttpStatusCode.Conflict, body.ToJsonString());
        Assert.Equal("SAFETY_BACKUP_REFUSED", (string?)body["error"]!["status"]);
        Assert.Contains(reason, (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.StartsWith("Nothing was written", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.False(File.Exists(_env.LocalPath(TenantRestoreEnvironment.RunObject(runId, $"approval-{plan.Digest}.json"))));
        Assert.Equal(["plan t-42"], _restorer.Calls);
    }

    [Fact]
    public async Task When_production_changed_the_new_plan_is_stored_to_approve_and_nothing_is_applied()
    {
        var runId = TenantRestoreEnvironment.NewRunId("changed");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.Exact);
        await PlannedAsync(runId, plan);
        var changed = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.Exact, missing: 5);
        _restorer.OnApply = (_, _) => Task.FromResult(new TenantApplyResult(TenantApplyOutcome.PlanChanged, changed, [], [], []));

        var (status, body) = await PostAsync(ApplyRequest(runId, plan.Digest, mode: "exact"));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(("plan-changed", false), ((string)body["outcome"]!, (bool)body["proven"]!));
        Assert.Null(body["appliedUri"]);
        Assert.True(body.ContainsKey("appliedUri"));
        var newPlanUri = TenantRestoreEnvironment.RunObject(runId, $"plan-{changed.Digest}.json");
        Assert.Equal((newPlanUri, changed.Digest, 5L), ((string)body["plan"]!["planUri"]!, (string)body["plan"]!["digest"]!, (long)body["plan"]!["tables"]![1]!["missing"]!));
        var stored = _env.Stored(newPlanUri);
        Assert.Equal(("alice@example.com", "exact", changed.Digest), ((string)stored["requestedBy"]!, (string)stored["mode"]!, (string)stored["plan"]!["digest"]!));
        Assert.False(File.Exists(_env.LocalPath(TenantRestoreEnvironment.RunObject(runId, $"applied-{plan.Digest}.json"))));
        Assert.Contains("production changed for this tenant", (string?)body["text"], StringComparison.Ordinal);
        Assert.Contains(_env.Scripted.Logs.WithEvent("tenant.restore.refused"), e => e.ToString().Contains(runId, StringComparison.Ordinal) && e.ToString().Contains("plan-changed", StringComparison.Ordinal));

        // The new plan can be approved and applied in the same run.
        _restorer.OnApply = (_, _) => Task.FromResult(ScriptedTenantRestorer.Applied(changed));
        (status, body) = await PostAsync(ApplyRequest(runId, changed.Digest, mode: "exact"));
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal("applied", (string?)body["outcome"]);
    }

    [Fact]
    public async Task A_retried_apply_with_the_same_approval_runs_again_and_another_approval_of_the_plan_is_409()
    {
        var runId = TenantRestoreEnvironment.NewRunId("approval");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly);
        await PlannedAsync(runId, plan);
        var changed = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly, missing: 0);
        _restorer.OnApply = (_, _) => Task.FromResult(new TenantApplyResult(TenantApplyOutcome.PlanChanged, changed, [], [], []));

        var (status, body) = await PostAsync(ApplyRequest(runId, plan.Digest));
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        (status, body) = await PostAsync(ApplyRequest(runId, plan.Digest));
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());

        var other = ApplyRequest(runId, plan.Digest);
        other["approvedBy"] = "mallory";
        (status, body) = await PostAsync(other);

        Assert.True(status == HttpStatusCode.Conflict, body.ToJsonString());
        Assert.Equal("APPROVAL_EXISTS", (string?)body["error"]!["status"]);
        Assert.Contains("by 'bob@example.com' at 2026-11-25T04:00:00.0000000+00:00", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(2, _restorer.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)));
        Assert.Equal("bob@example.com", (string?)_env.Stored(TenantRestoreEnvironment.RunObject(runId, $"approval-{plan.Digest}.json"))["approvedBy"]);
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_is_503_without_the_password()
    {
        var runId = TenantRestoreEnvironment.NewRunId("down");
        _restorer.OnPlan = (_, _) => throw new DatabaseUnreachableException("connection refused (Password=root-pw;)", new IOException("refused"));

        var (status, body) = await PostAsync(Request("plan", runId));

        Assert.True(status == HttpStatusCode.ServiceUnavailable, body.ToJsonString());
        var message = (string)body["error"]!["message"]!;
        Assert.Contains("so no plan was made", message, StringComparison.Ordinal);
        Assert.DoesNotContain("root-pw", message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_env.LocalPath(TenantRestoreEnvironment.RunObject(runId, ""))));
    }

    [Fact]
    public async Task Record_stores_the_audit_record_once_with_the_plan_totals_and_the_rows_written()
    {
        var runId = TenantRestoreEnvironment.NewRunId("record");
        var plan = ScriptedTenantRestorer.Plan("t-42", TenantRestoreMode.MissingOnly);
        await PlannedAsync(runId, plan);
        _restorer.OnApply = (_, _) => Task.FromResult(ScriptedTenantRestorer.Applied(plan));
        var (_, applied) = await PostAsync(ApplyRequest(runId, plan.Digest));
        var request = Request("record", runId);
        request["outcome"] = "applied";
        request["approvedBy"] = "bob@example.com";
        request["planUri"] = TenantRestoreEnvironment.RunObject(runId, $"plan-{plan.Digest}.json");
        request["digest"] = plan.Digest;
        request["safetyBackup"] = "gs://crm-backups/backups/prod/prod/x.sql.gz";
        request["appliedUri"] = (string)applied["appliedUri"]!;
        request["timings"] = new JsonObject { ["stage"] = 312.5, ["plan"] = 4.25, ["apply"] = 1.5 };

        var (status, body) = await PostAsync(request);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var recordUri = TenantRestoreEnvironment.RunObject(runId, "record.json");
        Assert.Equal($$"""{"recordUri":"{{recordUri}}"}""", body.ToJsonString());
        var record = _env.Stored(recordUri);
        Assert.Equal(("applied", "alice@example.com", "bob@example.com", plan.Digest, true, 312.5),
            ((string)record["outcome"]!, (string)record["requestedBy"]!, (string)record["approvedBy"]!, (string)record["digest"]!, (bool)record["proven"]!, (double)record["timings"]!["stage"]!));
        Assert.Equal("""{"missing":4,"changed":2,"extra":1,"writes":4}""", record["planTotals"]!.ToJsonString());
        Assert.Equal(3L, (long)record["writes"]![1]!["inserted"]!);

        (status, body) = await PostAsync(request);
        Assert.True(status == HttpStatusCode.Conflict, body.ToJsonString());
        Assert.Equal("RECORD_EXISTS", (string?)body["error"]!["status"]);
        Assert.Contains(_env.Scripted.Logs.WithEvent("tenant.restore.recorded"), e => e.ToString().Contains(runId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Record_refuses_a_plan_uri_of_another_run_and_one_that_does_not_exist()
    {
        var runId = TenantRestoreEnvironment.NewRunId("recuri");
        var request = Request("record", runId);
        request["outcome"] = "not-approved";
        request["timings"] = new JsonObject();
        request["planUri"] = $"gs://{LocalFunctionsEnvironment.Bucket}/backups/prod/prod/backup_20261125_0401_prod_before_x.sql.gz";

        var (status, body) = await PostAsync(request);
        Assert.True(status == HttpStatusCode.BadRequest, body.ToJsonString());
        Assert.Contains("'planUri' must be a plan-<digest>.json object of this run", (string?)body["error"]!["message"], StringComparison.Ordinal);

        request["planUri"] = TenantRestoreEnvironment.RunObject(runId, $"plan-{new string('d', 64)}.json");
        (status, body) = await PostAsync(request);
        Assert.True(status == HttpStatusCode.NotFound, body.ToJsonString());
        Assert.False(File.Exists(_env.LocalPath(TenantRestoreEnvironment.RunObject(runId, "record.json"))));

        request.Remove("planUri");
        (status, body) = await PostAsync(request);
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal("not-approved", (string?)_env.Stored(TenantRestoreEnvironment.RunObject(runId, "record.json"))["outcome"]);
    }

    [Fact]
    public async Task Without_the_login_every_request_is_503_naming_both_variables_and_the_other_functions_still_answer()
    {
        foreach (var json in new[] { Request("plan", "unconfigured").ToJsonString(), """{"action":"nonsense"}""", "" })
        {
            var (status, body) = await TenantRestoreEnvironment.PostAsync(_env.Unconfigured.Client, json);

            Assert.True(status == HttpStatusCode.ServiceUnavailable, body.ToJsonString());
            Assert.Equal("TENANT_RESTORE_NOT_CONFIGURED", (string?)body["error"]!["status"]);
            var message = (string)body["error"]!["message"]!;
            Assert.Contains("TENANT_RESTORE_DB_USER", message, StringComparison.Ordinal);
            Assert.Contains("TENANT_RESTORE_DB_PASSWORD_FILE", message, StringComparison.Ordinal);
        }
        using var catalog = await _env.Unconfigured.Client.GetAsync("/catalog");
        Assert.Equal(HttpStatusCode.OK, catalog.StatusCode);
    }
}
