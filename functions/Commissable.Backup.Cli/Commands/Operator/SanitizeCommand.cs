using System.CommandLine;
using System.Globalization;
using System.Text;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups.Masking;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Sanitizing;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>
/// <c>sanitize</c>: a masked custom-format dump of a backup for developers, optionally limited to
/// some tenants' closure (<see cref="DumpSanitizer"/>). Every input is checked before anything is
/// read; the rules are checked against the backup's schema before the scratch database is created.
/// </summary>
internal static class SanitizeCommand
{
    public const string Usage = """
          sanitize FILE|gs://URI --rules RULES.yaml --key-env VAR --scratch-env VAR [--tenant ID]...
                   [--out FILE.dump] [--tenant-column tenantId] [--local-state DIR | --token-file F]
              Writes a masked copy of a backup (never of a live production database) for developers:
              the backup's rows are masked per RULES.yaml on their way into a scratch database it
              creates on the server of the URL in VAR (--scratch-env; dropped at the end, never a
              PRODUCTION_HOSTS/PRODUCTION_INSTANCES server), cut down to the tenants' closure with
              --tenant, and dumped (pg_dump -Fc, 0600) into --out with OUT.manifest.json beside it.
              Pseudonyms are HMAC-SHA256 under the key in the environment variable named by
              --key-env (at least 16 bytes; never printed). A text-like column whose name or values
              look personal must have a rule (keep counts). Default --out: SOURCE-sanitized.dump here.
        """;

    /// <summary>Exit code of a refusal by the rules or the tenants: the input does not allow the copy.</summary>
    public const int Refused = ExitCodes.Usage;

    public static Task<int> RunAsync(string[] args, CommandContext context) => CommandTree.InvokeAsync(["sanitize", .. args], context);

    public static Command Create(CommandContext context)
    {
        var source = new Argument<string>("source") { Description = "the backup: a dump file (custom, directory, plain or gzip) or a gs:// URI", HelpName = "FILE|gs://URI" };
        var rules = CliOptions.Valued("--rules", "RULES.yaml", "the masking rules, one per table.column", required: true);
        var keyEnv = CliOptions.Valued("--key-env", "VAR", "the environment variable holding the pseudonyms' secret key (at least 16 bytes)", required: true);
        var scratchEnv = CliOptions.Valued("--scratch-env", "VAR", "the environment variable holding a URL of the server to create the scratch database on", required: true);
        var tenants = CliOptions.Repeatable("--tenant", "ID", "keep only this tenant's closure (rows of other tenants are not in the copy)");
        var output = CliOptions.Valued("--out", "FILE.dump", "the masked dump to write (never replaced)");
        var tenantColumn = CliOptions.Valued("--tenant-column", "C", "the tenant column", "tenantId");
        var buckets = new BucketOptionSet();
        var command = new CliCommand("sanitize", "Writes a masked copy of a backup for developers.", Usage) { source, rules, keyEnv, scratchEnv, tenants, output, tenantColumn };
        buckets.AddTo(command);
        CommandTree.SetAction(command, context, async result =>
        {
            var sourceText = result.GetValue(source)!;
            var rulesPath = InputRules.ExistingFile("--rules", result.GetValue(rules)!);
            var maskingRules = SanitizeRulesFile.Read("--rules", rulesPath);
            using var pseudonyms = Key(context, result.GetValue(keyEnv)!);
            var scratch = OperatorDatabase.FromEnvironment(context, "--scratch-env", result.GetValue(scratchEnv)!);
            if (context.Environment(ProductionTargets.HostsVariable) is { Length: > 0 } || context.Environment(ProductionTargets.InstancesVariable) is { Length: > 0 })
            {
                await ProductionTargets.FromEnvironment(context).RefuseAsync(scratch.Endpoint, null, "--scratch-env", context.Interrupted);
            }
            var kept = (result.GetValue(tenants) ?? []).Select(t => InputRules.Text("--tenant", t, "a tenant id as the tenant column holds it")).Distinct(StringComparer.Ordinal).ToList();
            var column = InputRules.Text("--tenant-column", result.GetValue(tenantColumn)!, "a column name");
            var target = Path.GetFullPath(result.GetValue(output) ?? DefaultOutput(sourceText));
            if (File.Exists(target) || Directory.Exists(target) || File.Exists(DumpSanitizer.ManifestPathOf(target)))
            {
                throw new UsageException($"--out {target} exists; a masked copy never replaces a file");
            }
            if (!Directory.Exists(Path.GetDirectoryName(target)))
            {
                throw new UsageException($"--out {target}: its directory does not exist");
            }

            var options = new SanitizeOptions
            {
                Rules = maskingRules,
                Pseudonyms = pseudonyms,
                Tenants = kept,
                TenantColumn = column,
                Time = context.Time,
            };
            if (OperatorTools.Locate(context) is not { } tools)
            {
                return ExitCodes.Unavailable;
            }
            return await RunAsync(context, result, buckets, sourceText, scratch, target, options, tools);
        });
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, ParseResult result, BucketOptionSet buckets, string sourceText, OperatorDatabase scratch, string target, SanitizeOptions options, PostgresBinaries tools)
    {
        var stages = new List<string>();
        DumpSource? backup = null;
        try
        {
            var stores = new Dictionary<string, Core.Storage.IBackupStore>(StringComparer.Ordinal);
            foreach (var bucket in SourceBucket(sourceText))
            {
                stores[bucket] = await buckets.OpenAsync(result, bucket, context.Interrupted);
            }
            var opened = await DumpSource.OpenAsync("<source>", sourceText, bucket => stores[bucket], null, context.Interrupted);
            backup = opened;
            var made = await Progress.StepAsync(context, $"sanitizing {opened.Shown} on {scratch}", async () =>
            {
                var done = await DumpSanitizer.SanitizeAsync(opened.Path, opened.Shown, opened.Manifest, scratch.Endpoint, scratch.Database ?? "postgres", target,
                    options with { Progress = new ListProgress(stages) }, tools, context.Interrupted);
                return string.Create(CultureInfo.InvariantCulture, $"{done.Masking.Rules.Count} rules, {done.Masking.MaskedValues} values masked");
            });
            foreach (var stage in stages) await context.Out.WriteLineAsync($"   {stage}");
            await context.Out.WriteLineAsync($"masked copy: {target}");
            await context.Out.WriteLineAsync($"manifest:    {DumpSanitizer.ManifestPathOf(target)}");
            _ = made;
            return ExitCodes.Success;
        }
        catch (MaskingRefusedException refused)
        {
            foreach (var stage in stages) await context.Out.WriteLineAsync($"   {stage}");
            var text = new StringBuilder($"sanitize: refused, nothing written ({refused.Problems.Count} problem{(refused.Problems.Count == 1 ? "" : "s")}; add a rule for each column, keep included):\n");
            foreach (var problem in refused.Problems) text.Append("  ").Append(problem).Append('\n');
            await context.Error.WriteAsync(text.ToString());
            return Refused;
        }
        catch (SanitizeRefusedException refused)
        {
            await context.Error.WriteLineAsync($"sanitize: refused, nothing written: {refused.Message}");
            return Refused;
        }
        catch (Exception error) when (context.Interrupted.IsCancellationRequested
            && error is OperationCanceledException or ExternalProcessException or DumpStreamException or NpgsqlException or IOException)
        {
            // Ctrl-C (a program it stopped may fail rather than cancel): the sanitizer stopped its
            // programs and dropped its scratch database on the way out.
            await context.Error.WriteLineAsync($"sanitize: interrupted; nothing was written under {target} and no scratch database is left");
            return ExitCodes.Interrupted;
        }
        catch (Exception error) when (error is ExternalProcessException or DumpStreamException or InvalidDataException or NpgsqlException or IOException)
        {
            await context.Error.WriteLineAsync($"sanitize: failed, nothing written: {error.Message.Split('\n')[0]}");
            return ExitCodes.Failed;
        }
        finally
        {
            backup?.Dispose();
        }
    }

