namespace Commissable.Backup.Cli.Commands;

/// <summary>Exit codes the commands share (sysexits.h where one fits).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A step of the command failed; the report says which.</summary>
    public const int Failed = 1;
    /// <summary>Ctrl-C stopped the command; whatever it started on Google Cloud keeps running.</summary>
    public const int Interrupted = 2;
    /// <summary>Bad usage: the message names what was wrong and what is accepted.</summary>
    public const int Usage = 64;
    /// <summary>A Google API refused the request or could not be reached (after retries), or the local cloud did not start.</summary>
    public const int Unavailable = 69;
    /// <summary>A fault of the command itself (a bug), not of its input or of an API.</summary>
    public const int Software = 70;
}
