using System.Globalization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;

namespace Commissable.Backup.Postgres.Verification.Checks;

/// <summary><c>migrations.head</c>: the latest finished, not rolled back migration equals the manifest's.</summary>
internal sealed class MigrationsHeadCheck : IRestoreCheck
{
    public string Name => RestoreChecks.MigrationsHead;

    public async Task<CheckResult> RunAsync(RestoreCheckContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var head = await MigrationHead.ReadAsync(connection, RowCounter.Schema, cancellationToken).ConfigureAwait(false);
        var found = head switch
        {
            { TableExists: false } => $"no {MigrationHead.TableName} table",
            { Latest: null } => "no applied migration",
            _ => string.Create(CultureInfo.InvariantCulture, $"{head.Latest} ({head.Applied.Count} applied)"),
        };
        var recorded = context.Recorded;
        if (recorded?.MigrationHead is not { } expected)
        {
            return new(Name, true, $"not recorded in the manifest; found {found}");
        }
        var expectedText = recorded.AppliedMigrations > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{expected} ({recorded.AppliedMigrations} applied)")
            : expected;
        return string.Equals(head.Latest, expected, StringComparison.Ordinal)
            ? new(Name, true, found)
            : new(Name, false, $"expected {expectedText}, found {found}");
    }
}