    /// <summary>The pseudonyms' key from the environment variable named by --key-env: never printed, never an argument.</summary>
    private static Pseudonyms Key(CommandContext context, string variable)
    {
        var name = OperatorRules.VariableName("--key-env", variable);
        var value = context.Environment(name);
        if (string.IsNullOrEmpty(value))
        {
            throw new UsageException($"--key-env {name}: the environment variable {name} is not set; set it to a secret of at least {Pseudonyms.MinimumKeyBytes} bytes (it is never printed)");
        }
        var key = Encoding.UTF8.GetBytes(value);
        try
        {
            return key.Length >= Pseudonyms.MinimumKeyBytes
                ? new Pseudonyms(key)
                : throw new UsageException($"--key-env {name}: the key is {key.Length} bytes long; it must be at least {Pseudonyms.MinimumKeyBytes}");
        }
        finally
        {
            Array.Clear(key);
        }
    }

    private static IEnumerable<string> SourceBucket(string source) =>
        source.StartsWith(Core.Naming.GcsUri.Scheme, StringComparison.Ordinal) && Core.Naming.GcsUri.TryParse(source, out var uri, out _, allowDirectory: true) ? [uri.Bucket] : [];

    /// <summary><c>NAME-sanitized.dump</c> in the current directory, NAME being the source's file name without its dump extensions.</summary>
    private static string DefaultOutput(string source)
    {
        var name = Path.GetFileName(source.TrimEnd('/'));
        foreach (var extension in (string[])[".gz", ".sql", ".dump"])
        {
            if (name.EndsWith(extension, StringComparison.Ordinal)) name = name[..^extension.Length];
        }
        return (name.Length == 0 ? "backup" : name) + "-sanitized.dump";
    }

    /// <summary>Collects the stage lines, printed once the live progress line is done.</summary>
    private sealed class ListProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines) lines.Add(value);
        }
    }
}
