using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>
/// <c>dump</c>: the strategy's logical backup before a risky change (5.2), from the URL in an
/// environment variable: <c>pg_dump --format=custom --no-owner --no-privileges</c> into
/// <c>&lt;out&gt;/backup_YYYYMMDD_HHmm_&lt;env&gt;_before_&lt;change&gt;.dump</c> (0600) with its manifest
/// beside it, and with <c>--upload</c> into the backup bucket, where the catalog and restore-verify
/// see it like any other backup.
/// </summary>
internal static partial class DumpCommand
{
    public const string Usage = """
          dump --from-env VAR --change SLUG [--out DIR] [--environment ENV] [--tenant-column C]
               [--upload --bucket B --instance I [--prefix P] [--local-state DIR | --token-file F]]
              pg_dump --format=custom --no-owner --no-privileges of the database the URL in the
              environment variable VAR names (postgresql://USER:PASSWORD@HOST:PORT/DATABASE; never
              printed; the password reaches pg_dump in a 0600 file) into
              DIR/backup_YYYYMMDD_HHmm_ENV_before_SLUG.dump (UTC minute, mode 0600), and its manifest
              (size, MD5, CRC32C and the content manifest, read from the same bytes as they were
              written) beside it as FILE.manifest.json. Never overwrites a file or an object; a dump
              that fails leaves nothing under the final name.
              --upload copies both, create-only, to gs://B/P/ENV/I/ (I: the Cloud SQL instance the
              database is on), checking the object's size and checksums before the manifest.
              Exit 0 done, 1 the dump or upload failed, 2 interrupted (nothing is left), 64 bad usage,
              69 the server unreachable (or refusing the login) or the client programs not found.
              Defaults: --out backups, --environment prod, --tenant-column tenantId, --prefix backups.
        """;

    /// <summary>The manifest's <see cref="BackupManifest.Format"/> of a custom-format dump.</summary>
    public const string Format = "CUSTOM";

    public static Command Create(CommandContext context)
    {
        var fromEnv = CliOptions.Valued("--from-env", "VAR", "the environment variable holding the source database's URL (never printed)", required: true);
        var change = CliOptions.Valued("--change", "SLUG", "the change the backup is taken before: lowercase letters, digits and '-', e.g. add-deposit-index", required: true);
        var output = CliOptions.Valued("--out", "DIR", "the directory the dump and its manifest are written to (created 0700 when missing)", "backups");
        var environment = CliOptions.Valued("--environment", "ENV", "the environment the database belongs to, part of the name", "prod");
        var tenantColumn = TenantColumnOption();
        var upload = CliOptions.Flag("--upload", "also copy the dump and its manifest into the backup bucket (create-only)");
        var bucket = CliOptions.Valued("--bucket", "B", "with --upload: the backup bucket");
        var prefix = CliOptions.Valued("--prefix", "P", "with --upload: the folder of the backups in the bucket, as the functions' BACKUP_PREFIX", "backups");
        var instance = CliOptions.Valued("--instance", "I", "with --upload: the Cloud SQL instance ID of the source database (part of the object name)");
        var buckets = new BucketOptionSet();
        var command = new CliCommand("dump", "Dumps a database before a change, with its manifest (strategy 5.2).", Usage)
        {
            fromEnv, change, output, environment, tenantColumn, upload, bucket, prefix, instance,
        };
        buckets.AddTo(command);
        CommandTree.SetAction(command, context, async result =>
        {
            var slug = result.GetValue(change)!;
            if (ChangeSlug.Problem(slug, "--change") is { } problem)
            {
                throw new UsageException(problem.Replace("'--change'", "--change", StringComparison.Ordinal));
            }
            var env = Environment(environment.Name, result.GetValue(environment)!);
            var column = TenantColumn(tenantColumn.Name, result.GetValue(tenantColumn)!);
            var directory = OutputDirectory(output.Name, result.GetValue(output)!);
            var target = UploadTarget.Read(result, upload, bucket, prefix, instance, buckets);
            var source = OperatorDatabase.FromEnvironment(context, fromEnv.Name, result.GetValue(fromEnv)!);
            var database = source.Database
                ?? throw new UsageException($"{fromEnv.Name} {source.Variable}: the URL names no database; end it with /DATABASE (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)");
            if (OperatorTools.Locate(context) is not { } tools)
            {
                return ExitCodes.Unavailable;
            }
            var plan = new DumpPlan(source, database, slug, env, column, directory, target, context.Time.GetUtcNow());
            return await new DumpRun(context, plan, tools, result, buckets).RunAsync();
        });
        return command;
    }

