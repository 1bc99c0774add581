using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Workflows.Runtime;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Commissable.Workflows.Language;

/// <summary>
/// Turns workflow YAML into the AST, refusing (with the construct's name and line) everything outside
/// the subset the local runner supports. All problems are collected, then thrown together.
/// </summary>
internal sealed partial class ProgramParser(string sourceName)
{
    /// <summary>The retry policies <c>retry: ${...}</c> may name, with Google's documented defaults.</summary>
    private static readonly Dictionary<string, (string Predicate, long MaxRetries, double Initial, double Max, double Multiplier)> DefaultRetryPolicies = new(StringComparer.Ordinal)
    {
        ["http.default_retry"] = ("http.default_retry_predicate", 5, 1, 60, 1.25),
        ["http.default_retry_non_idempotent"] = ("http.default_retry_predicate_non_idempotent", 5, 1, 60, 1.25),
    };

    private static readonly string[] BuiltInPredicates =
        ["http.default_retry_predicate", "http.default_retry_predicate_non_idempotent", "retry.always", "retry.never"];

    private static readonly string[] PrimaryKeys = ["assign", "call", "switch", "for", "try", "raise", "return", "steps"];

    private static readonly Dictionary<string, string[]> SecondaryKeys = new(StringComparer.Ordinal)
    {
        ["assign"] = ["next"],
        ["call"] = ["args", "result", "next"],
        ["switch"] = ["next"],
        ["for"] = ["next"],
        ["try"] = ["retry", "except", "next"],
        ["raise"] = [],
        ["return"] = [],
        ["steps"] = ["next"],
    };

    /// <summary>Keys Google's syntax has that the local runner does not implement.</summary>
    private static readonly string[] UnsupportedKeys = ["parallel", "branches", "shared", "concurrency_limit", "exception_policy"];

    private readonly List<WorkflowProblem> _problems = [];
    private readonly List<(string Function, int Line)> _calls = [];
    private readonly List<CallBody> _callSteps = [];
    private readonly List<(CallExpr Call, int Line)> _expressionCalls = [];
    private readonly List<RetryPolicy> _retries = [];

    private sealed record ListScope(HashSet<string> Names, ListScope? Parent, bool IsLoopBody)
    {
        public bool InLoop => IsLoopBody || (Parent?.InLoop ?? false);
    }

    public WorkflowProgram Parse(string text)
    {
        var subworkflows = new Dictionary<string, Subworkflow>(StringComparer.Ordinal);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            Problem(LineOf(e.Start), $"malformed YAML: {e.Message}");
            throw Fail();
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this instead of a YamlException for some constructs left open at the end of the input.
            Problem(text.Split('\n').Length, "malformed YAML: a bracket, quote or block is left open at the end of the file");
            throw Fail();
        }

        if (stream.Documents.Count == 0)
        {
            Problem(1, "the workflow is empty");
            throw Fail();
        }

        if (stream.Documents.Count > 1)
        {
            Problem(LineOf(stream.Documents[1].RootNode), "a workflow file holds one YAML document");
        }

        var root = stream.Documents[0].RootNode;
        switch (root)
        {
            case YamlSequenceNode steps:
                subworkflows["main"] = new Subworkflow("main", [], ParseStepList(steps, null, false), LineOf(root));
                break;
            case YamlMappingNode definitions:
                foreach (var (keyNode, value) in definitions.Children)
                {
                    var name = ScalarText(keyNode);
                    if (name is null || !IdentifierPattern().IsMatch(name))
                    {
                        Problem(LineOf(keyNode), $"'{name}' is not a valid subworkflow name");
                        continue;
                    }

                    if (ParseSubworkflow(name, value) is { } subworkflow)
                    {
                        subworkflows[name] = subworkflow;
                    }
                }

                if (!subworkflows.ContainsKey("main") && _problems.Count == 0)
                {
                    Problem(LineOf(root), "a workflow made of subworkflows needs one named 'main'");
                }

                break;
            default:
                Problem(LineOf(root), "a workflow is a list of steps or a map of subworkflows with 'main'");
                break;
        }

