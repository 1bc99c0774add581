using System.CommandLine;
using System.CommandLine.Parsing;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// What was wrong with a command line, in the project's words: the parser's findings (and the few
/// it lets through, such as an option given twice) as one message naming the option or word and
/// what is accepted instead. The first problem in this order: an unknown option where an argument
/// goes, values that are missing or given twice (the parser takes the next word as a value even
/// when it is an option), words the command does not take, then what is required.
/// </summary>
internal static class UsageProblems
{
    public static string? Find(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var commandResult = result.CommandResult;
        var command = commandResult.Command;

        // An argument slot that took an option-like word: the parser puts an unknown '--x' there.
        foreach (var argument in commandResult.Children.OfType<ArgumentResult>())
        {
            if (argument.Tokens.FirstOrDefault(t => IsOptionLike(t.Value)) is { } token)
            {
                return UnknownOption(command, token.Value);
            }
        }

        foreach (var option in commandResult.Children.OfType<OptionResult>())
        {
            var name = option.Option.Name;
            if (option.IdentifierTokenCount > 1 && option.Option.Arity.MaximumNumberOfValues <= 1)
            {
                return $"{name} is given twice";
            }

            // As the shell would: a value that starts with '--' is the next option, so this one has none.
            if (!option.Implicit && option.Option.Arity.MinimumNumberOfValues > 0
                && (option.Tokens.Count == 0 || option.Tokens.Any(t => t.Value.StartsWith("--", StringComparison.Ordinal))))
            {
                return $"{name} needs a value";
            }
        }

        foreach (var word in result.UnmatchedTokens)
        {
            if (IsOptionLike(word))
            {
                return UnknownOption(command, word);
            }

            if (command.Subcommands.Count > 0)
            {
                return $"unknown command '{word}'; {Commands(command)}";
            }

            if (Preceding(result, word) is { Type: TokenType.Option } flag && command.Options.FirstOrDefault(o => o.Name == flag.Value || o.Aliases.Contains(flag.Value)) is { Arity.MaximumNumberOfValues: 0 } option)
            {
                return $"{option.Name} takes no value";
            }

            return $"unexpected argument '{word}'";
        }

        foreach (var option in command.Options.Where(o => o.Required && commandResult.GetResult(o) is not { IdentifierTokenCount: > 0 }))
        {
            return $"{option.Name} is required: {option.Description}";
        }

        foreach (var argument in command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0))
        {
            if (commandResult.GetResult(argument) is not { Tokens.Count: > 0 })
            {
                return $"{argument.Description} is required: {CommandTree.PathOf(command)} <{argument.HelpName ?? argument.Name}>";
            }
        }

        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            return $"a command is required; {Commands(command)}";
        }

        // Anything else the parser found, in its own words.
        return result.Errors.Count > 0 ? result.Errors[0].Message : null;
    }

    private static string UnknownOption(Command command, string word)
    {
        var name = word.Split('=', 2)[0];
        List<string> accepted = [.. command.Options.Where(o => !o.Hidden).Select(o => o.Name), "--help"];
        var close = accepted.Where(a => Distance(a, name) <= 2).ToList();
        var path = CommandTree.PathOf(command);
        return close.Count > 0
            ? $"unknown option {name} (did you mean {string.Join(" or ", close)}?)"
            : $"unknown option {name}; {(path.Length == 0 ? CommandTree.Name : path)} takes {string.Join(", ", accepted)}";
    }

    private static string Commands(Command command)
        => $"{(command is RootCommand ? "the commands are" : $"'{CommandTree.PathOf(command)}' has")}: {string.Join(", ", command.Subcommands.Select(c => c.Name))}";

    private static bool IsOptionLike(string word)
        => word.Length > 1 && word[0] == '-' && !char.IsAsciiDigit(word[1]);

    private static Token? Preceding(ParseResult result, string word)
    {
        for (var i = 1; i < result.Tokens.Count; i++)
        {
            if (result.Tokens[i].Value == word && result.Tokens[i].Type == TokenType.Argument)
            {
                return result.Tokens[i - 1];
            }
        }

        return null;
    }

    /// <summary>Edit distance, for 'did you mean'.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
