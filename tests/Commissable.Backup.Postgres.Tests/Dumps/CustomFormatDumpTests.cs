using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests.Dumps;

/// <summary>
/// The operator's custom-format dump: a private file whose size, checksums and content manifest are
/// those of exactly its bytes and equal what the database holds; it restores in parallel and passes
/// the restore checks; whatever fails (pg_dump killed, a database that does not exist, Ctrl-C)
/// leaves no file and no program behind; an existing file is never overwritten.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CustomFormatDumpTests(TestPostgres postgres) : IDisposable
{
    private readonly string _directory = postgres.CreateScratchDirectory("customdump");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private DatabaseEndpoint Endpoint()
    {
        var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString());
        return new DatabaseEndpoint(builder.Host!, builder.Port, builder.Username!, builder.Password!);
    }

    private static string Password(TestPostgres postgres) => new NpgsqlConnectionStringBuilder(postgres.ConnectionString()).Password!;

    [Fact]
    public async Task A_dump_is_a_private_file_whose_manifest_is_that_of_its_own_bytes_and_of_the_database()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var database = DumpExports.DatabaseOf(exports.SourceConnection);
        var path = Path.Combine(_directory, "source.dump");
        var progress = new ConcurrentQueue<long>();

        var dumped = await CustomFormatDump.WriteAsync(Endpoint(), database, path, new CustomFormatDumpOptions { BytesWritten = new Recorder(progress) }, exports.Tools);

        Assert.Equal(path, dumped.Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal("PGDMP"u8.ToArray(), bytes[..5]);
        Assert.Equal(bytes.LongLength, dumped.SizeBytes);
#pragma warning disable CA5351 // MD5 is what Cloud Storage reports, the value under test.
        Assert.Equal(Convert.ToBase64String(MD5.HashData(bytes)), dumped.Md5Hash);
#pragma warning restore CA5351
        var crc = new Crc32C();
        crc.Append(bytes);
        Assert.Equal(crc.ToBase64(), dumped.Crc32c);
        Assert.Equal(bytes.LongLength, progress.Last());

        // The manifest is exactly that of the file, read again on its own...
        var fromFile = await PostgresBackupContentReader.ReadFileAsync(path, new DumpReadOptions { TimeZone = CustomFormatDump.TimeZone }, exports.Tools);
        Assert.Equal(JsonSerializer.Serialize(fromFile, CatalogJson.Options), JsonSerializer.Serialize(dumped.Content, CatalogJson.Options));
        Assert.Equal(DumpExports.BigRows, dumped.Content.Tables["public.big"].Rows);
        Assert.Equal("UTC", dumped.Content.TimeZone);

        // ...and compares exactly with the database it was taken from.
        var live = await PostgresBackupContentReader.ReadDatabaseAsync(Endpoint(), database, "the source", new DumpReadOptions { TimeZone = "UTC" }, exports.Tools);
        var comparison = ContentComparison.Compare(dumped.Content, live);
        Assert.All(comparison, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
    }

    [Fact]
    public async Task The_dump_restores_with_parallel_jobs_and_passes_every_restore_check()
    {
        var exports = await DumpExports.GetAsync(postgres);
        var path = Path.Combine(_directory, "restore.dump");
        var dumped = await CustomFormatDump.WriteAsync(Endpoint(), DumpExports.DatabaseOf(exports.SourceConnection), path, new CustomFormatDumpOptions(), exports.Tools);
        var restored = DumpExports.DatabaseOf(await postgres.CreateDatabaseAsync("restored"));

        await DumpRestore.RestoreAsync(Endpoint(), restored, path, new DumpRestoreOptions { Jobs = 2 }, exports.Tools);
        var checks = await DatabaseProof.CheckAsync(Endpoint(), restored, "the restore", dumped.Content, null, exports.Tools);

        Assert.Contains(checks, c => c.Name == "content.tables");
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
    }

    [Fact]
    public async Task A_pg_dump_killed_while_it_runs_fails_the_dump_with_its_reason_and_leaves_no_file_nor_program()
    {
        var (connection, database) = await LockableDatabaseAsync();
        var path = Path.Combine(_directory, "killed.dump");
        var started = new Programs();
        var before = ScratchDirectories();

        var error = await WhileLockedAsync(connection, async holder =>
        {
            var dump = CustomFormatDump.WriteAsync(Endpoint(), database, path, new CustomFormatDumpOptions { Observer = started }, PostgresBinaries.LocateClient());
            await WaitForDumpOnLockAsync(database);
            // pg_dump holds its snapshot and waits for the lock: kill it there, then let the lock go.
            Assert.True(ChildProcesses.KillGroup(started.PgDump()));
            await holder.RollbackAsync();
            return await Assert.ThrowsAsync<DumpStreamException>(() => dump);
        });

        Assert.Contains("pg_dump exited with code", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(_directory));
        Assert.All(started.All, id => Assert.Empty(ChildProcesses.GroupMembers(id)));
        Assert.Equal(before, ScratchDirectories());
    }

    [Fact]
    public async Task Cancelling_stops_pg_dump_and_leaves_no_file()
    {
        var (connection, database) = await LockableDatabaseAsync();
        var path = Path.Combine(_directory, "cancelled.dump");
        var started = new Programs();
        using var cancel = new CancellationTokenSource();

        await WhileLockedAsync(connection, async holder =>
        {
            var dump = CustomFormatDump.WriteAsync(Endpoint(), database, path, new CustomFormatDumpOptions { Observer = started }, PostgresBinaries.LocateClient(), cancel.Token);
            await WaitForDumpOnLockAsync(database);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dump);
            await holder.RollbackAsync();
            return 0;
        });

        Assert.False(File.Exists(path));
        Assert.NotEmpty(started.All);
        Assert.All(started.All, id => Assert.Empty(ChildProcesses.GroupMembers(id)));
    }

    [Fact]
    public async Task A_database_that_does_not_exist_fails_the_dump_saying_so_but_not_the_password()
    {
        var path = Path.Combine(_directory, "missing.dump");

        var error = await Assert.ThrowsAsync<DumpStreamException>(() =>
            CustomFormatDump.WriteAsync(Endpoint(), "no_such_database", path, new CustomFormatDumpOptions(), PostgresBinaries.LocateClient()));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("no_such_database", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password(postgres), error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_file_that_exists_is_never_overwritten()
    {
        var path = Path.Combine(_directory, "taken.dump");
        await File.WriteAllTextAsync(path, "an earlier backup");

        await Assert.ThrowsAsync<IOException>(() =>
            CustomFormatDump.WriteAsync(Endpoint(), "postgres", path, new CustomFormatDumpOptions(), PostgresBinaries.LocateClient()));

        Assert.Equal("an earlier backup", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public void The_password_is_on_no_command_line_and_pg_dump_writes_the_strategys_format_in_UTC()
    {
        var passwordFile = Path.Combine(_directory, "pgpass");
        Endpoint().WritePasswordFile(passwordFile);

        var info = CustomFormatDump.Command(Endpoint(), "crm", passwordFile, PostgresBinaries.LocateClient()).StartInfo(redirectStdout: true);

        Assert.DoesNotContain(info.ArgumentList, a => a.Contains(Password(postgres), StringComparison.Ordinal));
        Assert.DoesNotContain(info.Environment, e => e.Value?.Contains(Password(postgres), StringComparison.Ordinal) ?? false);
        Assert.DoesNotContain("PGPASSWORD", info.Environment.Keys);
        Assert.Equal(passwordFile, info.Environment["PGPASSFILE"]);
        Assert.Equal("UTC", info.Environment["PGTZ"]);
        Assert.Contains("--format=custom", info.ArgumentList);
        Assert.Contains("--no-owner", info.ArgumentList);
        Assert.Contains("--no-privileges", info.ArgumentList);
        Assert.DoesNotContain(info.ArgumentList, a => a.StartsWith("--file", StringComparison.Ordinal));
    }

    /// <summary>A database with one table, to lock so that pg_dump waits.</summary>
    private async Task<(string Connection, string Database)> LockableDatabaseAsync()
    {
        var connection = await postgres.CreateDatabaseAsync("lockable");
        await DumpExports.ExecuteAsync(connection, "CREATE TABLE held (v int); INSERT INTO held SELECT generate_series(1, 100);");
        return (connection, DumpExports.DatabaseOf(connection));
    }

    /// <summary>Runs <paramref name="work"/> while a transaction holds an exclusive lock on the table (as a migration would).</summary>
    private static async Task<T> WhileLockedAsync<T>(string connection, Func<NpgsqlTransaction, Task<T>> work)
    {
        await using var holder = new NpgsqlConnection(connection);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE held IN ACCESS EXCLUSIVE MODE", holder, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }
        return await work(transaction);
    }

    /// <summary>A bounded poll of the server's state until pg_dump's session waits for the lock.</summary>
    private async Task WaitForDumpOnLockAsync(string database)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            await using var connection = new NpgsqlConnection(postgres.ConnectionString());
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock'", connection);
            command.Parameters.AddWithValue(database);
            command.Parameters.AddWithValue(CustomFormatDump.ApplicationName);
            if ((long)(await command.ExecuteScalarAsync())! > 0) return;
            Assert.True(DateTime.UtcNow < deadline, "pg_dump never waited for the lock");
            await Task.Delay(50);
        }
    }

    private static SortedSet<string> ScratchDirectories() =>
        new(Directory.GetDirectories(Path.GetTempPath(), "commissable-customdump-*"), StringComparer.Ordinal);

    private sealed class Recorder(ConcurrentQueue<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Enqueue(value);
    }

    /// <summary>The programs started, in order: pg_dump first.</summary>
    private sealed class Programs : IChildProcessObserver
    {
        private readonly ConcurrentQueue<int> _ids = new();

        public IReadOnlyList<int> All => [.. _ids];

        public int PgDump() => _ids.First(id => File.ReadAllText($"/proc/{id}/cmdline").Contains("pg_dump", StringComparison.Ordinal));

        public void Started(ChildProcess process) => _ids.Enqueue(process.ProcessId);
    }
}
