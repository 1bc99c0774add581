using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>
/// <c>restore</c>: the strategy's clone script (5.3) for an operator's machine. A dump file or
/// <c>gs://</c> object into a new database of a server named by an admin URL in an environment
/// variable, with the application's own login, its privileges and (with <c>--owner app-user</c>)
/// its ownership of the objects, verified against the dump's content manifest, and the
/// <c>.env.local</c> lines to use it, the password left as <c>&lt;PASSWORD&gt;</c>.
/// </summary>
/// <remarks>
/// Nothing is written before every check has passed: the options, the production lists
/// (<c>PRODUCTION_HOSTS</c>, <c>PRODUCTION_INSTANCES</c>; a target in one is refused, and so is
/// any target when neither is set), the server and whether the database exists, then the password
/// (a password variable is read first; a typed one only once the database is known not to exist). The
/// passwords travel only in a connection string, a 0600 password file and a SCRAM verifier; no
/// argument list, output line or file name holds one.
/// </remarks>
internal static class RestoreCommand
{
    public const string Usage = """
          restore FILE|gs://BUCKET/OBJECT --to-env VAR --database D --app-user U
                  [--app-password-env VAR] [--owner app-user] [--recreate] [--jobs N]
                  [--instance ID] [--critical-table T]... [--local-state DIR | --token-file F]
              Restores a dump (custom, directory or plain SQL, or a gs:// object) into a new
              database D of the server whose admin URL is in environment variable VAR (never
              printed), with pg_restore --jobs N; creates or updates the app user U (password
              from the environment variable --app-password-env names, or typed without echo),
              grants it what the CRM needs and, with --owner app-user, makes it the owner of
              every restored object so migrations run as in production. Verifies the database
              against the dump's manifest (FILE.manifest.json; without one, against the dump's
              own content) and prints DATABASE_URL and DIRECT_URL for .env.local with <PASSWORD>.
              Refuses a server in PRODUCTION_HOSTS, an instance in PRODUCTION_INSTANCES (the
              --instance given, or the one a /cloudsql/PROJECT:REGION:INSTANCE socket directory
              names; one of the lists must be set), an --instance that is not the socket's, and
              an existing database unless --recreate (drops it first).
              Defaults: --jobs 2. Exit 0 verified, 1 a step or a check failed, 64 refused.
        """;

    public const string OwnerAppUser = "app-user";

