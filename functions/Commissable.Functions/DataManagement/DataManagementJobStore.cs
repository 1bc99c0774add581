using System.Text.Json;
using System.Text.Json.Serialization;
using Commissable.Backup.Core.Storage;

namespace Commissable.Functions.DataManagement;

/// <summary>The kinds of job <c>data-management</c> starts, each with the permission it needs and the workflow it runs.</summary>
internal static class JobKinds
{
    public const string Backup = "backup";
    public const string StagingRestore = "staging-restore";
    public const string TenantRestore = "tenant-restore";

    public static IReadOnlyList<string> All { get; } = [Backup, StagingRestore, TenantRestore];

    /// <summary>The permission a user needs to start, see or approve a job of <paramref name="kind"/>.</summary>
    public static string Permission(string kind) => kind == Backup ? DataManagementFunction.AdminBackup : DataManagementFunction.AdminRestore;

    public static string Workflow(string kind) => kind switch
    {
        Backup => DataManagementJobOptions.BackupWorkflow,
        StagingRestore => DataManagementJobOptions.StagingWorkflow,
        TenantRestore => DataManagementJobOptions.TenantWorkflow,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a job kind."),
    };
}

/// <summary>A user as the jobs record them: the token's <c>sub</c> and <c>email</c>.</summary>
internal sealed record JobUser(string Id, string? Email)
{
    /// <summary>The longest name the workflows take for a requester or an approver.</summary>
    public const int MaxLabelLength = 200;

    /// <summary>
    /// How the workflows and the backups' manifests name the user: <c>email (id)</c>, or the id
    /// alone when that is too long, or (an id over 200 characters) its first 180 and a digest.
    /// </summary>
    public string Label => Email is not null && Email.Length + Id.Length + 3 <= MaxLabelLength ? $"{Email} ({Id})"
        : Id.Length <= MaxLabelLength ? Id
        : Id[..180] + "~" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Id)))[..16];
}

/// <summary>What was asked, as the CRM sent it (validated).</summary>
internal sealed record JobRequest
{
    public string? Reason { get; init; }
    public string? BackupId { get; init; }
    public string? TenantId { get; init; }
    public DateTimeOffset? PointInTime { get; init; }
    public string? Mode { get; init; }
}

/// <summary><c>jobs/&lt;id&gt;.json</c>: one job, immutable once written. Its state is its execution's.</summary>
internal sealed record StoredJob(string Id, string Kind, DateTimeOffset RequestedAt, JobUser RequestedBy, JobRequest Request, string Execution);

/// <summary>
/// <c>jobs/&lt;id&gt;/approval-&lt;digest&gt;.json</c>: who decided on which plan of a tenant restore,
/// and whether they approved it (<see cref="Approved"/>) or rejected it; one decision per plan.
/// </summary>
internal sealed record StoredJobApproval(string JobId, string Digest, JobUser ApprovedBy, DateTimeOffset ApprovedAt)
{
    /// <summary>True for an approval, false for a rejection (the workflow then writes nothing).</summary>
    public bool Approved { get; init; } = true;
}

/// <summary><c>running/&lt;kind&gt;.json</c>: the one job of that kind that may be running; created before its execution starts.</summary>
internal sealed record RunningJob(string JobId, string Kind, DateTimeOffset Since);

