using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Commissable.Backup.Postgres.Verification.Checks;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>
/// The checks of a database on its own terms: can the application use it. Each reads schema
/// <c>public</c>; all of them run in one read-only REPEATABLE READ snapshot. Whether it holds what
/// the backup held is the content comparison's question (<c>ContentComparison</c> in Core), not theirs.
/// </summary>
/// <remarks>
/// The results come in the order of <see cref="All"/> (checks not selected in
/// <see cref="VerificationOptions.Checks"/> are left out), each with a stable name and a detail an
/// operator can act on. A check never throws: one that cannot run (a table it needs is gone, a
/// permission is missing, the database is unreachable) is a failed result whose detail starts with
/// "could not run:" and carries the reason. Only cancellation and invalid arguments throw.
/// </remarks>
public static class RestoreChecks
{
    /// <summary>Every <c>_prisma_migrations</c> row finished, none rolled back (unless applied again since).</summary>
    public const string MigrationsFinished = "migrations.finished";

    /// <summary>
    /// Every sequence a column draws from (owned, identity or a <c>nextval</c> default) would hand
    /// out a value past the values of every such column.
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
        new SequencesAheadCheck(),
        new CriticalTablesCheck(),
    ];

    /// <summary>The names of all checks, in the order they run and are reported.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Registry.Select(check => check.Name)];

    /// <summary>Runs the selected checks against a database.</summary>
    /// <param name="restored">The database; it is only read.</param>
    /// <param name="options">Critical tables and which checks; null for <see cref="VerificationOptions.Default"/>.</param>
    /// <param name="cancellationToken">Stops the checks; the only way this method throws once arguments are valid.</param>
    /// <returns>One result per selected check, in the order of <see cref="All"/>.</returns>
    /// <exception cref="ArgumentException">Invalid options (see <see cref="VerificationOptions"/>).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(
        NpgsqlDataSource restored,
        VerificationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(restored);
        options ??= VerificationOptions.Default;
        options.Validate();
        var selected = Registry.Where(check => options.Runs(check.Name)).ToList();
        var results = new List<CheckResult>(selected.Count);
        var context = new RestoreCheckContext(options);
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