    public static Command Create(CommandContext context)
    {
        var options = new RestoreOptions();
        var command = new CliCommand("restore", "Restores a dump into a new database with the app user, and verifies it.", Usage) { options.Source };
        foreach (var option in options.All)
        {
            command.Options.Add(option);
        }
        options.Buckets.AddTo(command);
        CommandTree.SetAction(command, context, async result => await RunAsync(context, await RestoreRequest.ReadAsync(result, options, context)));
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, RestoreRequest request)
    {
        var server = request.Server.Endpoint;
        if (OperatorTools.Locate(context) is not { } tools)
        {
            return ExitCodes.Unavailable;
        }
        var cancel = context.Interrupted;
        var shown = $"'{request.Database}' on {server}";
        var step = "connect";
        try
        {
            var exists = false;
            // One connection to the maintenance database looks, then creates (and drops): a database cannot drop itself.
            NpgsqlConnection? opened = null;
            await Progress.StepAsync(context, $"connect to {server}", async () =>
            {
                var connection = await OpenAsync(server, request.MaintenanceDatabase, cancel);
                try
                {
                    exists = await TargetDatabase.ExistsAsync(connection, request.Database, cancel);
                }
                catch
                {
                    await connection.DisposeAsync();
                    throw;
                }
                opened = connection;
                return $"PostgreSQL {connection.PostgreSqlVersion}; {(exists ? $"the database '{request.Database}' exists" : $"no database '{request.Database}' yet")}";
            });
            await using var maintenance = opened!;
            if (exists && !request.Recreate)
            {
                throw new UsageException($"--database {request.Database}: the database already exists on {server}; nothing was changed (--recreate drops it and restores again)");
            }
            // Typed at the terminal only now: a restore refused for an existing database never asks for it.
            var appPassword = request.AppPassword ?? await RestoreRequest.TypedPasswordAsync(context, request.AppUser);

            step = "source";
            using var source = await OpenSourceAsync(context, request);
            step = "database";
            await Progress.StepAsync(context, $"{(exists ? "recreate" : "create")} the database {shown}", async () =>
            {
                var dropped = "";
                if (exists)
                {
                    var gone = await TargetDatabase.DropAsync(maintenance, request.Database, cancel);
                    dropped = string.Create(CultureInfo.InvariantCulture,
                        $"dropped '{gone.Name}' ({(gone.Bytes is { } bytes ? $"{bytes / 1048576.0:F1} MB" : "size unknown")}, {gone.Sessions} session(s) ended), then ");
                }
                await TargetDatabase.CreateAsync(maintenance, request.Database, cancel);
                return dropped + "created it empty";
            });

            step = "restore";
            await Progress.StepAsync(context, $"restore {source.Shown} (pg_restore --jobs {request.Jobs} for custom and directory dumps)", async () =>
            {
                await DumpRestore.RestoreAsync(server, request.Database, source.Path,
                    new DumpRestoreOptions { Jobs = request.Jobs, Observer = context.ChildProcesses }, tools, cancel);
                return "restored";
            });

            await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString(request.Database));
            step = "app user";
            await Progress.StepAsync(context, $"app user '{request.AppUser}'", async () =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancel);
                var created = await AppLogin.EnsureAsync(connection, request.AppUser, appPassword, cancel);
                return created ? "created (LOGIN, password set)" : "existed: LOGIN and the password set";
            });

            step = "grants";
            await Progress.StepAsync(context, $"grant '{request.AppUser}' what the CRM needs", async () =>
            {
                var privileges = await AppUserGrants.ApplyAsync(dataSource, request.Database, request.AppUser, [server.User], cancel);
                return $"{privileges.Count} statements, proven with has_*_privilege";
            });

            if (request.AppUserOwns)
            {
                step = "ownership";
                await Progress.StepAsync(context, $"make '{request.AppUser}' the owner of the restored objects", async () =>
                {
                    await using var connection = await dataSource.OpenConnectionAsync(cancel);
                    var transfer = await ObjectOwnership.TransferAsync(connection, request.AppUser, cancel);
                    return transfer.Summary() + (transfer.MembershipGranted
                        ? $"; '{server.User}' made itself a member of '{request.AppUser}' to give them away (kept, so it can still read and manage them)"
                        : "");
                });
            }

            step = "verify";
            var content = await ContentAsync(context, source, tools, cancel);
            IReadOnlyList<CheckResult> checks = [];
            await Progress.StepAsync(context, $"verify {shown} against the dump", async () =>
            {
                checks = await DatabaseProof.CheckAsync(server, request.Database, shown, content,
                    new VerificationOptions { CriticalTables = request.CriticalTables }, tools, cancel);
                var failed = checks.Count(c => !c.Passed);
                return failed == 0 ? $"{checks.Count} checks, all passed" : $"{failed} of {checks.Count} checks FAILED";
            });
            await PrintChecksAsync(context, checks);
            if (checks.Count == 0 || checks.Any(c => !c.Passed))
            {
                await context.Error.WriteLineAsync($"restore: the database {shown} did not pass its checks; it stays as restored, for a look (run again with --recreate to start over)");
                return ExitCodes.Failed;
            }

            await PrintTemplatesAsync(context, server, request.AppUser, request.Database);
            return ExitCodes.Success;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync($"restore: interrupted during '{step}'; the database {shown} may be partly restored");
            return ExitCodes.Interrupted;
        }
        catch (Exception error) when (Unreachable(error))
        {
            await context.Error.WriteLineAsync($"restore: could not reach or log in to {server} ({step}): {FirstLine(error)}");
            return ExitCodes.Unavailable;
        }
        catch (Exception error) when (error is ExternalProcessException or AppUserGrantException or PostgresException or InvalidDataException or IOException)
        {
            var left = step is "connect" or "source" ? "nothing was changed" : $"the database {shown} stays as far as it got (run again with --recreate to start over)";
            await context.Error.WriteLineAsync($"restore: {step} failed: {FirstLine(error)}; {left}");
            return ExitCodes.Failed;
        }
    }

    private static async Task<DumpSource> OpenSourceAsync(CommandContext context, RestoreRequest request)
    {
        if (request.Store is not { } store)
        {
            return await DumpSource.OpenAsync("FILE", request.Source, _ => throw new InvalidOperationException("a file needs no store"), null, context.Interrupted);
        }
        DumpSource? source = null;
        await Progress.StepAsync(context, $"download {request.Source}", async () =>
        {
            source = await DumpSource.OpenAsync("FILE", request.Source, _ => store, null, context.Interrupted);
            var bytes = File.Exists(source.Path) ? new FileInfo(source.Path).Length : Directory.GetFiles(source.Path).Sum(f => new FileInfo(f).Length);
            return string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MB into a private temporary directory");
        });
        return source!;
    }

    /// <summary>The content to compare with: the manifest's, or read from the dump itself (said so).</summary>
    private static async Task<BackupContent> ContentAsync(CommandContext context, DumpSource source, PostgresBinaries tools, CancellationToken cancellationToken)
    {
        if (source.Manifest?.Content is { } content)
        {
            await context.Out.WriteLineAsync($"   comparing with the content manifest beside {source.Shown}");
            return content;
        }
        var why = source.Manifest is null ? "there is no manifest beside it" : "its manifest has no content section";
        BackupContent read = null!;
        await Progress.StepAsync(context, $"read the content of {source.Shown} from the dump itself ({why}; its timestamps are taken as written in UTC)", async () =>
        {
            read = await PostgresBackupContentReader.ReadFileAsync(source.Path, new DumpReadOptions(), tools, cancellationToken);
            return string.Create(CultureInfo.InvariantCulture, $"{read.Tables.Count} table{(read.Tables.Count == 1 ? "" : "s")}");
        });
        return read;
    }

    private static async Task PrintChecksAsync(CommandContext context, IReadOnlyList<CheckResult> checks)
    {
        var width = checks.Count == 0 ? 0 : checks.Max(c => c.Name.Length);
        foreach (var check in checks)
        {
            await context.Out.WriteLineAsync($"   {(check.Passed ? "passed" : "FAILED")}  {check.Name.PadRight(width)}  {FirstLine(check.Detail)}");
        }
    }

    /// <summary>The lines for the app's <c>.env.local</c>: its login on this server and database, the password left for the reader.</summary>
    internal static async Task PrintTemplatesAsync(CommandContext context, DatabaseEndpoint server, string user, string database)
    {
        var url = TemplateUrl(server, user, database);
        await context.Out.WriteLineAsync($".env.local for the app (replace <PASSWORD> with {user}'s password):");
        await context.Out.WriteLineAsync($"DATABASE_URL=\"{url}\"");
        await context.Out.WriteLineAsync($"DIRECT_URL=\"{url}\"");
    }

    /// <summary><c>postgresql://USER:&lt;PASSWORD&gt;@HOST:PORT/DB?schema=public</c>, a socket directory as <c>?host=</c>, the admin URL's sslmode kept.</summary>
    internal static string TemplateUrl(DatabaseEndpoint server, string user, string database)
    {
        ArgumentNullException.ThrowIfNull(server);
        var socket = server.Host.StartsWith('/');
        var host = socket ? "localhost"
            : IPAddress.TryParse(server.Host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{server.Host}]" : server.Host;
        var query = (socket ? "host=" + Uri.EscapeDataString(server.Host) + "&" : "") + "schema=public"
            + (server.SslMode is { } ssl ? "&sslmode=" + ssl : "");
        return string.Create(CultureInfo.InvariantCulture,
            $"postgresql://{Uri.EscapeDataString(user)}:<PASSWORD>@{host}:{server.Port}/{Uri.EscapeDataString(database)}?{query}");
    }

    private static async Task<NpgsqlConnection> OpenAsync(DatabaseEndpoint server, string database, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(server.ConnectionString(database));
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The server could not be reached or logged in to; an SQL error after that is the step's failure.</summary>
    private static bool Unreachable(Exception error) => OperatorServer.IsUnreachable(error);

    private static string FirstLine(Exception error) => error switch
    {
        PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
        ExternalProcessException tool => $"{Path.GetFileName(tool.Program)} exited {tool.ExitCode}: {FirstLine(tool.ErrorOutput.Trim())}",
        _ => FirstLine(error.Message),
    };

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].TrimEnd('\r');
        return line.Length > 400 ? line[..400] + "…" : line;
    }
}

