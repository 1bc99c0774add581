using Commissable.Backup.Cli.Commands;

// The operator's command line: a layer that only dispatches; each command lives in its own file.
return args switch
{
    ["drill", .. var rest] => await DrillCommand.RunAsync(rest),
    [] or ["--help" or "-h" or "help"] => Usage(0),
    _ => Usage(ExitCodes.Usage, $"unknown command '{string.Join(' ', args)}'"),
};

static int Usage(int code, string? problem = null)
{
    if (problem is not null) Console.Error.WriteLine($"commissable-backup: {problem}");
    Console.WriteLine("""
        usage: commissable-backup <command> [options]

          drill [--state DIR] [--port P] [--size tiny|small]
              Rehearses the backup chain on the local cloud: a prod instance with backups and
              PITR and the demo database, a verification instance, then pre-deploy export, the
              completion event, restore-verify and a dry-run sweep through the functions.
              Defaults: --state .localcloud --port 8123 --size tiny.
        """);
    return code;
}

/// <summary>Exit codes the commands share (sysexits.h where one fits).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A step of the command failed; the report says which.</summary>
    public const int Failed = 1;
    public const int Usage = 64;
    public const int Software = 70;
}
