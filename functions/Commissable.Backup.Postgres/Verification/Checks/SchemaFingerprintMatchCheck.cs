using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using static Commissable.Backup.Postgres.Verification.Checks.CheckText;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>
/// <c>schema.fingerprint</c>: the SHA-256 of the restored schema's <see cref="SchemaFingerprint"/>
/// equals the manifest's; with the source's lines, a mismatch names the objects that differ.
/// </summary>
internal sealed class SchemaFingerprintMatchCheck : IRestoreCheck
{
    public string Name => RestoreChecks.SchemaFingerprintCheck;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var fingerprint = await SchemaFingerprint.CaptureAsync(connection, InspectionScope.PublicSchema, cancellationToken).ConfigureAwait(false);
        if (context.Recorded?.SchemaFingerprint is not { } expected)
        {
            return new(Name, true, $"not recorded in the manifest; found sha256 {fingerprint.Sha256}");
        }
        if (string.Equals(fingerprint.Sha256, expected, StringComparison.OrdinalIgnoreCase))
        {
            return new(Name, true, $"sha256 {fingerprint.Sha256}, as recorded");
        }
        if (context.SourceFingerprintLines is not { } sourceFingerprintLines)
        {
            return new(Name, false,
                $"expected sha256 {expected}, found {fingerprint.Sha256} (the source's fingerprint lines would say which objects differ)");
        }

        var differences = FingerprintDifferences.Between(sourceFingerprintLines, fingerprint.Lines);
        var linesHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(sourceFingerprintLines.Select(l => l + "\n")))));
        var caveat = string.Equals(linesHash, expected, StringComparison.OrdinalIgnoreCase)
            ? ""
            : $" (the source lines supplied hash to {linesHash}, not the manifest's {expected}: they may describe another database)";
        return new(Name, false, differences.Count == 0
            ? $"expected sha256 {expected}, found {fingerprint.Sha256}; the supplied source lines match the restore{caveat}"
            : string.Create(CultureInfo.InvariantCulture, $"expected sha256 {expected}, found {fingerprint.Sha256}; differences: {Listed(differences)}{caveat}"));
    }
}