    /// <summary><c>--tenant-column</c>, as <c>dump</c> and <c>verify</c> take it.</summary>
    internal static Option<string> TenantColumnOption() => CliOptions.Valued("--tenant-column", "C",
        "the column that marks a tenant's rows (the manifest counts rows and digests per tenant), as the functions' TENANT_COLUMN", "tenantId");

    /// <summary>A column name as in the catalog, as the functions accept <c>TENANT_COLUMN</c>.</summary>
    internal static string TenantColumn(string option, string value)
        => ColumnPattern().IsMatch(value) ? value
            : throw new UsageException($"{option} '{OperatorRules.Printable(value)}' is not a column name such as tenantId or org_id: a letter or '_', then letters, digits, '_' and '$', at most 63 characters");

    private static string Environment(string option, string value)
        => EnvironmentPattern().IsMatch(value) ? value
            : throw new UsageException($"{option} '{OperatorRules.Printable(value)}' is not an environment name such as prod or staging: 1 to 30 lowercase letters, digits and '-', starting with a letter or digit");

    private static string OutputDirectory(string option, string value)
    {
        if (value.Length == 0 || value.Any(char.IsControl))
        {
            throw new UsageException($"{option} '{OperatorRules.Printable(value)}' is not a directory path");
        }
        var full = Path.GetFullPath(value);
        if (File.Exists(full))
        {
            throw new UsageException($"{option} '{OperatorRules.Printable(value)}' is a file, not a directory");
        }
        return full;
    }

