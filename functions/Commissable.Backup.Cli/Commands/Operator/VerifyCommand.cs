using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>
/// <c>verify</c>: the proof that a dump file (or a backup in the bucket) restores to what its
/// manifest says: the file checked against the manifest's size and checksums, restored into a
/// scratch database it creates on the server a URL names, the restore-verify checks run against the
/// manifest's content, and the scratch database dropped whatever happened.
/// </summary>
internal static partial class VerifyCommand
{
    public const string Usage = """
          verify FILE|gs://URI --scratch-env VAR [--jobs N] [--critical-table T]... [--keep-going]
                 [--without-manifest [--tenant-column C] [--time-zone TZ]] [--local-state DIR | --token-file F]
              Proves a dump restores to what its manifest (FILE.manifest.json, or the catalog's for a
              gs:// backup) says: checks the file's size, MD5 and CRC32C against the manifest, creates
              a scratch database verify_<time>_<random> on the server the URL in the environment
              variable VAR names (an admin login; never printed; refused when it is listed in
              PRODUCTION_HOSTS or PRODUCTION_INSTANCES), restores the file with pg_restore --jobs N
              (or psql for plain SQL), runs the checks restore-verify runs (every table's rows and
              digest, per tenant, sequences, migrations, schema, extensions, materialized views,
              comments, critical tables) and always drops the scratch database, also on Ctrl-C.
              Prints each check and a summary. Without a manifest it refuses, unless --without-manifest:
              then the file is compared with its own bytes, which proves it restores, not that it is
              the backup that was taken. --keep-going restores and checks even after the file check
              or the restore failed, to show what differs (the outcome stays a failure).
              Exit 0 every check passed, 1 a check failed (or no manifest), 2 interrupted, 64 bad usage,
              69 the server unreachable (or refusing the login) or the client programs not found.
              Defaults: --jobs 2, --tenant-column tenantId, --time-zone UTC.
        """;

    /// <summary>The check that the file is the one its manifest describes (size and checksums).</summary>
    public const string FileMatches = "file.matches-manifest";

    /// <summary>The check that the content manifest could be had.</summary>
    public const string ContentRead = "content.read";

    /// <summary>The check that the restore itself succeeded.</summary>
    public const string RestoreSucceeded = "restore.succeeded";

    /// <summary>The check that fails when the restored database could not be checked at all (as live mode names it).</summary>
    public const string DatabaseReachable = "database.reachable";

    /// <summary>How long the scratch database's drop may take once the command was interrupted or failed.</summary>
    private static readonly TimeSpan DropTimeout = TimeSpan.FromMinutes(2);

