using System.CommandLine;
using System.CommandLine.Invocation;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>--help</c> on any command: its hand-written synopsis (what the parser's model cannot say,
/// such as one of two options) and then every option with its meaning, whether it is required
/// and its default, from the options the command really declares. Exit 0.
/// </summary>
internal sealed class CliHelp : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        Write(parseResult.CommandResult.Command, parseResult.InvocationConfiguration.Output);
        return ExitCodes.Success;
    }

    public static void Write(Command command, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(output);
        if (command is RootCommand root)
        {
            output.WriteLine($"usage: {CommandTree.Name} <command> [options]   ({CommandTree.Name} <command> --help for one command's options)");
            output.WriteLine();
            foreach (var (title, names) in Overview)
            {
                if (title is not null)
                {
                    output.WriteLine();
                    output.WriteLine(title);
                    output.WriteLine();
                }

                foreach (var name in names)
                {
                    output.WriteLine(Leaf(root, name)?.Usage);
                }
            }

            return;
        }

        if (command.Subcommands.Count > 0)
        {
            output.WriteLine($"usage: {CommandTree.Name} {CommandTree.PathOf(command)} <command> [options]");
            output.WriteLine();
            foreach (var subcommand in command.Subcommands.OfType<CliCommand>())
            {
                output.WriteLine(subcommand.Usage);
            }

            return;
        }

        output.WriteLine($"usage: {CommandTree.Name}");
        output.WriteLine((command as CliCommand)?.Usage ?? $"  {CommandTree.PathOf(command)} [options]");
        var rows = command.Arguments.Select(a => ($"<{a.HelpName ?? a.Name}>", a.Description ?? ""))
            .Concat(command.Options.Where(o => !o.Hidden).Select(o => (Label(o), Meaning(o))))
            .Append(("-h, --help", "show this help"))
            .ToList();
        var width = rows.Max(r => r.Item1.Length) + 2;
        output.WriteLine();
        output.WriteLine("options:");
        foreach (var (label, meaning) in rows)
        {
            output.WriteLine($"  {label.PadRight(width)}{meaning}");
        }
    }

    /// <summary>The root's overview: the commands in the order an operator meets them, under what they work on.</summary>
    private static readonly (string? Title, string[] Commands)[] Overview =
    [
        (null, ["drill", "local up"]),
        ("Workflows on the local cloud (the same YAML as on Google Cloud):", ["workflows run", "secrets put"]),
        ("Workflow executions on Google Cloud (Application Default Credentials unless\n--access-token-file; --endpoint overrides https://workflowexecutions.googleapis.com/,\nand one not on googleapis.com needs --access-token-file):",
            ["dr start", "clone-staging start", "tenant-restore start", "executions watch"]),
        ("On an operator's machine (database URLs from environment variables, never printed; never writing to production):", ["dump", "verify", "restore", "sanitize"]),
    ];

    private static CliCommand? Leaf(Command root, string path)
    {
        var command = root;
        foreach (var word in path.Split(' '))
        {
            command = command.Subcommands.FirstOrDefault(c => c.Name == word);
            if (command is null)
            {
                return null;
            }
        }

        return command as CliCommand;
    }

    private static string Label(Option option)
        => string.Join(", ", option.Aliases.Order(StringComparer.Ordinal).Append(option.Name))
            + (option.Arity.MaximumNumberOfValues > 0 ? $" {option.HelpName ?? "VALUE"}" : "");

    private static string Meaning(Option option)
    {
        var meaning = option.Description ?? "";
        if (option.Required)
        {
            meaning += " (required)";
        }
        else if (option.HasDefaultValue && option.GetDefaultValue() is string value)
        {
            meaning += $" (default {value})";
        }

        if (option.Arity.MaximumNumberOfValues > 1)
        {
            meaning += " (may be given again)";
        }

        return meaning;
    }
}
