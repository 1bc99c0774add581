using Commissable.Functions.Hosting;
using Commissable.Functions;
using Commissable.Functions.Hosting.Configuration;

// The composition root. The host reads FUNCTION_TARGET (or LOCAL_MODE=true), PORT and the
// settings; the functions and their clients are composed in BackupFunctions.
var options = new FunctionHostOptions { Environment = ProcessEnvironment.Instance, Args = args };
try
{
    var builder = FunctionHost.CreateBuilder(options);
    builder.Services.AddBackupFunctions(FunctionSettings.Load(options.Environment), options.Environment);
    await using var app = FunctionHost.Build(builder);
    await app.RunAsync();
    return ExitCodes.Success;
}
catch (FunctionStartupException e)
{
    FunctionHost.LogFatal(options, e);
    return ExitCodes.Configuration;
}
#pragma warning disable CA1031 // The one top-level catch: log the failure as a structured line, exit non-zero.
catch (Exception e)
#pragma warning restore CA1031
{
    FunctionHost.LogFatal(options, e);
    return ExitCodes.Software;
}

/// <summary>The process's exit codes (sysexits.h).</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>EX_SOFTWARE: an unexpected failure.</summary>
    public const int Software = 70;

    /// <summary>EX_CONFIG: the configuration is missing or invalid.</summary>
    public const int Configuration = 78;
}
