using System.Text.Json;
using System.Text.Json.Serialization;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Core.Tenants;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// The immutable objects of one tenant-restore run, under
/// <c>&lt;BACKUP_PREFIX&gt;/tenant-restores/&lt;runId&gt;/</c>: <c>plan-&lt;digest&gt;.json</c>,
/// <c>approval-&lt;digest&gt;.json</c>, <c>applied-&lt;digest&gt;.json</c> and <c>record.json</c>.
/// Each is written create-only (<c>ifGenerationMatch: 0</c>, as the catalog writes manifests), in
/// the catalog's JSON with the restore mode as its wire word (<c>missing-only</c>).
/// </summary>
/// <remarks>
/// The retention sweeper keeps objects it does not recognise as backups, so these audit objects
/// are never swept. The run id and the digest are checked before they become part of a name.
/// </remarks>
internal sealed class TenantRestoreObjects(IBackupStore store, string prefix)
{
    /// <summary>The catalog's JSON (camelCase, nulls omitted), with <see cref="TenantRestoreMode"/> as <c>missing-only</c> | <c>exact</c> | <c>report</c>.</summary>
    public static JsonSerializerOptions Json { get; } = CreateJson();

    private readonly string _prefix = prefix.Trim('/');

    public string Bucket => store.Bucket;

    public string RunFolder(string runId) => $"{_prefix}/tenant-restores/{runId}/";

    public string PlanName(string runId, string digest) => $"{RunFolder(runId)}plan-{Checked(digest)}.json";

    public string ApprovalName(string runId, string digest) => $"{RunFolder(runId)}approval-{Checked(digest)}.json";

    public string AppliedName(string runId, string digest) => $"{RunFolder(runId)}applied-{Checked(digest)}.json";

    public string RecordName(string runId) => $"{RunFolder(runId)}record.json";

    public string Uri(string objectName) => $"gs://{store.Bucket}/{objectName}";