/// <summary>The options of <c>restore</c>.</summary>
internal sealed class RestoreOptions
{
    public Argument<string> Source { get; } = new("source") { Description = "the dump: a file, a directory-format dump's directory, or a gs:// URI", HelpName = "FILE|gs://BUCKET/OBJECT" };
    public Option<string> ToEnv { get; } = CliOptions.Valued("--to-env", "VAR", "the environment variable holding the target server's admin URL, postgresql://USER:PASSWORD@HOST:PORT/[DB] (never printed)", required: true);
    public Option<string> Database { get; } = CliOptions.Valued("--database", "D", "the database to create and restore into, such as crm_staging", required: true);
    public Option<string> AppUser { get; } = CliOptions.Valued("--app-user", "U", "the app's PostgreSQL login, created or updated", required: true);
    public Option<string> AppPasswordEnv { get; } = CliOptions.Valued("--app-password-env", "VAR", "the environment variable holding the app user's password (default: typed without echo on a terminal)");
    public Option<string> Owner { get; } = CliOptions.Valued("--owner", "app-user", "app-user: the app user owns every restored object (schemas, tables, views, sequences, functions, types), so migrations run as in production");
    public Option<bool> Recreate { get; } = CliOptions.Flag("--recreate", "drop the database first when it exists (its sessions are ended)");
    public Option<string> Jobs { get; } = CliOptions.Valued("--jobs", "N", "pg_restore's parallel jobs (1 to 32)", "2");
    public Option<string> Instance { get; } = CliOptions.Valued("--instance", "ID", "the Cloud SQL instance the server is, checked against PRODUCTION_INSTANCES");
    public Option<string[]> CriticalTables { get; } = CliOptions.Repeatable("--critical-table", "T", "a table that must exist and have rows after the restore");
    public BucketOptionSet Buckets { get; } = new();

