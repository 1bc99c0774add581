using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Tenants;
using Commissable.Functions.Verify;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// What the tenant-restore workflow POSTs to <c>tenant-restore</c>: an <c>action</c> (<c>plan</c>,
/// <c>apply</c>, <c>record</c>), the run it belongs to, where the tenant's rows come from (the
/// staged scratch restore) and go to (production), the tenant and the mode; <c>apply</c> adds the
/// approved plan, who approved it and the safety backup; <c>record</c> adds the run's outcome.
/// </summary>
internal sealed partial record TenantRestoreRequest
{
    public const string PlanAction = "plan";
    public const string ApplyAction = "apply";
    public const string RecordAction = "record";

    /// <summary>The database when none is named.</summary>
    public const string DefaultDatabase = "crm";

    /// <summary>The longest free text (tenant, requester, approver, restore point).</summary>
    public const int MaxText = 200;

    /// <summary>The longest <c>error</c> a record keeps.</summary>
    public const int MaxError = 4000;

    /// <summary>The most entries in <c>timings</c>.</summary>
    public const int MaxTimings = 50;

    /// <summary>The outcomes a record may carry.</summary>
    public static readonly IReadOnlyList<string> Outcomes = ["applied", "reported", "not-approved", "failed", "plan-changed"];

    /// <summary><c>plan</c>, <c>apply</c> or <c>record</c>.</summary>
    public string? Action { get; init; }

    /// <summary>The run's name: the workflow execution's id or one the caller picks; its objects live under <c>tenant-restores/&lt;runId&gt;/</c>.</summary>
    public string? RunId { get; init; }

    /// <summary>The production instance the tenant's rows are written to.</summary>
    public string? SourceInstance { get; init; }

    /// <summary>The production database (default <c>crm</c>).</summary>
    public string? Database { get; init; }

    /// <summary>The instance of the scratch restore: never production, never the source.</summary>
    public string? StagedInstance { get; init; }

    /// <summary>The scratch restore's database.</summary>
    public string? StagedDatabase { get; init; }

    /// <summary>The tenant's key, as text.</summary>
    public string? TenantId { get; init; }

    /// <summary><c>missing-only</c> (default), <c>exact</c> or <c>report</c>.</summary>
    public string? Mode { get; init; }

    /// <summary>Who asked for the restore (free text, for the record).</summary>
    public string? RequestedBy { get; init; }

    /// <summary>The point the staged copy holds (a time, a backup URI, a backup run), for the record.</summary>
    public string? RestorePoint { get; init; }

    /// <summary>apply (required), record (optional): the plan object.</summary>
    public string? PlanUri { get; init; }

    /// <summary>apply (required), record (optional): the plan's digest.</summary>
    public string? Digest { get; init; }

    /// <summary>apply (required), record (optional): who approved the plan.</summary>
    public string? ApprovedBy { get; init; }

    /// <summary>apply (optional, RFC 3339; the function's time when absent): when the plan was approved.</summary>
    public string? ApprovedAt { get; init; }

    /// <summary>apply (required), record (optional): the pre-deploy export taken just before the apply.</summary>
    public string? SafetyBackup { get; init; }

    /// <summary>record: how the run ended (<see cref="Outcomes"/>).</summary>
    public string? Outcome { get; init; }

    /// <summary>record (optional): the applied object of this run.</summary>
    public string? AppliedUri { get; init; }

    /// <summary>record (optional): why the run failed.</summary>
    public string? Error { get; init; }

    /// <summary>record: seconds per stage (<c>{"stage": 12.5, "plan": 3.1}</c>).</summary>
    public IReadOnlyDictionary<string, double>? Timings { get; init; }

    /// <summary>The database, defaulted.</summary>
    public string ProductionDatabase => Database ?? DefaultDatabase;