    /// <summary>Writes <paramref name="value"/> create-only; false (nothing written) when the object already exists.</summary>
    public async Task<bool> TryCreateAsync<T>(string objectName, T value, CancellationToken cancellationToken)
    {
        try
        {
            await store.WriteJsonAsync(objectName, value, ifGenerationMatch: 0, Json, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StorePreconditionFailedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes <paramref name="value"/> create-only; an existing object that says the same (read and
    /// written again in this shape, so its formatting does not matter) is fine. Returns null when
    /// the object now holds <paramref name="value"/>, else the existing value that differs.
    /// </summary>
    public async Task<T?> CreateOrSameAsync<T>(string objectName, T value, Func<T, T> comparable, CancellationToken cancellationToken) where T : class
    {
        if (await TryCreateAsync(objectName, value, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var existing = await ReadAsync<T>(objectName, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"{Uri(objectName)} exists but is not a {typeof(T).Name} object.");
        var same = JsonSerializer.SerializeToUtf8Bytes(comparable(existing), Json).AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(comparable(value), Json));
        return same ? null : existing;
    }

    /// <summary>The object as <typeparamref name="T"/>, or null when it does not exist.</summary>
    /// <exception cref="InvalidDataException">It exists and is not JSON of that shape.</exception>
    public async Task<T?> ReadAsync<T>(string objectName, CancellationToken cancellationToken) where T : class
    {
        try
        {
            await using var content = await store.OpenReadAsync(objectName, cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<T>(content, Json, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException($"{Uri(objectName)} holds JSON null.");
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{Uri(objectName)} is not a {typeof(T).Name} object: {error.Message}", error);
        }
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(CatalogJson.Options);
        // Before the catalog's camelCase enum converter, which would otherwise take it.
        options.Converters.Insert(0, new JsonStringEnumConverter<TenantRestoreMode>(JsonNamingPolicy.KebabCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static string Checked(string digest) =>
        TenantRestoreRequest.IsDigest(digest) ? digest : throw new ArgumentException($"'{digest}' is not a plan digest (64 lower-case hex digits).", nameof(digest));
}

/// <summary>
/// <c>plan-&lt;digest&gt;.json</c>: what the plan was made for (the request's instances, databases,
/// tenant, mode, restore point and requester) and the plan itself, digest included.
/// </summary>
internal sealed record StoredPlan(
    string RunId,
    string SourceInstance,
    string Database,
    string StagedInstance,
    string StagedDatabase,
    string TenantId,
    TenantRestoreMode Mode,
    string TenantColumn,
    string RestorePoint,
    string RequestedBy,
    TenantPlan Plan)
{
    /// <summary>When it was planned; not part of what makes two plan objects the same.</summary>
    public DateTimeOffset? PlannedAt { get; init; }

    /// <summary>The fields two plan objects of one name must agree on.</summary>
    public static StoredPlan Comparable(StoredPlan plan) => plan with { PlannedAt = null };
}

/// <summary><c>approval-&lt;digest&gt;.json</c>: who approved which plan, when, with which safety backup; written before anything is written to production.</summary>
internal sealed record StoredApproval(
    string RunId,
    string Digest,
    string PlanUri,
    string ApprovedBy,
    DateTimeOffset ApprovedAt,
    string SafetyBackup,
    string SourceInstance,
    string Database,
    string TenantId,
    TenantRestoreMode Mode)
{
    /// <summary>When the function stored it.</summary>
    public DateTimeOffset? RecordedAt { get; init; }

    /// <summary>Whether the approval was given a time (the caller's) rather than the function's.</summary>
    public bool ApprovedAtGiven { get; init; }

    /// <summary>
    /// The fields a retried apply must repeat: everything but the function's times (an
    /// <c>approvedAt</c> the function filled in is the time of the first try).
    /// </summary>
    public static StoredApproval Comparable(StoredApproval approval) =>
        approval with { RecordedAt = null, ApprovedAt = approval.ApprovedAtGiven ? approval.ApprovedAt : DateTimeOffset.UnixEpoch, ApprovedAtGiven = false };
}

/// <summary><c>applied-&lt;digest&gt;.json</c>: what a committed apply wrote and its proof.</summary>
internal sealed record StoredApplied(
    string RunId,
    string Digest,
    string PlanUri,
    string ApprovalUri,
    bool Proven,
    IReadOnlyList<TableWrite> Writes,
    IReadOnlyList<TableProof> Proof,
    IReadOnlyList<string> SequencesMoved)
{
    public DateTimeOffset? AppliedAt { get; init; }

    /// <summary>The materialized views reading the written tables: refreshed, or stale and why.</summary>
    public IReadOnlyList<string> MaterializedViews { get; init; } = [];

    public static StoredApplied Comparable(StoredApplied applied) => applied with { AppliedAt = null };
}

/// <summary><c>record.json</c>: the run's audit record.</summary>
internal sealed record StoredRecord
{
    public required string RunId { get; init; }
    public required string Outcome { get; init; }
    public required string SourceInstance { get; init; }
    public required string Database { get; init; }
    public required string StagedInstance { get; init; }
    public required string StagedDatabase { get; init; }
    public required string TenantId { get; init; }
    public required TenantRestoreMode Mode { get; init; }
    public required string RestorePoint { get; init; }
    public required string RequestedBy { get; init; }
    public string? ApprovedBy { get; init; }
    public string? PlanUri { get; init; }
    public string? Digest { get; init; }
    public PlanTotals? PlanTotals { get; init; }
    public string? SafetyBackup { get; init; }
    public string? AppliedUri { get; init; }
    public bool? Proven { get; init; }
    public IReadOnlyList<TableWrite>? Writes { get; init; }
    public string? Error { get; init; }
    public required IReadOnlyDictionary<string, double> Timings { get; init; }
    public required DateTimeOffset RecordedAt { get; init; }
}

/// <summary>A plan's counts over all its tables.</summary>
internal sealed record PlanTotals(long Missing, long Changed, long Extra, long Writes)
{
    public static PlanTotals Of(TenantPlan plan) => new(
        plan.Tables.Sum(t => t.Missing), plan.Tables.Sum(t => t.Changed), plan.Tables.Sum(t => t.Extra), plan.Tables.Sum(t => t.Writes));
}
