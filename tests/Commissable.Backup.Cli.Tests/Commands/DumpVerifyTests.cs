using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Local;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Retention;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// <c>dump</c> and <c>verify</c> on one drill's local cloud: the demo database in <c>prod</c>
/// dumped to a private file whose manifest equals the source's content, verified by a restore on
/// the other instance (<c>verify</c>); truncated, tampered and manifest-less copies fail; bad input
/// and failed dumps leave nothing; an upload is a backup the catalog lists and restore-verify passes.
/// No password is printed anywhere.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class DumpVerifyTests(OperatorStack stack, ITestOutputHelper output) : IClassFixture<OperatorStack>, IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 42, TimeSpan.Zero);
    private const string FileName = "backup_20250301_1200_prod_before_add-deposit-index.dump";

    private readonly string _directory = Directory.CreateTempSubdirectory("opdump-").FullName;
    private readonly List<string> _said = [];

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
    }

    private sealed record Result(int Exit, string Out, string Error)
    {
        public override string ToString() => $"exit {Exit}\n--- out\n{Out}\n--- err\n{Error}";
    }

    private async Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, CancellationToken interrupted, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CommandContext(stdout, stderr, new StoppedClock(Now), (d, t) => Task.Delay(d, t), interrupted)
        {
            Environment = name => environment.GetValueOrDefault(name),
        };
        var exit = await CommandTree.InvokeAsync(args, context);
        var result = new Result(exit, stdout.ToString(), stderr.ToString());
        _said.Add(result.Out);
        _said.Add(result.Error);
        output.WriteLine($"$ commissable-backup {string.Join(' ', args)}\n{result}");
        return result;
    }

    private Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) => RunAsync(environment, CancellationToken.None, args);

    private Dictionary<string, string> Environment() => new() { ["PROD_URL"] = stack.ProdUrl, ["SCRATCH_URL"] = stack.ScratchUrl };

    private string OutDirectory(string name) => Path.Combine(_directory, name);

    /// <summary>Everything printed, scanned for the password and for anything shaped like a URL with a login.</summary>
    private void AssertNoSecretPrinted() =>
        SecretScan.AssertClean(_said.Where(s => s.Length > 0).Select(s => ("command output", s)), [stack.Password, stack.ProdUrl, stack.ScratchUrl], SecretScan.CredentialShapes);

    private async Task<string> DumpAsync(string outName)
    {
        var result = await RunAsync(Environment(), "dump", "--from-env", "PROD_URL", "--change", "add-deposit-index", "--out", OutDirectory(outName));
        Assert.True(result.Exit == 0, result.ToString());
        return Path.Combine(OutDirectory(outName), FileName);
    }

    [Fact]
    public async Task A_dump_is_a_private_file_whose_manifest_equals_the_sources_content_and_it_verifies_on_another_instance()
    {
        var scratchBefore = await stack.DatabaseNamesAsync(LocalStack.VerifyInstance);

        var file = await DumpAsync("first");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var manifestPath = file + ".manifest.json";
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(manifestPath));
        Assert.Equal([FileName, FileName + ".manifest.json"], Directory.GetFiles(OutDirectory("first")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var manifest = JsonSerializer.Deserialize<BackupManifest>(await File.ReadAllTextAsync(manifestPath), CatalogJson.Options)!;
        Assert.Equal(BackupKinds.OperatorDump, manifest.Kind);
        Assert.Equal("CUSTOM", manifest.Format);
        Assert.Equal("add-deposit-index", manifest.Trigger.Change);
        Assert.Equal(["crm"], manifest.Databases);
        Assert.Equal("prod", manifest.Environment);
        Assert.Equal(new FileInfo(file).Length, manifest.SizeBytes);
        Assert.Equal(new Uri(file).AbsoluteUri, manifest.Uri);

        // The manifest's content is the source database's, compared exactly.
        var source = await PostgresBackupContentReader.ReadDatabaseAsync(stack.Prod, "crm", "prod's crm", new DumpReadOptions { TimeZone = "UTC" }, PostgresBinaries.LocateClient());
        Assert.All(ContentComparison.Compare(manifest.Content!, source), c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));

        var verified = await RunAsync(Environment(), "verify", file, "--scratch-env", "SCRATCH_URL", "--critical-table", "Tenant");

        Assert.True(verified.Exit == 0, verified.ToString());
        foreach (var check in new[] { "file.matches-manifest", "restore.succeeded", "content.tables", "content.tenants", "sequences.recorded", "schema.fingerprint", "tables.critical" })
        {
            Assert.Contains($"  PASS  {check}: ", verified.Out, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("  FAIL  ", verified.Out, StringComparison.Ordinal);
        Assert.Contains("verify: PASSED", verified.Out, StringComparison.Ordinal);
        Assert.Equal(scratchBefore, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));
        AssertNoSecretPrinted();
    }

    [Fact]
    public async Task A_dump_restored_into_a_new_database_on_another_instance_holds_the_sources_schema_rows_and_sequences()
    {
        var file = await DumpAsync("to-restore");
        var environment = Environment();
        environment["APP_PASSWORD"] = "crm-app-pw-dump-restore-71c2";
        environment["PRODUCTION_HOSTS"] = stack.Prod.Host;

        var restored = await RunAsync(environment, "restore", file, "--to-env", "SCRATCH_URL", "--database", "crm_from_dump",
            "--app-user", "crm_app_dump", "--app-password-env", "APP_PASSWORD");

        Assert.True(restored.Exit == 0, restored.ToString());
        try
        {
            // Read independently of both commands: the source and the copy, compared exactly.
            var tools = PostgresBinaries.LocateClient();
            var reading = new DumpReadOptions { TimeZone = "UTC" };
            var source = await PostgresBackupContentReader.ReadDatabaseAsync(stack.Prod, "crm", "prod's crm", reading, tools);
            var copy = await PostgresBackupContentReader.ReadDatabaseAsync(stack.Scratch, "crm_from_dump", "verify's crm_from_dump", reading, tools);
            var comparison = ContentComparison.Compare(source, copy);
            Assert.All(comparison, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
            Assert.Contains(comparison, c => c.Name == "schema.fingerprint");
            Assert.Contains(comparison, c => c.Name == "sequences.recorded");
            Assert.True(source.TotalRows > 0 && source.Sequences.Count > 0, "the source has rows and sequences to compare");
            Assert.Equal(source.Sequences, copy.Sequences);
            Assert.Equal(source.SchemaFingerprint, copy.SchemaFingerprint);
        }
        finally
        {
            await using var connection = new NpgsqlConnection(stack.Scratch.ConnectionString("postgres"));
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand("DROP DATABASE IF EXISTS crm_from_dump WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        // The .env.local templates are URLs with <PASSWORD> in them, so the scan is for the secrets themselves.
        Assert.Contains("<PASSWORD>@", restored.Out, StringComparison.Ordinal);
        SecretScan.AssertClean(_said.Where(s => s.Length > 0).Select(s => ("command output", s)), [stack.Password, environment["APP_PASSWORD"], stack.ProdUrl, stack.ScratchUrl], []);
    }

    [Fact]
    public async Task A_truncated_copy_fails_the_file_check_before_anything_is_restored()
    {
        var file = await DumpAsync("truncated");
        var copy = await CopyWithManifestAsync(file, "cut", bytes => bytes[..(bytes.Length / 2)]);
        var scratchBefore = await stack.DatabaseNamesAsync(LocalStack.VerifyInstance);

        var result = await RunAsync(Environment(), "verify", copy, "--scratch-env", "SCRATCH_URL");

        Assert.Equal(1, result.Exit);
        Assert.Contains("  FAIL  file.matches-manifest: changed since the manifest was written: it is ", result.Out, StringComparison.Ordinal);
        Assert.Contains("(truncated)", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("creating the scratch database", result.Out, StringComparison.Ordinal);
        Assert.Contains("verify: FAILED", result.Out, StringComparison.Ordinal);
        Assert.Equal(scratchBefore, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));

        // Restored anyway, the cut archive does not restore, and the scratch database still goes.
        var anyway = await RunAsync(Environment(), "verify", copy, "--scratch-env", "SCRATCH_URL", "--keep-going");

        Assert.Equal(1, anyway.Exit);
        Assert.Contains("  FAIL  restore.succeeded: ", anyway.Out, StringComparison.Ordinal);
        Assert.Contains("verify: dropped the scratch database verify_20250301120042_", anyway.Out, StringComparison.Ordinal);
        Assert.Equal(scratchBefore, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));
        AssertNoSecretPrinted();
    }

    [Fact]
    public async Task A_tampered_copy_of_the_same_size_fails_on_its_checksums()
    {
        var file = await DumpAsync("tampered");
        var copy = await CopyWithManifestAsync(file, "changed", bytes =>
        {
            bytes[bytes.Length / 2] ^= 0x01;
            return bytes;
        });
        Assert.Equal(new FileInfo(file).Length, new FileInfo(copy).Length);
        var scratchBefore = await stack.DatabaseNamesAsync(LocalStack.VerifyInstance);

        var result = await RunAsync(Environment(), "verify", copy, "--scratch-env", "SCRATCH_URL");

        Assert.Equal(1, result.Exit);
        Assert.Contains("  FAIL  file.matches-manifest: changed since the manifest was written: its MD5 is ", result.Out, StringComparison.Ordinal);
        Assert.Contains("its CRC32C is ", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("the manifest records " + new FileInfo(file).Length.ToString("N0", CultureInfo.InvariantCulture), result.Out, StringComparison.Ordinal);
        Assert.Equal(scratchBefore, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));
    }

    [Fact]
    public async Task Without_a_manifest_verify_refuses_unless_asked_and_then_says_what_it_proves()
    {
        var file = await DumpAsync("bare");
        var bare = Path.Combine(_directory, "bare.dump");
        File.Copy(file, bare);

        var refused = await RunAsync(Environment(), "verify", bare, "--scratch-env", "SCRATCH_URL");

        Assert.Equal(1, refused.Exit);
        Assert.Contains("  FAIL  content.read: ", refused.Out, StringComparison.Ordinal);
        Assert.Contains("has no manifest (bare.dump.manifest.json beside it)", refused.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("creating the scratch database", refused.Out, StringComparison.Ordinal);

        var asked = await RunAsync(Environment(), "verify", bare, "--scratch-env", "SCRATCH_URL", "--without-manifest");

        Assert.True(asked.Exit == 0, asked.ToString());
        Assert.Contains("  PASS  content.read: without a manifest: read from the file's own bytes, which proves the file restores, not that it is the backup that was taken", asked.Out, StringComparison.Ordinal);
        Assert.Contains("  PASS  content.tables: ", asked.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("file.matches-manifest", asked.Out, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string?, string> BadDumps() => new()
    {
        { ["--change", "Add_Index"], null, "dump: --change may contain only lowercase letters, digits and '-'" },
        { ["--change", "-leading"], null, "dump: --change may contain only lowercase letters, digits and '-'" },
        { ["--change", new string('a', 64)], null, "dump: --change is 64 characters long; at most 63 are accepted" },
        { ["--change", "x", "--from-env", "NOT_SET"], null, "dump: --from-env NOT_SET: the environment variable NOT_SET is not set" },
        { ["--change", "x", "--from-env", "postgresql://u:SECRET-pw-1@h/db"], null, "dump: --from-env: the value given is not an environment variable's name" },
        { ["--change", "x", "--from-env", "PROD-URL"], null, "dump: --from-env: the value given is not an environment variable's name" },
        { ["--change", "x"], "mysql://root:SECRET-pw-1@10.0.0.1/crm", "dump: --from-env PROD_URL: the URL in PROD_URL is not one this tool reads: the URL must start with postgresql://" },
        { ["--change", "x"], "postgresql://root:SECRET-pw-1@10.0.0.1:5432", "dump: --from-env PROD_URL: the URL names no database" },
        { ["--change", "x"], "postgresql://root:SECRET-pw-1@10.0.0.1:99999/crm", "dump: --from-env PROD_URL: the URL in PROD_URL is not one this tool reads: the URL's port is not a number" },
        { ["--change", "x", "--environment", "Prod"], null, "dump: --environment 'Prod' is not an environment name" },
        { ["--change", "x", "--upload"], null, "dump: --upload needs --bucket" },
        { ["--change", "x", "--upload", "--bucket", "b-ok"], null, "dump: --upload needs --instance" },
        { ["--change", "x", "--bucket", "b-ok"], null, "dump: --bucket is only used with --upload" },
        { ["--change", "x", "--tenant-column", "tenant id"], null, "dump: --tenant-column 'tenant id' is not a column name" },
    };

    [Theory]
    [MemberData(nameof(BadDumps))]
    public async Task Bad_input_is_refused_with_exit_64_naming_the_problem_and_nothing_is_written(string[] args, string? url, string message)
    {
        var environment = Environment();
        if (url is not null)
        {
            environment["PROD_URL"] = url;
        }
        var outDirectory = OutDirectory("bad");
        string[] arguments = args.Contains("--from-env") ? args : [.. args, "--from-env", "PROD_URL"];

        var result = await RunAsync(environment, ["dump", .. arguments, "--out", outDirectory]);

        Assert.Equal(64, result.Exit);
        Assert.StartsWith(message, result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
        Assert.False(Directory.Exists(outDirectory));
        Assert.DoesNotContain("SECRET-pw-1", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dump_that_fails_leaves_nothing_under_the_final_name()
    {
        var environment = Environment();
        environment["PROD_URL"] = stack.ProdUrl.Replace("/crm", "/no_such_db", StringComparison.Ordinal);
        var outDirectory = OutDirectory("failed");

        var result = await RunAsync(environment, "dump", "--from-env", "PROD_URL", "--change", "add-deposit-index", "--out", outDirectory);

        Assert.Equal(1, result.Exit);
        Assert.Contains("dump: FAILED: Dumping database 'no_such_db' on postgres@", result.Error, StringComparison.Ordinal);
        Assert.Contains("\"no_such_db\" does not exist", result.Error, StringComparison.Ordinal);
        Assert.Contains($"nothing was written under {Path.Combine(outDirectory, FileName)}", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(outDirectory));
        AssertNoSecretPrinted();
    }

    [Theory]
    [InlineData("nobody listening")]
    [InlineData("wrong password")]
    public async Task A_server_that_cannot_be_reached_or_logged_in_to_is_exit_69_for_dump_and_verify_and_nothing_is_left(string why)
    {
        var environment = Environment();
        // Port 1 on loopback answers nobody; the wrong password is refused at login (28P01).
        var url = why == "nobody listening"
            ? $"postgresql://postgres:{stack.Password}@127.0.0.1:1/crm"
            : stack.ProdUrl.Replace(stack.Password, "not-the-password-31f0", StringComparison.Ordinal);
        environment["PROD_URL"] = url;
        environment["SCRATCH_URL"] = url.Replace("/crm", "/postgres", StringComparison.Ordinal);
        var outDirectory = OutDirectory("unreachable-" + why.Replace(' ', '-'));

        var dumped = await RunAsync(environment, "dump", "--from-env", "PROD_URL", "--change", "add-deposit-index", "--out", outDirectory);

        Assert.True(dumped.Exit == 69, dumped.ToString());
        Assert.Contains("dump: could not reach or log in to postgres@", dumped.Error, StringComparison.Ordinal);
        Assert.Contains($"nothing was written under {Path.Combine(outDirectory, FileName)}", dumped.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(outDirectory));

        var file = await DumpAsync("for-unreachable-verify-" + why.Replace(' ', '-'));
        var verified = await RunAsync(environment, "verify", file, "--scratch-env", "SCRATCH_URL");

        Assert.True(verified.Exit == 69, verified.ToString());
        Assert.Contains("verify: could not reach or log in to the server postgres@", verified.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was created", verified.Error, StringComparison.Ordinal);
        AssertNoSecretPrinted();
    }

    [Fact]
    public async Task Ctrl_C_while_pg_dump_runs_stops_it_and_leaves_nothing()
    {
        var outDirectory = OutDirectory("interrupted");
        using var interrupt = new CancellationTokenSource();
        await using var holder = new NpgsqlConnection(stack.Prod.ConnectionString("crm"));
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("""LOCK TABLE "Tenant" IN ACCESS EXCLUSIVE MODE""", holder, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var dump = RunAsync(Environment(), interrupt.Token, "dump", "--from-env", "PROD_URL", "--change", "add-deposit-index", "--out", outDirectory);
        await stack.WaitForDumpWaitingOnLockAsync();
        AssertRunningWithoutPassword("pg_dump");
        await interrupt.CancelAsync();
        var result = await dump;
        await transaction.RollbackAsync();

        Assert.Equal(2, result.Exit);
        Assert.Contains("dump: interrupted; pg_dump was stopped and nothing was written under", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(outDirectory));
        Assert.Equal(0, await stack.DumpSessionsAsync());
    }

    [Fact]
    public async Task A_manifest_name_taken_while_the_dump_ran_is_left_alone_and_the_dump_discarded()
    {
        var outDirectory = OutDirectory("raced");
        var manifest = Path.Combine(outDirectory, FileName + ".manifest.json");
        await using var holder = new NpgsqlConnection(stack.Prod.ConnectionString("crm"));
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("""LOCK TABLE "Tenant" IN ACCESS EXCLUSIVE MODE""", holder, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var dump = RunAsync(Environment(), "dump", "--from-env", "PROD_URL", "--change", "add-deposit-index", "--out", outDirectory);
        await stack.WaitForDumpWaitingOnLockAsync();
        // Another run's manifest appears under the name while pg_dump runs.
        await File.WriteAllTextAsync(manifest, "another run's manifest");
        await transaction.RollbackAsync();
        var result = await dump;

        Assert.Equal(1, result.Exit);
        Assert.Contains($"dump: FAILED: {manifest} appeared while the dump ran; it is left as it is and this dump is discarded", result.Error, StringComparison.Ordinal);
        Assert.Equal([FileName + ".manifest.json"], Directory.GetFileSystemEntries(outDirectory).Select(Path.GetFileName));
        Assert.Equal("another run's manifest", await File.ReadAllTextAsync(manifest));
    }

    [Fact]
    public async Task Ctrl_C_while_verify_restores_stops_the_restore_and_still_drops_the_scratch_database()
    {
        var environment = Environment();
        environment["GATED_URL"] = await stack.GatedDatabaseUrlAsync();
        var dumped = await RunAsync(environment, "dump", "--from-env", "GATED_URL", "--change", "gated", "--out", OutDirectory("gated"));
        Assert.True(dumped.Exit == 0, dumped.ToString());
        var file = Path.Combine(OutDirectory("gated"), "backup_20250301_1200_prod_before_gated.dump");
        var scratchBefore = await stack.DatabaseNamesAsync(LocalStack.VerifyInstance);
        using var interrupt = new CancellationTokenSource();

        var verify = RunAsync(environment, interrupt.Token, "verify", file, "--scratch-env", "SCRATCH_URL");
        var scratch = await stack.WaitForHeldRestoreAsync();
        AssertRunningWithoutPassword("pg_restore");
        await interrupt.CancelAsync();
        var result = await verify;

        Assert.Equal(2, result.Exit);
        Assert.StartsWith("verify_20250301120042_", scratch, StringComparison.Ordinal);
        Assert.Contains($"verify: interrupted; the scratch database {scratch} was dropped", result.Error, StringComparison.Ordinal);
        Assert.Equal(scratchBefore, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));
        AssertNoSecretPrinted();
    }

    [Fact]
    public async Task Verify_refuses_a_server_listed_as_production_and_creates_nothing()
    {
        var environment = Environment();
        environment[Commissable.Backup.Cli.Commands.Operator.ProductionTargets.HostsVariable] = $"10.9.9.9, {stack.Scratch.Host}";
        var file = await DumpAsync("production");
        var scratchBefore = await stack.DatabaseNamesAsync(LocalStack.VerifyInstance);

        var result = await RunAsync(environment, "verify", file, "--scratch-env", "SCRATCH_URL");

        Assert.Equal(64, result.Exit);
        Assert.StartsWith($"verify: --scratch-env: the server postgres@{stack.Scratch.Host}:5432 is listed in PRODUCTION_HOSTS", result.Error, StringComparison.Ordinal);
        Assert.Equal(scratchBefore, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));
    }

    [Fact]
    public async Task An_uploaded_dump_is_a_complete_backup_in_the_catalog_that_restore_verify_passes_and_is_never_overwritten()
    {
        string[] upload = ["dump", "--from-env", "PROD_URL", "--change", "add-deposit-index", "--upload", "--bucket", LocalStack.Bucket,
            "--instance", LocalStack.ProdInstance, "--local-state", stack.State];
        var objectName = $"backups/prod/prod/{FileName}";
        var uri = $"gs://{LocalStack.Bucket}/{objectName}";

        var result = await RunAsync(Environment(), [.. upload, "--out", OutDirectory("upload")]);

        Assert.True(result.Exit == 0, result.ToString());
        Assert.Contains($"uploaded: {uri}", result.Out, StringComparison.Ordinal);
        var store = new LocalBackupStore(new BucketPaths(stack.State), LocalStack.Bucket);
        var catalog = new BackupCatalog(store, "backups", TimeProvider.System);
        var entry = Assert.Single(await catalog.ListAsync("prod", "prod").ToListAsync(), e => e.Name.Name == objectName);
        Assert.True(entry.IsComplete);
        Assert.Equal(BackupKinds.OperatorDump, entry.Manifest!.Kind);
        Assert.Equal(uri, entry.Manifest.Uri);
        Assert.Equal("prod", entry.Manifest.SourceInstance);
        var local = JsonSerializer.Deserialize<BackupManifest>(await File.ReadAllTextAsync(Path.Combine(OutDirectory("upload"), FileName + ".manifest.json")), CatalogJson.Options)!;
        Assert.Equal(JsonSerializer.Serialize(local.Content, CatalogJson.Options), JsonSerializer.Serialize(entry.Manifest.Content, CatalogJson.Options));
        Assert.Equal((await store.GetAsync(objectName))!.Md5Hash, entry.Manifest.Md5Hash);

        // restore-verify sees it like any other backup, and it passes.
        var verified = await stack.RestoreVerifyAsync(uri);
        Assert.True((bool?)verified["passed"] == true, verified.ToJsonString());
        Assert.Contains(verified["checks"]!.AsArray(), c => (string?)c!["name"] == "content.tables" && (bool?)c["passed"] == true);

        // verify reads it from the bucket too.
        var fromBucket = await RunAsync(Environment(), "verify", uri, "--scratch-env", "SCRATCH_URL", "--local-state", stack.State);
        Assert.True(fromBucket.Exit == 0, fromBucket.ToString());
        Assert.Contains("  PASS  file.matches-manifest: ", fromBucket.Out, StringComparison.Ordinal);

        // The same name again (another directory, the same minute): the object is never overwritten.
        var generation = (await store.GetAsync(objectName))!.Generation;
        var again = await RunAsync(Environment(), [.. upload, "--out", OutDirectory("again")]);
        Assert.Equal(1, again.Exit);
        Assert.Contains($"dump: upload FAILED: {uri} already exists in the bucket; a backup is never overwritten", again.Error, StringComparison.Ordinal);
        Assert.Equal(generation, (await store.GetAsync(objectName))!.Generation);
        AssertNoSecretPrinted();
    }

    /// <summary>The running <paramref name="program"/> processes (at least one) hold the password in neither their arguments nor their environment.</summary>
    private void AssertRunningWithoutPassword(string program)
    {
        var seen = 0;
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            string commandLine, environment;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                environment = File.ReadAllText(Path.Combine(directory, "environ"));
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            var arguments = commandLine.Split('\0');
            // setsid and setpriv exec the program itself: its own arguments follow its path.
            if (!arguments.Any(a => Path.GetFileName(a) == program) || !commandLine.Contains(stack.Scratch.Host, StringComparison.Ordinal) && !commandLine.Contains(stack.Prod.Host, StringComparison.Ordinal))
            {
                continue;
            }
            seen++;
            Assert.DoesNotContain(stack.Password, commandLine, StringComparison.Ordinal);
            Assert.DoesNotContain(stack.Password, environment, StringComparison.Ordinal);
            Assert.DoesNotContain("PGPASSWORD=", environment, StringComparison.Ordinal);
            Assert.Contains("PGPASSFILE=", environment, StringComparison.Ordinal);
        }
        Assert.True(seen > 0, $"no {program} of this test was running");
    }

    private async Task<string> CopyWithManifestAsync(string file, string name, Func<byte[], byte[]> change)
    {
        var copy = Path.Combine(_directory, name + ".dump");
        await File.WriteAllBytesAsync(copy, change(await File.ReadAllBytesAsync(file)));
        File.Copy(file + ".manifest.json", copy + ".manifest.json");
        return copy;
    }
}

/// <summary>One drill's local cloud (prod with the demo database, verify) and the functions, for the class.</summary>
#pragma warning disable CA1001 // xunit disposes the fixture through IAsyncLifetime.DisposeAsync.
public sealed class OperatorStack : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly string _prefix = LocalCloudFixture.NextAddressPrefix();
    private LocalStack _stack = null!;

    public string State { get; } = Path.Combine(Path.GetTempPath(), $"opstack-{Guid.NewGuid():N}"[..16]);
    public string Password { get; private set; } = "";
    public DatabaseEndpoint Prod { get; private set; } = null!;
    public DatabaseEndpoint Scratch { get; private set; } = null!;
    public string ProdUrl { get; private set; } = "";
    public string ScratchUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Assert.Equal(0, await DrillCommand.RunAsync(["--state", State, "--port", "0", "--address-prefix", _prefix]));
        _stack = new LocalStack(State, 0, _prefix);
        await _stack.StartCloudAsync();
        await _stack.StartFunctionsAsync();
        Password = _stack.RootPassword();
        var prod = await AddressAsync(LocalStack.ProdInstance);
        var verify = await AddressAsync(LocalStack.VerifyInstance);
        ProdUrl = $"postgresql://postgres:{Password}@{prod}:5432/crm";
        ScratchUrl = $"postgresql://postgres:{Password}@{verify}:5432/postgres";
        Prod = DatabaseEndpoint.FromUrl(ProdUrl, out _);
        Scratch = DatabaseEndpoint.FromUrl(ScratchUrl, out _);
    }

    public async Task DisposeAsync()
    {
        await _stack.DisposeAsync();
        try
        {
            Directory.Delete(State, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<string> AddressAsync(string instance) =>
        (string)(await _stack.Sql.GetFromJsonAsync<JsonObject>($"sql/v1beta4/projects/{LocalStack.DefaultProject}/instances/{instance}"))!["ipAddresses"]![0]!["ipAddress"]!;

    /// <summary>The databases of an instance, as the server lists them (scratch databases included).</summary>
    public async Task<IReadOnlyList<string>> DatabaseNamesAsync(string instance)
    {
        var endpoint = instance == LocalStack.ProdInstance ? Prod : Scratch;
        await using var connection = new NpgsqlConnection(endpoint.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database ORDER BY datname", connection);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    /// <summary>pg_dump sessions of <c>dump</c> on prod.</summary>
    public async Task<long> DumpSessionsAsync(bool waitingOnLock = false)
    {
        await using var connection = new NpgsqlConnection(Prod.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1{(waitingOnLock ? " AND wait_event_type = 'Lock'" : "")}", connection);
        command.Parameters.AddWithValue(CustomFormatDump.ApplicationName);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A bounded poll of the server's state until pg_dump's session waits for a lock.</summary>
    public async Task WaitForDumpWaitingOnLockAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await DumpSessionsAsync(waitingOnLock: true) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "pg_dump never waited for the lock");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A database <c>gated</c> on prod whose one table has a CHECK that holds a restore into a
    /// scratch database (<c>verify_...</c>) for ever, where it passes at once in <c>gated</c> itself:
    /// a restore the test can interrupt without racing it. Created once; returns its URL.
    /// </summary>
    public async Task<string> GatedDatabaseUrlAsync()
    {
        var url = ProdUrl.Replace("/crm", "/gated", StringComparison.Ordinal);
        if ((await DatabaseNamesAsync(LocalStack.ProdInstance)).Contains("gated"))
        {
            return url;
        }
        await Sql.ExecuteAsync(Prod.ConnectionString("postgres"), "CREATE DATABASE gated");
        await Sql.ExecuteAsync(Prod.ConnectionString("gated"), """
            CREATE FUNCTION public.held(v int) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                WHILE current_database() LIKE 'verify\_%' LOOP
                    PERFORM pg_catalog.pg_sleep(0.05);
                END LOOP;
                RETURN v IS NOT NULL;
            END $$;
            CREATE TABLE public.gate (v int CHECK (public.held(v)));
            INSERT INTO public.gate VALUES (1), (2);
            """);
        return url;
    }

    /// <summary>A bounded poll of the scratch server until a restore's COPY is held in a scratch database; returns its name.</summary>
    public async Task<string> WaitForHeldRestoreAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            await using (var connection = new NpgsqlConnection(Scratch.ConnectionString("postgres")))
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(
                    "SELECT datname FROM pg_stat_activity WHERE datname LIKE 'verify\\_%' AND state = 'active' AND query LIKE 'COPY public.gate %' LIMIT 1", connection);
                if (await command.ExecuteScalarAsync() is string name)
                {
                    return name;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, "no restore was held in a scratch database");
            await Task.Delay(50);
        }
    }

    /// <summary>POST restore-verify of <paramref name="uri"/> into the verify instance; the answer.</summary>
    public async Task<JsonObject> RestoreVerifyAsync(string uri)
    {
        using var http = new HttpClient { BaseAddress = _stack.FunctionsUrl, Timeout = TimeSpan.FromMinutes(10) };
        using var response = await http.PostAsync("restore-verify", new StringContent(
            new JsonObject { ["backup"] = uri, ["verificationInstance"] = LocalStack.VerifyInstance }.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
