using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.DataManagement;

/// <summary><c>POST /backups</c>: <c>{"reason"}</c>.</summary>
internal sealed record BackupJobBody
{
    public string? Reason { get; init; }
}

/// <summary><c>POST /restores/staging</c>: <c>{"backup"?}</c>, a backup id from GET /backups; none exports production first.</summary>
internal sealed record StagingJobBody
{
    public string? Backup { get; init; }
}

/// <summary><c>POST /restores/tenant</c>: <c>{"tenantId", "pointInTime" | "backup", "mode"?}</c>.</summary>
internal sealed record TenantJobBody
{
    public string? TenantId { get; init; }
    public string? PointInTime { get; init; }
    public string? Backup { get; init; }
    public string? Mode { get; init; }
}

/// <summary><c>POST /jobs/{id}/approve</c> and <c>/reject</c>: <c>{"digest"}</c>, the plan shown by GET /jobs/{id}.</summary>
internal sealed record ApproveJobBody
{
    public string? Digest { get; init; }
}

/// <summary>The checks of the job requests' bodies: every problem a 400 naming the field and what it accepts.</summary>
internal static partial class DataManagementRequests
{
    public const int MaxReasonLength = 500;
    public const int MaxTenantIdLength = 200;
    public static readonly string[] Modes = ["missing-only", "exact", "report"];

    public static JobRequest Backup(BackupJobBody body)
    {
        if (body.Reason is null) throw Bad("'reason' is required: why the backup is taken, shown with it and in the audit (1 to 500 characters).");
        return new JobRequest { Reason = Text(body.Reason, "reason", MaxReasonLength) };
    }

    public static JobRequest Staging(StagingJobBody? body) =>
        new() { BackupId = body?.Backup is null ? null : BackupId(body.Backup, "backup") };

    public static JobRequest Tenant(TenantJobBody body, DateTimeOffset now)
    {
        if (body.TenantId is null) throw Bad("'tenantId' is required: the tenant to restore, as its id is stored in the tenant column.");
        var tenant = Text(body.TenantId, "tenantId", MaxTenantIdLength);
        if (tenant != body.TenantId) throw Bad("'tenantId' must not start or end with white space: it is compared with the stored id exactly.");
        if ((body.PointInTime is null) == (body.Backup is null))
        {
            throw Bad("Give exactly one of 'pointInTime' (RFC 3339, e.g. 2026-12-07T09:00:00Z) or 'backup' (a backup id from GET /backups): the tenant is restored from one place.");
        }
        DateTimeOffset? pointInTime = null;
        if (body.PointInTime is { } text)
        {
            if (!TryParseTime(text, out var parsed))
            {
                throw Bad($"'pointInTime' must be an RFC 3339 time with its offset, e.g. 2026-12-07T09:00:00Z; got '{Shown(text)}'.");
            }
            if (parsed > now) throw Bad($"'pointInTime' {parsed.ToUniversalTime():O} is in the future; the restore point must be a time that has passed.");
            pointInTime = parsed;
        }
        var mode = body.Mode ?? "missing-only";
        if (!Modes.Contains(mode, StringComparer.Ordinal)) throw Bad($"'mode' must be one of {string.Join(", ", Modes)} (default missing-only); got '{Shown(mode)}'.");
        return new JobRequest
        {
            TenantId = tenant,
            PointInTime = pointInTime,
            BackupId = body.Backup is null ? null : BackupId(body.Backup, "backup"),
            Mode = mode,
        };
    }

    public static string Digest(ApproveJobBody body)
    {
        if (body.Digest is null) throw Bad("'digest' is required: the digest of the plan decided on, as GET /jobs/{id} shows it.");
        if (!DigestPattern().IsMatch(body.Digest)) throw Bad($"'digest' must be a plan digest (64 lower-case hex digits); got '{Shown(body.Digest)}'.");
        return body.Digest;
    }

    /// <summary>An RFC 3339 time with its offset (Z or ±hh:mm); a time without one is refused, never taken as local.</summary>
    public static bool TryParseTime(string text, out DateTimeOffset time)
    {
        time = default;
        return (text.EndsWith('Z') || OffsetSuffix().IsMatch(text))
            && DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
    }

    private static string BackupId(string value, string field) =>
        BackupIdPattern().IsMatch(value) ? value : throw Bad($"'{field}' must be a backup id from GET /backups (bk- and 20 hex digits); got '{Shown(value)}'.");

    private static string Text(string value, string field, int max)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0) throw Bad($"'{field}' must not be empty.");
        if (trimmed.Length > max) throw Bad(string.Create(CultureInfo.InvariantCulture, $"'{field}' must be at most {max} characters; it has {trimmed.Length}."));
        if (trimmed.Any(char.IsControl))
        {
            throw Bad($"'{field}' must not contain control characters.");
        }
        return trimmed;
    }

    internal static string Shown(string value)
    {
        var printable = CloudNames.Printable(value);
        return printable.Length > 80 ? printable[..80] + "..." : printable;
    }

    private static FunctionException Bad(string message) => FunctionException.BadRequest(message);

    // \A and \z, not ^ and $: $ also matches before a final newline.
    [GeneratedRegex(@"\Abk-[0-9a-f]{20}\z", RegexOptions.CultureInvariant)]
    private static partial Regex BackupIdPattern();

    [GeneratedRegex(@"\A[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex(@"[+-]\d{2}:\d{2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex OffsetSuffix();
}
