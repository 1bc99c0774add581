using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>PostgreSQL's client programs (pg_dump, pg_restore, psql) on the operator's machine.</summary>
internal static class OperatorTools
{
    /// <summary>Names the directory of the client programs, as for the functions; unset: found on the machine.</summary>
    public const string Variable = "PG_BIN_DIR";

    /// <summary>The client programs; null (after saying on stderr what is missing) when they are not found.</summary>
    public static PostgresBinaries? Locate(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return PostgresBinaries.LocateClient(context.Environment(Variable));
        }
        catch (InvalidOperationException missing)
        {
            context.Error.WriteLine($"commissable-backup: {missing.Message} ({Variable} names their directory)");
            return null;
        }
    }
}
