using Microsoft.Extensions.Logging;

namespace Commissable.Functions.Hosting.Logging;

/// <summary>What every entry of a <see cref="StructuredLoggerProvider"/> shares.</summary>
public sealed class StructuredLogOptions
{
    /// <summary>The project trace ids belong to (<c>projects/ID/traces/...</c>); without one, entries carry no trace.</summary>
    public string? ProjectId { get; init; }

    /// <summary>Labels on every entry (<c>logging.googleapis.com/labels</c>), e.g. the environment.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The clock that stamps <c>time</c>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// An <see cref="ILoggerProvider"/> that writes each entry as one line of JSON in Cloud Logging's
/// structured shape to an <see cref="ILogSink"/>.
/// </summary>
/// <remarks>
/// <para>An entry has <c>severity</c> (DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL),
/// <c>message</c>, <c>time</c> (RFC 3339, UTC), <c>event</c> (the <see cref="EventId.Name"/>),
/// <c>logger</c> (the category), <c>logging.googleapis.com/trace</c>, <c>.../spanId</c> and
/// <c>.../trace_sampled</c> inside an invocation, <c>logging.googleapis.com/labels</c>
/// (<c>function</c>, <c>environment</c>), and one field per message-template placeholder and per
/// key of a key/value scope (<c>BeginScope(new Dictionary&lt;string, object?&gt; {...})</c>),
/// camel-cased. An exception becomes <c>exception: {type, message, stackTrace, inner}</c> on the
/// same line.</para>
/// <para>Every string goes through <see cref="SecretRedactor"/>, and a field whose name says it is a
/// secret (<see cref="Commissable.Backup.Core.Naming.SensitiveNames.IsSensitive"/>) is redacted whole.</para>
/// </remarks>
public sealed class StructuredLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ILogSink _sink;
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    /// <summary>Creates the provider.</summary>
    public StructuredLoggerProvider(ILogSink sink, StructuredLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        _sink = sink;
        Options = options;
    }

    internal StructuredLogOptions Options { get; }

    internal IExternalScopeProvider Scopes => _scopes;

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new StructuredLogger(categoryName, this);

    /// <inheritdoc />
    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        ArgumentNullException.ThrowIfNull(scopeProvider);
        _scopes = scopeProvider;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The sink outlives the provider (standard output, or a test's sink).
    }

    internal void Write(string line) => _sink.Write(line);

    private sealed class StructuredLogger(string category, StructuredLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider.Scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            ArgumentNullException.ThrowIfNull(formatter);
            var line = LogEntryWriter.Format(provider.Options, provider.Scopes, category, logLevel, eventId, state, exception, formatter(state, exception));
            provider.Write(line);
        }
    }
}
