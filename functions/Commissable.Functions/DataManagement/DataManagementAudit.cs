using System.Globalization;
using System.Text.Json;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.DataManagement;

/// <summary>The outcome of one request: its HTTP status, stable code and short reason.</summary>
internal sealed record AuditOutcome(int Status, string Code, string Reason);

/// <summary>The acting user as the audit knows it (null when the token was not verified).</summary>
internal sealed record AuditUser(string Id, string? Email);

/// <summary>
/// One request to <c>data-management</c>, allowed or refused: an immutable object and one log line
/// <c>datamanagement.ACTION</c>, with the same fields. Never a token or a secret.
/// </summary>
internal sealed record AuditRecord(
    DateTimeOffset Time,
    string RequestId,
    string Action,
    string Method,
    string Target,
    string? Permission,
    AuditUser? User,
    AuditOutcome Outcome,
    string? JobId);

/// <summary>
/// Writes the audit trail of <c>data-management</c>: each record a create-only object under
/// <see cref="Prefix"/> (<c>YYYY/MM/DD/HHMMSSfffZ-REQUESTID.json</c>), never overwritten or
/// deleted by the product; the catalog and the retention sweeper skip the reserved prefix.
/// </summary>
internal sealed class DataManagementAudit(IBackupStore store, string prefix, ILogger<DataManagementAudit> logger)
{
    public const int MaxReasonLength = 300;

    // Web names, and every field written, null or not: a record always has the same keys.
    private static readonly JsonSerializerOptions RecordOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Where the records are: under the catalog's prefix, in a folder no backup name can take.</summary>
    public string Prefix { get; } = prefix + "/.audit/data-management/";

    /// <summary>The object name of <paramref name="record"/>.</summary>
    public string ObjectName(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var t = record.Time.ToUniversalTime();
        return Prefix + t.ToString("yyyy'/'MM'/'dd'/'HHmmssfff'Z-'", CultureInfo.InvariantCulture) + record.RequestId + ".json";
    }

    /// <summary>Logs the record's line and creates its object.</summary>
    /// <exception cref="FunctionException">503 when the object cannot be written: no request is answered unaudited.</exception>
    public async Task WriteAsync(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var fields = new Dictionary<string, object?>
        {
            ["time"] = record.Time,
            ["requestId"] = record.RequestId,
            ["action"] = record.Action,
            ["method"] = record.Method,
            ["target"] = record.Target,
            ["permission"] = record.Permission,
            ["userId"] = record.User?.Id,
            ["userEmail"] = record.User?.Email,
            ["status"] = record.Outcome.Status,
            ["code"] = record.Outcome.Code,
            ["reason"] = record.Outcome.Reason,
            ["jobId"] = record.JobId,
        };
        using (logger.BeginScope(fields))
        {
            logger.Log(record.Outcome.Status >= 500 ? LogLevel.Error : record.Outcome.Status >= 400 ? LogLevel.Warning : LogLevel.Information,
                new EventId(100, "datamanagement." + record.Action),
                "data-management {Action} {Target} by {UserId}: {Status} {Code}", record.Action, record.Target, record.User?.Id ?? "(unknown)", record.Outcome.Status, record.Outcome.Code);
        }
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, RecordOptions);
        using var content = new MemoryStream(bytes, writable: false);
        try
        {
            // Create-only: a record is never replaced (the request id is new per request).
            await store.WriteAsync(ObjectName(record), content, "application/json", ifGenerationMatch: 0, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not FunctionException and not OperationCanceledException)
        {
            throw FunctionException.Unavailable("The request could not be audited, so it was not carried out; retry.", TimeSpan.FromSeconds(5), "AUDIT_UNAVAILABLE", e);
        }
    }

    /// <summary>
    /// The audit trail, newest first: at most <paramref name="limit"/> records at or after
    /// <paramref name="since"/>, and whether older ones were left out. Names sort by time, so only
    /// the records answered are read.
    /// </summary>
    public async Task<(IReadOnlyList<AuditRecord> Records, bool More)> ReadAsync(int limit, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var names = new List<(string Name, DateTimeOffset Time)>();
        await foreach (var item in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            // YYYY/MM/DD/HHMMSSfffZ-<requestId>.json
            var rest = item.Name[Prefix.Length..];
            if (rest.Length < 23 || rest[21] != '-' || !DateTimeOffset.TryParseExact(rest[..21], "yyyy'/'MM'/'dd'/'HHmmssfff'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)) continue;
            if (since is { } from && time < from.ToUniversalTime()) continue;
            names.Add((item.Name, time));
        }
        names.Sort((a, b) => string.CompareOrdinal(b.Name, a.Name));
        var records = new List<AuditRecord>();
        foreach (var (name, _) in names.Take(limit))
        {
            await using var content = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
            if (await JsonSerializer.DeserializeAsync<AuditRecord>(content, RecordOptions, cancellationToken).ConfigureAwait(false) is { } record) records.Add(record);
        }
        return (records, names.Count > limit);
    }
}
