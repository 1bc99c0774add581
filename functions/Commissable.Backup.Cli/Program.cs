using Commissable.Backup.Cli.Commands;

// The operator's command line: the command tree and its parsing live in Commands/CommandTree.cs, each command in its own file.
return await CommandTree.RunOnConsoleAsync(args);
