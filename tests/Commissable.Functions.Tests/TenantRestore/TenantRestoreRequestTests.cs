using System.Text.Json;
using Commissable.Functions.Hosting;
using Commissable.Functions.TenantRestore;

namespace Commissable.Functions.Tests.TenantRestore;

/// <summary>The request's validation on its own: every problem listed, each saying what is accepted.</summary>
public sealed class TenantRestoreRequestTests
{
    private const string Digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private const string Common = """
        "runId":"run-1","sourceInstance":"prod","stagedInstance":"prod-tr-1","stagedDatabase":"crm","tenantId":"t-42",
        "requestedBy":"alice@example.com","restorePoint":"2026-11-25T03:00:00Z"
        """;

    private const string Apply = """
        "planUri":"gs://crm-backups/backups/tenant-restores/run-1/plan-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.json",
        "digest":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","approvedBy":"bob","safetyBackup":"gs://crm-backups/backups/prod/prod/x.sql.gz"
        """;

    private static IReadOnlyList<string> Problems(string json) =>
        JsonSerializer.Deserialize<TenantRestoreRequest>(json, FunctionJson.RequestOptions)!.Problems();

    [Theory]
    [InlineData("""{"action":"plan",""" + Common + "}")]
    [InlineData("""{"action":"plan","database":"crm","mode":"exact",""" + Common + "}")]
    [InlineData("""{"action":"plan","mode":"report",""" + Common + "}")]
    [InlineData("""{"action":"apply",""" + Common + "," + Apply + "}")]
    [InlineData("""{"action":"apply","approvedAt":"2026-11-25T04:00:00.5+01:00",""" + Common + "," + Apply + "}")]
    [InlineData("""{"action":"record","outcome":"reported","timings":{},""" + Common + "}")]
    [InlineData("""{"action":"record","outcome":"failed","error":"the clone failed","timings":{"stage":312.5,"plan":0},""" + Common + "}")]
    public void A_complete_request_has_no_problem(string json) => Assert.Empty(Problems(json));

    [Fact]
    public void An_empty_plan_request_lists_every_missing_field_each_saying_what_is_accepted()
    {
        var problems = Problems("""{"action":"plan"}""");

        Assert.Equal(
            ["'runId' is required", "'sourceInstance' is required", "'stagedInstance' is required", "'stagedDatabase' is required",
             "'tenantId' is required", "'requestedBy' is required", "'restorePoint' is required"],
            problems.Select(p => p[..(p.IndexOf(':', StringComparison.Ordinal))]));
        Assert.All(problems, p => Assert.True(p.Length > 40, p));
    }

    [Fact]
    public void A_request_without_an_action_says_which_actions_exist() =>
        Assert.Equal(["'action' is required: \"plan\" (compare the staged tenant with production, nothing written), \"apply\" (write an approved plan) or \"record\" (store the run's audit record) (got 'restore')."],
            Problems("""{"action":"restore"}"""));

