using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>One run's state: what the checks compare with, and the census, read once and shared by the two checks that need it.</summary>
internal sealed class RestoreCheckContext(DatabaseSnapshot? recorded, VerificationOptions options, IReadOnlyList<string>? sourceFingerprintLines)
{
    private TenantCensus? _census;

    /// <summary>What the manifest recorded of the source; null when nothing was (backup runs).</summary>
    public DatabaseSnapshot? Recorded { get; } = recorded;

    public VerificationOptions Options { get; } = options;

    /// <summary>The source's fingerprint lines, when the caller has them; they name what differs.</summary>
    public IReadOnlyList<string>? SourceFingerprintLines { get; } = sourceFingerprintLines;

    public async Task<TenantCensus> CensusAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        _census ??= await TenantCensus.TakeAsync(connection, InspectionScope.PublicSchema, Options.TenantColumn, cancellationToken).ConfigureAwait(false);
}
