using System.CommandLine;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.LocalCloud;

namespace Commissable.Backup.Cli.Commands;

/// <summary>
/// The options several commands share, made in one place so each has one name, one value name
/// and one meaning wherever it appears. Values stay strings for the parser: the commands check
/// them with <see cref="InputRules"/>, whose messages say what is accepted.
/// </summary>
internal static class CliOptions
{
    public const string DefaultState = ".localcloud";
    public const string DefaultPort = "8123";

    /// <summary>An option that takes one value.</summary>
    public static Option<string> Valued(string name, string valueName, string description, string? defaultValue = null, bool required = false)
    {
        var option = new Option<string>(name) { HelpName = valueName, Description = description, Required = required };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        return option;
    }

    /// <summary>An option that takes no value.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An option that may be given again, one value each time.</summary>
    public static Option<string[]> Repeatable(string name, string valueName, string description)
        => new(name) { HelpName = valueName, Description = description, AllowMultipleArgumentsPerToken = false };

    /// <summary>The local cloud's state directory.</summary>
    public static Option<string> State() => Valued("--state", "DIR", "the local cloud's state directory (instances, buckets, token, secrets)", DefaultState);

    /// <summary>The project of the local cloud's resources.</summary>
    public static Option<string> LocalProject() => Valued("--project", "P", "the project of the local cloud's resources", LocalStack.DefaultProject);
}

/// <summary><c>--state</c>, <c>--port</c> and <c>--address-prefix</c>: where the local cloud keeps its state, listens, and puts its instances.</summary>
internal sealed class LocalCloudOptionSet
{
    public Option<string> State { get; } = CliOptions.State();

    public Option<string> Port { get; } = CliOptions.Valued("--port", "P",
        "the local cloud's port on 127.0.0.1 (0: a free one); a local cloud already listening there with this state's token is reused", CliOptions.DefaultPort);

    public Option<string> AddressPrefix { get; } = CliOptions.Valued("--address-prefix", "A.B.C",
        "the instances' loopback addresses, A.B.C.x inside 127.0.0.0/8", LocalCloudOptions.DefaultAddressPrefix);

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(State);
        command.Options.Add(Port);
        command.Options.Add(AddressPrefix);
    }

    /// <summary>The three values, checked; the state directory as a full path.</summary>
    public (string State, int Port, string AddressPrefix) Read(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var state = InputRules.StateDirectory(State.Name, result.GetValue(State)!);
        var port = InputRules.Port(Port.Name, result.GetValue(Port)!);
        var prefix = InputRules.AddressPrefix(AddressPrefix.Name, result.GetValue(AddressPrefix)!);
        return (state, port, prefix);
    }
}
