using Commissable.Backup.Cli.Commands;

// The operator's command line: a layer that only dispatches; each command lives in its own file.
return args switch
{
    ["drill", .. var rest] => await DrillCommand.RunAsync(rest),
    ["dr", "start", .. var rest] => await DrStartCommand.RunAsync(rest),
    ["clone-staging", "start", .. var rest] => await CloneStagingStartCommand.RunAsync(rest),
    ["executions", "watch", .. var rest] => await ExecutionsWatchCommand.RunAsync(rest),
    ["workflows", "run", .. var rest] => await WorkflowsRunCommand.RunAsync(rest),
    ["secrets", "put", .. var rest] => await SecretsPutCommand.RunAsync(rest),
    [] or ["--help" or "-h" or "help"] => Usage(0),
    _ => Usage(ExitCodes.Usage, $"unknown command '{string.Join(' ', args)}'"),
};

static int Usage(int code, string? problem = null)
{
    if (problem is not null) Console.Error.WriteLine($"commissable-backup: {problem}");
    Console.WriteLine("""
        usage: commissable-backup <command> [options]

          drill [--state DIR] [--port P] [--address-prefix A.B.C] [--size tiny|small]
              Rehearses the backup chain on the local cloud: a prod instance with backups and
              PITR and the demo database, a verification instance, then pre-deploy export, the
              completion event, restore-verify and a dry-run sweep through the functions.
              Defaults: --state .localcloud --port 8123 --address-prefix 127.0.1 --size tiny.

        Workflows on the local cloud (the same YAML as on Google Cloud):

        """ + WorkflowsRunCommand.Usage + "\n" + SecretsPutCommand.Usage + """


        Workflow executions on Google Cloud (Application Default Credentials unless
        --access-token-file; --endpoint overrides https://workflowexecutions.googleapis.com/):

        """ + DrStartCommand.Usage + "\n" + CloneStagingStartCommand.Usage + "\n" + ExecutionsWatchCommand.Usage);
    return code;
}

/// <summary>Exit codes the commands share (sysexits.h where one fits).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A step of the command failed; the report says which.</summary>
    public const int Failed = 1;
    /// <summary>Ctrl-C stopped the command; whatever it started on Google Cloud keeps running.</summary>
    public const int Interrupted = 2;
    public const int Usage = 64;
    /// <summary>A Google API refused the request or could not be reached (after retries).</summary>
    public const int Unavailable = 69;
    public const int Software = 70;
}
