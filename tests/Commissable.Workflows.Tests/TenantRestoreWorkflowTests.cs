using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Commissable.Workflows.Tests;

/// <summary>
/// workflows/tenant-restore.yaml on the local runner's interpreter, against <see cref="TenantRestoreGoogle"/>:
/// the order of what it calls and with what, what it records, that the scratch place is dropped in
/// success and in failure, and that bad input is refused before anything is called. The function's
/// own behaviour (planning, applying) is tested where it lives; here it answers as its contract says.
/// </summary>
public sealed class TenantRestoreWorkflowTests
{
    private static readonly Lazy<WorkflowProgram> Program = new(() =>
        WorkflowProgram.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Workflows(), "tenant-restore.yaml")), "tenant-restore.yaml"));

    private readonly Harness _harness = new();
    private readonly TenantRestoreGoogle _google = new();

    private static JsonObject Argument(string restorePoint = "pointInTime", string mode = "missing-only") => new()
    {
        ["sourceInstance"] = "prod",
        ["tenantId"] = "Acme Corp",
        [restorePoint] = restorePoint switch
        {
            "pointInTime" => "2026-12-06T11:00:00Z",
            "backupRunId" => "1764990000000",
            _ => $"gs://{TenantRestoreGoogle.Bucket}/backups/prod/prod/backup_20261206_0300_prod_before_deploy.sql.gz",
        },
        ["mode"] = mode,
        ["requestedBy"] = "support ticket 4711",
    };

    private static JsonObject Approve(string who = "alice", string? digest = null)
    {
        var body = new JsonObject { ["approved"] = true, ["approvedBy"] = who };
        if (digest is not null) body["digest"] = digest;
        return body;
    }

    private async Task<JsonObject> RunAsync(JsonObject argument) =>
        (await _google.Interpreter(_harness).RunAsync(Program.Value, argument, CancellationToken.None))!.AsObject();

    private async Task<string> FailAsync(JsonNode? argument, Dictionary<string, string>? environment = null)
    {
        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => _google.Interpreter(_harness, environment).RunAsync(Program.Value, argument, CancellationToken.None));
        return failure.Error is JsonValue text && text.TryGetValue<string>(out var message) ? message : failure.Error?.ToJsonString() ?? failure.Message;
    }

    private List<string> Logged(string severity) => [.. _harness.Logs.Where(l => l.Severity == severity).Select(l => (string)l.Data!)];

    [Fact]
    public async Task To_a_point_in_time_it_clones_a_scratch_instance_plans_asks_exports_applies_records_and_drops_the_scratch()
    {
        _google.Approvals.Enqueue(Approve());

        var result = await RunAsync(Argument());

        Assert.Equal(
        [
            "sql.instances.get", "sql.backupRuns.list", "sql.instances.get", "sql.instances.clone", "sql.instances.patch",
            "tenant-restore:plan", "events.create_callback_endpoint", "events.await_callback", "pre-deploy-export",
            "tenant-restore:apply", "tenant-restore:record", "sql.instances.delete",
        ], _google.Sequence());

        // The scratch instance: a clone of prod at the point in time, no longer labelled or protected as production.
        var clone = _google.CallsOf("googleapis.sqladmin.v1beta4.instances.clone").Single();
        Assert.Equal("prod", (string?)clone["instance"]);
        Assert.Equal(TenantRestoreGoogle.ScratchInstance, (string?)clone["body"]!["cloneContext"]!["destinationInstanceName"]);
        Assert.Equal("2026-12-06T11:00:00Z", (string?)clone["body"]!["cloneContext"]!["pointInTime"]);
        var patch = _google.CallsOf("googleapis.sqladmin.v1beta4.instances.patch").Single();
        Assert.Equal(TenantRestoreGoogle.ScratchInstance, (string?)patch["instance"]);
        Assert.Equal("""{"deletionProtectionEnabled":false,"userLabels":{"env":null,"environment":null,"production":null,"commissable-scratch":"tenant-restore"}}""", patch["body"]!["settings"]!.ToJsonString());

        // The plan, the apply and the record all name the same run, places, tenant and mode.
        var plan = _google.CallsOf("tenant-restore:plan").Single()["body"]!.AsObject();
        Assert.Equal(
            $$"""{"action":"plan","runId":"{{TenantRestoreGoogle.RunId}}","sourceInstance":"prod","database":"crm","stagedInstance":"{{TenantRestoreGoogle.ScratchInstance}}","stagedDatabase":"crm","tenantId":"Acme Corp","mode":"missing-only","requestedBy":"support ticket 4711","restorePoint":"point in time 2026-12-06T11:00:00Z"}""",
            plan.ToJsonString());
        var export = _google.CallsOf("pre-deploy-export").Single();
        Assert.Equal("tenant-restore-acme-corp", (string?)export["body"]!["change"]);
        Assert.Equal("prod", (string?)export["body"]!["instance"]);
        Assert.Equal($"tenant-restore-{TenantRestoreGoogle.RunId}-1", (string?)export["headers"]!["Idempotency-Key"]);
        var apply = _google.CallsOf("tenant-restore:apply").Single()["body"]!.AsObject();
        Assert.Equal("apply", (string?)apply["action"]);
        Assert.Equal(_google.Plan(plan, "d1f0")["planUri"]!.ToJsonString(), apply["planUri"]!.ToJsonString());
        Assert.Equal("d1f0", (string?)apply["digest"]);
        Assert.Equal("alice", (string?)apply["approvedBy"]);
        Assert.Equal("2026-12-06T12:00:00Z", (string?)apply["approvedAt"]);
        Assert.EndsWith("_before_tenant-restore-acme-corp.sql.gz", (string?)apply["safetyBackup"], StringComparison.Ordinal);
        foreach (var field in new[] { "runId", "sourceInstance", "database", "stagedInstance", "stagedDatabase", "tenantId", "mode", "requestedBy", "restorePoint" })
        {
            Assert.Equal(plan[field]!.ToJsonString(), apply[field]!.ToJsonString());
        }

        var record = _google.CallsOf("tenant-restore:record").Single()["body"]!.AsObject();
        Assert.Equal("applied", (string?)record["outcome"]);
        Assert.Equal("alice", (string?)record["approvedBy"]);
        Assert.Equal("d1f0", (string?)record["digest"]);
        Assert.Equal((string?)apply["safetyBackup"], (string?)record["safetyBackup"]);
        Assert.EndsWith("/applied-d1f0.json", (string?)record["appliedUri"], StringComparison.Ordinal);
        Assert.False(record.ContainsKey("error"));
        Assert.Equal(["stageSeconds", "planSeconds", "approvalWaitSeconds", "safetyBackupSeconds", "applySeconds", "totalSeconds"], record["timings"]!.AsObject().Select(p => p.Key));

        // The scratch instance is gone; production was never deleted or patched.
        Assert.Equal(TenantRestoreGoogle.ScratchInstance, (string?)_google.CallsOf("googleapis.sqladmin.v1beta4.instances.delete").Single()["instance"]);
        Assert.False(_google.Instances.ContainsKey(TenantRestoreGoogle.ScratchInstance));
        Assert.Equal("prod", (string?)_google.Instances["prod"]["settings"]!["userLabels"]!["env"]);

        Assert.Equal("applied", (string?)result["outcome"]);
        Assert.Equal("Acme Corp", (string?)result["tenantId"]);
        Assert.Equal("point in time 2026-12-06T11:00:00Z", (string?)result["restorePoint"]);
        Assert.Equal("d1f0", (string?)result["plan"]!["digest"]);
        Assert.Equal(2, (int)result["plan"]!["totals"]!["writes"]!);
        Assert.Equal("alice", (string?)result["approvedBy"]);
        Assert.True((bool)result["proven"]!);
        Assert.Equal(2, (int)result["writes"]![0]!["inserted"]!);
        Assert.True((bool)result["proof"]![0]!["equal"]!);
        Assert.Equal("AccountCounts: refreshed", (string)result["materializedViews"]![0]!);
        Assert.EndsWith("/record.json", (string?)result["recordUri"], StringComparison.Ordinal);
        Assert.True((bool)result["scratch"]!["dropped"]!);
        Assert.Equal(
            ["stageSeconds", "planSeconds", "approvalWaitSeconds", "safetyBackupSeconds", "applySeconds", "cleanupSeconds", "totalSeconds"],
            result["timings"]!.AsObject().Select(p => p.Key));

        // The approver was shown the plan's counts, digest and table before the wait, never a row value.
        var asked = Assert.Single(Logged("NOTICE"), l => l.StartsWith("APPROVAL NEEDED", StringComparison.Ordinal));
        Assert.Contains("Plan d1f0 (gs://", asked, StringComparison.Ordinal);
        Assert.Contains("2 rows to write; missing 2, changed 0, extra 0", asked, StringComparison.Ordinal);
        Assert.Contains("\"digest\": \"d1f0\"", asked, StringComparison.Ordinal);
        Assert.Contains("\nAccount        2", asked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_mode_plans_records_reported_and_drops_the_scratch_without_an_approval_an_export_or_an_apply()
    {
        var result = await RunAsync(Argument(mode: "report"));

        Assert.Equal(
            ["sql.instances.get", "sql.backupRuns.list", "sql.instances.get", "sql.instances.clone", "sql.instances.patch", "tenant-restore:plan", "tenant-restore:record", "sql.instances.delete"],
            _google.Sequence());
        var record = _google.CallsOf("tenant-restore:record").Single()["body"]!.AsObject();
        Assert.Equal("reported", (string?)record["outcome"]);
        Assert.Equal("d1f0", (string?)record["digest"]);
        Assert.False(record.ContainsKey("approvedBy"));
        Assert.False(record.ContainsKey("safetyBackup"));
        Assert.Equal("reported", (string?)result["outcome"]);
        Assert.Null(result["approvedBy"]);
        Assert.Equal("Account", (string?)result["plan"]!["tables"]![0]!["table"]);
        Assert.Contains(Logged("NOTICE"), l => l.StartsWith("tenant restore plan (report mode, nothing is written)", StringComparison.Ordinal) && l.Contains("\nAccount ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_an_approval_nothing_is_exported_or_written_the_run_is_recorded_as_not_approved_and_the_scratch_is_dropped()
    {
        var error = await FailAsync(Argument());

        Assert.DoesNotContain("pre-deploy-export", _google.Sequence());
        Assert.DoesNotContain("tenant-restore:apply", _google.Sequence());
        Assert.Equal("not-approved", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["outcome"]);
        Assert.Equal(["tenant-restore:record", "sql.instances.delete"], _google.Sequence()[^2..]);
        Assert.Contains("tenant 'Acme Corp' was not restored: no approval of plan d1f0 within 86400 s; nothing was written to prod; record gs://", error, StringComparison.Ordinal);
        Assert.Contains($"the scratch instance {TenantRestoreGoogle.ScratchInstance} (new, dropped at the end) was dropped", error, StringComparison.Ordinal);
        // Waiting in 5-minute rounds: 288 of them for a day.
        Assert.Equal(288, _google.CallsOf("events.await_callback").Count);
    }

    [Theory]
    [InlineData("""{"approved": false, "approvedBy": "bob"}""", "the plan d1f0 was not approved")]
    [InlineData("""{"approved": true}""", "an approval must name who approved it")]
    [InlineData("""{"approved": true, "approvedBy": ""}""", "an approval must name who approved it")]
    [InlineData("""{"approved": true, "approvedBy": "bob", "digest": "0ther"}""", "the approval names the plan \"0ther\", not the plan shown (d1f0)")]
    public async Task An_approval_that_is_no_approval_of_this_plan_writes_nothing(string body, string why)
    {
        _google.Approvals.Enqueue(JsonNode.Parse(body)!.AsObject());

        var error = await FailAsync(Argument());

        Assert.Contains(why, error, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant-restore:apply", _google.Sequence());
        Assert.Equal("not-approved", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["outcome"]);
        Assert.False(_google.Instances.ContainsKey(TenantRestoreGoogle.ScratchInstance));
    }

    [Fact]
    public async Task An_approval_naming_the_plan_shown_is_accepted()
    {
        _google.Approvals.Enqueue(Approve("carol", "d1f0"));

        var result = await RunAsync(Argument());

        Assert.Equal("carol", (string?)result["approvedBy"]);
    }

    [Fact]
    public async Task A_failed_apply_is_recorded_as_failed_the_scratch_is_dropped_and_the_original_error_is_raised()
    {
        _google.Approvals.Enqueue(Approve());
        _google.Failures["tenant-restore:apply"] = TenantRestoreGoogle.HttpFailure(409, "The plan object's digest does not match the request's.");

        var error = await FailAsync(Argument());

        Assert.StartsWith("tenant restore of tenant 'Acme Corp' failed: HTTP server responded with error code 409: The plan object's digest does not match the request's.", error, StringComparison.Ordinal);
        Assert.Contains("the apply was refused (HTTP 409) before writing; nothing was written to prod", error, StringComparison.Ordinal);
        Assert.Contains("record gs://", error, StringComparison.Ordinal);
        Assert.Contains("was dropped", error, StringComparison.Ordinal);
        var record = _google.CallsOf("tenant-restore:record").Single()["body"]!.AsObject();
        Assert.Equal("failed", (string?)record["outcome"]);
        Assert.Contains("The plan object's digest does not match", (string?)record["error"], StringComparison.Ordinal);
        Assert.NotNull((string?)record["safetyBackup"]);
        Assert.Equal("alice", (string?)record["approvedBy"]);
        Assert.Equal("sql.instances.delete", _google.Sequence()[^1]);
        Assert.Contains(Logged("ERROR"), l => l.Contains("failed: HTTP server responded with error code 409", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_apply_that_never_answered_is_reported_as_of_unknown_outcome_with_where_to_look()
    {
        _google.Approvals.Enqueue(Approve());
        _google.Failures["tenant-restore:apply"] = Runtime.WorkflowErrors.Timeout("request timed out");

        var error = await FailAsync(Argument());

        Assert.Contains("failed: request timed out; the apply's outcome is unknown (no answer, or an error after it started): look for applied-d1f0.json beside gs://crm-backups/backups/tenant-restores/", error, StringComparison.Ordinal);
        Assert.Contains("the safety export is gs://", error, StringComparison.Ordinal);
        Assert.Equal("failed", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["outcome"]);
        Assert.Equal("sql.instances.delete", _google.Sequence()[^1]);
    }

    [Fact]
    public async Task A_scratch_that_cannot_be_dropped_does_not_hide_the_original_error_and_is_reported()
    {
        _google.Approvals.Enqueue(Approve());
        _google.Failures["tenant-restore:apply"] = TenantRestoreGoogle.HttpFailure(503, "TENANT_RESTORE_DB_USER and TENANT_RESTORE_DB_PASSWORD_FILE are not set");
        _google.Failures["googleapis.sqladmin.v1beta4.instances.delete"] = TenantRestoreGoogle.HttpFailure(403, "The caller does not have permission");

        var error = await FailAsync(Argument());

        Assert.StartsWith("tenant restore of tenant 'Acme Corp' failed: HTTP server responded with error code 503: TENANT_RESTORE_DB_USER", error, StringComparison.Ordinal);
        Assert.Contains($"the scratch instance {TenantRestoreGoogle.ScratchInstance} (new, dropped at the end) could NOT be dropped (HTTP server responded with error code 403: The caller does not have permission): drop it by hand", error, StringComparison.Ordinal);
        Assert.Contains(Logged("ERROR"), l => l.Contains("could NOT be dropped", StringComparison.Ordinal) && l.Contains("holds a copy of customer data", StringComparison.Ordinal));
        Assert.Equal("failed", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["outcome"]);
    }

    [Fact]
    public async Task A_restore_that_went_well_but_whose_scratch_cannot_be_dropped_fails_the_execution_naming_the_scratch()
    {
        _google.Approvals.Enqueue(Approve());
        _google.Failures["googleapis.sqladmin.v1beta4.instances.delete"] = TenantRestoreGoogle.HttpFailure(403, "The caller does not have permission");

        var error = await FailAsync(Argument());

        // The restore is done and recorded; the copy of customer data left behind must not look finished.
        Assert.StartsWith($"tenant restore {TenantRestoreGoogle.RunId} applied: tenant 'Acme Corp' of prod (record gs://", error, StringComparison.Ordinal);
        Assert.Contains($"but the scratch instance {TenantRestoreGoogle.ScratchInstance} (new, dropped at the end) could NOT be dropped (HTTP server responded with error code 403: The caller does not have permission)", error, StringComparison.Ordinal);
        Assert.Equal("applied", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["outcome"]);
    }

    [Fact]
    public async Task A_record_that_cannot_be_written_after_a_failure_is_reported_and_the_scratch_is_still_dropped()
    {
        _google.Failures["tenant-restore:record"] = TenantRestoreGoogle.HttpFailure(503, "no login configured");
        _google.Approvals.Enqueue(Approve());
        _google.Failures["pre-deploy-export"] = TenantRestoreGoogle.HttpFailure(412, "backups.recent: the newest automated backup is 30 hours old");

        var error = await FailAsync(Argument());

        Assert.StartsWith("tenant restore of tenant 'Acme Corp' failed: HTTP server responded with error code 412: backups.recent", error, StringComparison.Ordinal);
        Assert.Contains("nothing was written to prod", error, StringComparison.Ordinal);
        Assert.Contains("the failure could not be recorded (HTTP server responded with error code 503: no login configured)", error, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant-restore:apply", _google.Sequence());
        Assert.Equal("sql.instances.delete", _google.Sequence()[^1]);
        Assert.False(_google.Instances.ContainsKey(TenantRestoreGoogle.ScratchInstance));
    }

    [Fact]
    public async Task A_failure_while_staging_drops_what_was_started_and_records_nothing_as_there_is_no_plan()
    {
        _google.Failures["googleapis.sqladmin.v1beta4.instances.patch"] = Runtime.WorkflowErrors.Operation("Operation x (UPDATE) failed: internal error", new JsonObject { ["status"] = "DONE" });

        var error = await FailAsync(Argument());

        Assert.StartsWith("tenant restore of tenant 'Acme Corp' failed: Operation x (UPDATE) failed: internal error; nothing was written to prod; no record (the run failed before its plan);", error, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant-restore:record", _google.Sequence());
        Assert.Equal("sql.instances.delete", _google.Sequence()[^1]);
        Assert.False(_google.Instances.ContainsKey(TenantRestoreGoogle.ScratchInstance));
    }

    [Fact]
    public async Task A_plan_that_cannot_be_applied_is_never_put_to_an_approver()
    {
        _google.CanApply = false;

        var error = await FailAsync(Argument());

        Assert.Contains("the plan d1f0 cannot be applied: Account: unique key \"Account_email_key\" conflicts for 1 row\n", error, StringComparison.Ordinal);
        Assert.DoesNotContain("events.create_callback_endpoint", _google.Sequence());
        Assert.Equal("failed", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["outcome"]);
        Assert.Equal("sql.instances.delete", _google.Sequence()[^1]);
    }

    [Fact]
    public async Task A_plan_that_changed_before_the_apply_is_shown_and_approved_again_and_then_applied()
    {
        _google.Approvals.Enqueue(Approve("alice"));
        _google.Approvals.Enqueue(Approve("bob", "e2a1"));
        _google.ApplyAnswers.Enqueue(_google.PlanChanged("e2a1"));
        _google.ApplyAnswers.Enqueue(_google.Applied());

        var result = await RunAsync(Argument());

        var applies = _google.CallsOf("tenant-restore:apply");
        Assert.Equal(["d1f0", "e2a1"], applies.Select(a => (string?)a["body"]!["digest"]));
        Assert.EndsWith("/plan-e2a1.json", (string?)applies[1]["body"]!["planUri"], StringComparison.Ordinal);
        Assert.Equal(["alice", "bob"], applies.Select(a => (string?)a["body"]!["approvedBy"]));
        Assert.Equal(
            [$"tenant-restore-{TenantRestoreGoogle.RunId}-1", $"tenant-restore-{TenantRestoreGoogle.RunId}-2"],
            _google.CallsOf("pre-deploy-export").Select(e => (string?)e["headers"]!["Idempotency-Key"]));
        var asked = Logged("NOTICE").Where(l => l.StartsWith("APPROVAL NEEDED", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, asked.Count);
        Assert.Contains("round 2 of 3", asked[1], StringComparison.Ordinal);
        Assert.Contains("Plan e2a1 (", asked[1], StringComparison.Ordinal);
        Assert.Contains(Logged("WARNING"), l => l.Contains("the new plan e2a1 needs an approval of its own", StringComparison.Ordinal));
        Assert.Equal("applied", (string?)result["outcome"]);
        Assert.Equal("e2a1", (string?)result["plan"]!["digest"]);
        Assert.Equal(2, (int)result["rounds"]!);
        Assert.Equal("e2a1", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["digest"]);
    }

    [Fact]
    public async Task A_plan_that_keeps_changing_ends_after_three_rounds_recorded_as_plan_changed_with_nothing_written()
    {
        foreach (var digest in new[] { "a1", "a2", "a3" })
        {
            _google.Approvals.Enqueue(Approve());
            _google.ApplyAnswers.Enqueue(_google.PlanChanged(digest));
        }

        var error = await FailAsync(Argument());

        Assert.Equal(3, _google.CallsOf("tenant-restore:apply").Count);
        Assert.Equal(3, _google.CallsOf("pre-deploy-export").Count);
        Assert.Equal("plan-changed", (string?)_google.CallsOf("tenant-restore:record").Single()["body"]!["outcome"]);
        Assert.Contains("its rows kept changing in production between approval and apply (3 rounds); nothing was written to prod", error, StringComparison.Ordinal);
        Assert.False(_google.Instances.ContainsKey(TenantRestoreGoogle.ScratchInstance));
    }

    [Fact]
    public async Task An_apply_whose_proof_fails_is_recorded_with_the_unequal_tables_and_ends_in_an_error()
    {
        _google.Approvals.Enqueue(Approve());
        _google.ApplyAnswers.Enqueue(_google.Applied(proven: false));

        var error = await FailAsync(Argument());

        var record = _google.CallsOf("tenant-restore:record").Single()["body"]!.AsObject();
        Assert.Equal("applied", (string?)record["outcome"]);
        Assert.Equal("the digests of production and the scratch copy differ after the commit for Account", (string?)record["error"]);
        Assert.Contains("was written to prod but the proof FAILED", error, StringComparison.Ordinal);
        Assert.Contains("the safety export is gs://", error, StringComparison.Ordinal);
        Assert.False(_google.Instances.ContainsKey(TenantRestoreGoogle.ScratchInstance));
    }

    [Fact]
    public async Task A_busy_export_name_is_asked_for_again_after_half_a_minute()
    {
        _google.Approvals.Enqueue(Approve());
        _google.ExportAnswersBefore200.Enqueue(409);
        _google.ExportAnswersBefore200.Enqueue(202);

        await RunAsync(Argument());

        Assert.Equal(3, _google.CallsOf("pre-deploy-export").Count);
        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)], _harness.Delays);
    }

    [Fact]
    public async Task From_a_backup_it_imports_into_a_scratch_database_on_the_verification_instance_checks_it_and_drops_only_that_database()
    {
        _google.Approvals.Enqueue(Approve());

        var result = await RunAsync(Argument("backup"));

        Assert.Equal(
        [
            "sql.instances.get", "googleapis.storage.v1.objects.get", "sql.instances.get", "sql.databases.get", "sql.databases.insert", "sql.instances.import", "restore-verify",
            "tenant-restore:plan", "events.create_callback_endpoint", "events.await_callback", "pre-deploy-export",
            "tenant-restore:apply", "tenant-restore:record", "sql.databases.delete",
        ], _google.Sequence());
        var uri = (string)Argument("backup")["backup"]!;
        var import = _google.CallsOf("googleapis.sqladmin.v1beta4.instances.import").Single();
        Assert.Equal("verify", (string?)import["instance"]);
        Assert.Equal(uri, (string?)import["body"]!["importContext"]!["uri"]);
        Assert.Equal(TenantRestoreGoogle.ScratchDatabase, (string?)import["body"]!["importContext"]!["database"]);
        var verify = _google.CallsOf("restore-verify").Single()["body"]!;
        Assert.Equal("""{"mode":"live","instance":"prod","verificationInstance":"verify","database":"tr_5f0c2b9a","backup":"__URI__"}""".Replace("__URI__", uri, StringComparison.Ordinal), verify.ToJsonString());
        var plan = _google.CallsOf("tenant-restore:plan").Single()["body"]!;
        Assert.Equal("verify", (string?)plan["stagedInstance"]);
        Assert.Equal(TenantRestoreGoogle.ScratchDatabase, (string?)plan["stagedDatabase"]);
        Assert.Equal("backup " + uri, (string?)plan["restorePoint"]);
        Assert.Equal(TenantRestoreGoogle.ScratchDatabase, (string?)_google.CallsOf("googleapis.sqladmin.v1beta4.databases.delete").Single()["database"]);
        Assert.Empty(_google.CallsOf("googleapis.sqladmin.v1beta4.instances.delete"));
        Assert.Equal(["verify", "prod"], _google.Instances.Keys.Order(StringComparer.Ordinal).Reverse());
        Assert.Empty(_google.Databases["verify"]);
        Assert.Equal(uri, (string?)result["backup"]);
        Assert.Equal("tr_5f0c2b9a", (string?)result["scratch"]!["database"]);
    }

    [Fact]
    public async Task A_backup_that_fails_its_check_against_the_manifest_is_never_planned_from_and_its_database_is_dropped()
    {
        _google.Verified = false;

        var error = await FailAsync(Argument("backup"));

        Assert.Contains("failed its checks against the backup's manifest (content.tables)", error, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant-restore:plan", _google.Sequence());
        Assert.Equal("sql.databases.delete", _google.Sequence()[^1]);
        Assert.Empty(_google.Databases["verify"]);
    }

    [Fact]
    public async Task From_a_backup_run_it_restores_into_a_new_scratch_instance_labelled_as_scratch()
    {
        _google.Approvals.Enqueue(Approve());

        await RunAsync(Argument("backupRunId"));

        var insert = _google.CallsOf("googleapis.sqladmin.v1beta4.instances.insert").Single()["body"]!;
        Assert.Equal(TenantRestoreGoogle.ScratchInstance, (string?)insert["name"]);
        Assert.Equal("POSTGRES_15", (string?)insert["databaseVersion"]);
        Assert.Equal("db-custom-2-7680", (string?)insert["settings"]!["tier"]);
        Assert.Equal("""{"commissable-scratch":"tenant-restore"}""", insert["settings"]!["userLabels"]!.ToJsonString());
        var restore = _google.CallsOf("googleapis.sqladmin.v1beta4.instances.restoreBackup").Single();
        Assert.Equal(TenantRestoreGoogle.ScratchInstance, (string?)restore["instance"]);
        Assert.Equal("""{"kind":"sql#restoreBackupContext","backupRunId":"1764990000000","instanceId":"prod","project":"crm-project"}""", restore["body"]!["restoreBackupContext"]!.ToJsonString());
        Assert.Equal("backup run 1764990000000 (ended 2026-12-06T02:10:00Z)", (string?)_google.CallsOf("tenant-restore:plan").Single()["body"]!["restorePoint"]);
        Assert.False(_google.Instances.ContainsKey(TenantRestoreGoogle.ScratchInstance));
    }

    [Theory]
    [InlineData("Acme Corp", "tenant-restore-acme-corp")]
    [InlineData("tenant_42", "tenant-restore-tenant-42")]
    [InlineData("--ÉTÉ/42--", "tenant-restore-t-42")]
    [InlineData("c9b1e7d2-4a5f-4e33-9f0a-2b8d6c1e0f47", "tenant-restore-c9b1e7d2-4a5f-4e33-9f0a-2b8d6c1e0f47")]
    [InlineData("A very long tenant name that goes on and on past the limit", "tenant-restore-a-very-long-tenant-name-that-goes-on-and-on-past")]
    [InlineData("Org 123456789012345678901234567890123456789012345 6789", "tenant-restore-org-12345678901234567890123456789012345678901234")]
    [InlineData("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx tail", "tenant-restore-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    [InlineData("日本", "tenant-restore")]
    public async Task The_safety_exports_change_names_the_tenant_as_a_slug_the_export_accepts(string tenant, string change)
    {
        _google.Approvals.Enqueue(Approve());
        var argument = Argument();
        argument["tenantId"] = tenant;

        await RunAsync(argument);

        var sent = (string)_google.CallsOf("pre-deploy-export").Single()["body"]!["change"]!;
        Assert.Equal(change, sent);
        Assert.Matches(new Regex(@"\A[a-z0-9][a-z0-9-]{0,62}\z"), sent);
        Assert.False(sent.EndsWith('-'));
    }

    public static TheoryData<string, string> BadArguments() => new()
    {
        { "\"prod\"", "tenant-restore needs a JSON object argument" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","Mode":"report"}""", "unknown field 'Mode': tenant-restore takes sourceInstance, database, tenantId" },
        { """{"tenantId":"t","pointInTime":"2026-12-06T11:00:00Z"}""", "sourceInstance is required: a Cloud SQL instance name" },
        { """{"sourceInstance":"Prod_1","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z"}""", "sourceInstance 'Prod_1' is not a Cloud SQL instance name" },
        { """{"sourceInstance":"prod","database":"crm db","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z"}""", "database 'crm db' is not a PostgreSQL database name" },
        { """{"sourceInstance":"prod","pointInTime":"2026-12-06T11:00:00Z"}""", "tenantId is required: the tenant's id as it is stored in the tenant column, 1 to 200 characters" },
        { """{"sourceInstance":"prod","tenantId":"","pointInTime":"2026-12-06T11:00:00Z"}""", "tenantId is required" },
        { """{"sourceInstance":"prod","tenantId":"  ","pointInTime":"2026-12-06T11:00:00Z"}""", "tenantId must not be only spaces" },
        { """{"sourceInstance":"prod","tenantId":["a"],"pointInTime":"2026-12-06T11:00:00Z"}""", "tenantId is required" },
        { """{"sourceInstance":"prod","tenantId":"LONG","pointInTime":"2026-12-06T11:00:00Z"}""", "tenantId is 201 characters long: at most 200 are accepted" },
        { """{"sourceInstance":"prod","tenantId":"a\nb","pointInTime":"2026-12-06T11:00:00Z"}""", "tenantId must not contain control characters" },
        { """{"sourceInstance":"prod","tenantId":"t"}""", "give exactly one of pointInTime (RFC 3339, inside the recovery window), backup (the gs:// URI of a backup) or backupRunId" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","backupRunId":"1"}""", "give only one of pointInTime, backup or backupRunId" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":1764990000}""", "pointInTime must be an RFC 3339 timestamp string" },
        { """{"sourceInstance":"prod","tenantId":"t","backup":"s3://crm-backups/x.sql.gz"}""", "backup 's3://crm-backups/x.sql.gz' is not a Cloud Storage URI gs://bucket/object of a backup" },
        { """{"sourceInstance":"prod","tenantId":"t","backupRunId":"latest"}""", "backupRunId 'latest' must be the id of a backup run" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","mode":"fast"}""", "mode 'fast' is not missing-only (put back the tenant's rows that are gone), exact" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","mode":1}""", "mode must be missing-only" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","approvalTimeoutSeconds":5}""", "approvalTimeoutSeconds must be a whole number of seconds between 60 and 2592000" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","approvalTimeoutSeconds":"600"}""", "approvalTimeoutSeconds must be a whole number of seconds" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","approvalTimeoutSeconds":90.5}""", "approvalTimeoutSeconds must be a whole number of seconds" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","requestedBy":""}""", "requestedBy is required: who asked for the restore" },
        { """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z","requestedBy":"a\tb"}""", "requestedBy must not contain control characters" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task A_bad_argument_is_refused_with_its_own_message_before_anything_is_called(string json, string message)
    {
        var error = await FailAsync(JsonNode.Parse(json.Replace("LONG", new string('x', 201), StringComparison.Ordinal)));

        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Empty(_google.Calls);
    }

    [Theory]
    [InlineData("TENANT_RESTORE_URL", "pointInTime", "the workflow's environment has no TENANT_RESTORE_URL")]
    [InlineData("PRE_DEPLOY_EXPORT_URL", "pointInTime", "the workflow's environment has no PRE_DEPLOY_EXPORT_URL")]
    [InlineData("VERIFY_INSTANCE", "backup", "the workflow's environment needs VERIFY_INSTANCE and RESTORE_VERIFY_URL")]
    [InlineData("RESTORE_VERIFY_URL", "backup", "the workflow's environment needs VERIFY_INSTANCE and RESTORE_VERIFY_URL")]
    public async Task A_missing_setting_of_the_deployment_stops_the_run_before_anything_is_called(string variable, string restorePoint, string message)
    {
        var environment = TenantRestoreGoogle.Environment();
        environment.Remove(variable);

        var error = await FailAsync(Argument(restorePoint), environment);

        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Empty(_google.Calls);
    }

    [Fact]
    public async Task Report_mode_needs_no_export_function_and_a_point_in_time_no_verification_instance()
    {
        var environment = TenantRestoreGoogle.Environment();
        environment.Remove("PRE_DEPLOY_EXPORT_URL");
        environment.Remove("VERIFY_INSTANCE");

        var result = await _google.Interpreter(_harness, environment).RunAsync(Program.Value, Argument(mode: "report"), CancellationToken.None);

        Assert.Equal("reported", (string?)result!["outcome"]);
    }

    [Fact]
    public async Task A_verification_instance_that_is_the_source_is_refused()
    {
        var environment = TenantRestoreGoogle.Environment();
        environment["VERIFY_INSTANCE"] = "prod";

        var error = await FailAsync(Argument("backup"), environment);

        Assert.Contains("VERIFY_INSTANCE is the source instance 'prod'", error, StringComparison.Ordinal);
        Assert.Empty(_google.Calls);
    }

    public static TheoryData<string, string, string> Refusals() => new()
    {
        { "source missing", """{"sourceInstance":"nope","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z"}""", "sourceInstance 'nope' does not exist in project crm-project" },
        { "in the future", """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T13:00:00Z"}""", "pointInTime 2026-12-06T13:00:00Z is in the future" },
        { "before the window", """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T01:00:00Z"}""", "is outside the recovery window of prod: 2026-12-06T02:10:00Z to 2026-12-06T12:00:00Z" },
        { "not a time", """{"sourceInstance":"prod","tenantId":"t","pointInTime":"yesterday"}""", "pointInTime 'yesterday' is not an RFC 3339 timestamp" },
        { "backup run missing", """{"sourceInstance":"prod","tenantId":"t","backupRunId":"42"}""", "backup run 42 of instance prod does not exist" },
        { "backup run failed", """{"sourceInstance":"prod","tenantId":"t","backupRunId":1764900000000}""", "backup run 1764900000000 of prod is FAILED, not SUCCESSFUL" },
        { "backup missing", """{"sourceInstance":"prod","tenantId":"t","backup":"gs://crm-backups/backups/none.sql.gz"}""", "the backup gs://crm-backups/backups/none.sql.gz does not exist; nothing was created" },
        { "scratch instance exists", """{"sourceInstance":"prod","tenantId":"t","pointInTime":"2026-12-06T11:00:00Z"}""", "the scratch instance 'prod-tr-5f0c2b9a' already exists; nothing was created" },
        { "scratch database exists", """{"sourceInstance":"prod","tenantId":"t","backup":"gs://crm-backups/backups/prod/prod/backup_20261206_0300_prod_before_deploy.sql.gz"}""", "the scratch database tr_5f0c2b9a already exists on verify; nothing was created" },
        { "verify is production", """{"sourceInstance":"prod","tenantId":"t","backup":"gs://crm-backups/backups/prod/prod/backup_20261206_0300_prod_before_deploy.sql.gz"}""", "VERIFY_INSTANCE 'verify' is labelled as production" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task What_can_be_checked_before_anything_is_created_is_checked_first(string why, string json, string message)
    {
        switch (why)
        {
            case "scratch instance exists":
                _google.Instances[TenantRestoreGoogle.ScratchInstance] = new JsonObject { ["name"] = TenantRestoreGoogle.ScratchInstance };
                break;
            case "scratch database exists":
                _google.Databases["verify"].Add(TenantRestoreGoogle.ScratchDatabase);
                break;
            case "verify is production":
                _google.Instances["verify"]["settings"]!["userLabels"]!["environment"] = "Production";
                break;
        }

        var error = await FailAsync(JsonNode.Parse(json));

        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Empty(_google.Changes());
    }

    [Fact]
    public async Task A_source_without_point_in_time_recovery_cannot_be_restored_to_a_point_in_time()
    {
        _google.Instances["prod"]["settings"]!["backupConfiguration"]!["pointInTimeRecoveryEnabled"] = false;

        var error = await FailAsync(Argument());

        Assert.Contains("point-in-time recovery is not enabled on prod; restore from a backupRunId or a backup instead", error, StringComparison.Ordinal);
        Assert.Empty(_google.Changes());
    }

    [Fact]
    public async Task A_numeric_tenant_id_is_restored_as_its_digits()
    {
        _google.Approvals.Enqueue(Approve());
        var argument = Argument();
        argument["tenantId"] = 42;

        await RunAsync(argument);

        Assert.Equal("42", (string?)_google.CallsOf("tenant-restore:plan").Single()["body"]!["tenantId"]);
        Assert.Equal("tenant-restore-42", (string?)_google.CallsOf("pre-deploy-export").Single()["body"]!["change"]);
    }
}
