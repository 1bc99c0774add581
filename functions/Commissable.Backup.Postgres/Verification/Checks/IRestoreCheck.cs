using Commissable.Backup.Core.Backups;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary>
/// One smoke check of a restored database: its stable name (the one results, options and
/// operators use) and how it reads the restored database. A check is data in
/// <see cref="RestoreChecks"/>' registry; nothing dispatches on its name.
/// </summary>
internal interface IRestoreCheck
{
    /// <summary>The stable name, one of the constants of <see cref="RestoreChecks"/>.</summary>
    string Name { get; }

    /// <summary>
    /// Reads the restored database inside the shared snapshot and judges it. May throw when it
    /// cannot run (a missing table, a lost connection): the runner turns that into a failed result.
    /// </summary>
    Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken);
}