        if (subworkflows.TryGetValue("main", out var main) && main.Params.Count > 1)
        {
            Problem(main.Line, "'main' takes at most one parameter (the run's arguments)");
        }

        CheckCalls(subworkflows);
        if (_problems.Count > 0)
        {
            throw Fail();
        }

        return new WorkflowProgram(sourceName, subworkflows, _calls);
    }

    private WorkflowSyntaxException Fail() =>
        new(sourceName, [.. _problems.OrderBy(p => p.Line)]);

    private void Problem(int line, string message) => _problems.Add(new WorkflowProblem(message, line));

    private static int LineOf(YamlNode node) => LineOf(node.Start);

    private static int LineOf(Mark mark) => (int)mark.Line;

    private static string? ScalarText(YamlNode node) => node is YamlScalarNode scalar ? scalar.Value : null;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*\\z")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[A-Za-z0-9_]+\\z")]
    private static partial Regex StepNamePattern();

    private Subworkflow? ParseSubworkflow(string name, YamlNode node)
    {
        if (node is not YamlMappingNode definition)
        {
            Problem(LineOf(node), $"subworkflow '{name}' must be a map with 'steps' (and optional 'params')");
            return null;
        }

        var parameters = new List<Parameter>();
        StepList? steps = null;
        foreach (var (keyNode, value) in definition.Children)
        {
            switch (ScalarText(keyNode))
            {
                case "params":
                    parameters.AddRange(ParseParams(value));
                    break;
                case "steps" when value is YamlSequenceNode list:
                    steps = ParseStepList(list, null, false);
                    break;
                case "steps":
                    Problem(LineOf(value), $"'steps' of subworkflow '{name}' must be a list");
                    break;
                case var other:
                    Problem(LineOf(keyNode), $"'{other}' is not supported in a subworkflow definition (only 'params' and 'steps')");
                    break;
            }
        }

        if (steps is null)
        {
            Problem(LineOf(node), $"subworkflow '{name}' has no 'steps'");
            return null;
        }

        return new Subworkflow(name, parameters, steps, LineOf(node));
    }

    private IEnumerable<Parameter> ParseParams(YamlNode node)
    {
        if (node is not YamlSequenceNode list)
        {
            Problem(LineOf(node), "'params' must be a list of names (or 'name: default' maps)");
            yield break;
        }

        foreach (var item in list)
        {
            if (item is YamlScalarNode { Value: { } name } && IdentifierPattern().IsMatch(name))
            {
                yield return new Parameter(name, false, null);
            }
            else if (item is YamlMappingNode { Children.Count: 1 } map && ScalarText(map.Children.First().Key) is { } optional && IdentifierPattern().IsMatch(optional))
            {
                yield return new Parameter(optional, true, ParseTemplate(map.Children.First().Value));
            }
            else
            {
                Problem(LineOf(item), "a parameter is a name or a single 'name: default' map");
            }
        }
    }

    private StepList ParseStepList(YamlSequenceNode node, ListScope? parent, bool isLoopBody)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in node)
        {
            if (item is YamlMappingNode { Children.Count: 1 } step && ScalarText(step.Children.First().Key) is { } name && !names.Add(name))
            {
                Problem(LineOf(item), $"step name '{name}' is used twice in the same list");
            }
        }

        var scope = new ListScope(names, parent, isLoopBody);
        var steps = new List<Step>();
        foreach (var item in node)
        {
            if (item is not YamlMappingNode { Children.Count: 1 } step)
            {
                Problem(LineOf(item), "a step is a map with exactly one key, the step's name");
                continue;
            }

            var (keyNode, bodyNode) = step.Children.First();
            var name = ScalarText(keyNode) ?? string.Empty;
            if (!StepNamePattern().IsMatch(name))
            {
                Problem(LineOf(keyNode), $"'{name}' is not a valid step name (letters, digits and underscores)");
            }

            if (bodyNode is not YamlMappingNode body)
            {
                Problem(LineOf(bodyNode), $"step '{name}' must be a map of step keys");
                continue;
            }

            if (ParseBody(body, scope, $"step '{name}'", allowCondition: false) is { } parsed)
            {
                steps.Add(new Step(name, LineOf(keyNode), parsed));
            }
        }

        if (steps.Count == 0 && node.Children.Count == 0)
        {
            Problem(LineOf(node), "a list of steps needs at least one step");
        }

        return new StepList(steps);
    }

    private StepBody? ParseBody(YamlMappingNode node, ListScope scope, string what, bool allowCondition)
    {
        var keys = new Dictionary<string, (YamlNode Key, YamlNode Value)>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in node.Children)
        {
            var key = ScalarText(keyNode) ?? string.Empty;
            if (UnsupportedKeys.Contains(key))
            {
                Problem(LineOf(keyNode), $"'{key}' is not supported by the local runner");
                return null;
            }

            if (key == "condition" && allowCondition)
            {
                continue;
            }

            if (!PrimaryKeys.Contains(key) && !SecondaryKeys.Values.Any(s => s.Contains(key)))
            {
                Problem(LineOf(keyNode), $"unknown step key '{key}' in {what}");
                return null;
            }

            keys[key] = (keyNode, value);
        }

        var primary = PrimaryKeys.Where(keys.ContainsKey).ToList();
        if (primary.Count > 1)
        {
            Problem(LineOf(node), $"{what} has both '{primary[0]}' and '{primary[1]}'; a step does one thing");
            return null;
        }

        var kind = primary.Count == 1 ? primary[0] : null;
        foreach (var key in keys.Keys.Where(k => k != kind))
        {
            if (kind is null ? key != "next" : !SecondaryKeys[kind].Contains(key))
            {
                Problem(LineOf(keys[key].Key), kind is null ? $"'{key}' needs 'call' or 'try' in {what}" : $"'{key}' is not allowed with '{kind}' in {what}");
                return null;
            }
        }

        var line = LineOf(node);
        string? next = null;
        if (keys.TryGetValue("next", out var nextNode))
        {
            next = ScalarText(nextNode.Value);
            if (next is null)
            {
                Problem(LineOf(nextNode.Value), "'next' must be a step name, 'end', 'break' or 'continue'");
            }
            else
            {
                CheckJump(next, scope, LineOf(nextNode.Value));
            }
        }

        StepBody? body = kind switch
        {
            null when next is not null => new NextOnlyBody(line),
            null => Missing(line, what),
            "assign" => ParseAssign(keys["assign"].Value, line),
            "call" => ParseCall(keys, line),
            "switch" => ParseSwitch(keys["switch"].Value, scope, line),
            "for" => ParseFor(keys["for"].Value, scope, line),
            "try" => ParseTry(keys, scope, line, what),
            "raise" => new RaiseBody(line, ParseTemplate(keys["raise"].Value)),
            "return" => new ReturnBody(line, ParseTemplate(keys["return"].Value)),
            "steps" when keys["steps"].Value is YamlSequenceNode list => new StepsBody(line, ParseStepList(list, scope, false)),
            "steps" => Missing(LineOf(keys["steps"].Value), "'steps' (it must be a list)"),
            _ => null,
        };
        return body is null ? null : body with { Next = next };
    }

    private StepBody? Missing(int line, string what)
    {
        Problem(line, $"{what} does nothing: it needs one of {string.Join(", ", PrimaryKeys)} or next");
        return null;
    }

    private void CheckJump(string target, ListScope scope, int line)
    {
        if (target == "end")
        {
            return;
        }

        if (target is "break" or "continue")
        {
            if (!scope.InLoop)
            {
                Problem(line, $"'next: {target}' is only allowed inside a for loop");
            }

            return;
        }

        for (var current = scope; current is not null; current = current.Parent)
        {
            if (current.Names.Contains(target))
            {
                return;
            }

            if (current.IsLoopBody)
            {
                Problem(line, $"'next: {target}' names no step reachable from inside this for loop (a loop body cannot jump out; use break)");
                return;
            }
        }

        Problem(line, $"'next: {target}' names no step in this list or an enclosing one");
    }

    private AssignBody? ParseAssign(YamlNode node, int line)
    {
        if (node is not YamlSequenceNode list)
        {
            Problem(LineOf(node), "'assign' must be a list of single-key maps");
            return null;
        }

        var assignments = new List<Assignment>();
        foreach (var item in list)
        {
            if (item is not YamlMappingNode { Children.Count: 1 } map || ScalarText(map.Children.First().Key) is not { } targetText)
            {
                Problem(LineOf(item), "each assignment is a single 'target: value' map");
                continue;
            }

            if (ParseTarget(targetText, LineOf(item)) is { } target)
            {
                assignments.Add(new Assignment(target, targetText, ParseTemplate(map.Children.First().Value), LineOf(item)));
            }
        }

        return new AssignBody(line, assignments);
    }

    private Expr? ParseTarget(string text, int line)
    {
        Expr target;
        try
        {
            target = ExpressionParser.Parse(text);
        }
        catch (ExpressionSyntaxException e)
        {
            Problem(line, $"'{text}' is not an assignment target: {e.Message}");
            return null;
        }

        for (var current = target; ;)
        {
            switch (current)
            {
                case VariableExpr:
                    CollectCalls(target, line);
                    return target;
                case MemberExpr member:
                    current = member.Target;
                    break;
                case IndexExpr index:
                    current = index.Target;
                    break;
                default:
                    Problem(line, $"'{text}' is not an assignment target (a variable, a.b, a[\"k\"] or a[0])");
                    return null;
            }
        }
    }

    private CallBody? ParseCall(Dictionary<string, (YamlNode Key, YamlNode Value)> keys, int line)
    {
        var functionNode = keys["call"].Value;
        var function = ScalarText(functionNode);
        if (function is null || function.StartsWith("${", StringComparison.Ordinal) || !Regex.IsMatch(function, "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            Problem(LineOf(functionNode), $"'call' must name a function, not '{function}'");
            return null;
        }

        var args = new List<(string, Template)>();
        if (keys.TryGetValue("args", out var argsNode))
        {
            if (argsNode.Value is YamlMappingNode map)
            {
                foreach (var (keyNode, value) in map.Children)
                {
                    args.Add((ScalarText(keyNode) ?? string.Empty, ParseTemplate(value)));
                }
            }
            else if (!(argsNode.Value is YamlScalarNode { Style: ScalarStyle.Plain } empty && string.IsNullOrEmpty(empty.Value)))
            {
                Problem(LineOf(argsNode.Value), "'args' must be a map of argument names to values");
            }
        }

        Expr? result = null;
        string? resultText = null;
        if (keys.TryGetValue("result", out var resultNode))
        {
            resultText = ScalarText(resultNode.Value);
            result = resultText is null ? null : ParseTarget(resultText, LineOf(resultNode.Value));
            if (resultText is null)
            {
                Problem(LineOf(resultNode.Value), "'result' must name a variable");
            }
        }

        var call = new CallBody(line, function, args, result, resultText);
        _calls.Add((function, LineOf(functionNode)));
        _callSteps.Add(call);
        return call;
    }

    private SwitchBody? ParseSwitch(YamlNode node, ListScope scope, int line)
    {
        if (node is not YamlSequenceNode list || list.Children.Count == 0)
        {
            Problem(LineOf(node), "'switch' must be a non-empty list of conditions");
            return null;
        }

        var cases = new List<SwitchCase>();
        foreach (var item in list)
        {
            if (item is not YamlMappingNode map)
            {
                Problem(LineOf(item), "each switch entry is a map with 'condition'");
                continue;
            }

            var condition = map.Children.FirstOrDefault(c => ScalarText(c.Key) == "condition").Value;
            if (condition is null)
            {
                Problem(LineOf(item), "a switch entry needs a 'condition'");
                continue;
            }

            if (ParseBody(map, scope, "a switch condition", allowCondition: true) is { } body)
            {
                cases.Add(new SwitchCase(ParseTemplate(condition), body, LineOf(item)));
            }
        }

        return new SwitchBody(line, cases);
    }

    private ForBody? ParseFor(YamlNode node, ListScope scope, int line)
    {
        if (node is not YamlMappingNode map)
        {
            Problem(LineOf(node), "'for' must be a map with value, in or range, and steps");
            return null;
        }

        string? value = null, index = null;
        Template? source = null, range = null;
        StepList? steps = null;
        foreach (var (keyNode, child) in map.Children)
        {
            switch (ScalarText(keyNode))
            {
                case "value":
                    value = ScalarText(child);
                    break;
                case "index":
                    index = ScalarText(child);
                    break;
                case "in":
                    source = ParseTemplate(child);
                    break;
                case "range":
                    range = ParseTemplate(child);
                    break;
                case "steps" when child is YamlSequenceNode list:
                    steps = ParseStepList(list, scope, true);
                    break;
                case var other:
                    Problem(LineOf(keyNode), UnsupportedKeys.Contains(other) ? $"'{other}' is not supported by the local runner" : $"'{other}' is not supported in 'for' (value, index, in, range, steps)");
                    break;
            }
        }

        if (value is null || !IdentifierPattern().IsMatch(value))
        {
            Problem(LineOf(node), "'for' needs 'value', the loop variable's name");
            return null;
        }

        if (index is not null && !IdentifierPattern().IsMatch(index))
        {
            Problem(LineOf(node), $"'{index}' is not a valid index variable name");
        }

        if ((source is null) == (range is null))
        {
            Problem(LineOf(node), "'for' needs exactly one of 'in' and 'range'");
            return null;
        }

        if (steps is null)
        {
            Problem(LineOf(node), "'for' needs 'steps' (a list)");
            return null;
        }

        return new ForBody(line, value, index, source, range, steps);
    }

    private TryBody? ParseTry(Dictionary<string, (YamlNode Key, YamlNode Value)> keys, ListScope scope, int line, string what)
    {
        if (keys["try"].Value is not YamlMappingNode tryNode)
        {
            Problem(LineOf(keys["try"].Value), "'try' must be a map: a call, or 'steps'");
            return null;
        }

        var body = ParseBody(tryNode, scope, $"the try block of {what}", allowCondition: false);
        RetryPolicy? retry = null;
        if (keys.TryGetValue("retry", out var retryNode))
        {
            retry = ParseRetry(retryNode.Value);
        }

        ExceptClause? except = null;
        if (keys.TryGetValue("except", out var exceptNode))
        {
            except = ParseExcept(exceptNode.Value, scope);
        }

        if (retry is null && except is null && !keys.ContainsKey("retry") && !keys.ContainsKey("except"))
        {
            Problem(line, $"{what} has 'try' without 'retry' or 'except'");
        }

        return body is null ? null : new TryBody(line, body, retry, except);
    }

    private RetryPolicy? ParseRetry(YamlNode node)
    {
        var line = LineOf(node);
        if (node is YamlScalarNode { Value: { } text })
        {
            var name = ExpressionName(text);
            if (name is not null && DefaultRetryPolicies.TryGetValue(name, out var policy))
            {
                return Add(new RetryPolicy(policy.Predicate, false, Literal(policy.MaxRetries), Literal(policy.Initial), Literal(policy.Max), Literal(policy.Multiplier), line));
            }

            Problem(line, $"retry policy '{text}' is not supported (use ${{http.default_retry}}, ${{http.default_retry_non_idempotent}} or a map with predicate, max_retries and backoff)");
            return null;
        }

        if (node is not YamlMappingNode map)
        {
            Problem(line, "'retry' must be a default policy or a map with predicate, max_retries and backoff");
            return null;
        }

        string? predicate = null;
        Template? maxRetries = null, initial = null, max = null, multiplier = null;
        foreach (var (keyNode, child) in map.Children)
        {
            switch (ScalarText(keyNode))
            {
                case "predicate":
                    predicate = ScalarText(child) is { } p ? ExpressionName(p) : null;
                    if (predicate is null)
                    {
                        Problem(LineOf(child), "a retry 'predicate' must be ${name} of a built-in predicate or a subworkflow");
                    }

                    break;
                case "max_retries":
                    maxRetries = ParseTemplate(child);
                    break;
                case "backoff" when child is YamlMappingNode backoff:
                    foreach (var (backoffKey, backoffValue) in backoff.Children)
                    {
                        switch (ScalarText(backoffKey))
                        {
                            case "initial_delay": initial = ParseTemplate(backoffValue); break;
                            case "max_delay": max = ParseTemplate(backoffValue); break;
                            case "multiplier": multiplier = ParseTemplate(backoffValue); break;
                            case var other: Problem(LineOf(backoffKey), $"'{other}' is not a backoff setting (initial_delay, max_delay, multiplier)"); break;
                        }
                    }

                    break;
                case var other:
                    Problem(LineOf(keyNode), $"'{other}' is not supported in 'retry' (predicate, max_retries, backoff)");
                    break;
            }
        }

        if (predicate is null || maxRetries is null || initial is null || max is null || multiplier is null)
        {
            Problem(line, "a custom retry needs predicate, max_retries and backoff with initial_delay, max_delay and multiplier");
            return null;
        }

        return Add(new RetryPolicy(predicate, !BuiltInPredicates.Contains(predicate), maxRetries, initial, max, multiplier, line));

        RetryPolicy Add(RetryPolicy retry)
        {
            _retries.Add(retry);
            return retry;
        }

        LiteralTemplate Literal(object value) => new(line, value);
    }

    private static string? ExpressionName(string text)
    {
        var trimmed = text.Trim();
        if (!trimmed.StartsWith("${", StringComparison.Ordinal) || !trimmed.EndsWith('}'))
        {
            return null;
        }

        try
        {
            return ExpressionParser.DottedName(ExpressionParser.Parse(trimmed[2..^1]));
        }
        catch (ExpressionSyntaxException)
        {
            return null;
        }
    }

    private ExceptClause? ParseExcept(YamlNode node, ListScope scope)
    {
        if (node is not YamlMappingNode map)
        {
            Problem(LineOf(node), "'except' must be a map with 'as' and 'steps'");
            return null;
        }

        string? name = null;
        StepList? steps = null;
        foreach (var (keyNode, child) in map.Children)
        {
            switch (ScalarText(keyNode))
            {
                case "as":
                    name = ScalarText(child);
                    if (name is null || !IdentifierPattern().IsMatch(name))
                    {
                        Problem(LineOf(child), "'as' must be a variable name");
                    }

                    break;
                case "steps" when child is YamlSequenceNode list:
                    steps = ParseStepList(list, scope, false);
                    break;
                case var other:
                    Problem(LineOf(keyNode), $"'{other}' is not supported in 'except' (as, steps)");
                    break;
            }
        }

        if (steps is null)
        {
            Problem(LineOf(node), "'except' needs 'steps' (a list)");
            return null;
        }

        return new ExceptClause(name, steps, LineOf(node));
    }

    private Template ParseTemplate(YamlNode node)
    {
        var line = LineOf(node);
        switch (node)
        {
            case YamlScalarNode scalar:
                var text = scalar.Value ?? string.Empty;
                var trimmed = text.Trim();
                if (trimmed.StartsWith("${", StringComparison.Ordinal) && trimmed.EndsWith('}'))
                {
                    try
                    {
                        var expr = ExpressionParser.Parse(trimmed[2..^1]);
                        CollectCalls(expr, line);
                        return new ExpressionTemplate(line, expr, trimmed);
                    }
                    catch (ExpressionSyntaxException e)
                    {
                        Problem(line, $"invalid expression {trimmed}: {e.Message}");
                        return new LiteralTemplate(line, null);
                    }
                }

                if (text.Contains("${", StringComparison.Ordinal))
                {
                    Problem(line, $"'${{' inside a string is not evaluated by Workflows: an expression must be the whole value ({Values.Describe(text)})");
                }

                return new LiteralTemplate(line, scalar.Style == ScalarStyle.Plain ? PlainScalar(text) : text);
            case YamlSequenceNode list:
                return new ListTemplate(line, list.Children.Select(ParseTemplate).ToList());
            case YamlMappingNode map:
                return new MapTemplate(line, map.Children.Select(c => (ScalarText(c.Key) ?? string.Empty, ParseTemplate(c.Value))).ToList());
            default:
                Problem(line, "unsupported YAML node");
                return new LiteralTemplate(line, null);
        }
    }

    /// <summary>Resolves an unquoted YAML scalar the way YAML 1.2's core schema does.</summary>
    private static object? PlainScalar(string text)
    {
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return true;
            case "false" or "False" or "FALSE":
                return false;
        }

        if (Regex.IsMatch(text, "^[-+]?[0-9]+$", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                ? (object)integer
                : double.Parse(text, CultureInfo.InvariantCulture);
        }

        if (Regex.IsMatch(text, "^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            return double.Parse(text, CultureInfo.InvariantCulture);
        }

        return text;
    }

    private void CollectCalls(Expr expr, int line)
    {
        switch (expr)
        {
            case CallExpr call:
                _expressionCalls.Add((call, line));
                foreach (var arg in call.Args)
                {
                    CollectCalls(arg, line);
                }

                break;
            case MemberExpr member:
                CollectCalls(member.Target, line);
                break;
            case IndexExpr index:
                CollectCalls(index.Target, line);
                CollectCalls(index.Key, line);
                break;
            case UnaryExpr unary:
                CollectCalls(unary.Operand, line);
                break;
            case BinaryExpr binary:
                CollectCalls(binary.Left, line);
                CollectCalls(binary.Right, line);
                break;
            case ListExpr list:
                list.Items.ToList().ForEach(item => CollectCalls(item, line));
                break;
            case MapExpr map:
                map.Entries.ToList().ForEach(entry => CollectCalls(entry.Value, line));
                break;
        }
    }

    /// <summary>Checks what can be checked before a run: argument names of standard library and subworkflow calls, functions in expressions, retry predicates.</summary>
    private void CheckCalls(Dictionary<string, Subworkflow> subworkflows)
    {
        foreach (var call in _callSteps)
        {
            var names = call.Args.Select(a => a.Name).ToList();
            IReadOnlyList<string>? accepted = null;
            IEnumerable<string> required = [];
            if (subworkflows.TryGetValue(call.Function, out var sub))
            {
                accepted = sub.Params.Select(p => p.Name).ToList();
                required = sub.Params.Where(p => !p.HasDefault).Select(p => p.Name);
            }
            else if (StandardLibrary.TryGet(call.Function, out var function))
            {
                accepted = function.Params;
                required = function.Params.Take(function.Required);
                if (call.Function == "sys.log" && !names.Any(n => n is "data" or "text" or "json"))
                {
                    Problem(call.Line, "sys.log needs 'text', 'data' or 'json'");
                }
            }

            if (accepted is null)
            {
                continue;
            }

            foreach (var name in names.Where(n => !accepted.Contains(n)))
            {
                Problem(call.Line, $"'{call.Function}' has no argument '{name}' (it takes {(accepted.Count == 0 ? "none" : string.Join(", ", accepted))})");
            }

            foreach (var name in required.Where(r => !names.Contains(r)))
            {
                Problem(call.Line, $"'{call.Function}' needs argument '{name}'");
            }
        }

        foreach (var (call, line) in _expressionCalls)
        {
            if (subworkflows.TryGetValue(call.Function, out var sub))
            {
                if (call.Args.Count > sub.Params.Count || call.Args.Count < sub.Params.Count(p => !p.HasDefault))
                {
                    Problem(line, $"subworkflow '{call.Function}' takes {sub.Params.Count} argument(s), {call.Args.Count} given");
                }
            }
            else if (StandardLibrary.TryGet(call.Function, out var function))
            {
                if (call.Args.Count > function.Params.Count || call.Args.Count < function.Required)
                {
                    Problem(line, $"'{call.Function}' takes {function.Required}..{function.Params.Count} argument(s), {call.Args.Count} given");
                }
            }
            else
            {
                Problem(line, $"unknown function '{call.Function}' in an expression (only the standard library and subworkflows can be called there)");
            }
        }

        foreach (var retry in _retries.Where(r => r.PredicateIsSubworkflow))
        {
            if (!subworkflows.TryGetValue(retry.Predicate, out var predicate))
            {
                Problem(retry.Line, $"retry predicate '{retry.Predicate}' is neither a built-in predicate nor a subworkflow");
            }
            else if (predicate.Params.Count(p => !p.HasDefault) != 1 && predicate.Params.Count != 1)
            {
                Problem(retry.Line, $"retry predicate '{retry.Predicate}' must take exactly one parameter (the error)");
            }
        }
    }
}
