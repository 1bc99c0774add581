namespace Commissable.Functions.Hosting.Configuration;

/// <summary>
/// Reads environment variables. The host and the settings read the environment only through this
/// accessor, so tests pass a dictionary and never touch the process environment.
/// </summary>
public interface IFunctionEnvironment
{
    /// <summary>The value of the variable <paramref name="name"/>, or null when it is not set.</summary>
    string? GetVariable(string name);
}

/// <summary>The process environment: what Cloud Run (or the shell) set.</summary>
public sealed class ProcessEnvironment : IFunctionEnvironment
{
    /// <summary>The one instance; it holds no state.</summary>
    public static ProcessEnvironment Instance { get; } = new();

    private ProcessEnvironment()
    {
    }

    /// <inheritdoc />
    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);
}

/// <summary>A fixed set of variables, for tests and for hosts embedded in other tools.</summary>
public sealed class DictionaryEnvironment : IFunctionEnvironment
{
    private readonly Dictionary<string, string?> _variables;

    /// <summary>Copies <paramref name="variables"/>; names are case-sensitive, as on Linux.</summary>
    public DictionaryEnvironment(IEnumerable<KeyValuePair<string, string?>> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        _variables = new Dictionary<string, string?>(variables, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public string? GetVariable(string name) => _variables.GetValueOrDefault(name);
}
