using System.Net;
using Commissable.Functions.Hosting.Configuration;
using Microsoft.Extensions.Logging;

namespace Commissable.Functions.Hosting;

/// <summary>How the host serves: one function (Cloud Run) or all of them (local).</summary>
public enum FunctionHostMode
{
    /// <summary>
    /// <c>FUNCTION_TARGET</c> names the one function served, at every path: one container image,
    /// one Cloud Run service per function. On <c>0.0.0.0:PORT</c> when <c>K_SERVICE</c> says this
    /// is Cloud Run (which always sets it), else on <c>127.0.0.1:PORT</c>.
    /// </summary>
    CloudRun,

    /// <summary>
    /// <c>LOCAL_MODE=true</c>: every registered function at its own path (<c>/pre-deploy-export</c>,
    /// <c>/catalog</c>...), on <c>127.0.0.1:PORT</c> only, for a developer's machine and the local
    /// workflow runner.
    /// </summary>
    Local,
}

/// <summary>
/// The host's decisions read from the environment at start-up: mode, target, port, bind address,
/// log level. Registered as a singleton.
/// </summary>
/// <remarks>
/// Local mode is chosen explicitly with <c>LOCAL_MODE=true</c>, never by a missing
/// <c>FUNCTION_TARGET</c>: a Cloud Run service deployed without its target must fail loudly at
/// start-up rather than quietly serve every function (and on loopback, where Cloud Run cannot reach it).
/// </remarks>
public sealed record FunctionHostPlan
{
    /// <summary>Port when <c>PORT</c> is unset (Cloud Run always sets it).</summary>
    public const int DefaultPort = 8080;

    /// <summary>The mode.</summary>
    public required FunctionHostMode Mode { get; init; }

    /// <summary><c>FUNCTION_TARGET</c>: the function served in <see cref="FunctionHostMode.CloudRun"/> mode; null in local mode.</summary>
    public string? Target { get; init; }

    /// <summary><c>PORT</c> (default 8080; 0 picks a free port, for tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>
    /// <c>0.0.0.0</c> on Cloud Run (<c>K_SERVICE</c> set), where IAM stands in front of the
    /// service; <c>127.0.0.1</c> anywhere else, local mode included, since the host itself checks
    /// no caller: <c>FUNCTION_TARGET=tenant-restore dotnet run</c> on a laptop is not on the network.
    /// </summary>
    public required IPAddress BindAddress { get; init; }

    /// <summary><c>LOG_LEVEL</c>: DEBUG, INFO (default), WARNING or ERROR; the least severe entries written.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>Reads the plan.</summary>
    /// <exception cref="FunctionStartupException">A variable is missing or invalid.</exception>
    public static FunctionHostPlan Load(IFunctionEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var reader = new EnvironmentReader(environment);
        var plan = Read(reader);
        reader.ThrowIfInvalid();
        return plan;
    }

    internal static FunctionHostPlan Read(EnvironmentReader reader)
    {
        var local = reader.Boolean("LOCAL_MODE", defaultValue: false);
        var target = reader.Optional("FUNCTION_TARGET");
        if (!local && target is null)
        {
            reader.Problem("FUNCTION_TARGET",
                $"FUNCTION_TARGET is not set: name the function this service runs ({string.Join(", ", FunctionNames.All)}), or set LOCAL_MODE=true to serve every function at its own path on 127.0.0.1");
        }

        var port = reader.Integer("PORT", DefaultPort, 0, 65535, "a TCP port number");
        // Cloud Run sets K_SERVICE (the service's name) in every container it runs.
        var onCloudRun = !local && reader.Optional("K_SERVICE") is not null;
        var level = ReadLogLevel(reader);
        return new FunctionHostPlan
        {
            Mode = local ? FunctionHostMode.Local : FunctionHostMode.CloudRun,
            Target = local ? null : target,
            Port = port,
            BindAddress = onCloudRun ? IPAddress.Any : IPAddress.Loopback,
            MinimumLogLevel = level,
        };
    }

    private static LogLevel ReadLogLevel(EnvironmentReader reader)
    {
        var text = reader.Optional("LOG_LEVEL");
        switch (text?.ToUpperInvariant())
        {
            case null or "INFO" or "NOTICE":
                return LogLevel.Information;
            case "DEBUG":
                return LogLevel.Debug;
            case "WARNING":
                return LogLevel.Warning;
            case "ERROR":
                return LogLevel.Error;
            default:
                reader.Problem("LOG_LEVEL", $"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR; got '{EnvironmentReader.Shown(text)}'");
                return LogLevel.Information;
        }
    }
}
