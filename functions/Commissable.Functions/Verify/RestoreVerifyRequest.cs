using System.Text.RegularExpressions;

namespace Commissable.Functions.Verify;

/// <summary>
/// What Cloud Scheduler or a workflow POSTs to <c>restore-verify</c>: which backup (a
/// <c>gs://</c> URI, or <c>latest</c> of an instance and optionally a kind), where to restore it,
/// and how strictly to compare.
/// </summary>
internal sealed partial record RestoreVerifyRequest
{
    /// <summary>The word that asks for the newest complete backup instead of a URI.</summary>
    public const string Latest = "latest";

    /// <summary><c>gs://bucket/name</c> of a backup, or <c>latest</c>.</summary>
    public string? Backup { get; init; }

    /// <summary>The source instance; required with <c>latest</c>, checked against the backup otherwise.</summary>
    public string? Instance { get; init; }

    /// <summary>With <c>latest</c>: only backups of this kind (for example <c>pre-deploy-export</c>).</summary>
    public string? Kind { get; init; }

    /// <summary>The instance to restore into; defaults to <c>VERIFY_INSTANCE</c>.</summary>
    public string? VerificationInstance { get; init; }

    /// <summary>Allowed row-count difference as a fraction of the recorded count (0.01 = 1 %); default 0, exact.</summary>
    public decimal? RowCountTolerance { get; init; }

    /// <summary>Tables of <c>public</c> that must exist and have rows.</summary>
    public IReadOnlyList<string>? CriticalTables { get; init; }

    public bool IsLatest => string.Equals(Backup, Latest, StringComparison.Ordinal);

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Backup))
        {
            problems.Add("'backup' is required: a backup URI gs://<bucket>/<name>, or \"latest\" with 'instance'.");
        }
        else if (!IsLatest && !Backup.StartsWith("gs://", StringComparison.Ordinal))
        {
            problems.Add("'backup' must be a gs://<bucket>/<name> URI or \"latest\".");
        }
        else if (Backup.Length > 1024 || Backup.Any(char.IsControl))
        {
            problems.Add("'backup' must be at most 1024 characters without control characters.");
        }
        if (IsLatest && string.IsNullOrWhiteSpace(Instance))
        {
            problems.Add("'instance' is required with \"backup\": \"latest\": the source instance whose newest backup to verify.");
        }
        foreach (var (field, value) in new[] { ("instance", Instance), ("verificationInstance", VerificationInstance) })
        {
            if (value is not null && !InstancePattern().IsMatch(value))
            {
                problems.Add($"'{field}' must be a Cloud SQL instance name: lowercase letters, digits and '-', starting with a letter.");
            }
        }
        if (Kind is not null && !KindPattern().IsMatch(Kind))
        {
            problems.Add("'kind' must be a backup kind such as pre-deploy-export or scheduled-export.");
        }
        if (RowCountTolerance is < 0 or > 1)
        {
            problems.Add("'rowCountTolerance' must be a fraction between 0 and 1 (0.01 is 1 %).");
        }
        if (CriticalTables is { } tables && (tables.Count > 200 || tables.Any(t => string.IsNullOrEmpty(t) || t.Length > 63 || t.Any(char.IsControl))))
        {
            problems.Add("'criticalTables' must list at most 200 table names of 1 to 63 characters without control characters.");
        }
        return problems;
    }

    [GeneratedRegex("^[a-z](?:[a-z0-9-]{0,96}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex InstancePattern();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex KindPattern();
}
