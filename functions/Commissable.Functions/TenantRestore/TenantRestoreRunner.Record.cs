using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.TenantRestore;

/// <summary>
/// <c>record</c>: the run's audit record, <c>record.json</c>, stored create-only (one per run; an
/// existing one is a 409). No database is reached: the scratch restore may already be gone. The
/// plan's totals and the rows written per table are copied from the run's own plan and applied
/// objects, so the record stands alone.
/// </summary>
internal sealed partial class TenantRestoreRunner
{
    public async Task<string> RecordAsync(TenantRestoreRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireRestorer();
        var runId = request.RunId!;
        var plan = request.PlanUri is { } planUri ? await RunObjectAsync<StoredPlan>(request, "planUri", planUri, "plan-", cancellationToken).ConfigureAwait(false) : null;
        var applied = request.AppliedUri is { } appliedUri ? await RunObjectAsync<StoredApplied>(request, "appliedUri", appliedUri, "applied-", cancellationToken).ConfigureAwait(false) : null;
        if (request.Digest is { } digest && plan is not null && !string.Equals(plan.Plan.Digest, digest, StringComparison.Ordinal))
        {
            throw FunctionException.BadRequest($"'digest' {digest} is not the digest of the plan at {request.PlanUri} ({plan.Plan.Digest}).");
        }

        var record = new StoredRecord
        {
            RunId = runId,
            Outcome = request.Outcome!,
            SourceInstance = request.SourceInstance!,
            Database = request.ProductionDatabase,
            StagedInstance = request.StagedInstance!,
            StagedDatabase = request.StagedDatabase!,
            TenantId = request.TenantId!,
            Mode = request.ParsedMode,
            RestorePoint = request.RestorePoint!,
            RequestedBy = request.RequestedBy!,
            ApprovedBy = request.ApprovedBy,
            PlanUri = request.PlanUri,
            Digest = request.Digest ?? plan?.Plan.Digest,
            PlanTotals = plan is null ? null : PlanTotals.Of(plan.Plan),
            SafetyBackup = request.SafetyBackup,
            AppliedUri = request.AppliedUri,
            Proven = applied?.Proven,
            Writes = applied?.Writes,
            Error = request.Error is null ? null : SecretRedactor.Redact(request.Error),
            Timings = request.Timings!,
            RecordedAt = clock.GetUtcNow(),
        };
        var name = _objects.RecordName(runId);
        // Not the request's token: the record of a run that happened is kept even when the caller gave up.
        if (!await _objects.TryCreateAsync(name, record, CancellationToken.None).ConfigureAwait(false))
        {
            throw Conflict(request, $"{_objects.Uri(name)} already exists: a run has one audit record, and it is never replaced.", "RECORD_EXISTS");
        }
        var recordUri = _objects.Uri(name);
        logger.LogNotice(Recorded, "tenant.restore.recorded {RunId} {Outcome} {SourceInstance} {Database} {TenantId} {Mode} {Digest} {ApprovedBy} {Proven} {SafetyBackup} {RecordUri}",
            runId, record.Outcome, record.SourceInstance, record.Database, CloudNamesPrintable(record.TenantId), request.Mode ?? "missing-only", record.Digest,
            record.ApprovedBy, record.Proven, record.SafetyBackup, recordUri);
        return recordUri;
    }

    /// <summary>
    /// The run's own object behind <paramref name="uri"/>: it must lie in this run's folder of the
    /// backup bucket and be named <paramref name="kind"/><c>&lt;digest&gt;.json</c> (400 otherwise), and exist (404 otherwise).
    /// </summary>
    private async Task<T> RunObjectAsync<T>(TenantRestoreRequest request, string field, string uri, string kind, CancellationToken cancellationToken) where T : class
    {
        var parsed = GcsUri.Parse(uri);
        var folder = _objects.RunFolder(request.RunId!);
        var file = parsed.ObjectName.StartsWith(folder, StringComparison.Ordinal) ? parsed.ObjectName[folder.Length..] : "";
        if (parsed.Bucket != _objects.Bucket || !file.StartsWith(kind, StringComparison.Ordinal) || !file.EndsWith(".json", StringComparison.Ordinal)
            || !TenantRestoreRequest.IsDigest(file[kind.Length..^".json".Length]))
        {
            throw FunctionException.BadRequest($"'{field}' must be a {kind}<digest>.json object of this run: gs://{_objects.Bucket}/{folder}{kind}<digest>.json (got '{CloudNames.Printable(uri)}').");
        }
        try
        {
            return await _objects.ReadAsync<T>(parsed.ObjectName, cancellationToken).ConfigureAwait(false)
                ?? throw FunctionException.NotFound($"'{field}' names {uri}, which does not exist; nothing was recorded.");
        }
        catch (InvalidDataException unreadable)
        {
            throw Conflict(request, $"Nothing was recorded: {unreadable.Message}", "RUN_OBJECT_UNREADABLE");
        }
    }
}
