using Commissable.Workflows.Language;

namespace Commissable.Workflows;

/// <summary>One problem found in a workflow file: what is wrong and the 1-based line it is on.</summary>
public sealed record WorkflowProblem(string Message, int Line)
{
    public override string ToString() => $"line {Line}: {Message}";
}

/// <summary>A workflow file the local runner cannot run: malformed YAML, or a construct outside the supported subset.</summary>
public sealed class WorkflowSyntaxException : Exception
{
    public WorkflowSyntaxException(string sourceName, IReadOnlyList<WorkflowProblem> problems)
        : base($"{sourceName}: " + string.Join("; ", problems)) => Problems = problems;

    public WorkflowSyntaxException() : this("workflow", []) { }

    public WorkflowSyntaxException(string message) : base(message) => Problems = [];

    public WorkflowSyntaxException(string message, Exception innerException) : base(message, innerException) => Problems = [];

    /// <summary>Every problem found, in file order.</summary>
    public IReadOnlyList<WorkflowProblem> Problems { get; }
}

/// <summary>
/// A parsed Cloud Workflows definition, limited to the subset the local runner supports. Parsing
/// refuses anything outside that subset before any step runs, so a run never half-executes a
/// workflow it cannot finish.
/// </summary>
public sealed class WorkflowProgram
{
    internal WorkflowProgram(string sourceName, IReadOnlyDictionary<string, Subworkflow> subworkflows, IReadOnlyList<(string Function, int Line)> calls)
    {
        SourceName = sourceName;
        Subworkflows = subworkflows;
        Calls = calls;
    }

    /// <summary>The name the file was parsed under (usually its path), for messages.</summary>
    public string SourceName { get; }

    /// <summary>Every <c>call:</c> target in the file, with its line, in file order.</summary>
    public IReadOnlyList<(string Function, int Line)> Calls { get; }

    internal IReadOnlyDictionary<string, Subworkflow> Subworkflows { get; }

    /// <summary>Parses <paramref name="yamlText"/> (YAML or JSON).</summary>
    /// <exception cref="WorkflowSyntaxException">The file is malformed or uses a construct the local runner does not support.</exception>
    public static WorkflowProgram Parse(string yamlText, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        ArgumentNullException.ThrowIfNull(sourceName);
        return new ProgramParser(sourceName).Parse(yamlText);
    }
}
