using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;

namespace Commissable.Functions.Verify;

/// <summary>
/// Live mode's <c>evidence</c>: <c>{"pointInTime": "2026-11-25T03:00:00Z"}</c>, the moment the
/// checked database was restored to. With it, the answer and the record carry
/// <c>RecoveryEvidence</c>: the database against the newest backup of
/// <c>instance</c> that ended by then, and against <c>instance</c> as it is now.
/// </summary>
internal sealed partial record RecoveryEvidenceRequest
{
    /// <summary>
    /// RFC 3339 with a time zone (<c>Z</c> or <c>±hh:mm</c>), seconds required, at most nine
    /// fraction digits: <c>2026-11-25T03:00:00Z</c>, <c>2026-11-25T04:00:00.5+01:00</c>.
    /// </summary>
    public string? PointInTime { get; init; }

    /// <summary>The parsed <see cref="PointInTime"/>, in UTC; null when it is missing or not RFC 3339.</summary>
    public DateTimeOffset? ParsedPointInTime() => Parse(PointInTime);

    /// <summary>
    /// <paramref name="value"/> read as RFC 3339, in UTC, or null when it is not. Strict on purpose: a
    /// local time without an offset would be read in the functions' zone and pick another backup.
    /// </summary>
    internal static DateTimeOffset? Parse(string? value)
    {
        if (value is null || !Rfc3339().IsMatch(value))
        {
            return null;
        }
        // .NET reads at most seven fraction digits; the eighth and ninth (nanoseconds) do not change which backup ended first.
        var text = FractionBeyondTicks().Replace(value, "$1");
        return DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
            ? parsed.ToUniversalTime()
            : null;
    }

    [GeneratedRegex(@"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    [GeneratedRegex(@"(\.\d{7})\d{1,2}(?=Z|[+-])", RegexOptions.CultureInvariant)]
    private static partial Regex FractionBeyondTicks();
}

internal sealed partial record RestoreVerifyRequest
{
    /// <summary>Live mode: ask for the recovery evidence (<see cref="RecoveryEvidenceRequest"/>); null for none.</summary>
    public RecoveryEvidenceRequest? Evidence { get; init; }

    /// <summary>The problems of <see cref="Evidence"/>: only in live mode, and with an RFC 3339 point in time.</summary>
    private void EvidenceProblems(List<string> problems)
    {
        if (Evidence is null)
        {
            return;
        }
        if (!IsLive)
        {
            problems.Add("'evidence' only applies to live mode (\"mode\": \"live\"): it compares a database restored to a point in time with the backup before it and with production now.");
            return;
        }
        if (Evidence.PointInTime is null)
        {
            problems.Add("'evidence.pointInTime' is required with 'evidence': the RFC 3339 time the database was restored to, for example \"2026-11-25T03:00:00Z\".");
        }
        else if (Evidence.ParsedPointInTime() is null)
        {
            problems.Add("'evidence.pointInTime' must be an RFC 3339 timestamp with seconds and a zone (Z or ±hh:mm), for example \"2026-11-25T03:00:00Z\""
                + $" (got '{CloudNames.Printable(Evidence.PointInTime)}').");
        }
    }
}
