using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// The command line on System.CommandLine: builds the command tree, turns what the parser found
/// wrong into one message that says what was wrong and what is accepted (stderr, exit 64), prints
/// help for <c>--help</c> on every command (exit 0), and runs the chosen command.
/// </summary>
internal static class CommandTree
{
    public const string Name = "commissable-backup";

    /// <summary>
    /// Response files (<c>@file</c>) are off: <c>--args @FILE</c> is the command's own, and a value
    /// must never be replaced by a file's contents behind the operator's back.
    /// </summary>
    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null, EnablePosixBundling = false };

    /// <summary>Every command, each built by its own file, sharing <paramref name="context"/>.</summary>
    public static RootCommand Build(CommandContext context)
    {
        var root = new RootCommand("Backups, restores and their rehearsals for the Commissable CRM's PostgreSQL on Cloud SQL.")
        {
            DrillCommand.Create(context),
            Group("local", "The local cloud and the functions, in the foreground.", LocalUpCommand.Create(context)),
            Group("workflows", "Workflows on the local cloud (the same YAML as on Google Cloud).", WorkflowsRunCommand.Create(context)),
            Group("secrets", "The local secret store the local workflow runner reads.", SecretsPutCommand.Create(context)),
            Group("dr", "The disaster-recovery workflow on Google Cloud.", DrStartCommand.Create(context)),
            Group("clone-staging", "The clone-prod-to-staging workflow on Google Cloud.", CloneStagingStartCommand.Create(context)),
            Group("tenant-restore", "The tenant-restore workflow on Google Cloud.", TenantRestoreStartCommand.Create(context)),
            Group("executions", "Workflow executions on Google Cloud.", ExecutionsWatchCommand.Create(context)),
            Operator.DumpCommand.Create(context),
            Operator.VerifyCommand.Create(context),
            Operator.RestoreCommand.Create(context),
            Operator.SanitizeCommand.Create(context),
        };
        foreach (var help in root.Options.OfType<HelpOption>())
        {
            help.Action = new CliHelp();
        }

        // Without a command, the overview, as before: asking what there is is not an error.
        root.SetAction(result =>
        {
            CliHelp.Write(root, result.InvocationConfiguration.Output);
            return ExitCodes.Success;
        });
        return root;
    }

    /// <summary>Parses <paramref name="args"/> (a whole command line after the program name) and runs it.</summary>
    public static async Task<int> InvokeAsync(IReadOnlyList<string> args, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = Parse(Build(context), args);
        if (result.Action is not CliHelp && UsageProblems.Find(result) is { } problem)
        {
            var path = PathOf(result.CommandResult.Command);
            await context.Error.WriteLineAsync($"{(path.Length == 0 ? Name : path)}: {problem}");
            await context.Error.WriteLineAsync($"run '{Name}{(path.Length == 0 ? "" : " " + path)} --help' for usage");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // The command context owns Ctrl-C and SIGTERM: stopping clusters takes longer than the parser's grace period.
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };
        return await result.InvokeAsync(invocation, context.Interrupted);
    }

    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/> as the command line does.</summary>
    public static ParseResult Parse(Command root, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(root);
        return root.Parse(args, Parser);
    }

    /// <summary>The program's entry: the real console; a fault of the command itself is exit 70 with its message.</summary>
    public static Task<int> RunOnConsoleAsync(IReadOnlyList<string> args) => CommandContext.RunOnConsoleAsync(async context =>
    {
        try
        {
            return await InvokeAsync(args, context);
        }
        catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync($"{Name}: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            await context.Error.WriteLineAsync($"{Name}: unexpected {error.GetType().Name}: {error.Message.Split('\n')[0]}");
            return ExitCodes.Software;
        }
    });

    /// <summary>
    /// Sets what <paramref name="command"/> does. A <see cref="UsageException"/> from the checks at
    /// its start is exit 64 with the message after the command's name, as a parse problem is; a
    /// cancellation by Ctrl-C the command did not handle itself is exit 2.
    /// </summary>
    public static void SetAction(Command command, CommandContext context, Func<ParseResult, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(action);
        command.SetAction(async (result, _) =>
        {
            try
            {
                return await action(result);
            }
            catch (UsageException problem)
            {
                var path = PathOf(command);
                await context.Error.WriteLineAsync($"{path}: {problem.Message}");
                await context.Error.WriteLineAsync($"run '{Name} {path} --help' for usage");
                return ExitCodes.Usage;
            }
            catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
            {
                // Ctrl-C where the command has nothing of its own to say: the documented exit 2, not a
                // stack trace (with the default exception handler off, System.CommandLine re-throws).
                await context.Error.WriteLineAsync($"{PathOf(command)}: interrupted");
                return ExitCodes.Interrupted;
            }
        });
    }

    /// <summary>The command's words after the program name, such as <c>dr start</c>; empty for the root.</summary>
    public static string PathOf(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is Command current and not RootCommand; symbol = current.Parents.FirstOrDefault())
        {
            names.Insert(0, current.Name);
        }

        return string.Join(' ', names);
    }

    private static CliCommand Group(string name, string description, Command subcommand) => new(name, description) { subcommand };
}

/// <summary>
/// A command with its hand-written synopsis, which says what the parser's model cannot: one of two
/// options, an option given again, what the command does in a few lines.
/// </summary>
internal sealed class CliCommand(string name, string description, string? usage = null) : Command(name, description)
{
    /// <summary>The synopsis and what the command does, indented two spaces, as <c>--help</c> prints it.</summary>
    public string? Usage { get; } = usage;
}