    [Theory]
    [InlineData("\"runId\":\"Run_1\"", "'runId' must be 1 to 63 lowercase letters")]
    [InlineData("\"runId\":\"../etc\"", "'runId' must be 1 to 63 lowercase letters")]
    [InlineData("\"sourceInstance\":\"Prod\"", "'sourceInstance' must be a Cloud SQL instance ID")]
    [InlineData("\"stagedInstance\":\"prod/../x\"", "'stagedInstance' must be a Cloud SQL instance ID")]
    [InlineData("\"stagedDatabase\":\"crm; DROP TABLE x\"", "'stagedDatabase' must be a database name")]
    [InlineData("\"database\":\"crm db\"", "'database' must be a database name")]
    [InlineData("\"tenantId\":\"\"", "'tenantId' must be the tenant's key")]
    [InlineData("\"tenantId\":\"a\\nb\"", "'tenantId' must be the tenant's key")]
    [InlineData("\"mode\":\"all\"", "'mode' must be \"missing-only\"")]
    [InlineData("\"requestedBy\":\"   \"", "'requestedBy' must be who asked")]
    public void A_bad_common_field_is_named_with_what_is_accepted(string field, string message)
    {
        var json = """{"action":"plan",""" + Common + "," + field + "}";
        // A field given twice is refused by the reader; replace the valid one instead.
        var name = field[..(field.IndexOf(':', StringComparison.Ordinal) + 1)];
        var start = json.IndexOf(name, StringComparison.Ordinal);
        var cleaned = start == json.LastIndexOf(name, StringComparison.Ordinal) ? json : json.Remove(start, json.IndexOf(',', start) - start + 1);

        var problems = Problems(cleaned);

        Assert.Single(problems);
        Assert.StartsWith(message, problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_needs_the_plan_its_digest_an_approver_and_a_safety_backup_and_refuses_report_mode()
    {
        var problems = Problems("""{"action":"apply","mode":"report",""" + Common + "}");

        string[] expected = ["'mode' \"report\" only plans", "'planUri' is required", "'digest' is required", "'approvedBy' is required", "'safetyBackup' is required"];
        Assert.Equal(expected.Length, problems.Count);
        Assert.All(expected.Zip(problems), pair => Assert.StartsWith(pair.First, pair.Second, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"safetyBackup\":\"/tmp/x.sql\"", "'safetyBackup' must be the pre-deploy export of production taken just before the apply, a gs://<bucket>/<object> URI; '/tmp/x.sql' does not start with gs://")]
    [InlineData("\"safetyBackup\":\"gs://crm-backups/a/../b\"", "'safetyBackup' must be the pre-deploy export")]
    [InlineData("\"digest\":\"0123\"", "'digest' must be the plan's digest: 64 lower-case hex digits")]
    [InlineData("\"digest\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"", "'digest' must be the plan's digest")]
    [InlineData("\"approvedAt\":\"2026-11-25 03:00\"", "'approvedAt' is optional and must be an RFC 3339 timestamp")]
    [InlineData("\"approvedBy\":\"\"", "'approvedBy' must be who approved the plan")]
    [InlineData("\"outcome\":\"applied\"", "'outcome' does not apply to \"apply\"")]
    public void A_bad_apply_field_is_named(string field, string message)
    {
        var name = field[..(field.IndexOf(':', StringComparison.Ordinal) + 1)];
        var apply = string.Join(",", Apply.Split(',').Where(f => !f.TrimStart().StartsWith(name, StringComparison.Ordinal)));
        var problems = Problems("""{"action":"apply",""" + Common + "," + apply + "," + field + "}");

        Assert.Single(problems);
        Assert.StartsWith(message, problems[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"action":"record","timings":{},""", "'outcome' is required: one of \"applied\", \"reported\", \"not-approved\", \"failed\", \"plan-changed\".")]
    [InlineData("""{"action":"record","outcome":"done","timings":{},""", "'outcome' is required: one of \"applied\", \"reported\", \"not-approved\", \"failed\", \"plan-changed\" (got 'done').")]
    [InlineData("""{"action":"record","outcome":"failed",""", "'timings' is required")]
    [InlineData("""{"action":"record","outcome":"failed","timings":{"stage":-1},""", "'timings' must map at most 50 stage names")]
    [InlineData("""{"action":"record","outcome":"failed","timings":{"a b":1},""", "'timings' must map at most 50 stage names")]
    [InlineData("""{"action":"record","outcome":"failed","timings":{},"appliedUri":"https://x",""", "'appliedUri' must be the applied object")]
    [InlineData("""{"action":"record","outcome":"failed","timings":{},"approvedAt":"2026-11-25T03:00:00Z",""", "'approvedAt' only applies to \"apply\"")]
    [InlineData("""{"action":"plan","approvedBy":"bob",""", "'approvedBy' does not apply to \"plan\": remove it.")]
    public void A_bad_record_or_misplaced_field_is_named(string start, string message)
    {
        var problems = Problems(start + Common + "}");

        Assert.Single(problems);
        Assert.StartsWith(message, problems[0], StringComparison.Ordinal);
    }
}