    /// <summary>The mode, parsed; only meaningful once <see cref="Problems"/> is empty.</summary>
    public TenantRestoreMode ParsedMode => ParseMode(Mode) ?? TenantRestoreMode.MissingOnly;

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Action is not (PlanAction or ApplyAction or RecordAction))
        {
            problems.Add("'action' is required: \"plan\" (compare the staged tenant with production, nothing written), \"apply\" (write an approved plan) or \"record\" (store the run's audit record)"
                + (Action is null ? "." : $" (got '{CloudNames.Printable(Action)}')."));
            return problems;
        }
        CommonProblems(problems);
        switch (Action)
        {
            case PlanAction:
                NotFor(problems, "plan", ("planUri", PlanUri), ("digest", Digest), ("approvedBy", ApprovedBy), ("approvedAt", ApprovedAt),
                    ("safetyBackup", SafetyBackup), ("outcome", Outcome), ("appliedUri", AppliedUri), ("error", Error), ("timings", Timings is null ? null : "timings"));
                break;
            case ApplyAction:
                ApplyProblems(problems);
                break;
            default:
                RecordProblems(problems);
                break;
        }
        return problems;
    }

    /// <summary>The mode word of <paramref name="mode"/> (<c>missing-only</c>, <c>exact</c>, <c>report</c>).</summary>
    public static string ModeWord(TenantRestoreMode mode) => mode switch
    {
        TenantRestoreMode.Exact => "exact",
        TenantRestoreMode.Report => "report",
        _ => "missing-only",
    };

    /// <summary>The mode a word names (null: the default), or null when it names none.</summary>
    public static TenantRestoreMode? ParseMode(string? word) => word switch
    {
        null or "missing-only" => TenantRestoreMode.MissingOnly,
        "exact" => TenantRestoreMode.Exact,
        "report" => TenantRestoreMode.Report,
        _ => null,
    };

    /// <summary>Whether <paramref name="digest"/> is a plan digest (SHA-256, 64 lower-case hex digits), safe in an object name.</summary>
    public static bool IsDigest(string? digest) => digest is not null && DigestPattern().IsMatch(digest);

    private void CommonProblems(List<string> problems)
    {
        if (string.IsNullOrEmpty(RunId))
        {
            problems.Add("'runId' is required: the workflow execution's id or a name of the run, 1 to 63 lowercase letters, digits and '-', starting with a letter or digit.");
        }
        else if (!RunIdPattern().IsMatch(RunId))
        {
            problems.Add($"'runId' must be 1 to 63 lowercase letters, digits and '-', starting with a letter or digit (got '{CloudNames.Printable(RunId)}').");
        }
        foreach (var (field, value, what) in new[]
        {
            ("sourceInstance", SourceInstance, "the production instance the tenant's rows are written to"),
            ("stagedInstance", StagedInstance, "the instance holding the scratch restore"),
        })
        {
            if (string.IsNullOrEmpty(value))
            {
                problems.Add($"'{field}' is required: {what}.");
            }
            else if (CloudNames.InstanceProblem(value, field) is { } problem)
            {
                problems.Add(problem);
            }
        }
        if (Database is not null && CloudNames.DatabaseProblem(Database) is { } database)
        {
            problems.Add(database);
        }
        if (string.IsNullOrEmpty(StagedDatabase))
        {
            problems.Add("'stagedDatabase' is required: the scratch restore's database on 'stagedInstance'.");
        }
        else if (CloudNames.DatabaseProblem(StagedDatabase, "stagedDatabase") is { } staged)
        {
            problems.Add(staged);
        }
        TextProblem(problems, "tenantId", TenantId, required: true, "the tenant's key, as text");
        if (ParseMode(Mode) is null)
        {
            problems.Add($"'mode' must be \"missing-only\" (the default: put back rows that are gone), \"exact\" (also revert changed rows and remove rows created since) or \"report\" (plan only) (got '{CloudNames.Printable(Mode!)}').");
        }
        TextProblem(problems, "requestedBy", RequestedBy, required: true, "who asked for the restore");
        TextProblem(problems, "restorePoint", RestorePoint, required: true, "the point the staged copy holds (a time, a backup URI or a backup run), for the record");
    }

    private void ApplyProblems(List<string> problems)
    {
        if (ParseMode(Mode) == TenantRestoreMode.Report)
        {
            problems.Add("'mode' \"report\" only plans: apply a plan made in \"missing-only\" or \"exact\" mode.");
        }
        UriProblem(problems, "planUri", PlanUri, required: true, "the plan object the plan action answered");
        DigestProblem(problems, required: true);
        TextProblem(problems, "approvedBy", ApprovedBy, required: true, "who approved the plan");
        if (ApprovedAt is not null && RecoveryEvidenceRequest.Parse(ApprovedAt) is null)
        {
            problems.Add($"'approvedAt' is optional and must be an RFC 3339 timestamp with seconds and a zone (Z or ±hh:mm), for example \"2026-11-25T03:00:00Z\" (got '{CloudNames.Printable(ApprovedAt)}').");
        }
        UriProblem(problems, "safetyBackup", SafetyBackup, required: true, "the pre-deploy export of production taken just before the apply");
        NotFor(problems, "apply", ("outcome", Outcome), ("appliedUri", AppliedUri), ("error", Error), ("timings", Timings is null ? null : "timings"));
    }

    private void RecordProblems(List<string> problems)
    {
        if (Outcome is null || !Outcomes.Contains(Outcome, StringComparer.Ordinal))
        {
            problems.Add($"'outcome' is required: one of {string.Join(", ", Outcomes.Select(o => $"\"{o}\""))}"
                + (Outcome is null ? "." : $" (got '{CloudNames.Printable(Outcome)}')."));
        }
        TextProblem(problems, "approvedBy", ApprovedBy, required: false, "who approved the plan");
        UriProblem(problems, "planUri", PlanUri, required: false, "the plan object");
        DigestProblem(problems, required: false);
        UriProblem(problems, "safetyBackup", SafetyBackup, required: false, "the safety backup taken before the apply");
        UriProblem(problems, "appliedUri", AppliedUri, required: false, "the applied object the apply action answered");
        if (ApprovedAt is not null)
        {
            problems.Add("'approvedAt' only applies to \"apply\": the approval object of the run records it.");
        }
        if (Error is not null && (Error.Length is 0 or > MaxError))
        {
            problems.Add($"'error' is optional and must be 1 to {MaxError} characters.");
        }
        if (Timings is null)
        {
            problems.Add("'timings' is required: an object of stage names to seconds, for example {\"stage\": 312.5, \"plan\": 4.2} ({} when nothing ran).");
        }
        else if (Timings.Count > MaxTimings || Timings.Any(t => !TimingNamePattern().IsMatch(t.Key) || !double.IsFinite(t.Value) || t.Value < 0))
        {
            problems.Add($"'timings' must map at most {MaxTimings} stage names (a letter, then letters, digits, '_' or '-', at most 63 characters) to non-negative numbers of seconds.");
        }
    }

    private void DigestProblem(List<string> problems, bool required)
    {
        if (Digest is null)
        {
            if (required)
            {
                problems.Add("'digest' is required: the plan's digest the approver saw (64 lower-case hex digits).");
            }
        }
        else if (!IsDigest(Digest))
        {
            problems.Add($"'digest' must be the plan's digest: 64 lower-case hex digits (got '{CloudNames.Printable(Digest)}').");
        }
    }

    private static void TextProblem(List<string> problems, string field, string? value, bool required, string what)
    {
        if (value is null)
        {
            if (required)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"'{field}' is required: {what}, 1 to {MaxText} characters without control characters."));
            }
        }
        else if (value.Length is 0 or > MaxText || value.Any(char.IsControl) || string.IsNullOrWhiteSpace(value))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"'{field}' must be {what}: 1 to {MaxText} characters, not only spaces, without control characters (got '{CloudNames.Printable(value)}')."));
        }
    }

    private static void UriProblem(List<string> problems, string field, string? value, bool required, string what)
    {
        if (value is null)
        {
            if (required)
            {
                problems.Add($"'{field}' is required: {what}, a gs://<bucket>/<object> URI.");
            }
        }
        else if (!GcsUri.TryParse(value, out _, out var problem))
        {
            problems.Add($"'{field}' must be {what}, a gs://<bucket>/<object> URI; {problem}.");
        }
    }

    private static void NotFor(List<string> problems, string action, params (string Field, string? Value)[] fields)
    {
        foreach (var (field, _) in fields.Where(f => f.Value is not null))
        {
            problems.Add($"'{field}' does not apply to \"{action}\": remove it.");
        }
    }

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();

    [GeneratedRegex(@"\A[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex(@"\A[A-Za-z][A-Za-z0-9_-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TimingNamePattern();
}
