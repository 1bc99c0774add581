using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Hosting;

/// <summary>What the host is built from; tests replace the environment, the log sink and the clock.</summary>
public sealed class FunctionHostOptions
{
    /// <summary>Where variables come from: <see cref="ProcessEnvironment.Instance"/> in production.</summary>
    public required IFunctionEnvironment Environment { get; init; }

    /// <summary>Where log lines go: standard output by default.</summary>
    public ILogSink LogSink { get; init; } = ConsoleLogSink.Instance;

    /// <summary>The clock for log timestamps, also registered for the functions.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Command-line arguments, passed to ASP.NET Core.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];
}