    // The environment is part of backup names, whose rule (BackupObjectName) takes at most 30 characters.
    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,29}\z", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentPattern();

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_$]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ColumnPattern();

    /// <summary>What <c>dump</c> was asked for, checked.</summary>
    private sealed record DumpPlan(OperatorDatabase Source, string Database, string Change, string Environment, string TenantColumn,
        string Directory, UploadTarget? Upload, DateTimeOffset StartTime)
    {
        /// <summary>The backup's name: in the bucket with --upload; its last segment is the file's name either way.</summary>
        public BackupObjectName Name { get; } = BackupObjectName.PreDeploy(Upload?.Prefix ?? "backups", Environment, Upload?.Instance ?? "local", StartTime, Change, ".dump");

        public string FilePath => Path.Combine(Directory, Name.FileName);

        public string ManifestPath => DumpSource.ManifestPathOf(FilePath);
    }

    /// <summary><c>--upload</c> and where to: checked before anything runs.</summary>
    private sealed record UploadTarget(string Bucket, string Prefix, string Instance)
    {
        public static UploadTarget? Read(ParseResult result, Option<bool> upload, Option<string> bucket, Option<string> prefix, Option<string> instance, BucketOptionSet buckets)
        {
            var bucketName = result.GetValue(bucket);
            var instanceId = result.GetValue(instance);
            if (!result.GetValue(upload))
            {
                foreach (var option in new Option[] { bucket, instance, prefix, buckets.LocalState, buckets.TokenFile })
                {
                    if (result.GetResult(option) is { Implicit: false })
                    {
                        throw new UsageException($"{option.Name} is only used with --upload");
                    }
                }
                return null;
            }
            if (bucketName is null)
            {
                throw new UsageException($"--upload needs {bucket.Name}: the backup bucket the dump is copied to");
            }
            if (!CloudNames.IsBucket(bucketName))
            {
                throw new UsageException($"{bucket.Name} '{OperatorRules.Printable(bucketName)}' is not a Cloud Storage bucket name");
            }
            if (instanceId is null)
            {
                throw new UsageException($"--upload needs {instance.Name}: the Cloud SQL instance ID of the source database, part of the object name <prefix>/<env>/<instance>/...");
            }
            if (!CloudNames.IsInstance(instanceId))
            {
                throw new UsageException($"{instance.Name} '{OperatorRules.Printable(instanceId)}' is not a Cloud SQL instance ID: lowercase letters, digits and '-', starting with a letter and not ending with '-'");
            }
            var folder = result.GetValue(prefix)!;
            if (!PrefixPattern().IsMatch(folder))
            {
                throw new UsageException($"{prefix.Name} '{OperatorRules.Printable(folder)}' is not a folder path such as backups or db/backups (letters, digits, '.', '_' and '-', no leading or trailing slash, no '..')");
            }
            return new UploadTarget(bucketName, folder, instanceId);
        }
    }

    [GeneratedRegex(@"\A[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();

    /// <summary>One run of <c>dump</c>: the file, its manifest, the upload.</summary>
    private sealed class DumpRun(CommandContext context, DumpPlan plan, PostgresBinaries tools, ParseResult result, BucketOptionSet buckets)
    {
        public async Task<int> RunAsync()
        {
            var name = plan.Name;
            if (plan.Upload is { } upload)
            {
                var uri = $"gs://{upload.Bucket}/{name.Name}";
                if (!GcsUri.TryParse(uri, out _, out var problem) || !BackupObjectName.TryParse(name.Name, upload.Prefix, out _))
                {
                    throw new UsageException($"the backup's object name {OperatorRules.Printable(uri)} is not one the catalog reads{(problem is null ? "" : ": " + problem)}");
                }
            }
            if (File.Exists(plan.FilePath) || File.Exists(plan.ManifestPath))
            {
                throw new UsageException($"{plan.FilePath} (or its manifest) already exists; a backup is never overwritten: give another --change, or --out another directory");
            }
            if (!Directory.Exists(plan.Directory))
            {
                OwnerOnly.CreateDirectory(plan.Directory);
            }

            var temporary = Path.Combine(plan.Directory, $".{name.FileName}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
            try
            {
                DumpedFile dumped;
                try
                {
                    dumped = await DumpAsync(temporary);
                }
                catch (Exception error) when (error is IOException or InvalidDataException or ExternalProcessException)
                {
                    // pg_dump says why in its own (translated) words: whether the server could be reached is asked directly.
                    if (await OperatorServer.UnreachableAsync(plan.Source.Endpoint, plan.Database, context.Interrupted) is { } unreachable)
                    {
                        await context.Error.WriteLineAsync($"dump: could not reach or log in to {plan.Source}: {Shorten(unreachable)}");
                        await context.Error.WriteLineAsync($"dump: nothing was written under {plan.FilePath}");
                        return ExitCodes.Unavailable;
                    }
                    await context.Error.WriteLineAsync($"dump: FAILED: {Shorten(error.Message)}");
                    await context.Error.WriteLineAsync($"dump: nothing was written under {plan.FilePath}");
                    return ExitCodes.Failed;
                }
                var manifest = Manifest(dumped, new Uri(plan.FilePath).AbsoluteUri);
                try
                {
                    await Progress.StepAsync(context, "writing the dump and its manifest under their final names", () => PlaceAsync(temporary, manifest));
                }
                catch (PlacementException error)
                {
                    await context.Error.WriteLineAsync($"dump: FAILED: {error.Message}");
                    return ExitCodes.Failed;
                }
                await context.Out.WriteLineAsync($"dump:     {plan.FilePath}");
                await context.Out.WriteLineAsync($"manifest: {plan.ManifestPath}");
                if (plan.Upload is { } target)
                {
                    var uploaded = await UploadAsync(target, dumped, manifest);
                    if (uploaded is not null)
                    {
                        await context.Error.WriteLineAsync($"dump: upload FAILED: {uploaded}");
                        await context.Error.WriteLineAsync($"dump: the dump and its manifest are complete in {plan.Directory}");
                        return ExitCodes.Failed;
                    }
                }
                return ExitCodes.Success;
            }
            catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
            {
                await context.Error.WriteLineAsync($"dump: interrupted; pg_dump was stopped and nothing was written under {plan.FilePath}");
                return ExitCodes.Interrupted;
            }
            finally
            {
                File.Delete(temporary);
            }
        }

        private async Task<DumpedFile> DumpAsync(string temporary)
        {
            DumpedFile? dumped = null;
            await Progress.StepAsync(context, $"dumping database '{plan.Database}' on {plan.Source} (pg_dump --format=custom; the manifest is read from the same bytes)", async () =>
            {
                dumped = await CustomFormatDump.WriteAsync(plan.Source.Endpoint, plan.Database, temporary,
                    new CustomFormatDumpOptions { TenantColumn = plan.TenantColumn }, tools, context.Interrupted);
                var content = dumped.Content;
                return string.Create(CultureInfo.InvariantCulture,
                    $"{dumped.SizeBytes / 1048576.0:F1} MB, {content.Tables.Count} tables, {content.TotalRows:N0} rows, migration head {content.Migrations?.Head ?? "(none)"}");
            });
            return dumped!;
        }

        private BackupManifest Manifest(DumpedFile dumped, string uri) => new()
        {
            Uri = uri,
            Kind = BackupKinds.OperatorDump,
            Environment = plan.Environment,
            // Without --upload there may be no instance ID to name: the server, never its login.
            SourceInstance = plan.Upload?.Instance ?? $"{plan.Source.Endpoint.Host}:{plan.Source.Endpoint.Port.ToString(CultureInfo.InvariantCulture)}",
            Databases = [plan.Database],
            DatabaseVersion = DatabaseVersion(dumped.Content.ServerVersion),
            Format = Format,
            Trigger = new BackupTrigger { Change = plan.Change, RequestedBy = System.Environment.UserName },
            StartTime = plan.StartTime,
            EndTime = context.Time.GetUtcNow(),
            SizeBytes = dumped.SizeBytes,
            Md5Hash = dumped.Md5Hash,
            Crc32c = dumped.Crc32c,
            Content = dumped.Content,
        };

        /// <summary>
        /// The dump under its final name, then the manifest beside it, each create-only (link(2));
        /// <see cref="PlacementException"/> says why not, and then nothing is left under either name:
        /// a dump without its manifest is not a backup.
        /// </summary>
        private async Task<string> PlaceAsync(string temporary, BackupManifest manifest)
        {
            var manifestTemporary = temporary + ".manifest";
            try
            {
                try
                {
                    await using var file = OwnerOnly.CreateFile(manifestTemporary);
                    await JsonSerializer.SerializeAsync(file, manifest, CatalogJson.Options, context.Interrupted);
                    file.Flush(flushToDisk: true);
                }
                catch (IOException error)
                {
                    throw new PlacementException($"could not write the manifest beside {plan.FilePath}: {error.Message}; nothing was left under the final name");
                }
                if (HardLink.TryCreate(temporary, plan.FilePath) is var linked and not 0)
                {
                    throw new PlacementException(linked == HardLink.TargetExists
                        ? $"{plan.FilePath} appeared while the dump ran; it is left as it is and this dump is discarded"
                        : $"could not name the dump {plan.FilePath} (errno {linked}); it is discarded");
                }
                if (HardLink.TryCreate(manifestTemporary, plan.ManifestPath) is var written and not 0)
                {
                    // The dump under its final name is this run's own link: without its manifest it goes.
                    File.Delete(plan.FilePath);
                    throw new PlacementException(written == HardLink.TargetExists
                        ? $"{plan.ManifestPath} appeared while the dump ran; it is left as it is and this dump is discarded"
                        : $"could not write the manifest {plan.ManifestPath} (errno {written}); this dump is discarded");
                }
                return "0600, manifest beside it";
            }
            finally
            {
                File.Delete(manifestTemporary);
            }
        }

        /// <summary>The dump, then (its object checked) its manifest, create-only; null when done, else why not.</summary>
        private async Task<string?> UploadAsync(UploadTarget target, DumpedFile dumped, BackupManifest local)
        {
            var name = plan.Name;
            var uri = $"gs://{target.Bucket}/{name.Name}";
            var store = await buckets.OpenAsync(result, target.Bucket, context.Interrupted);
            try
            {
                await Progress.StepAsync(context, $"uploading to {uri}", async () =>
                {
                    StoredObject stored;
                    await using (var file = new FileStream(plan.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
                    {
                        stored = await store.WriteAsync(name.Name, file, "application/octet-stream", ifGenerationMatch: 0, context.Interrupted);
                    }
                    if (Differences(stored, dumped) is { Count: > 0 } differences)
                    {
                        // This run's own object (its generation): never left behind as a backup without manifest.
                        await store.DeleteAsync(name.Name, stored.Generation, CancellationToken.None);
                        throw new PlacementException($"{uri} was not the dump that was written ({string.Join("; ", differences)}); it was deleted and no manifest recorded");
                    }
                    var catalog = new BackupCatalog(store, target.Prefix, context.Time);
                    var (_, created) = await catalog.RecordAsync(name, local with { Uri = uri, Generation = stored.Generation }, context.Interrupted);
                    if (!created)
                    {
                        throw new PlacementException($"gs://{target.Bucket}/{name.ManifestName} already existed; it was left as it is");
                    }
                    return string.Create(CultureInfo.InvariantCulture, $"{stored.Size / 1048576.0:F1} MB, size and checksums match, manifest recorded");
                });
            }
            catch (StorePreconditionFailedException)
            {
                return $"{uri} already exists in the bucket; a backup is never overwritten";
            }
            catch (PlacementException error)
            {
                return error.Message;
            }
            await context.Out.WriteLineAsync($"uploaded: {uri}");
            await context.Out.WriteLineAsync($"          gs://{target.Bucket}/{name.ManifestName}");
            return null;
        }

        private static List<string> Differences(StoredObject stored, DumpedFile dumped)
        {
            var differences = new List<string>();
            if (stored.Size != dumped.SizeBytes)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{stored.Size:N0} bytes stored, {dumped.SizeBytes:N0} written"));
            }
            if (stored.Md5Hash is null && stored.Crc32c is null)
            {
                differences.Add("the bucket reports no checksum to compare with");
            }
            if (stored.Md5Hash is { } md5 && md5 != dumped.Md5Hash)
            {
                differences.Add($"MD5 {md5} stored, {dumped.Md5Hash} written");
            }
            if (stored.Crc32c is { } crc && crc != dumped.Crc32c)
            {
                differences.Add($"CRC32C {crc} stored, {dumped.Crc32c} written");
            }
            return differences;
        }
    }

    /// <summary>Cloud SQL's name of the server's major version (<c>POSTGRES_15</c>), from the dump's header; null when it names none.</summary>
    internal static string? DatabaseVersion(string? serverVersion)
    {
        var digits = new string((serverVersion ?? "").TakeWhile(char.IsAsciiDigit).ToArray());
        return digits.Length > 0 ? "POSTGRES_" + digits : null;
    }

    private static string Shorten(string message)
    {
        var text = message.ReplaceLineEndings(" ").Trim();
        return text.Length > 600 ? text[..600] + "…" : text;
    }

    /// <summary>A finished dump could not be given its name, or its upload is not what was written.</summary>
    private sealed class PlacementException(string message) : Exception(message);
}
