using Commissable.Backup.Core.Backups;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>
/// Runs one check inside a savepoint, so a statement that fails (a missing table) does not abort
/// the snapshot the other checks read.
/// </summary>
internal static class CheckSavepoint
{
    private const string Savepoint = "restore_check";

    /// <summary>
    /// The check's result, or a failed one saying why it could not run. Returns the exception that
    /// broke the session when even rolling back to the savepoint failed.
    /// </summary>
    public static async Task<(CheckResult Result, Exception? Broken)> RunAsync(
        NpgsqlConnection connection, IRestoreCheck check, RestoreCheckContext context, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, $"SAVEPOINT {Savepoint}", cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await check.RunAsync(context, connection, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, $"RELEASE SAVEPOINT {Savepoint}", cancellationToken).ConfigureAwait(false);
            return (result, null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var failed = new CheckResult(check.Name, false, "could not run: " + CheckText.Describe(e));
            try
            {
                await ExecuteAsync(connection, $"ROLLBACK TO SAVEPOINT {Savepoint}", cancellationToken).ConfigureAwait(false);
                return (failed, null);
            }
            catch (Exception rollback) when (!cancellationToken.IsCancellationRequested)
            {
                return (failed, rollback);
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
