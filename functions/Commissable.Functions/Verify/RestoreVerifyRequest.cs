using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;

namespace Commissable.Functions.Verify;

/// <summary>
/// What Cloud Scheduler or a workflow POSTs to <c>restore-verify</c>. In <c>import</c> mode (the
/// default): which backup (a <c>gs://</c> URI, or <c>latest</c> of an instance and optionally a
/// kind), where to restore it, and which tables must not be empty. In <c>live</c> mode: which database of
/// which instance to check in place, the source it came from, and optionally the backup whose
/// manifest to compare with.
/// </summary>
internal sealed partial record RestoreVerifyRequest
{
    /// <summary>The word that asks for the newest complete backup instead of a URI.</summary>
    public const string Latest = "latest";

    /// <summary>Restore a backup into a scratch database and check it (the default).</summary>
    public const string ImportMode = "import";

    /// <summary>Check a live database in place, read-only.</summary>
    public const string LiveMode = "live";

    /// <summary><c>import</c> (default) or <c>live</c>.</summary>
    public string? Mode { get; init; }

    /// <summary>Live mode: the database of the verification instance to check.</summary>
    public string? Database { get; init; }

    /// <summary><c>gs://bucket/name</c> of a backup, or <c>latest</c>.</summary>
    public string? Backup { get; init; }

    /// <summary>The source instance; required with <c>latest</c>, checked against the backup otherwise.</summary>
    public string? Instance { get; init; }

    /// <summary>With <c>latest</c>: only backups of this kind (for example <c>pre-deploy-export</c>).</summary>
    public string? Kind { get; init; }

    /// <summary>The instance to restore into; defaults to <c>VERIFY_INSTANCE</c>.</summary>
    public string? VerificationInstance { get; init; }

    /// <summary>
    /// No longer accepted (any value is refused): contents are compared exactly with the backup's
    /// own content manifest, so a tolerance could only hide a difference.
    /// </summary>
    public decimal? RowCountTolerance { get; init; }

    /// <summary>Tables of <c>public</c> that must exist and have rows.</summary>
    public IReadOnlyList<string>? CriticalTables { get; init; }

    public bool IsLatest => string.Equals(Backup, Latest, StringComparison.Ordinal);

    public bool IsLive => string.Equals(Mode, LiveMode, StringComparison.Ordinal);

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Mode is not null and not ImportMode and not LiveMode)
        {
            problems.Add("'mode' must be \"import\" (restore a backup into a scratch database, the default) or \"live\" (check a live database in place).");
            return problems;
        }
        if (IsLive)
        {
            LiveProblems(problems);
        }
        else
        {
            ImportProblems(problems);
        }
        CommonProblems(problems);
        EvidenceProblems(problems);
        return problems;
    }

    private void LiveProblems(List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(Instance))
        {
            problems.Add("'instance' is required in live mode: the source instance the checked database was restored or cloned from.");
        }
        if (string.IsNullOrWhiteSpace(VerificationInstance))
        {
            problems.Add("'verificationInstance' is required in live mode: the instance whose database to check.");
        }
        if (string.IsNullOrWhiteSpace(Database))
        {
            problems.Add("'database' is required in live mode: the database to check, for example \"crm\".");
        }
        else if (CloudNames.DatabaseProblem(Database) is { } database)
        {
            problems.Add(database);
        }
        if (Backup is not null && UriProblem(Backup) is not null)
        {
            problems.Add($"'backup' in live mode is optional and must be a gs://<bucket>/<name> URI (at most 1024 characters) whose manifest to compare with; {UriProblem(Backup)}.");
        }
        if (Kind is not null)
        {
            problems.Add("'kind' only applies to \"backup\": \"latest\" in import mode.");
        }
    }

    private void ImportProblems(List<string> problems)
    {
        if (Database is not null)
        {
            problems.Add("'database' only applies to live mode (\"mode\": \"live\"); import mode restores into a scratch database it names itself.");
        }
        if (string.IsNullOrWhiteSpace(Backup))
        {
            problems.Add("'backup' is required: a backup URI gs://<bucket>/<name>, or \"latest\" with 'instance'.");
        }
        else if (!IsLatest && UriProblem(Backup) is { } uri)
        {
            problems.Add($"'backup' must be a gs://<bucket>/<name> URI or \"latest\"; {uri}.");
        }
        if (IsLatest && string.IsNullOrWhiteSpace(Instance))
        {
            problems.Add("'instance' is required with \"backup\": \"latest\": the source instance whose newest backup to verify.");
        }
        if (Kind is not null && !KindPattern().IsMatch(Kind))
        {
            problems.Add("'kind' must be a backup kind such as pre-deploy-export or scheduled-export.");
        }
    }

    private void CommonProblems(List<string> problems)
    {
        foreach (var (field, value) in new[] { ("instance", Instance), ("verificationInstance", VerificationInstance) })
        {
            if (value is not null && CloudNames.InstanceProblem(value, field) is { } instance)
            {
                problems.Add(instance);
            }
        }
        if (RowCountTolerance is not null)
        {
            problems.Add("'rowCountTolerance' is not accepted: a restore is compared exactly with the content manifest read from the backup itself, so counts never differ on a healthy backup; remove the field.");
        }
        if (CriticalTables is { } tables && (tables.Count > 200 || tables.Any(t => string.IsNullOrEmpty(t) || t.Length > 63 || t.Any(char.IsControl))))
        {
            problems.Add("'criticalTables' must list at most 200 table names of 1 to 63 characters without control characters.");
        }
    }

    /// <summary>
    /// Why <paramref name="uri"/> is not a <c>gs://bucket/name</c> URI a backup can have, or null:
    /// the bucket is a bucket name, the object name has no empty, '.' or '..' segment (a path a
    /// store could resolve elsewhere), and nothing is a control character.
    /// </summary>
    private static string? UriProblem(string uri) => GcsUri.TryParse(uri, out _, out var problem) ? null : problem;

    [GeneratedRegex(@"\A[a-z][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex KindPattern();
}