/// <summary>
/// The jobs' objects under <c>&lt;prefix&gt;/.data-management/</c> (a folder the catalog and the
/// retention sweeper skip): each job's record and approvals, written create-only and never
/// changed, and one lease per kind that makes "at most one running job per kind" hold across
/// instances (created create-only; removed, by generation, only once its job has ended).
/// </summary>
internal sealed partial class DataManagementJobStore(IBackupStore store, string prefix)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly string _root = prefix.Trim('/') + "/.data-management/";

    public IBackupStore Store => store;

    /// <summary>A new job id: <c>job-</c> and a time-ordered UUID, so names sort by time.</summary>
    public static string NewId(DateTimeOffset now) => "job-" + Guid.CreateVersion7(now).ToString("N");

    public static bool IsJobId(string? value) => value is not null && JobIdPattern().IsMatch(value);

    public string JobsFolder => _root + "jobs/";

    public string JobName(string id) => JobsFolder + Checked(id) + ".json";

    public string ApprovalName(string id, string digest) => JobsFolder + Checked(id) + "/approval-" + CheckedDigest(digest) + ".json";

    public string RunningName(string kind) => _root + "running/" + (JobKinds.All.Contains(kind) ? kind : throw new ArgumentOutOfRangeException(nameof(kind))) + ".json";

    public async Task<StoredJob?> ReadJobAsync(string id, CancellationToken cancellationToken) =>
        await ReadAsync<StoredJob>(JobName(id), cancellationToken).ConfigureAwait(false);

    /// <summary>Writes the job's record create-only; throws when it exists (an id is never reused).</summary>
    public Task<long> CreateJobAsync(StoredJob job, CancellationToken cancellationToken) =>
        store.WriteJsonAsync(JobName(job.Id), job, ifGenerationMatch: 0, Json, cancellationToken);

    /// <summary>The newest jobs first (ids sort by time), at most <paramref name="limit"/>, and whether there are more.</summary>
    public async Task<(IReadOnlyList<StoredJob> Jobs, bool More)> ListJobsAsync(int limit, Func<StoredJob, bool> visible, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (var item in store.ListAsync(JobsFolder, cancellationToken).ConfigureAwait(false))
        {
            var rest = item.Name[JobsFolder.Length..];
            if (rest.EndsWith(".json", StringComparison.Ordinal) && IsJobId(rest[..^5])) names.Add(rest[..^5]);
        }
        names.Sort(StringComparer.Ordinal);
        names.Reverse();
        var jobs = new List<StoredJob>();
        foreach (var id in names)
        {
            if (await ReadJobAsync(id, cancellationToken).ConfigureAwait(false) is not { } job || !visible(job)) continue;
            if (jobs.Count == limit) return (jobs, true);
            jobs.Add(job);
        }
        return (jobs, false);
    }

    public async Task<IReadOnlyList<StoredJobApproval>> ApprovalsAsync(string id, CancellationToken cancellationToken)
    {
        var folder = JobsFolder + Checked(id) + "/";
        var approvals = new List<StoredJobApproval>();
        await foreach (var item in store.ListAsync(folder, cancellationToken).ConfigureAwait(false))
        {
            if (await ReadAsync<StoredJobApproval>(item.Name, cancellationToken).ConfigureAwait(false) is { } approval) approvals.Add(approval);
        }
        return [.. approvals.OrderBy(a => a.ApprovedAt)];
    }

    /// <summary>Records a decision create-only; the existing one when that plan was already decided on.</summary>
    public async Task<StoredJobApproval> ApproveAsync(StoredJobApproval approval, CancellationToken cancellationToken)
    {
        var name = ApprovalName(approval.JobId, approval.Digest);
        try
        {
            await store.WriteJsonAsync(name, approval, ifGenerationMatch: 0, Json, cancellationToken).ConfigureAwait(false);
            return approval;
        }
        catch (StorePreconditionFailedException)
        {
            return await ReadAsync<StoredJobApproval>(name, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The approval of plan {approval.Digest} exists but cannot be read.");
        }
    }

    /// <summary>Takes the lease of <paramref name="kind"/> for <paramref name="jobId"/>; false when another job holds it.</summary>
    public async Task<bool> TryTakeAsync(string kind, string jobId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            await store.WriteJsonAsync(RunningName(kind), new RunningJob(jobId, kind, now), ifGenerationMatch: 0, Json, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StorePreconditionFailedException)
        {
            return false;
        }
    }

    /// <summary>The lease of <paramref name="kind"/> and its generation, or null when none is held.</summary>
    public async Task<(RunningJob Running, long Generation)?> HolderAsync(string kind, CancellationToken cancellationToken)
    {
        var name = RunningName(kind);
        if (await store.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } item) return null;
        var running = await ReadAsync<RunningJob>(name, cancellationToken).ConfigureAwait(false);
        return running is null ? (new RunningJob("", kind, item.Updated), item.Generation) : (running, item.Generation);
    }

    /// <summary>Gives up that generation of the lease (nothing when it was already released or retaken).</summary>
    public Task ReleaseAsync(string kind, long generation) => store.TryDeleteAsync(RunningName(kind), generation);

    private async Task<T?> ReadAsync<T>(string name, CancellationToken cancellationToken) where T : class
    {
        try
        {
            await using var content = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<T>(content, Json, cancellationToken).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
    }

    private static string Checked(string id) => IsJobId(id) ? id : throw new ArgumentException($"'{id}' is not a job id.", nameof(id));

    private static string CheckedDigest(string digest) =>
        digest.Length is > 0 and <= 128 && digest.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c))
            ? digest
            : throw new ArgumentException("Not a plan digest.", nameof(digest));

    [System.Text.RegularExpressions.GeneratedRegex(@"\Ajob-[0-9a-f]{32}\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex JobIdPattern();
}
