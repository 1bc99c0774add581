using System.Text.Json;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Cli.Commands.Operator;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Testing;

namespace Commissable.Backup.Cli.Tests.Sanitize;

/// <summary>
/// <c>sanitize</c> end to end on the demo CRM: the example rules file, real pg_dump/pg_restore,
/// a real scratch server. The masked copies are read back as SQL text and restored into databases.
/// </summary>
public sealed class SanitizeCommandTests(SanitizeFixture fixture) : IClassFixture<SanitizeFixture>
{
    private const string Key = "a-test-key-that-is-32-bytes-long";
    private const string OtherKey = "another-key-of-at-least-16-bytes";

    private static string ExampleRules => Path.Combine(RepositoryRoot(), "functions", "Commissable.Backup.Cli", "Examples", "sanitize-rules-demo.yaml");

    [Fact]
    public async Task A_masked_copy_of_the_demo_holds_no_original_email_name_or_phone_and_its_foreign_keys_hold()
    {
        var output = NewOutput();
        var (exit, stdout, stderr) = await RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output]);
        Assert.True(exit == 0, stderr + stdout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output + ".manifest.json"));

        // Every original value, collected from the source database.
        var emails = await ColumnAsync("SELECT email FROM \"User\" UNION SELECT email FROM \"Contact\" WHERE email IS NOT NULL");
        var phones = await ColumnAsync("SELECT phone FROM \"Contact\" WHERE phone IS NOT NULL");
        var fullNames = await ColumnAsync("SELECT name FROM \"User\"");
        var names = await ColumnAsync("SELECT \"firstName\" FROM \"Contact\" UNION SELECT \"lastName\" FROM \"Contact\"");
        Assert.True(emails.Count > 100 && phones.Count > 50 && fullNames.Count > 10 && names.Count > 20, "the source holds too few personal values to prove anything");

        var text = await fixture.TextOfAsync(output);
        foreach (var email in emails)
        {
            Assert.False(text.Contains(email, StringComparison.OrdinalIgnoreCase), $"an original e-mail address (length {email.Length}) is in the masked copy");
        }
        foreach (var value in phones.Concat(fullNames))
        {
            Assert.False(text.Contains(value, StringComparison.Ordinal), $"an original phone number or full name is in the masked copy: {value}");
        }
        // One-word names ("Li", "Lee") are parts of other words: no field of any row may be one.
        var fields = CopyFields(text);
        Assert.True(fields.Count > 1000);
        foreach (var name in names) Assert.DoesNotContain(name, fields);

        var restored = await fixture.RestoreAsync(output);
        // pg_restore --exit-on-error created every foreign key; none has an orphan either.
        var orphans = await ForeignKeyOrphansAsync(restored);
        Assert.True(orphans.Checked > 20, $"only {orphans.Checked} foreign keys were checked");
        Assert.Empty(orphans.Broken);

        // The same address in two tables (a user and a contact, in other capitals) masks alike.
        var pairs = await fixture.QueryAsync(restored, """
            SELECT u.email, c.email FROM "Contact" c JOIN "User" u ON c.id = 'cdup' || u.id ORDER BY u.id
            """);
        Assert.Equal(3, pairs.Count);
        foreach (var pair in pairs)
        {
            Assert.Matches("^u-[0-9a-f]{16}@example\\.invalid$", (string)pair[0]!);
            Assert.Equal(pair[0], pair[1]);
        }

        // The manifest: the output's own content and the rules applied, never the key.
        var manifestText = await File.ReadAllTextAsync(output + ".manifest.json");
        Assert.DoesNotContain(Key, manifestText, StringComparison.Ordinal);
        var manifest = JsonSerializer.Deserialize<BackupManifest>(manifestText, CatalogJson.Options)!;
        Assert.Equal("email", manifest.Sanitized!.Rules["User.email"]);
        Assert.Equal("keep", manifest.Sanitized.Rules["Tenant.name"]);
        Assert.Equal("fixed", manifest.Sanitized.Rules["AuditLog.ipAddress"]);
        Assert.Equal(fixture.DemoDump, manifest.Sanitized.Source);
        Assert.Null(manifest.Sanitized.Tenants);
        Assert.Equal(new FileInfo(output).Length, manifest.SizeBytes);
        var users = Assert.Single(await fixture.QueryAsync(restored, "SELECT count(*) FROM \"User\""))[0];
        Assert.Equal((long)users!, manifest.Content!.Tables["public.\"User\""].Rows);
        AssertNoSecret(stdout, stderr);
    }

    [Fact]
    public async Task The_same_key_masks_alike_across_runs_and_another_key_differently()
    {
        var first = NewOutput();
        var second = NewOutput();
        var other = NewOutput();
        string[] Args(string output) => [fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output];
        Assert.Equal(0, (await RunAsync(Args(first))).Exit);
        Assert.Equal(0, (await RunAsync(Args(second))).Exit);
        Assert.Equal(0, (await RunAsync(Args(other), OtherKey)).Exit);

        var one = Rows(await fixture.TextOfAsync(first), "public.\"User\"");
        var two = Rows(await fixture.TextOfAsync(second), "public.\"User\"");
        var three = Rows(await fixture.TextOfAsync(other), "public.\"User\"");
        Assert.NotEmpty(one);
        Assert.Equal(one, two);
        Assert.Equal(one.Count, three.Count);
        var emails = one.Select(r => r.Split('\t')[2]).ToList();
        var otherEmails = three.Select(r => r.Split('\t')[2]).ToList();
        Assert.All(emails, e => Assert.EndsWith("@example.invalid", e, StringComparison.Ordinal));
        Assert.Empty(emails.Intersect(otherEmails));
    }

    [Fact]
    public async Task A_tenant_keeps_exactly_its_closure_and_the_shared_tables_whole()
    {
        var tenants = (await ColumnAsync("SELECT id FROM \"Tenant\" ORDER BY id")).ToList();
        Assert.Equal(3, tenants.Count);
        var kept = tenants[1];
        var output = NewOutput();
        var (exit, stdout, stderr) = await RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output, "--tenant", kept]);
        Assert.True(exit == 0, stderr + stdout);

        var restored = await fixture.RestoreAsync(output);
        var tables = (await fixture.QueryAsync("crm", """
            SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname = 'tenantId' ORDER BY 1
            """)).Select(r => (string)r[0]!).ToList();
        Assert.True(tables.Count > 15);
        foreach (var table in tables)
        {
            var source = await CountAsync("crm", $"SELECT count(*) FROM \"{table}\" WHERE \"tenantId\" = '{kept}'");
            var copy = await CountAsync(restored, $"SELECT count(*) FROM \"{table}\"");
            Assert.True(source == copy, $"{table}: the tenant has {source} rows in the source and the copy {copy}");
        }
        Assert.Equal(1, await CountAsync(restored, $"SELECT count(*) FROM \"Tenant\" WHERE id = '{kept}'"));
        Assert.Equal(1, await CountAsync(restored, "SELECT count(*) FROM \"Tenant\""));
        foreach (var shared in (string[])["Permission", "_prisma_migrations"])
        {
            var all = await CountAsync("crm", $"SELECT count(*) FROM \"{shared}\"");
            Assert.True(all > 0);
            Assert.Equal(all, await CountAsync(restored, $"SELECT count(*) FROM \"{shared}\""));
        }
        var text = await fixture.TextOfAsync(output);
        Assert.Contains(kept, text, StringComparison.Ordinal);
        foreach (var other in tenants.Where(t => t != kept))
        {
            Assert.DoesNotContain(other, text, StringComparison.Ordinal);
        }
        var manifest = JsonSerializer.Deserialize<BackupManifest>(await File.ReadAllTextAsync(output + ".manifest.json"), CatalogJson.Options)!;
        Assert.Equal([kept], manifest.Sanitized!.Tenants!);
        Assert.Equal([kept], manifest.Content!.Tables["public.\"User\""].Tenants!.Keys);
    }

    [Fact]
    public async Task A_tenant_not_in_the_backup_is_refused_and_nothing_is_left()
    {
        var output = NewOutput();
        var (exit, _, stderr) = await RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output, "--tenant", "no-such-tenant"]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("'no-such-tenant' is not a tenant", stderr, StringComparison.Ordinal);
        await AssertNothingLeftAsync(output);
    }

    [Fact]
    public async Task A_rules_file_that_misses_a_column_whose_name_looks_personal_is_refused_naming_it()
    {
        var rules = await RulesWithoutAsync("Contact.phone:", "User.name:");
        var output = NewOutput();
        var (exit, _, stderr) = await RunAsync([fixture.DemoDump, "--rules", rules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("Contact.phone: has no rule, and its name looks personal (\"phone\": phone)", stderr, StringComparison.Ordinal);
        Assert.Contains("User.name: has no rule, and its name looks personal (\"name\": name)", stderr, StringComparison.Ordinal);
        Assert.Contains("2 problems", stderr, StringComparison.Ordinal);
        await AssertNothingLeftAsync(output);
    }

    [Fact]
    public async Task Columns_whose_values_look_personal_are_refused_naming_each_and_no_scratch_database_or_file_is_left()
    {
        var rules = Path.Combine(fixture.Work, $"leads-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(rules, "rules:\n  Lead.source: keep\n");
        var output = NewOutput();
        var (exit, _, stderr) = await RunAsync([fixture.LeadsDump, "--rules", rules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("Lead.handle: has no rule, and its values look personal: it holds e-mail addresses", stderr, StringComparison.Ordinal);
        Assert.Contains("Lead.reference: has no rule, and its values look personal: it holds phone numbers", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("@prospects.example.net", stderr, StringComparison.Ordinal);
        await AssertNothingLeftAsync(output);
    }

    [Fact]
    public async Task A_rule_for_a_column_the_backup_does_not_have_is_refused_naming_it()
    {
        var rules = Path.Combine(fixture.Work, $"extra-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(rules, await File.ReadAllTextAsync(ExampleRules) + "  Contact.middleName: name\n  Invoice.total: { number: { min: 1, max: 9 } }\n");
        var output = NewOutput();
        var (exit, _, stderr) = await RunAsync([fixture.DemoDump, "--rules", rules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("Contact.middleName: the dump's table Contact has no column middleName", stderr, StringComparison.Ordinal);
        Assert.Contains("Invoice.total: the dump has no table Invoice", stderr, StringComparison.Ordinal);
        await AssertNothingLeftAsync(output);
    }

    [Theory]
    [InlineData(null, "the environment variable SANITIZE_KEY is not set")]
    [InlineData("short-key", "the key is 9 bytes long; it must be at least 16")]
    public async Task An_unset_or_short_key_is_exit_64_before_anything_is_read(string? key, string message)
    {
        var output = NewOutput();
        var (exit, stdout, stderr) = await RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output], key, setKey: key is not null);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("sanitizing", stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task A_damaged_backup_fails_after_its_schema_and_leaves_no_file_and_no_scratch_database()
    {
        var bytes = await File.ReadAllBytesAsync(fixture.DemoDump);
        var cut = Path.Combine(fixture.Work, $"cut-{Guid.NewGuid():N}.dump");
        await File.WriteAllBytesAsync(cut, bytes[..(bytes.Length * 2 / 3)]);
        var output = NewOutput();
        var (exit, _, stderr) = await RunAsync([cut, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output]);
        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains("sanitize: failed, nothing written: Reading", stderr, StringComparison.Ordinal);
        Assert.Contains("pg_restore exited with code 1", stderr, StringComparison.Ordinal);
        await AssertNothingLeftAsync(output);
    }

    [Fact]
    public async Task An_existing_output_is_never_replaced()
    {
        var output = NewOutput();
        await File.WriteAllTextAsync(output, "mine");
        var (exit, _, stderr) = await RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("exists; a masked copy never replaces a file", stderr, StringComparison.Ordinal);
        Assert.Equal("mine", await File.ReadAllTextAsync(output));
    }

    [Fact]
    public async Task A_scratch_server_listed_as_production_is_refused()
    {
        var output = NewOutput();
        var (exit, _, stderr) = await RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output],
            extra: new Dictionary<string, string> { ["PRODUCTION_HOSTS"] = fixture.Address });
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("is listed in PRODUCTION_HOSTS", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(SanitizeFixture.Password, stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Client_programs_missing_from_PG_BIN_DIR_are_exit_69_naming_the_variable_and_nothing_is_written()
    {
        var output = NewOutput();
        var empty = Directory.CreateTempSubdirectory("no-pg-bin-").FullName;
        try
        {
            var (exit, stdout, stderr) = await RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output],
                extra: new Dictionary<string, string> { ["PG_BIN_DIR"] = empty });

            Assert.Equal(ExitCodes.Unavailable, exit);
            Assert.Contains($"The directory '{empty}' does not hold pg_dump and pg_restore", stderr, StringComparison.Ordinal);
            Assert.Contains("(PG_BIN_DIR names their directory)", stderr, StringComparison.Ordinal);
            await AssertNothingLeftAsync(output);
            AssertNoSecret(stdout, stderr);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public async Task Ctrl_C_while_the_masked_rows_load_stops_psql_drops_the_scratch_database_exit_2_and_writes_nothing()
    {
        var output = NewOutput();
        // PG_BIN_DIR names the real programs, but psql first says it started (the gate) and then
        // waits for input that never comes (the hold), so Ctrl-C lands while the scratch database is loaded.
        var bin = Directory.CreateTempSubdirectory("gated-pg-bin-").FullName;
        var gate = Path.Combine(bin, "gate");
        var hold = Path.Combine(bin, "hold");
        try
        {
            foreach (var program in (string[])["pg_dump", "pg_restore"])
            {
                File.CreateSymbolicLink(Path.Combine(bin, program), fixture.Tools.Path(program));
            }
            foreach (var fifo in (string[])[gate, hold])
            {
                using var mkfifo = System.Diagnostics.Process.Start("mkfifo", ["-m", "600", fifo])!;
                await mkfifo.WaitForExitAsync();
                Assert.Equal(0, mkfifo.ExitCode);
            }
            var psql = Path.Combine(bin, "psql");
            await File.WriteAllTextAsync(psql, $"#!/bin/sh\necho started > '{gate}'\nread held < '{hold}'\nexec '{fixture.Tools.Path("psql")}' \"$@\"\n");
            File.SetUnixFileMode(psql, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var interrupt = new CancellationTokenSource();

            var sanitize = RunAsync([fixture.DemoDump, "--rules", ExampleRules, "--key-env", "SANITIZE_KEY", "--scratch-env", "SCRATCH_URL", "--out", output],
                extra: new Dictionary<string, string> { ["PG_BIN_DIR"] = bin }, interrupted: interrupt.Token);
            var started = Task.Run(() => File.ReadAllText(gate));
            if (await Task.WhenAny(started, sanitize) == sanitize)
            {
                // It ended before psql ran: release the gate's reader and say why.
                await File.WriteAllTextAsync(gate, "");
                var early = await sanitize;
                Assert.Fail($"sanitize ended before loading: exit {early.Exit}: {early.Error}");
            }
            Assert.Equal("started\n", await started);
            var scratch = Assert.Single(await fixture.QueryAsync("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'sanitize\\_%'"));

            await interrupt.CancelAsync();
            var (exit, stdout, stderr) = await sanitize;

            Assert.Equal(ExitCodes.Interrupted, exit);
            Assert.Contains($"sanitize: interrupted; nothing was written under {output} and no scratch database is left", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
            Assert.StartsWith("sanitize_", (string)scratch[0]!, StringComparison.Ordinal);
            await AssertNothingLeftAsync(output);
            AssertNoSecret(stdout, stderr);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    private string NewOutput() => Path.Combine(fixture.Work, $"copy-{Guid.NewGuid():N}.dump");

    private async Task<(int Exit, string Out, string Error)> RunAsync(string[] args, string? key = Key, bool setKey = true, IReadOnlyDictionary<string, string>? extra = null,
        CancellationToken interrupted = default)
    {
        var environment = new Dictionary<string, string?> { ["SCRATCH_URL"] = fixture.ScratchUrl, ["SANITIZE_KEY"] = setKey ? key : null };
        foreach (var (name, value) in extra ?? new Dictionary<string, string>()) environment[name] = value;
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CommandContext(output, error, StoppedClock.AtNow(), (d, t) => Task.CompletedTask, interrupted)
        {
            Environment = name => environment.GetValueOrDefault(name),
        };
        var exit = await SanitizeCommand.RunAsync(args, context);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<string> RulesWithoutAsync(params string[] keys)
    {
        var lines = (await File.ReadAllLinesAsync(ExampleRules)).Where(l => !keys.Any(k => l.TrimStart().StartsWith(k, StringComparison.Ordinal))).ToList();
        Assert.Equal(keys.Length, (await File.ReadAllLinesAsync(ExampleRules)).Length - lines.Count);
        var path = Path.Combine(fixture.Work, $"rules-{Guid.NewGuid():N}.yaml");
        await File.WriteAllLinesAsync(path, lines);
        return path;
    }

    private async Task AssertNothingLeftAsync(string output)
    {
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".manifest.json"));
        Assert.Empty(Directory.GetFileSystemEntries(fixture.Work, $".{Path.GetFileName(output)}*"));
        Assert.Empty(await fixture.QueryAsync("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'sanitize\\_%'"));
    }

    private static void AssertNoSecret(string stdout, string stderr)
    {
        foreach (var said in (string[])[stdout, stderr])
        {
            Assert.DoesNotContain(Key, said, StringComparison.Ordinal);
            Assert.DoesNotContain(SanitizeFixture.Password, said, StringComparison.Ordinal);
        }
    }

    private async Task<List<string>> ColumnAsync(string sql) => [.. (await fixture.QueryAsync("crm", sql)).Select(r => (string)r[0]!)];

    private async Task<long> CountAsync(string database, string sql) => (long)(await fixture.QueryAsync(database, sql))[0][0]!;

    /// <summary>Every foreign key of the database, each checked for a row whose key has no parent.</summary>
    private async Task<(int Checked, List<string> Broken)> ForeignKeyOrphansAsync(string database)
    {
        var keys = await fixture.QueryAsync(database, """
            SELECT k.conname, format('%I', c.relname), format('%I', p.relname),
                   (SELECT string_agg(format('c.%I', a.attname), ', ' ORDER BY u.i) FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n),
                   (SELECT string_agg(format('p.%I', a.attname), ', ' ORDER BY u.i) FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n)
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid WHERE k.contype = 'f'
            """);
        var broken = new List<string>();
        foreach (var key in keys)
        {
            var sql = $"SELECT count(*) FROM {key[1]} c WHERE ({key[3]}) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {key[2]} p WHERE ({key[4]}) = ({key[3]}))";
            if (await CountAsync(database, sql) > 0) broken.Add((string)key[0]!);
        }
        return (keys.Count, broken);
    }

    /// <summary>The rows of one COPY block of a dump's text, in order.</summary>
    private static List<string> Rows(string text, string table)
    {
        var rows = new List<string>();
        var inside = false;
        foreach (var line in text.Split('\n'))
        {
            if (inside)
            {
                if (line == "\\.") break;
                rows.Add(line);
            }
            else if (line.StartsWith($"COPY {table} (", StringComparison.Ordinal))
            {
                inside = true;
            }
        }
        return rows;
    }

    /// <summary>Every field of every COPY row of a dump's text (as printed: the test values need no escapes).</summary>
    private static HashSet<string> CopyFields(string text)
    {
        var fields = new HashSet<string>(StringComparer.Ordinal);
        var inside = false;
        foreach (var line in text.Split('\n'))
        {
            if (inside)
            {
                if (line == "\\.")
                {
                    inside = false;
                    continue;
                }
                foreach (var field in line.Split('\t')) fields.Add(field);
            }
            else if (line.StartsWith("COPY ", StringComparison.Ordinal))
            {
                inside = true;
            }
        }
        return fields;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Commissable.Functions.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException("the repository root (Commissable.Functions.sln) is not above the test binaries");
    }
}
