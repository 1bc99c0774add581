using System.Text;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests.Dumps;

/// <summary>
/// A database read with pg_dump as the functions log in: the same text as its own plain dump, in
/// the time zone and snapshot asked for, and with the password on no command line.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseDumpTests(TestPostgres postgres) : IDisposable
{
    private readonly string _directory = postgres.CreateScratchDirectory("login");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_database_reads_as_its_own_plain_dump()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var plain = DumpText.Parse(await File.ReadAllTextAsync(exports.PathOf(DumpExports.Plain)));

        var text = await ReadAsync(DumpExports.DatabaseOf(exports.SourceConnection), new DatabaseDumpOptions());

        Assert.Equal(DumpExports.BigRows, text.RowsOf("COPY public.big "));
        text.AssertSameAs(plain);
    }

    [Fact]
    public async Task A_restore_of_a_dump_reads_back_as_the_dump()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var plain = DumpText.Parse(await File.ReadAllTextAsync(exports.PathOf(DumpExports.Plain)));
        var restored = await postgres.CreateDatabaseAsync("restored");
        await DumpExports.Tool(postgres, "pg_restore", restored, "--exit-on-error", "--dbname", DumpExports.DatabaseOf(restored), exports.PathOf(DumpExports.Custom)).RunAsync();

        var text = await ReadAsync(DumpExports.DatabaseOf(restored), new DatabaseDumpOptions());

        Assert.Equal(DumpExports.BigRows, text.RowsOf("COPY public.big "));
        text.AssertSameAs(plain);
    }

    [Fact]
    public async Task The_time_zone_decides_how_timestamptz_prints()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var database = DumpExports.DatabaseOf(exports.SourceConnection);

        var utc = await ReadAsync(database, new DatabaseDumpOptions { TimeZone = "UTC" });
        var newYork = await ReadAsync(database, new DatabaseDumpOptions { TimeZone = "America/New_York" });

        var tickets = utc.Rows.Keys.Single(k => k.StartsWith("COPY public.\"Ticket\" ", StringComparison.Ordinal));
        Assert.All(utc.Rows[tickets], row => Assert.EndsWith("+00", row, StringComparison.Ordinal));
        Assert.All(newYork.Rows[tickets], row => Assert.True(row.EndsWith("-05", StringComparison.Ordinal) || row.EndsWith("-04", StringComparison.Ordinal), row));
        Assert.Equal(utc.Rows[tickets].Count, newYork.Rows[tickets].Count);
    }

    [Fact]
    public async Task A_snapshot_another_session_exported_is_what_it_reads()
    {
        var connection = await postgres.CreateDatabaseAsync("snapshot");
        await DumpExports.ExecuteAsync(connection, "CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 10);");
        await using var holder = new NpgsqlConnection(connection);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        await using var export = new NpgsqlCommand("SELECT pg_export_snapshot()", holder, transaction);
        var snapshot = (string)(await export.ExecuteScalarAsync())!;
        await DumpExports.ExecuteAsync(connection, "INSERT INTO t SELECT generate_series(11, 15);");

        var inSnapshot = await ReadAsync(DumpExports.DatabaseOf(connection), new DatabaseDumpOptions { Snapshot = snapshot });
        var now = await ReadAsync(DumpExports.DatabaseOf(connection), new DatabaseDumpOptions());

        Assert.Equal(10, inSnapshot.RowsOf("COPY public.t "));
        Assert.Equal(15, now.RowsOf("COPY public.t "));
    }

    [Fact]
    public async Task The_password_is_on_no_command_line_nor_in_the_environment_and_its_file_is_private_and_removed()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var login = DumpExports.Login(postgres, _directory);
        var password = File.ReadAllText(login.PasswordFile).Trim();
        var scratch = Path.Combine(_directory, "scratch");
        Directory.CreateDirectory(scratch);
        var database = DumpExports.DatabaseOf(exports.SourceConnection);

        var command = DatabaseDump.Command(login, DumpExports.Instance(postgres), database, new DatabaseDumpOptions(), exports.Tools, scratch);
        var info = command.StartInfo(redirectStdout: true, redirectStdin: true);

        Assert.DoesNotContain(info.ArgumentList, a => a.Contains(password, StringComparison.Ordinal));
        Assert.DoesNotContain(info.Environment, e => e.Value?.Contains(password, StringComparison.Ordinal) ?? false);
        Assert.DoesNotContain("PGPASSWORD", info.Environment.Keys);
        var passwordFile = info.Environment["PGPASSFILE"]!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));
        Assert.Equal($"*:*:*:*:{password}\n", await File.ReadAllTextAsync(passwordFile));
        Assert.Contains(info.ArgumentList, a => a.StartsWith("--dbname=host='", StringComparison.Ordinal));

        // And the running pg_dump: its output (the big table) is more than the pipe holds, so it
        // is still there, connected, until the stream is read or disposed.
        var before = ScratchDirectories();
        var stream = await DatabaseDump.OpenAsync(login, DumpExports.Instance(postgres), database, new DatabaseDumpOptions(), exports.Tools);
        var program = ((ToolOutputStream)stream).ProcessId;
        Assert.True(await stream.ReadAsync(new byte[1024]) > 0);
        var commandLine = await File.ReadAllTextAsync($"/proc/{program}/cmdline");
        var environment = await File.ReadAllTextAsync($"/proc/{program}/environ");
        Assert.Contains("pg_dump", commandLine, StringComparison.Ordinal);
        Assert.Contains("PGPASSFILE=", environment, StringComparison.Ordinal);
        Assert.DoesNotContain(password, commandLine, StringComparison.Ordinal);
        Assert.DoesNotContain(password, environment, StringComparison.Ordinal);
        Assert.NotEqual(before, ScratchDirectories());
        await stream.DisposeAsync();

        Assert.Empty(ChildProcesses.GroupMembers(program));
        Assert.Equal(before, ScratchDirectories());
    }

    [Fact]
    public async Task A_refused_login_fails_the_read_saying_why_but_not_the_password()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var login = DumpExports.Login(postgres, _directory);
        await File.WriteAllTextAsync(login.PasswordFile, "wrong-secret-4711\n");
        var before = ScratchDirectories();

        await using var stream = await DatabaseDump.OpenAsync(login, DumpExports.Instance(postgres), DumpExports.DatabaseOf(exports.SourceConnection), new DatabaseDumpOptions(), exports.Tools);
        var error = await Assert.ThrowsAsync<DumpStreamException>(() => stream.CopyToAsync(Stream.Null));

        Assert.Contains("pg_dump exited with code 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-4711", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, ScratchDirectories());
    }

    [Theory]
    [InlineData("UTC; DROP", null)]
    [InlineData("UTC", "--file=/tmp/x")]
    [InlineData("UTC", "00000003-0000001B-1 x")]
    [InlineData("UTC\n", null)]
    [InlineData("UTC", "00000003-0000001B-1\n")]
    public async Task A_time_zone_or_snapshot_that_is_not_one_is_refused_before_anything_runs(string timeZone, string? snapshot)
    {
        var exports = await DumpExports.GetAsync(postgres);
        var before = ScratchDirectories();

        await Assert.ThrowsAsync<ArgumentException>(() => DatabaseDump.OpenAsync(
            DumpExports.Login(postgres, _directory), DumpExports.Instance(postgres), "postgres",
            new DatabaseDumpOptions { TimeZone = timeZone, Snapshot = snapshot }, exports.Tools));

        Assert.Equal(before, ScratchDirectories());
    }

    private async Task<DumpText> ReadAsync(string database, DatabaseDumpOptions options)
    {
        var exports = await DumpExports.GetAsync(postgres);
        await using var stream = await DatabaseDump.OpenAsync(DumpExports.Login(postgres, _directory), DumpExports.Instance(postgres), database, options, exports.Tools);
        return await DumpText.ReadAsync(stream);
    }

    private static SortedSet<string> ScratchDirectories() =>
        new(Directory.GetDirectories(Path.GetTempPath(), "commissable-*dump-*"), StringComparer.Ordinal);
}
