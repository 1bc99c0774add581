using System.Globalization;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Hosting.Configuration;

/// <summary>
/// Reads and checks variables, collecting every problem so one start-up failure lists them all,
/// each naming its variable. An empty or blank value counts as unset.
/// </summary>
internal sealed class EnvironmentReader(IFunctionEnvironment environment)
{
    private readonly List<(IReadOnlyList<string> Variables, string Problem)> _problems = [];

    public bool HasProblems => _problems.Count > 0;

    public string? Optional(string name)
    {
        var value = environment.GetVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public string Required(string name, string purpose)
    {
        var value = Optional(name);
        if (value is null)
        {
            Problem(name, $"{name} is not set: {purpose}");
            return string.Empty;
        }

        return value;
    }

    /// <param name="what">What the value is, e.g. "a whole number of hours".</param>
    public int Integer(string name, int defaultValue, int min, int max, string what)
    {
        var text = Optional(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Problem(name, $"{name} must be {what} from {min} to {max}; got '{Shown(text)}'");
            return defaultValue;
        }

        return value;
    }

    public bool Boolean(string name, bool defaultValue)
    {
        var text = Optional(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (ParseBoolean(text) is { } value)
        {
            return value;
        }

        Problem(name, $"{name} must be true or false; got '{Shown(text)}'");
        return defaultValue;
    }

    /// <summary>
    /// True when the variable is set to true; records no problem, for a setting that depends on a
    /// switch another part of the start-up reads (and reports) itself.
    /// </summary>
    public bool IsTrue(string name) => Optional(name) is { } text && ParseBoolean(text) == true;

    /// <summary>A comma-separated list; blanks between commas are ignored.</summary>
    public IReadOnlyList<string> List(string name) =>
        Optional(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    public void Problem(string name, string message) => _problems.Add(([name], message));

    /// <summary>One problem that lies in how several variables are set together; each is named.</summary>
    public void Problem(IReadOnlyList<string> names, string message) => _problems.Add((names, message));

    /// <summary>Throws one exception naming every variable with a problem, if any.</summary>
    public void ThrowIfInvalid()
    {
        if (_problems.Count == 0)
        {
            return;
        }

        throw new FunctionStartupException(
            "Start-up configuration is invalid: " + string.Join("; ", _problems.Select(p => p.Problem)) + ".",
            _problems.SelectMany(p => p.Variables).Distinct(StringComparer.Ordinal).ToList());
    }

    private static bool? ParseBoolean(string text) => text.ToUpperInvariant() switch
    {
        "TRUE" or "1" or "YES" => true,
        "FALSE" or "0" or "NO" => false,
        _ => null,
    };

    /// <summary>A value quoted back in a message: shortened, and scrubbed in case a secret was pasted into the wrong variable.</summary>
    public static string Shown(string value)
    {
        var redacted = SecretRedactor.Redact(value);
        return redacted.Length <= 80 ? redacted : string.Concat(redacted.AsSpan(0, 77), "...");
    }
}
