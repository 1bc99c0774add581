namespace Commissable.Workflows.Language;

/// <summary>A subworkflow (<c>main</c> included): its parameters and its steps.</summary>
internal sealed record Subworkflow(string Name, IReadOnlyList<Parameter> Params, StepList Steps, int Line);

/// <summary>A parameter; <see cref="Default"/> is set when the parameter is optional.</summary>
internal sealed record Parameter(string Name, bool HasDefault, Template? Default);

/// <summary>An ordered list of named steps; <c>next</c> targets are looked up here first, then outwards.</summary>
internal sealed class StepList(IReadOnlyList<Step> steps)
{
    public IReadOnlyList<Step> Steps { get; } = steps;

    public int IndexOf(string name)
    {
        for (var i = 0; i < Steps.Count; i++)
        {
            if (Steps[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A named step: what it does (<see cref="Body"/>) and where it goes afterwards.</summary>
internal sealed record Step(string Name, int Line, StepBody Body);

/// <summary>What a step (or a switch case, or a try block) does, plus its optional <c>next</c>.</summary>
internal abstract record StepBody(int Line)
{
    public string? Next { get; init; }
}

internal sealed record NextOnlyBody(int Line) : StepBody(Line);

internal sealed record AssignBody(int Line, IReadOnlyList<Assignment> Assignments) : StepBody(Line);

internal sealed record Assignment(Expr Target, string TargetText, Template Value, int Line);

internal sealed record CallBody(int Line, string Function, IReadOnlyList<(string Name, Template Value)> Args, Expr? Result, string? ResultText) : StepBody(Line);

internal sealed record SwitchBody(int Line, IReadOnlyList<SwitchCase> Cases) : StepBody(Line);

internal sealed record SwitchCase(Template Condition, StepBody Body, int Line);

internal sealed record ForBody(int Line, string Value, string? Index, Template? In, Template? Range, StepList Steps) : StepBody(Line);

internal sealed record TryBody(int Line, StepBody Try, RetryPolicy? Retry, ExceptClause? Except) : StepBody(Line);

internal sealed record ExceptClause(string? As, StepList Steps, int Line);

internal sealed record RaiseBody(int Line, Template Value) : StepBody(Line);

internal sealed record ReturnBody(int Line, Template? Value) : StepBody(Line);

internal sealed record StepsBody(int Line, StepList Steps) : StepBody(Line);

/// <summary>How a <c>try</c> is retried. <see cref="Predicate"/> is a built-in predicate name or a subworkflow.</summary>
internal sealed record RetryPolicy(string Predicate, bool PredicateIsSubworkflow, Template MaxRetries, Template InitialDelay, Template MaxDelay, Template Multiplier, int Line);

/// <summary>A YAML value in which strings of the form <c>${...}</c> are expressions, evaluated when the step runs.</summary>
internal abstract record Template(int Line);

internal sealed record LiteralTemplate(int Line, object? Value) : Template(Line);

internal sealed record ExpressionTemplate(int Line, Expr Expression, string Text) : Template(Line);

internal sealed record ListTemplate(int Line, IReadOnlyList<Template> Items) : Template(Line);

internal sealed record MapTemplate(int Line, IReadOnlyList<(string Key, Template Value)> Entries) : Template(Line);