    public IEnumerable<Option> All => [ToEnv, Database, AppUser, AppPasswordEnv, Owner, Recreate, Jobs, Instance, CriticalTables];
}

/// <summary>
/// A <c>restore</c> command line, every value checked, the production lists consulted and the app's
/// password read from its variable (<see cref="AppPassword"/>; null when it is to be typed at the
/// terminal, which is asked only after the server showed the database does not exist): nothing is
/// written before this exists.
/// </summary>
internal sealed record RestoreRequest(
    string Source,
    IBackupStore? Store,
    OperatorDatabase Server,
    string Database,
    string AppUser,
    string? AppPassword,
    bool AppUserOwns,
    bool Recreate,
    int Jobs,
    IReadOnlyList<string> CriticalTables)
{
    /// <summary>Where the database is created or dropped from: the URL's database unless it is the target, else <c>postgres</c>.</summary>
    public string MaintenanceDatabase => Server.Database is { } named && named != Database ? named : "postgres";

    /// <summary>Never shows the app's password.</summary>
    public override string ToString() => $"restore {Source} into '{Database}' on {Server}";

    public static async Task<RestoreRequest> ReadAsync(ParseResult result, RestoreOptions options, CommandContext context)
    {
        string? Value(Option<string> option) => result.GetValue(option);
        var source = result.GetValue(options.Source)!;
        var server = OperatorDatabase.FromEnvironment(context, options.ToEnv.Name, Value(options.ToEnv)!);
        var database = InputRules.Database(options.Database.Name, Value(options.Database)!);
        if (!TargetDatabase.IsAllowed(database))
        {
            throw new UsageException($"{options.Database.Name} '{database}' is one of the server's own databases ({string.Join(", ", TargetDatabase.Reserved)}); restore into a database of its own, such as crm_staging");
        }
        var appUser = InputRules.AppUser(options.AppUser.Name, Value(options.AppUser)!);
        if (!CloudNames.IsDatabase(appUser))
        {
            throw new UsageException($"{options.AppUser.Name} '{appUser}': the app user's grants take a plain PostgreSQL name (letters, digits, '_', '-' and '$'), not an IAM user with '.' or '@'");
        }
        if (string.Equals(appUser, server.Endpoint.User, StringComparison.Ordinal))
        {
            throw new UsageException($"{options.AppUser.Name} '{appUser}' is the admin login of {options.ToEnv.Name}; the app needs a login of its own");
        }
        var owns = Value(options.Owner) switch
        {
            null => false,
            RestoreCommand.OwnerAppUser => true,
            var other => throw new UsageException($"{options.Owner.Name} '{OperatorRules.Printable(other)}' is not an owner this command knows: {RestoreCommand.OwnerAppUser} (without --owner the admin login owns the restored objects)"),
        };
        var jobs = int.TryParse(Value(options.Jobs), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 32 ? n
            : throw new UsageException($"{options.Jobs.Name} '{OperatorRules.Printable(Value(options.Jobs) ?? "")}' is not a number of jobs from 1 to 32");
        var instance = Value(options.Instance) is { } id
            ? CloudNames.IsInstance(id) ? id : throw new UsageException($"{options.Instance.Name} '{OperatorRules.Printable(id)}' is not a Cloud SQL instance name: lowercase letters, digits and '-', starting with a letter")
            : null;
        var critical = (result.GetValue(options.CriticalTables) ?? []).Select(t => InputRules.Table(options.CriticalTables.Name, t)).Distinct(StringComparer.Ordinal).ToList();

        // Restore writes: refused for production before anything else is looked at, and refused
        // altogether when no production list is configured (a guard with nothing to compare with).
        await ProductionTargets.FromEnvironment(context).RefuseAsync(server.Endpoint, instance, $"{options.ToEnv.Name} {server.Variable}", context.Interrupted);

        IBackupStore? store = null;
        if (source.StartsWith(GcsUri.Scheme, StringComparison.Ordinal))
        {
            if (!GcsUri.TryParse(source, out var uri, out var problem, allowDirectory: true))
            {
                throw new UsageException($"FILE is not a Cloud Storage URI such as gs://BUCKET/backups/...: {problem}");
            }
            store = await options.Buckets.OpenAsync(result, uri.Bucket, context.Interrupted);
        }
        else if (source.Length == 0 || source.Any(char.IsControl) || !(File.Exists(source) || Directory.Exists(source)))
        {
            throw new UsageException($"FILE '{OperatorRules.Printable(source)}' does not exist (a dump file, a directory-format dump's directory, or a gs:// URI)");
        }

        var password = Password(context, options, Value(options.AppPasswordEnv));
        return new RestoreRequest(source, store, server, database, appUser, password, owns, result.GetValue(options.Recreate), jobs, critical);
    }

    /// <summary>
    /// From the environment variable named by <c>--app-password-env</c>; null when it is to be typed
    /// without echo on a terminal (<see cref="TypedPasswordAsync"/>); never from an argument.
    /// </summary>
    private static string? Password(CommandContext context, RestoreOptions options, string? variable)
    {
        if (variable is null)
        {
            return context.Input is { IsTerminal: true, ReadHidden: not null } ? null
                : throw new UsageException($"{options.AppPasswordEnv.Name} is required when standard input is not a terminal: give the name of the environment variable holding the app user's password (never the password itself)");
        }
        var name = OperatorRules.VariableName(options.AppPasswordEnv.Name, variable);
        var password = context.Environment(name);
        if (string.IsNullOrEmpty(password))
        {
            throw new UsageException($"{options.AppPasswordEnv.Name} {name}: the environment variable {name} is not set or is empty; set it to the app user's password (it is never printed)");
        }
        return Checked(password);
    }

    /// <summary>The app user's password typed without echo at the terminal.</summary>
    public static async Task<string> TypedPasswordAsync(CommandContext context, string appUser)
    {
        ArgumentNullException.ThrowIfNull(context);
        var readHidden = context.Input.ReadHidden ?? throw new InvalidOperationException("standard input is not a terminal");
        await context.Error.WriteAsync($"password for the app user {appUser} (not echoed): ");
        var password = readHidden(context.Error);
        // Ctrl-C while typing: the line that ends the typing is not used.
        context.Interrupted.ThrowIfCancellationRequested();
        return string.IsNullOrEmpty(password) ? throw new UsageException("the app user's password is empty; nothing was changed") : Checked(password);
    }

    private static string Checked(string password) => password.Any(c => c is '\n' or '\r' or '\0')
        ? throw new UsageException("the app user's password holds a line break or a NUL, which a connection string cannot carry")
        : password;
}
