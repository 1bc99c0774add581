using System.Text;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Cli.Workflows.Secrets;

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

    public static Task<int> RunAsync(string[] args) =>
        CommandContext.RunOnConsoleAsync(context => RunAsync(args, context, Console.OpenStandardInput(), Console.IsInputRedirected ? null : ReadHidden));

    /// <param name="stdin">The value's bytes when piped.</param>
    /// <param name="readTerminal">Reads the value without echo when stdin is a terminal; null when it is not one.</param>
    public static async Task<int> RunAsync(string[] args, CommandContext context, Stream stdin, Func<TextWriter, string?>? readTerminal)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(stdin);
        if (args is ["--help" or "-h"])
        {
            await context.Out.WriteLineAsync("usage: commissable-backup\n" + Usage);
            return ExitCodes.Success;
        }
        string name, project, state;
        try
        {
            var options = new OptionReader(args, ["--state", "--project"], [], positional: 1);
            name = options.Positionals.Count == 1 ? InputRules.SecretId("<name>", options.Positionals[0]) : throw new UsageException("the secret name is required: secrets put <name>");
            project = InputRules.ProjectId("--project", options.Optional("--project") ?? LocalStack.DefaultProject);
            state = Path.GetFullPath(options.Optional("--state") ?? ".localcloud");
        }
        catch (UsageException problem)
        {
            await context.Error.WriteLineAsync($"secrets put: {problem.Message}");
            return ExitCodes.Usage;
        }

        byte[] value;
        if (readTerminal is not null)
        {
            await context.Error.WriteAsync($"value for secret {name} (not echoed): ");
            value = Encoding.UTF8.GetBytes(readTerminal(context.Error) ?? "");
        }
        else
        {
            using var buffer = new MemoryStream();
            await stdin.CopyToAsync(buffer, context.Interrupted);
            value = DropOneNewline(buffer.ToArray());
        }
        if (value.Length == 0)
        {
            await context.Error.WriteLineAsync("secrets put: the value is empty; nothing was stored");
            return ExitCodes.Usage;
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

    private static string? ReadHidden(TextWriter prompt)
    {
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0) text.Length--;
                continue;
            }
            if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
        }
        prompt.WriteLine();
        return text.ToString();
    }
}
