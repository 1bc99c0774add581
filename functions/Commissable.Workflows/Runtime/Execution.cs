using System.Text.Json.Nodes;
using Commissable.Workflows.Language;

namespace Commissable.Workflows.Runtime;

internal enum FlowKind { Normal, Return, End, Break, Continue, Jump }

/// <summary>How a step or a list of steps finished: on to the next step, or a jump, loop control, or return.</summary>
internal readonly record struct Flow(FlowKind Kind, object? Value = null, string? Target = null)
{
    public static readonly Flow Normal = new(FlowKind.Normal);
}

/// <summary>
/// A subworkflow call's variables. Each <c>for</c> iteration pushes a scope: the loop variables and
/// anything first assigned inside it vanish after the iteration, while assignments to variables that
/// already exist outside update those.
/// </summary>
internal sealed class Frame(int depth)
{
    private readonly List<Dictionary<string, object?>> _scopes = [new(StringComparer.Ordinal)];

    public int Depth { get; } = depth;

    public bool TryGet(string name, out object? value)
    {
        for (var i = _scopes.Count - 1; i >= 0; i--)
        {
            if (_scopes[i].TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = null;
        return false;
    }

    public void Set(string name, object? value)
    {
        for (var i = _scopes.Count - 1; i >= 0; i--)
        {
            if (_scopes[i].ContainsKey(name))
            {
                _scopes[i][name] = value;
                return;
            }
        }

        _scopes[^1][name] = value;
    }

    public void DeclareLocal(string name, object? value) => _scopes[^1][name] = value;

    public void Push() => _scopes.Add(new Dictionary<string, object?>(StringComparer.Ordinal));

    public void Pop() => _scopes.RemoveAt(_scopes.Count - 1);
}

/// <summary>One run of a program.</summary>
internal sealed class Execution(WorkflowProgram program, WorkflowRunOptions options, CancellationToken cancellationToken)
{
    private readonly StdContext _std = new(options, cancellationToken);
    private int _steps;

    public async Task<object?> RunMainAsync(object? arguments)
    {
        var main = program.Subworkflows["main"];
        var frame = new Frame(1);
        if (main.Params.Count == 1)
        {
            var parameter = main.Params[0];
            var value = arguments is null && parameter.HasDefault ? await EvalAsync(parameter.Default, frame).ConfigureAwait(false) : arguments;
            frame.DeclareLocal(parameter.Name, value);
        }

        return await RunSubworkflowAsync(main, frame).ConfigureAwait(false);
    }

    private async Task<object?> RunSubworkflowAsync(Subworkflow subworkflow, Frame frame)
    {
        var flow = await RunListAsync(subworkflow.Steps, frame, subworkflow.Name).ConfigureAwait(false);
        return flow.Kind == FlowKind.Return ? flow.Value : null;
    }

    private async Task<object?> CallSubworkflowAsync(Subworkflow subworkflow, OrderedDictionary<string, object?> arguments, int depth)
    {
        if (depth > options.MaxCallDepth)
        {
            throw WorkflowErrors.RecursionError($"maximum call depth of {options.MaxCallDepth} exceeded calling '{subworkflow.Name}'");
        }

        var frame = new Frame(depth);
        foreach (var name in arguments.Keys.Where(name => subworkflow.Params.All(p => p.Name != name)))
        {
            throw WorkflowErrors.TypeError($"subworkflow '{subworkflow.Name}' has no parameter '{name}'");
        }

        foreach (var parameter in subworkflow.Params)
        {
            if (arguments.TryGetValue(parameter.Name, out var value))
            {
                frame.DeclareLocal(parameter.Name, Values.DeepCopy(value));
            }
            else if (parameter.HasDefault)
            {
                frame.DeclareLocal(parameter.Name, await EvalAsync(parameter.Default, frame).ConfigureAwait(false));
            }
            else
            {
                throw WorkflowErrors.TypeError($"subworkflow '{subworkflow.Name}' needs argument '{parameter.Name}'");
            }
        }

        return await RunSubworkflowAsync(subworkflow, frame).ConfigureAwait(false);
    }

    private async Task<Flow> RunListAsync(StepList list, Frame frame, string path)
    {
        var i = 0;
        while (i < list.Steps.Count)
        {
            var flow = await RunStepAsync(list.Steps[i], frame, path).ConfigureAwait(false);
            switch (flow.Kind)
            {
                case FlowKind.Normal:
                    i++;
                    break;
                case FlowKind.Jump when list.IndexOf(flow.Target!) is var target and >= 0:
                    i = target;
                    break;
                default:
                    return flow;
            }
        }

        return Flow.Normal;
    }

    private async Task<Flow> RunStepAsync(Step step, Frame frame, string path)
    {
        var stepPath = $"{path}/{step.Name}";
        cancellationToken.ThrowIfCancellationRequested();
        if (++_steps > options.MaxSteps)
        {
            var error = Values.NewMap();
            error["message"] = $"the run exceeded {options.MaxSteps} steps";
            error["tags"] = new List<object?> { "ResourceLimitError" };
            throw new WorkflowFailedException(Values.ToEdgeJson(error), stepPath, step.Line, $"{program.SourceName}: workflow failed at {stepPath} (line {step.Line}): ResourceLimitError: the run exceeded {options.MaxSteps} steps (a runaway loop?)");
        }

        options.Observer?.StepStarted(stepPath, step.Line);
        try
        {
            return await RunBodyAsync(step.Body, frame, stepPath, step).ConfigureAwait(false);
        }
        catch (WorkflowRaisedException e) when (e.StepPath is null)
        {
            e.StepPath = stepPath;
            e.Line = e.Line == 0 ? step.Line : e.Line;
            throw;
        }
    }

    private static Flow NextFlow(string next) => next switch
    {
        "end" => new Flow(FlowKind.End),
        "break" => new Flow(FlowKind.Break),
        "continue" => new Flow(FlowKind.Continue),
        _ => new Flow(FlowKind.Jump, Target: next),
    };

    private async Task<Flow> RunBodyAsync(StepBody body, Frame frame, string path, Step step)
    {
        var flow = await RunBodyCoreAsync(body, frame, path, step).ConfigureAwait(false);
        return flow.Kind == FlowKind.Normal && body.Next is { } next ? NextFlow(next) : flow;
    }

    private async Task<Flow> RunBodyCoreAsync(StepBody body, Frame frame, string path, Step step)
    {
        switch (body)
        {
            case NextOnlyBody:
                return Flow.Normal;
            case AssignBody assign:
                foreach (var assignment in assign.Assignments)
                {
                    try
                    {
                        var value = Values.DeepCopy(await EvalAsync(assignment.Value, frame).ConfigureAwait(false));
                        await AssignAsync(assignment.Target, value, frame).ConfigureAwait(false);
                    }
                    catch (WorkflowRaisedException e) when (e.Line == 0)
                    {
                        e.Line = assignment.Line;
                        throw;
                    }
                }

                return Flow.Normal;
            case CallBody call:
                var result = await CallAsync(call, frame, step).ConfigureAwait(false);
                if (call.Result is not null)
                {
                    await AssignAsync(call.Result, Values.DeepCopy(result), frame).ConfigureAwait(false);
                }

                return Flow.Normal;
            case SwitchBody @switch:
                foreach (var @case in @switch.Cases)
                {
                    var condition = await EvalAsync(@case.Condition, frame).ConfigureAwait(false);
                    if (condition is not bool matched)
                    {
                        throw new WorkflowRaisedException(WorkflowErrors.TypeError($"a switch condition must be a boolean, got {Values.TypeName(condition)}").Value) { Line = @case.Line };
                    }

                    if (matched)
                    {
                        return await RunBodyAsync(@case.Body, frame, path, step).ConfigureAwait(false);
                    }
                }

                return Flow.Normal;
            case ForBody loop:
                return await RunForAsync(loop, frame, path).ConfigureAwait(false);
            case TryBody attempt:
                return await RunTryAsync(attempt, frame, path, step).ConfigureAwait(false);
            case RaiseBody raise:
                throw new WorkflowRaisedException(Values.DeepCopy(await EvalAsync(raise.Value, frame).ConfigureAwait(false)));
            case ReturnBody @return:
                return new Flow(FlowKind.Return, await EvalAsync(@return.Value, frame).ConfigureAwait(false));
            case StepsBody steps:
                return await RunListAsync(steps.Steps, frame, path).ConfigureAwait(false);
            default:
                throw new InvalidOperationException($"unknown step body {body.GetType().Name}");
        }
    }

    private async Task<Flow> RunForAsync(ForBody loop, Frame frame, string path)
    {
        IEnumerable<object?> items;
        if (loop.In is not null)
        {
            var source = await EvalAsync(loop.In, frame).ConfigureAwait(false);
            items = source as List<object?> is { } list
                ? list.ToList()
                : throw WorkflowErrors.TypeError($"'for' 'in' needs a list, got {Values.TypeName(source)}");
        }
        else
        {
            items = RangeOf(await EvalAsync(loop.Range, frame).ConfigureAwait(false));
        }

        long index = 0;
        foreach (var item in items)
        {
            frame.Push();
            Flow flow;
            try
            {
                frame.DeclareLocal(loop.Value, Values.DeepCopy(item));
                if (loop.Index is not null)
                {
                    frame.DeclareLocal(loop.Index, index);
                }

                flow = await RunListAsync(loop.Steps, frame, path).ConfigureAwait(false);
            }
            finally
            {
                frame.Pop();
            }

            index++;
            switch (flow.Kind)
            {
                case FlowKind.Break:
                    return Flow.Normal;
                case FlowKind.Normal or FlowKind.Continue:
                    continue;
                default:
                    return flow;
            }
        }

        return Flow.Normal;
    }

    private static IEnumerable<object?> RangeOf(object? range)
    {
        if (range is not List<object?> { Count: 2 } bounds || !Values.IsNumber(bounds[0]) || !Values.IsNumber(bounds[1]))
        {
            throw WorkflowErrors.TypeError($"'range' needs a list of two numbers [start, end], got {Values.Describe(range)}");
        }

        return Iterate(bounds[0], bounds[1]);

        static IEnumerable<object?> Iterate(object? start, object? end)
        {
            if (start is long first && end is long last)
            {
                for (var value = first; value <= last; value++)
                {
                    yield return value;
                    if (value == long.MaxValue)
                    {
                        yield break;
                    }
                }
            }
            else
            {
                for (var value = Values.ToDouble(start); value <= Values.ToDouble(end); value++)
                {
                    yield return value;
                }
            }
        }
    }

    private async Task<Flow> RunTryAsync(TryBody attempt, Frame frame, string path, Step step)
    {
        long retries = 0;
        (long MaxRetries, double Initial, double Max, double Multiplier)? backoff = null;
        while (true)
        {
            WorkflowRaisedException caught;
            try
            {
                return await RunBodyAsync(attempt.Try, frame, path, step).ConfigureAwait(false);
            }
            catch (WorkflowRaisedException e)
            {
                caught = e;
            }

            if (attempt.Retry is { } retry)
            {
                backoff ??= await EvaluateBackoffAsync(retry, frame).ConfigureAwait(false);
                if (retries < backoff.Value.MaxRetries && await ShouldRetryAsync(retry, caught.Value, frame).ConfigureAwait(false))
                {
                    // Google's backoff: the first retry waits initial_delay, each next one multiplier times longer, never more than max_delay.
                    var seconds = Math.Min(backoff.Value.Initial * Math.Pow(backoff.Value.Multiplier, retries), backoff.Value.Max);
                    retries++;
                    await (options.Delay ?? Task.Delay)(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            if (attempt.Except is not { } except)
            {
                throw caught;
            }

            if (except.As is not null)
            {
                frame.Set(except.As, Values.DeepCopy(caught.Value));
            }

            return await RunListAsync(except.Steps, frame, path).ConfigureAwait(false);
        }
    }

    private async Task<(long, double, double, double)> EvaluateBackoffAsync(RetryPolicy retry, Frame frame)
    {
        var maxRetries = await EvalAsync(retry.MaxRetries, frame).ConfigureAwait(false);
        var initial = await EvalAsync(retry.InitialDelay, frame).ConfigureAwait(false);
        var max = await EvalAsync(retry.MaxDelay, frame).ConfigureAwait(false);
        var multiplier = await EvalAsync(retry.Multiplier, frame).ConfigureAwait(false);
        if (maxRetries is not long count || count < 0)
        {
            throw WorkflowErrors.TypeError($"retry max_retries must be a non-negative integer, got {Values.Describe(maxRetries)}");
        }

        if (!Values.IsNumber(initial) || !Values.IsNumber(max) || !Values.IsNumber(multiplier) || Values.ToDouble(initial) < 0 || Values.ToDouble(max) < 0 || Values.ToDouble(multiplier) < 1)
        {
            throw WorkflowErrors.ValueError("retry backoff needs numbers: initial_delay >= 0, max_delay >= 0, multiplier >= 1");
        }

        return (count, Values.ToDouble(initial), Values.ToDouble(max), Values.ToDouble(multiplier));
    }

    private async Task<bool> ShouldRetryAsync(RetryPolicy retry, object? error, Frame frame)
    {
        object? verdict;
        if (retry.PredicateIsSubworkflow)
        {
            var predicate = program.Subworkflows[retry.Predicate];
            var arguments = Values.NewMap();
            arguments[predicate.Params[0].Name] = error;
            verdict = await CallSubworkflowAsync(predicate, arguments, frame.Depth + 1).ConfigureAwait(false);
        }
        else
        {
            StandardLibrary.TryGet(retry.Predicate, out var function);
            verdict = await function.Invoke(_std, [error]).ConfigureAwait(false);
        }

        return verdict as bool? ?? throw WorkflowErrors.TypeError($"retry predicate '{retry.Predicate}' must return a boolean, got {Values.TypeName(verdict)}");
    }

    private async Task<object?> CallAsync(CallBody call, Frame frame, Step step)
    {
        var arguments = Values.NewMap();
        foreach (var (name, template) in call.Args)
        {
            arguments[name] = await EvalAsync(template, frame).ConfigureAwait(false);
        }

        if (program.Subworkflows.TryGetValue(call.Function, out var subworkflow))
        {
            return await CallSubworkflowAsync(subworkflow, arguments, frame.Depth + 1).ConfigureAwait(false);
        }

        if (StandardLibrary.TryGet(call.Function, out var function))
        {
            var positional = function.Params.Select(p => arguments.TryGetValue(p, out var value) ? value : StandardLibrary.Missing).ToArray();
            return await function.Invoke(_std, positional).ConfigureAwait(false);
        }

        var handler = options.Handlers.FirstOrDefault(h => h.Serves(call.Function))
            ?? throw WorkflowErrors.Tagged("SystemError", $"nothing serves '{call.Function}' (run Check before RunAsync)");
        JsonNode? result;
        try
        {
            result = await handler.CallAsync(new WorkflowCall(call.Function, Values.ToEdgeJson(arguments)!.AsObject(), step.Name, step.Line), cancellationToken).ConfigureAwait(false);
        }
        catch (WorkflowErrorException e)
        {
            throw new WorkflowRaisedException(Values.FromJson(e.Error?.DeepClone()));
        }

        return Values.FromJson(result?.DeepClone());
    }

    private async Task AssignAsync(Expr target, object? value, Frame frame)
    {
        switch (target)
        {
            case VariableExpr variable:
                frame.Set(variable.Name, value);
                break;
            case MemberExpr member:
                var container = await EvalAsync(member.Target, frame).ConfigureAwait(false);
                if (container is not OrderedDictionary<string, object?> map)
                {
                    throw WorkflowErrors.TypeError($"cannot set key '{member.Name}' on a {Values.TypeName(container)}");
                }

                map[member.Name] = value;
                break;
            case IndexExpr index:
                var indexed = await EvalAsync(index.Target, frame).ConfigureAwait(false);
                var key = await EvalAsync(index.Key, frame).ConfigureAwait(false);
                switch (indexed, key)
                {
                    case (OrderedDictionary<string, object?> m, string k):
                        m[k] = value;
                        break;
                    case (List<object?> list, long i) when i >= 0 && i < list.Count:
                        list[(int)i] = value;
                        break;
                    case (List<object?> list, long i):
                        throw WorkflowErrors.IndexError($"list index {i} out of range (length {list.Count})");
                    default:
                        throw WorkflowErrors.TypeError($"cannot index a {Values.TypeName(indexed)} with a {Values.TypeName(key)}");
                }

                break;
            default:
                throw new InvalidOperationException("not an assignment target");
        }
    }

    private async ValueTask<object?> EvalAsync(Template? template, Frame frame)
    {
        switch (template)
        {
            case null:
                return null;
            case LiteralTemplate literal:
                return Values.DeepCopy(literal.Value);
            case ExpressionTemplate expression:
                return await EvalAsync(expression.Expression, frame).ConfigureAwait(false);
            case ListTemplate list:
                var items = new List<object?>(list.Items.Count);
                foreach (var item in list.Items)
                {
                    items.Add(await EvalAsync(item, frame).ConfigureAwait(false));
                }

                return items;
            case MapTemplate map:
                var result = Values.NewMap();
                foreach (var (key, value) in map.Entries)
                {
                    result[key] = await EvalAsync(value, frame).ConfigureAwait(false);
                }

                return result;
            default:
                throw new InvalidOperationException("unknown template");
        }
    }

    /// <summary>Evaluates an expression. Variable, key and index reads return the stored value itself; callers copy before storing it elsewhere.</summary>
    private async ValueTask<object?> EvalAsync(Expr expr, Frame frame)
    {
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case VariableExpr variable:
                return frame.TryGet(variable.Name, out var value)
                    ? value
                    : throw WorkflowErrors.KeyError($"variable '{variable.Name}' is not defined");
            case MemberExpr member:
                var target = await EvalAsync(member.Target, frame).ConfigureAwait(false);
                return target switch
                {
                    OrderedDictionary<string, object?> map when map.TryGetValue(member.Name, out var found) => found,
                    OrderedDictionary<string, object?> => throw WorkflowErrors.KeyError($"key not found: {member.Name}"),
                    _ => throw WorkflowErrors.TypeError($"cannot read key '{member.Name}' of a {Values.TypeName(target)}"),
                };
            case IndexExpr index:
                var indexed = await EvalAsync(index.Target, frame).ConfigureAwait(false);
                var key = await EvalAsync(index.Key, frame).ConfigureAwait(false);
                return (indexed, key) switch
                {
                    (OrderedDictionary<string, object?> map, string k) when map.TryGetValue(k, out var found) => found,
                    (OrderedDictionary<string, object?>, string k) => throw WorkflowErrors.KeyError($"key not found: {k}"),
                    (List<object?> list, long i) when i >= 0 && i < list.Count => list[(int)i],
                    (List<object?> list, long i) => throw WorkflowErrors.IndexError($"list index {i} out of range (length {list.Count})"),
                    _ => throw WorkflowErrors.TypeError($"cannot index a {Values.TypeName(indexed)} with a {Values.TypeName(key)}"),
                };
            case UnaryExpr unary:
                return Operators.Unary(unary.Op, await EvalAsync(unary.Operand, frame).ConfigureAwait(false));
            case BinaryExpr { Op: "and" or "or" } logical:
                var left = await EvalAsync(logical.Left, frame).ConfigureAwait(false);
                if (left is not bool l)
                {
                    throw WorkflowErrors.TypeError($"'{logical.Op}' needs booleans, got '{Values.TypeName(left)}'");
                }

                if (logical.Op == "and" ? !l : l)
                {
                    return l;
                }

                var right = await EvalAsync(logical.Right, frame).ConfigureAwait(false);
                return right is bool r ? r : throw WorkflowErrors.TypeError($"'{logical.Op}' needs booleans, got '{Values.TypeName(right)}'");
            case BinaryExpr binary:
                return Operators.Binary(
                    binary.Op,
                    await EvalAsync(binary.Left, frame).ConfigureAwait(false),
                    await EvalAsync(binary.Right, frame).ConfigureAwait(false));
            case CallExpr call:
                var arguments = new object?[call.Args.Count];
                for (var i = 0; i < arguments.Length; i++)
                {
                    arguments[i] = await EvalAsync(call.Args[i], frame).ConfigureAwait(false);
                }

                return await CallFunctionAsync(call.Function, arguments, frame).ConfigureAwait(false);
            case ListExpr list:
                var items = new List<object?>(list.Items.Count);
                foreach (var item in list.Items)
                {
                    items.Add(Values.DeepCopy(await EvalAsync(item, frame).ConfigureAwait(false)));
                }

                return items;
            case MapExpr mapExpr:
                var result = Values.NewMap();
                foreach (var (entryKey, entryValue) in mapExpr.Entries)
                {
                    result[entryKey] = Values.DeepCopy(await EvalAsync(entryValue, frame).ConfigureAwait(false));
                }

                return result;
            default:
                throw new InvalidOperationException($"unknown expression {expr.GetType().Name}");
        }
    }

    private async ValueTask<object?> CallFunctionAsync(string name, object?[] arguments, Frame frame)
    {
        if (program.Subworkflows.TryGetValue(name, out var subworkflow))
        {
            var named = Values.NewMap();
            for (var i = 0; i < arguments.Length; i++)
            {
                named[subworkflow.Params[i].Name] = arguments[i];
            }

            return await CallSubworkflowAsync(subworkflow, named, frame.Depth + 1).ConfigureAwait(false);
        }

        if (!StandardLibrary.TryGet(name, out var function))
        {
            throw WorkflowErrors.Tagged("SystemError", $"unknown function '{name}'");
        }

        var positional = function.Params.Select((_, i) => i < arguments.Length ? arguments[i] : StandardLibrary.Missing).ToArray();
        return await function.Invoke(_std, positional).ConfigureAwait(false);
    }
}
