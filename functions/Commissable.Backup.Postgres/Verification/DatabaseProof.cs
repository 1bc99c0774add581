using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>The content comparison's check that reports a database that could not be read back.</summary>
public static class DatabaseProof
{
    /// <summary>The check that fails when the database could not be read back to compare it.</summary>
    public const string ContentRead = "content.read";

    /// <summary>
    /// The checks <c>restore-verify</c> runs, for a database of any server: the database read back
    /// in pg_dump's text and compared with <paramref name="content"/> exactly
    /// (<see cref="ContentComparison"/>), then <see cref="RestoreChecks"/> on its own terms. Only
    /// read; never throws for what it finds (a database it cannot read is a failed
    /// <see cref="ContentRead"/>), so every check passing is the proof.
    /// </summary>
    /// <param name="endpoint">The server and a login that can read every table.</param>
    /// <param name="database">The restored database.</param>
    /// <param name="description">Names the database in messages, never with a password.</param>
    /// <param name="content">What the backup holds (its content manifest).</param>
    /// <param name="options">Critical tables and which of <see cref="RestoreChecks"/> run; null for all.</param>
    /// <param name="tools">Where pg_dump is.</param>
    public static async Task<IReadOnlyList<CheckResult>> CheckAsync(
        DatabaseEndpoint endpoint, string database, string description, BackupContent content, VerificationOptions? options, PostgresBinaries tools,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(tools);
        var results = new List<CheckResult>();
        try
        {
            var reading = new DumpReadOptions { TenantColumn = content.TenantColumn, TimeZone = content.TimeZone };
            var restored = await PostgresBackupContentReader.ReadDatabaseAsync(endpoint, database, description, reading, tools, cancellationToken).ConfigureAwait(false);
            results.AddRange(ContentComparison.Compare(content, restored));
        }
        catch (Exception error) when (error is not OperationCanceledException and not OutOfMemoryException)
        {
            var reason = error.Message.Split('\n')[0];
            results.Add(new CheckResult(ContentRead, false, $"could not read {description} back to compare it with the backup: {(reason.Length > 300 ? reason[..300] + "…" : reason)}"));
        }
        await using var dataSource = NpgsqlDataSource.Create(endpoint.ConnectionString(database, "commissable-restore-checks"));
        results.AddRange(await RestoreChecks.RunAsync(dataSource, options, cancellationToken).ConfigureAwait(false));
        return results;
    }
}
