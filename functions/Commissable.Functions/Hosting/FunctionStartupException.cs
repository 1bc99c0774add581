namespace Commissable.Functions.Hosting;

/// <summary>
/// The host cannot start: a variable is missing or invalid, or <c>FUNCTION_TARGET</c> names no
/// registered function. The message says what is wrong and names the variables.
/// </summary>
public sealed class FunctionStartupException : Exception
{
    /// <summary>Creates the exception for problems with <paramref name="variables"/>.</summary>
    public FunctionStartupException(string message, IReadOnlyList<string> variables)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(variables);
        Variables = variables;
    }

    /// <summary>Creates the exception for a problem that no single variable causes.</summary>
    public FunctionStartupException(string message)
        : this(message, [])
    {
    }

    /// <summary>Creates the exception with no message (for serializers and frameworks).</summary>
    public FunctionStartupException()
        : this("The function host cannot start.")
    {
    }

    /// <summary>Creates the exception wrapping <paramref name="innerException"/>.</summary>
    public FunctionStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
        Variables = [];
    }

    /// <summary>The environment variables the problem is about (may be empty).</summary>
    public IReadOnlyList<string> Variables { get; }
}
