using System.CommandLine;
using System.Text;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.FileStore;
using Commissable.Workflows.Local.Secrets;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// <c>secrets put</c>: stores stdin as a new version of a secret in the local secret store (creating
/// the secret if needed), for the local runner's Secret Manager connector. Prints the version name
/// only; the value is never echoed or logged.
/// </summary>
internal static class SecretsPutCommand
{
    public const string Usage = """
          secrets put <name> [--state DIR] [--project P]
              Reads a value from stdin (one trailing newline dropped; typed without echo on a
              terminal) and adds it as the next version of secret <name> in the local secret store
              (<state>/secrets, owner-only files). Prints the version name only.
              Defaults: --state .localcloud, --project drill-project.
        """;

    /// <param name="stdin">The value's bytes when piped.</param>
    /// <param name="readTerminal">Reads the value without echo when stdin is a terminal; null when it is not one.</param>
    public static Task<int> RunAsync(string[] args, CommandContext context, Stream stdin, Func<TextWriter, string?>? readTerminal)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(stdin);
        var input = new StandardInput(stdin, TextReader.Null, IsTerminal: readTerminal is not null, readTerminal);
        return CommandTree.InvokeAsync(["secrets", "put", .. args], context with { Input = input });
    }

    public static Command Create(CommandContext context)
    {
        var name = new Argument<string>("name") { Description = "the secret name", HelpName = "name" };
        var state = CliOptions.State();
        var project = CliOptions.LocalProject();
        var command = new CliCommand("put", "Adds stdin as the next version of a secret in the local secret store.", Usage) { name, state, project };
        CommandTree.SetAction(command, context, async result =>
        {
            var secret = InputRules.SecretId("<name>", result.GetValue(name)!);
            var projectId = InputRules.ProjectId("--project", result.GetValue(project)!);
            var directory = InputRules.StateDirectory("--state", result.GetValue(state)!);
            return await PutAsync(context, secret, projectId, directory);
        });
        return command;
    }

    private static async Task<int> PutAsync(CommandContext context, string name, string project, string state)
    {
        byte[] value;
        if (context.Input is { IsTerminal: true, ReadHidden: { } readHidden })
        {
            await context.Error.WriteAsync($"value for secret {name} (not echoed): ");
            value = Encoding.UTF8.GetBytes(readHidden(context.Error) ?? "");
            // Ctrl-C while typing: the line that ends the typing is not stored.
            context.Interrupted.ThrowIfCancellationRequested();
        }
        else
        {
            using var buffer = new MemoryStream();
            try
            {
                await context.Input.Bytes.CopyToAsync(buffer, context.Interrupted);
                context.Interrupted.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
            {
                await context.Error.WriteLineAsync($"secrets put: interrupted while reading standard input; nothing was stored");
                return ExitCodes.Interrupted;
            }
            value = DropOneNewline(buffer.ToArray());
        }
        if (value.Length == 0)
        {
            throw new UsageException("the value is empty; nothing was stored");
        }

        var store = new LocalSecretStore(Path.Combine(state, "secrets"));
        store.Create(project, name);
        var version = store.AddVersion(project, name, value)!;
        Array.Clear(value);
        await context.Out.WriteLineAsync(version.Name);
        return ExitCodes.Success;
    }

    /// <summary><c>echo value |</c> adds a newline nobody means as part of a connection string.</summary>
    private static byte[] DropOneNewline(byte[] value) => value switch
    {
        [.. var rest, (byte)'\r', (byte)'\n'] => rest,
        [.. var rest, (byte)'\n'] => rest,
        _ => value,
    };
}