    public static Command Create(CommandContext context)
    {
        var source = new Argument<string>("source") { Description = "the dump: a file, a directory-format dump's directory, or a gs:// URI", HelpName = "FILE|gs://URI" };
        var scratchEnv = CliOptions.Valued("--scratch-env", "VAR", "the environment variable holding an admin URL of the server to restore on (never printed)", required: true);
        var jobs = CliOptions.Valued("--jobs", "N", "pg_restore's parallel jobs (1 to 64)", "2");
        var critical = CliOptions.Repeatable("--critical-table", "T", "a table that must exist and hold rows (table or schema.table)");
        var keepGoing = CliOptions.Flag("--keep-going", "restore and check even after the file check or the restore failed (the outcome stays a failure)");
        var withoutManifest = CliOptions.Flag("--without-manifest", "verify a file that has no manifest against its own bytes: proves it restores, not that it is the backup taken");
        var tenantColumn = DumpCommand.TenantColumnOption();
        var timeZone = CliOptions.Valued("--time-zone", "TZ", "with --without-manifest: the time zone the dump was written in", "UTC");
        var buckets = new BucketOptionSet();
        var command = new CliCommand("verify", "Restores a dump into a scratch database and runs restore-verify's checks.", Usage)
        {
            source, scratchEnv, jobs, critical, keepGoing, withoutManifest, tenantColumn, timeZone,
        };
        buckets.AddTo(command);
        CommandTree.SetAction(command, context, async result =>
        {
            var jobCount = int.TryParse(result.GetValue(jobs), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 64 ? n
                : throw new UsageException($"{jobs.Name} '{OperatorRules.Printable(result.GetValue(jobs)!)}' is not a number of jobs from 1 to 64");
            var tables = (result.GetValue(critical) ?? []).Select(t => InputRules.Table(critical.Name, t)).Distinct(StringComparer.Ordinal).ToList();
            var noManifest = result.GetValue(withoutManifest);
            foreach (var option in new Option[] { tenantColumn, timeZone })
            {
                if (!noManifest && result.GetResult(option) is { Implicit: false })
                {
                    throw new UsageException($"{option.Name} is only used with {withoutManifest.Name} (a manifest records it)");
                }
            }
            var reading = new DumpReadOptions
            {
                TenantColumn = DumpCommand.TenantColumn(tenantColumn.Name, result.GetValue(tenantColumn)!),
                TimeZone = TimeZoneName().IsMatch(result.GetValue(timeZone)!) ? result.GetValue(timeZone)!
                    : throw new UsageException($"{timeZone.Name} '{OperatorRules.Printable(result.GetValue(timeZone)!)}' is not a time zone name such as UTC or America/New_York"),
            };
            var server = OperatorDatabase.FromEnvironment(context, scratchEnv.Name, result.GetValue(scratchEnv)!);
            await RefuseProductionAsync(context, server, scratchEnv.Name);
            if (OperatorTools.Locate(context) is not { } tools)
            {
                return ExitCodes.Unavailable;
            }
            var request = new VerifyRequest(result.GetValue(source)!, server, jobCount, tables, result.GetValue(keepGoing), noManifest, reading);
            return await new VerifyRun(context, request, tools, result, buckets).RunAsync();
        });
        return command;
    }

    /// <summary>
    /// Verify only creates and drops its own scratch database, so it runs where no production list
    /// is configured; a server that is listed is still refused.
    /// </summary>
    private static async Task RefuseProductionAsync(CommandContext context, OperatorDatabase server, string option)
    {
        if (!string.IsNullOrWhiteSpace(context.Environment(ProductionTargets.HostsVariable))
            || !string.IsNullOrWhiteSpace(context.Environment(ProductionTargets.InstancesVariable)))
        {
            await ProductionTargets.FromEnvironment(context).RefuseAsync(server.Endpoint, null, option, context.Interrupted);
        }
    }

    [GeneratedRegex(@"\A[A-Za-z0-9_+\-/:.]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TimeZoneName();

    private sealed record VerifyRequest(string Source, OperatorDatabase Server, int Jobs, IReadOnlyList<string> CriticalTables, bool KeepGoing, bool WithoutManifest,
        DumpReadOptions Reading)
    {
        /// <summary>The database the admin login connects to for CREATE and DROP DATABASE.</summary>
        public string Maintenance => Server.Database ?? "postgres";
    }

    /// <summary>One run of <c>verify</c>.</summary>
    private sealed class VerifyRun(CommandContext context, VerifyRequest request, PostgresBinaries tools, ParseResult result, BucketOptionSet buckets)
    {
        private readonly List<CheckResult> _checks = [];

        public async Task<int> RunAsync()
        {
            string? scratch = null;
            try
            {
                using var source = await OpenAsync();
                var content = await ContentAsync(source);
                if (content is null)
                {
                    return await ReportAsync(source.Shown, null);
                }
                if (_checks.Any(c => !c.Passed) && !request.KeepGoing)
                {
                    await context.Out.WriteLineAsync("verify: not restored: the file is not the one its manifest describes (--keep-going restores it anyway)");
                    return await ReportAsync(source.Shown, null);
                }

                var created = ScratchName();
                try
                {
                    await Progress.StepAsync(context, $"creating the scratch database {created} on {request.Server}", async () =>
                    {
                        scratch = created;
                        await ExecuteAsync($"CREATE DATABASE \"{created}\" TEMPLATE template0", context.Interrupted);
                        return "created";
                    });
                }
                catch (Exception error) when (error is NpgsqlException or PostgresException or SocketException or TimeoutException)
                {
                    // CREATE DATABASE is all or nothing: there is nothing to drop.
                    scratch = null;
                    if (OperatorServer.IsUnreachable(error))
                    {
                        await context.Error.WriteLineAsync($"verify: could not reach or log in to the server {request.Server}: {error.Message.Split('\n')[0]}; nothing was created");
                        return ExitCodes.Unavailable;
                    }
                    await context.Error.WriteLineAsync($"verify: FAILED: the server {request.Server} did not create the scratch database: {error.Message.Split('\n')[0]}");
                    return ExitCodes.Failed;
                }
                var restored = await RestoreAsync(source, created);
                if (restored || request.KeepGoing)
                {
                    await CheckAsync(created, content);
                }
                else
                {
                    await context.Out.WriteLineAsync("verify: not checked: the restore failed (--keep-going checks what it restored)");
                }
                var dropped = await DropAsync(created);
                scratch = null;
                return await ReportAsync(source.Shown, dropped);
            }
            catch (OperationCanceledException) when (context.Interrupted.IsCancellationRequested)
            {
                var dropped = scratch is null ? null : await DropAsync(scratch);
                await context.Error.WriteLineAsync(scratch is null
                    ? "verify: interrupted; no scratch database had been created"
                    : dropped is null ? $"verify: interrupted; the scratch database {scratch} was dropped"
                    : $"verify: interrupted; {dropped}");
                scratch = null;
                return ExitCodes.Interrupted;
            }
            finally
            {
                if (scratch is not null)
                {
                    // An exception nobody expected: the copy of the data still goes.
                    if (await DropAsync(scratch) is { } problem)
                    {
                        await context.Error.WriteLineAsync($"verify: {problem}");
                    }
                }
            }
        }

        private async Task<DumpSource> OpenAsync()
        {
            IBackupStore? store = null;
            if (request.Source.StartsWith(GcsUri.Scheme, StringComparison.Ordinal) && GcsUri.TryParse(request.Source, out var uri, out _, allowDirectory: true))
            {
                store = await buckets.OpenAsync(result, uri.Bucket, context.Interrupted);
                DumpSource? opened = null;
                await Progress.StepAsync(context, $"downloading {request.Source}", async () =>
                {
                    opened = await DumpSource.OpenAsync("<source>", request.Source, _ => store, null, context.Interrupted);
                    return opened.Manifest is null ? "no manifest beside it" : "with its manifest";
                });
                return opened!;
            }
            return await DumpSource.OpenAsync("<source>", request.Source, _ => store ?? throw new UsageException("not a gs:// URI"), null, context.Interrupted);
        }

        /// <summary>The content to compare with (null when there is none: the checks then say why), after the file check.</summary>
        private async Task<BackupContent?> ContentAsync(DumpSource source)
        {
            if (source.Manifest is null && !request.WithoutManifest)
            {
                _checks.Add(new CheckResult(ContentRead, false,
                    $"{source.Shown} has no manifest ({Path.GetFileName(DumpSource.ManifestPathOf(source.Shown))} beside it): nothing says what it should hold. "
                    + "--without-manifest compares a restore with the file's own bytes, which proves the file restores but not that it is the backup that was taken"));
                return null;
            }
            if (request.WithoutManifest)
            {
                return await ReadFromFileAsync(source,
                    $"without a manifest{(source.Manifest is null ? "" : " (the one beside it is not used)")}: read from the file's own bytes, which proves the file restores, not that it is the backup that was taken");
            }

            var manifest = source.Manifest!;
            CheckResult? fileCheck = null;
            try
            {
                await Progress.StepAsync(context, $"checking {source.Shown} against its manifest", async () =>
                {
                    fileCheck = await FileCheckAsync(source.Path, manifest);
                    // A mismatch is this step's failure (the check below says what differs).
                    return fileCheck.Passed ? "it matches" : throw new MismatchException();
                });
            }
            catch (MismatchException)
            {
            }
            _checks.Add(fileCheck!);
            if (manifest.Content is { } recorded)
            {
                return recorded;
            }
            return await ReadFromFileAsync(source, "the manifest holds no content manifest (written before they existed): read from the file's bytes");
        }

        private async Task<BackupContent?> ReadFromFileAsync(DumpSource source, string why)
        {
            try
            {
                BackupContent? content = null;
                await Progress.StepAsync(context, $"reading the content of {source.Shown}", async () =>
                {
                    content = await PostgresBackupContentReader.ReadFileAsync(source.Path, request.Reading, tools, context.Interrupted);
                    return string.Create(CultureInfo.InvariantCulture, $"{content.Tables.Count} tables, {content.TotalRows:N0} rows");
                });
                _checks.Add(new CheckResult(ContentRead, true, string.Create(CultureInfo.InvariantCulture, $"{why}: {content!.Tables.Count} tables, {content.TotalRows:N0} rows")));
                return content;
            }
            catch (Exception error) when (error is IOException or InvalidDataException or ExternalProcessException)
            {
                _checks.Add(new CheckResult(ContentRead, false, $"{source.Shown} could not be read as a dump, so nothing was restored: {Shorten(error.Message)}"));
                return null;
            }
        }

        /// <summary>The file against the manifest's size and checksums, computed from the bytes that will be restored.</summary>
        private async Task<CheckResult> FileCheckAsync(string path, BackupManifest manifest)
        {
            if (Directory.Exists(path))
            {
                var files = Directory.GetFiles(path);
                var total = files.Sum(f => new FileInfo(f).Length);
                return manifest.SizeBytes is not { } recorded
                    ? new CheckResult(FileMatches, false, "the manifest records no size for this directory-format dump: nothing shows the files are the backup it describes")
                    : recorded == total
                        ? new CheckResult(FileMatches, true, string.Create(CultureInfo.InvariantCulture, $"{files.Length} files, {total:N0} bytes as recorded (a directory-format dump has no single checksum)"))
                        : new CheckResult(FileMatches, false, string.Create(CultureInfo.InvariantCulture, $"the files hold {total:N0} bytes, the manifest records {recorded:N0}"));
            }
            if (manifest.SizeBytes is null && manifest.Md5Hash is null && manifest.Crc32c is null)
            {
                return new CheckResult(FileMatches, false, "the manifest records no size or checksum: nothing shows this file is the backup it describes");
            }
            var (size, md5, crc) = await HashAsync(path);
            var differences = new List<string>();
            if (manifest.SizeBytes is { } expected && expected != size)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"it is {size:N0} bytes, the manifest records {expected:N0}{(size < expected ? " (truncated)" : "")}"));
            }
            if (manifest.Md5Hash is { } recordedMd5 && recordedMd5 != md5)
            {
                differences.Add($"its MD5 is {md5}, the manifest records {recordedMd5}");
            }
            if (manifest.Crc32c is { } recordedCrc && recordedCrc != crc)
            {
                differences.Add($"its CRC32C is {crc}, the manifest records {recordedCrc}");
            }
            return differences.Count == 0
                ? new CheckResult(FileMatches, true, string.Create(CultureInfo.InvariantCulture,
                    $"{size:N0} bytes{(manifest.Md5Hash is null ? "" : ", MD5")}{(manifest.Crc32c is null ? "" : ", CRC32C")} as the manifest records"))
                : new CheckResult(FileMatches, false, $"changed since the manifest was written: {string.Join("; ", differences)}");
        }

        private async Task<(long Size, string Md5, string Crc32c)> HashAsync(string path)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                var crc = new Crc32C();
                long size = 0;
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
                int read;
                while ((read = await file.ReadAsync(buffer.AsMemory(0, 1 << 20), context.Interrupted)) > 0)
                {
                    md5.AppendData(buffer, 0, read);
                    crc.Append(buffer.AsSpan(0, read));
                    size += read;
                }
                return (size, Convert.ToBase64String(md5.GetHashAndReset()), crc.ToBase64());
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>restore-verify's checks of the restored database against <paramref name="content"/>.</summary>
        private async Task CheckAsync(string scratch, BackupContent content)
        {
            var description = $"the scratch database {scratch} on {request.Server}";
            try
            {
                await Progress.StepAsync(context, $"checking {scratch} against the manifest", async () =>
                {
                    var found = await DatabaseProof.CheckAsync(request.Server.Endpoint, scratch, description, content,
                        new VerificationOptions { CriticalTables = request.CriticalTables }, tools, context.Interrupted);
                    _checks.AddRange(found);
                    return string.Create(CultureInfo.InvariantCulture, $"{found.Count(c => c.Passed)} of {found.Count} checks passed");
                });
            }
            catch (Exception error) when (error is NpgsqlException or PostgresException)
            {
                _checks.Add(new CheckResult(DatabaseReachable, false, $"{description} could not be checked: {error.Message.Split('\n')[0]}"));
            }
        }

        /// <summary>Restores into <paramref name="scratch"/>; true when the restore succeeded (the check says either way).</summary>
        private async Task<bool> RestoreAsync(DumpSource source, string scratch)
        {
            try
            {
                await Progress.StepAsync(context, string.Create(CultureInfo.InvariantCulture, $"restoring {source.Shown} into {scratch} (--jobs {request.Jobs})"), async () =>
                {
                    await DumpRestore.RestoreAsync(request.Server.Endpoint, scratch, source.Path, new DumpRestoreOptions { Jobs = request.Jobs }, tools, context.Interrupted);
                    return "restored";
                });
                _checks.Add(new CheckResult(RestoreSucceeded, true, $"restored {source.Shown} into {scratch} on {request.Server}"));
                return true;
            }
            catch (Exception error) when (error is ExternalProcessException or IOException or InvalidDataException)
            {
                _checks.Add(new CheckResult(RestoreSucceeded, false, $"{source.Shown} did not restore: {Shorten(error.Message)}"));
                return false;
            }
        }

        /// <summary>Drops the scratch database, whatever the operator's Ctrl-C; null when dropped, else what to do.</summary>
        private async Task<string?> DropAsync(string scratch)
        {
            using var timeout = new CancellationTokenSource(DropTimeout);
            try
            {
                await ExecuteAsync($"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)", timeout.Token);
                await context.Out.WriteLineAsync($"verify: dropped the scratch database {scratch}");
                return null;
            }
            catch (Exception error) when (error is NpgsqlException or PostgresException or OperationCanceledException)
            {
                return $"the scratch database {scratch} on {request.Server} could not be dropped ({error.Message.Split('\n')[0]}): it holds a copy of the data; drop it by hand";
            }
        }

        private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
        {
            await using var connection = new NpgsqlConnection(request.Server.Endpoint.ConnectionString(request.Maintenance, "commissable-verify"));
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        /// <summary><c>verify_&lt;yyyyMMddHHmmss&gt;_&lt;random&gt;</c>: unique, and a plain identifier (quoted all the same).</summary>
        private string ScratchName()
        {
            var name = string.Create(CultureInfo.InvariantCulture,
                $"verify_{context.Time.GetUtcNow().UtcDateTime:yyyyMMddHHmmss}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
            return CloudNames.IsDatabase(name) ? name : throw new InvalidOperationException($"'{name}' is not a database name");
        }

        /// <summary>Each check, then the summary; 0 only when there were checks and every one passed and the scratch database is gone.</summary>
        private async Task<int> ReportAsync(string shown, string? dropProblem)
        {
            await context.Out.WriteLineAsync();
            await context.Out.WriteLineAsync($"checks of {shown}:");
            foreach (var check in _checks)
            {
                await context.Out.WriteLineAsync($"  {(check.Passed ? "PASS" : "FAIL")}  {check.Name}: {check.Detail}");
            }
            var failed = _checks.Where(c => !c.Passed).ToList();
            if (dropProblem is not null)
            {
                await context.Error.WriteLineAsync($"verify: {dropProblem}");
            }
            if (_checks.Count > 0 && failed.Count == 0 && dropProblem is null)
            {
                await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"verify: PASSED: all {_checks.Count} checks passed"));
                return ExitCodes.Success;
            }
            await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"verify: FAILED: {failed.Count} of {_checks.Count} checks failed{(failed.Count == 0 ? "" : ": " + string.Join(", ", failed.Select(c => c.Name)))}"));
            return ExitCodes.Failed;
        }
    }

    /// <summary>The file is not the one its manifest describes: the step shows FAILED.</summary>
    private sealed class MismatchException : Exception;

    private static string Shorten(string message)
    {
        var text = message.ReplaceLineEndings(" ").Trim();
        return text.Length > 600 ? text[..600] + "…" : text;
    }
}
