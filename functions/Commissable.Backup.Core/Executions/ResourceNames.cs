using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Commissable.Backup.Core.Executions;

/// <summary>A workflow's full name, <c>projects/{project}/locations/{location}/workflows/{workflow}</c>.</summary>
public sealed partial record WorkflowName(string Project, string Location, string Workflow)
{
    /// <summary>Workflow IDs: a letter, then letters, digits, '-' and '_', at most 128 characters.</summary>
    public static bool IsValidWorkflowId([NotNullWhen(true)] string? value) => value is not null && WorkflowIdPattern().IsMatch(value);

    public static bool TryParse(string? text, [NotNullWhen(true)] out WorkflowName? name)
    {
        var match = text is null ? null : Pattern().Match(text);
        name = match is { Success: true } ? new WorkflowName(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value) : null;
        return name is not null;
    }

    public override string ToString() => $"projects/{Project}/locations/{Location}/workflows/{Workflow}";

    [GeneratedRegex("^projects/([^/]+)/locations/([^/]+)/workflows/([^/]+)\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex WorkflowIdPattern();
}

/// <summary>An execution's full name, <c>projects/{project}/locations/{location}/workflows/{workflow}/executions/{id}</c>.</summary>
public sealed partial record ExecutionName(WorkflowName Workflow, string Id)
{
    public const string Shape = "projects/PROJECT/locations/LOCATION/workflows/WORKFLOW/executions/ID";

    /// <exception cref="FormatException">The text is not an execution name.</exception>
    public static ExecutionName Parse(string text)
        => TryParse(text, out var name) ? name : throw new FormatException($"'{text}' is not an execution name ({Shape}).");

    public static bool TryParse(string? text, [NotNullWhen(true)] out ExecutionName? name)
    {
        var match = text is null ? null : Pattern().Match(text);
        name = match is { Success: true }
            ? new ExecutionName(new WorkflowName(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value), match.Groups[4].Value)
            : null;
        return name is not null;
    }

    public override string ToString() => $"{Workflow}/executions/{Id}";

    // Segments are the characters Google uses in IDs; "." and ".." are excluded so a name is never a relative path.
    [GeneratedRegex(@"^projects/([A-Za-z0-9][A-Za-z0-9.:_-]*)/locations/([a-z0-9-]+)/workflows/([A-Za-z][A-Za-z0-9_-]*)/executions/([A-Za-z0-9][A-Za-z0-9_-]*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
