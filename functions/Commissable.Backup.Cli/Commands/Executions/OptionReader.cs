namespace Commissable.Backup.Cli.Commands.Executions;

/// <summary>
/// Reads <c>--name value</c>, <c>--name=value</c> and <c>--flag</c> options against a declared set;
/// an unknown option, a missing value, a stray argument or an option given twice (unless
/// repeatable) is a <see cref="UsageException"/>.
/// </summary>
internal sealed class OptionReader
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public OptionReader(IReadOnlyList<string> args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string> flags,
        IReadOnlyCollection<string>? repeatable = null, int positional = 0)
    {
        ArgumentNullException.ThrowIfNull(args);
        var positionals = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (positionals.Count >= positional)
                {
                    throw new UsageException($"unexpected argument '{arg}'");
                }

                positionals.Add(arg);
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (flags.Contains(name))
            {
                if (equals >= 0)
                {
                    throw new UsageException($"{name} takes no value");
                }

                if (!_flags.Add(name))
                {
                    throw new UsageException($"{name} is given twice");
                }

                continue;
            }

            if (!valued.Contains(name))
            {
                throw new UsageException($"unknown option {name}");
            }

            string value;
            if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"{name} needs a value");
            }

            if (!_values.TryGetValue(name, out var list))
            {
                _values[name] = list = [];
            }
            else if (repeatable is null || !repeatable.Contains(name))
            {
                throw new UsageException($"{name} is given twice");
            }

            list.Add(value);
        }

        Positionals = positionals;
    }

    public IReadOnlyList<string> Positionals { get; }

    public bool Flag(string name) => _flags.Contains(name);

    public string? Optional(string name) => _values.TryGetValue(name, out var list) ? list[0] : null;

    public string Required(string name, string what)
        => Optional(name) ?? throw new UsageException($"{name} is required: {what}");

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var list) ? list : [];
}
