using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Commissable.Backup.Postgres.Verification.Checks;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>
/// The smoke checks of a restored database: is it what the manifest says the source held, and can
/// the application use it. Each check reads schema <c>public</c> of the restored database; all of
/// them run in one read-only REPEATABLE READ snapshot.
/// </summary>
/// <remarks>
/// <para>
/// The results come in the order of <see cref="All"/> (checks not selected in
/// <see cref="VerificationOptions.Checks"/> are left out), each with a stable name and a detail an
/// operator can act on. A check never throws: one that cannot run (a table it needs is gone, a
/// permission is missing, the database is unreachable) is a failed result whose detail starts with
/// "could not run:" and carries the reason. Only cancellation and invalid arguments throw.
/// </para>
/// <para>
/// What the manifest did not record it cannot prove, and a missing field is not evidence of a bad
/// restore: automated backup runs have no snapshot at all, and must still be verifiable. So a
/// check that compares with a field the snapshot lacks passes with a detail that starts with
/// "not recorded in the manifest" and says what was found. A check fails only when the restored
/// database contradicts the manifest or is unusable on its own terms. "Lacks" means: a null
/// snapshot; a null <see cref="DatabaseSnapshot.MigrationHead"/> (<c>migrations.head</c>); a null
/// <see cref="DatabaseSnapshot.SchemaFingerprint"/> (<c>schema.fingerprint</c>); an empty
/// <see cref="DatabaseSnapshot.RowCounts"/> (<c>rows.counts</c>). The checks that need no manifest
/// (<c>migrations.finished</c>, <c>sequences.ahead</c>, <c>tables.critical</c>) always run;
/// <c>sequences.ahead</c> also compares every sequence with its recorded position where
/// <see cref="DatabaseSnapshot.Sequences"/> has one.
/// </para>
/// <para>
/// <c>tenants.same</c> is the exception: where the schema has the tenant column
/// (<see cref="VerificationOptions.TenantColumn"/>) it fails when it has nothing to compare with
/// (no recorded tenants or counts, and no <see cref="VerificationOptions.RequireTenants"/>); where
/// no table has the column it passes with a detail that starts with "not applicable" and says why.
/// </para>
/// </remarks>
public static class RestoreChecks
{
    /// <summary>Every <c>_prisma_migrations</c> row finished, none rolled back (unless applied again since).</summary>
    public const string MigrationsFinished = "migrations.finished";

    /// <summary>The latest finished, not rolled back migration equals the manifest's.</summary>
    public const string MigrationsHead = "migrations.head";

    /// <summary>The SHA-256 of the restored schema's <see cref="SchemaFingerprint"/> equals the manifest's.</summary>
    public const string SchemaFingerprintCheck = "schema.fingerprint";

    /// <summary>Every table's row count equals the manifest's, within the configured tolerance; no table missing or extra.</summary>
    public const string RowCounts = "rows.counts";

    /// <summary>
    /// The tenant ids found in the business tables are the manifest's (and, with
    /// <see cref="VerificationOptions.RequireTenants"/>, there is at least one).
    /// </summary>
    public const string TenantsSame = "tenants.same";

    /// <summary>
    /// Every sequence a column draws from (owned, identity or a <c>nextval</c> default) would hand
    /// out a value past the values of every such column; every sequence whose position the manifest
    /// records is at or past it.
    /// </summary>
    public const string SequencesAhead = "sequences.ahead";

    /// <summary>Every configured critical table exists and has rows.</summary>
    public const string TablesCritical = "tables.critical";

    /// <summary>
    /// The checks, in the order they run and are reported: each one a class in <c>Checks/</c> that
    /// knows its name, so adding a check is adding it here.
    /// </summary>
    internal static IReadOnlyList<IRestoreCheck> Registry { get; } =
    [
        new MigrationsFinishedCheck(),
        new MigrationsHeadCheck(),
        new SchemaFingerprintMatchCheck(),
        new RowCountsCheck(),
        new TenantsSameCheck(),
        new SequencesAheadCheck(),
        new CriticalTablesCheck(),
    ];

    /// <summary>The names of all checks, in the order they run and are reported.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Registry.Select(check => check.Name)];

    /// <summary>Runs the selected checks against a restored database.</summary>
    /// <param name="recorded">What the manifest recorded of the source; null when nothing was (backup runs).</param>
    /// <param name="restored">The restored, scratch database. It is only read.</param>
    /// <param name="options">Tolerance, critical tables and which checks; null for <see cref="VerificationOptions.Default"/>.</param>
    /// <param name="sourceFingerprintLines">
    /// Optional: the source's <see cref="SchemaFingerprint.Lines"/> (from
    /// <see cref="DatabaseSnapshotReader.ReadWithFingerprintAsync"/>). When given, a failed
    /// <c>schema.fingerprint</c> names the objects that differ instead of only the two hashes.
    /// </param>
    /// <param name="cancellationToken">Stops the checks; the only way this method throws once arguments are valid.</param>
    /// <returns>One result per selected check, in the order of <see cref="All"/>.</returns>
    /// <exception cref="ArgumentException">Invalid options (see <see cref="VerificationOptions"/>).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(
        DatabaseSnapshot? recorded,
        NpgsqlDataSource restored,
        VerificationOptions? options = null,
        IReadOnlyList<string>? sourceFingerprintLines = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(restored);
        options ??= VerificationOptions.Default;
        options.Validate();
        var selected = Registry.Where(check => options.Runs(check.Name)).ToList();
        var results = new List<CheckResult>(selected.Count);
        var context = new RestoreCheckContext(recorded, options, sourceFingerprintLines);
        try
        {
            await InspectionSession.RunAsync(restored, async (connection, ct) =>
            {
                foreach (var check in selected)
                {
                    var (result, broken) = await CheckSavepoint.RunAsync(connection, check, context, ct).ConfigureAwait(false);
                    results.Add(result);
                    if (broken is not null)
                    {
                        // The session cannot recover (connection lost): the remaining checks fail with this reason.
                        throw broken;
                    }
                }
                return results;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = "could not run: could not read the restored database: " + CheckText.Describe(e);
            results.AddRange(selected.Skip(results.Count).Select(check => new CheckResult(check.Name, false, reason)));
        }
        return results;
    }
}
