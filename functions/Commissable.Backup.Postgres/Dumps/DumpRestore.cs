using System.Globalization;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>How <see cref="DumpRestore"/> restores a dump.</summary>
public sealed record DumpRestoreOptions
{
    /// <summary>pg_restore's <c>--jobs</c> for custom and directory formats (plain SQL is one session).</summary>
    public int Jobs { get; init; } = 2;

    /// <summary>pg_restore's <c>--clean</c>: drop each object before creating it.</summary>
    public bool Clean { get; init; }

    /// <summary>With <see cref="Clean"/>, pg_restore's <c>--if-exists</c>: no error for an object that is not there.</summary>
    public bool IfExists { get; init; }

    /// <summary>Told about each program started (the local cloud's operations follow their children).</summary>
    public IChildProcessObserver? Observer { get; init; }
}

/// <summary>
/// Restores a dump file (or a directory-format dump's directory) into an existing database,
/// whatever its format: custom and directory with <c>pg_restore --no-owner --no-privileges
/// --exit-on-error --jobs</c>; plain SQL, gzip-compressed or not, through psql in its restricted
/// mode (<see cref="RestrictFilter"/>), so a file can run no backslash command (no <c>\!</c> shell,
/// no <c>\connect</c> elsewhere). Nothing is held in memory; a failed or cut-off restore throws
/// <see cref="ExternalProcessException"/> with the program's last error lines. What a plain
/// restore applied before the failure stays (statements commit one by one).
/// </summary>
public static class DumpRestore
{
    /// <summary>
    /// An awk program between the file and psql, which is already restricted with a key the file
    /// cannot know, so psql refuses every backslash command of the file (a shell with <c>\!</c>,
    /// files with <c>\o</c> or <c>\copy</c>, another server with <c>\connect</c>). Only pg_dump's
    /// own <c>\restrict KEY</c> in the header of its output (psql refuses a second <c>\restrict</c>)
    /// becomes an empty line, so every later line keeps its number in psql's messages, and the
    /// matching <c>\unrestrict KEY</c> at its end is dropped. The line it drops is built once, not
    /// for each of the dump's millions of lines (a quarter of the filter's CPU time).
    /// </summary>
    internal const string RestrictFilter =
        """
        BEGIN { header = 1; target = ""; held = 0 }
        {
            if (header) {
                if ($0 ~ /^\\restrict [A-Za-z0-9]+$/) { target = "\\unrestrict " substr($0, 11); header = 0; print ""; next }
                if ($0 !~ /^(--.*)?$/) header = 0
                print; next
            }
            if (held) {
                if ($0 ~ /^(--.*)?$/) { buffer = buffer $0 "\n"; next }
                printf "%s%s", pending, buffer; held = 0; buffer = ""
            }
            if (target != "" && $0 == target) { held = 1; pending = $0 "\n"; buffer = ""; next }
            print
        }
        END { if (held) printf "%s", buffer }
        """;

    /// <summary>Restores <paramref name="source"/> into <paramref name="database"/> of <paramref name="endpoint"/>, its password in a private password file.</summary>
    public static async Task RestoreAsync(DatabaseEndpoint endpoint, string database, string source, DumpRestoreOptions options, PostgresBinaries tools,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var scratch = PrivateDirectory.Create("commissable-restore-");
        var passwordFile = Path.Combine(scratch.Path, "pgpass");
        endpoint.WritePasswordFile(passwordFile);
        await RestoreAsync(["--dbname=" + endpoint.Conninfo(database), "--no-password"], DatabaseEndpoint.ToolEnvironment(passwordFile, "commissable-restore"),
            source, options, tools, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Restores <paramref name="source"/> with the programs connected by <paramref name="connection"/>
    /// (arguments naming the database, never a password) and <paramref name="environment"/>.
    /// </summary>
    public static async Task RestoreAsync(IReadOnlyList<string> connection, IReadOnlyDictionary<string, string> environment, string source,
        DumpRestoreOptions options, PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Jobs, 1);
        if (Directory.Exists(source))
        {
            await PgRestore(connection, environment, source, options, tools).RunAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        var head = await ReadHeadAsync(source, 5, cancellationToken).ConfigureAwait(false);
        if (head.Length == 0)
        {
            throw new InvalidDataException($"{source} is empty, and a dump never is.");
        }
        var compressed = head is [0x1f, 0x8b, ..];
        if (!compressed && head.AsSpan().SequenceEqual("PGDMP"u8))
        {
            await PgRestore(connection, environment, source, options, tools).RunAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await PipeIntoPsqlAsync(connection, environment, source, compressed, options, tools, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the plain SQL that <paramref name="writeSql"/> writes (into the stream it is given, which
    /// it must not dispose) in <paramref name="database"/> of <paramref name="endpoint"/>, through
    /// psql in the same restricted mode as a plain file: for text made on the fly, such as a masked
    /// copy's, that never lands on disk. Returns once psql has run all of it; a failed statement,
    /// or a failure of <paramref name="writeSql"/> (then psql is killed before it reads further),
    /// throws. What ran before a failure stays.
    /// </summary>
    public static async Task RestoreSqlAsync(DatabaseEndpoint endpoint, string database, Func<Stream, CancellationToken, Task> writeSql, DumpRestoreOptions options,
        PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(writeSql);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tools);
        using var scratch = PrivateDirectory.Create("commissable-restore-");
        var passwordFile = Path.Combine(scratch.Path, "pgpass");
        endpoint.WritePasswordFile(passwordFile);
        var command = PsqlPipeline(["--dbname=" + endpoint.Conninfo(database), "--no-password"], DatabaseEndpoint.ToolEnvironment(passwordFile, "commissable-restore"),
            "stdin", "-", options, tools);
        using var process = command.Start(redirectStdout: true, redirectStdin: true);
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = ExternalProcess.ReadTailAsync(process.StandardError, CancellationToken.None);
        var stdin = process.StandardInput.BaseStream;
        PipeCapacity.Widen(stdin);
        ProgramStoppedReadingException? stoppedReading = null;
        try
        {
            try
            {
                await using var input = new PsqlInput(stdin);
                await writeSql(input, cancellationToken).ConfigureAwait(false);
                await input.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                try
                {
                    await stdin.DisposeAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // psql already left; its exit status tells.
                }
            }
        }
        catch (ProgramStoppedReadingException error)
        {
            // Writing failed because psql stopped reading (it failed, and said why): its exit status tells.
            stoppedReading = error;
        }
        catch
        {
            ChildProcesses.KillGroup(process.Id);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            ChildProcesses.KillGroup(process.Id);
            throw;
        }
        _ = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new ExternalProcessException("psql", process.ExitCode, errors);
        }
        if (stoppedReading is not null)
        {
            throw new IOException("psql stopped reading the SQL before its end, yet exited 0.", stoppedReading);
        }
    }

    /// <summary>
    /// psql's standard input as the writer sees it: a failed write (psql stopped reading) becomes
    /// <see cref="ProgramStoppedReadingException"/>, told apart from the writer's own failures
    /// (its source failing to read is an <see cref="IOException"/> too). Disposing leaves the pipe open.
    /// </summary>
    private sealed class PsqlInput(Stream pipe) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try
            {
                pipe.Write(buffer);
            }
            catch (IOException error)
            {
                throw new ProgramStoppedReadingException(error);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await pipe.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException error)
            {
                throw new ProgramStoppedReadingException(error);
            }
        }

        public override void Flush()
        {
            try
            {
                pipe.Flush();
            }
            catch (IOException error)
            {
                throw new ProgramStoppedReadingException(error);
            }
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            try
            {
                await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException error)
            {
                throw new ProgramStoppedReadingException(error);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private static ExternalProcess PgRestore(IReadOnlyList<string> connection, IReadOnlyDictionary<string, string> environment, string source, DumpRestoreOptions options, PostgresBinaries tools)
    {
        var arguments = new List<string>(connection) { "--no-owner", "--no-privileges", "--exit-on-error", "--jobs=" + options.Jobs.ToString(CultureInfo.InvariantCulture) };
        if (options.Clean)
        {
            arguments.Add("--clean");
        }
        if (options.IfExists)
        {
            arguments.Add("--if-exists");
        }
        arguments.Add("--");
        arguments.Add(source);
        return new ExternalProcess
        {
            FileName = tools.Path("pg_restore"),
            Arguments = arguments,
            Environment = environment,
            InheritPostgresVariables = false,
            Observer = options.Observer,
        };
    }

    /// <summary>
    /// Runs the SQL file through psql in a shell pipeline, so the dump flows to psql without passing
    /// through this process; a compressed file goes through <c>gzip -dc</c> (not .NET's GZipStream,
    /// which ends quietly at a cut-off stream), which reports a truncated or corrupt file, and
    /// <c>pipefail</c> makes that fail the restore. <see cref="RestrictFilter"/> puts psql in its
    /// restricted mode with a key the file cannot know. Each stage dies with the shell.
    /// </summary>
    private static Task<string> PipeIntoPsqlAsync(IReadOnlyList<string> connection, IReadOnlyDictionary<string, string> environment, string source, bool compressed,
        DumpRestoreOptions options, PostgresBinaries tools, CancellationToken cancellationToken) =>
        PsqlPipeline(connection, environment, compressed ? "gzip" : "plain", source, options, tools).RunAsync(cancellationToken);

    /// <summary>
    /// The shell pipeline into restricted psql: <paramref name="mode"/> <c>gzip</c> or <c>plain</c>
    /// reads <paramref name="source"/>, <c>stdin</c> the shell's own standard input.
    /// </summary>
    private static ExternalProcess PsqlPipeline(IReadOnlyList<string> connection, IReadOnlyDictionary<string, string> environment, string mode, string source,
        DumpRestoreOptions options, PostgresBinaries tools)
    {
        // psql enters its restricted mode before it reads the first line of the file (-c runs before
        // -f in the same session), so the file's own line numbers are psql's. The key is a nonce, not
        // a credential: it only has to be unknown to the file, which cannot read psql's arguments. It
        // is not put in a psql variable, which the file could interpolate into \unrestrict.
        var key = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var psql = new List<string>(connection) { "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-c", "\\restrict " + key, "-f", "-" };
        // Arguments travel as positional parameters, never spliced into the script text.
        return new ExternalProcess
        {
            FileName = "bash",
            Arguments = ["-o", "pipefail", "-c",
                // Each stage is the shell's own child (exec, no function or subshell in between), so
                // its parent-death signal fires when the shell dies. From stdin, awk reads the shell's
                // own standard input.
                """
                if [ "$1" = stdin ]; then LC_ALL=C exec setpriv --pdeathsig=KILL -- awk -- "$3" | setpriv --pdeathsig=KILL -- "$4" "${@:5}"; exit; fi
                if [ "$1" = gzip ]; then exec setpriv --pdeathsig=KILL -- gzip -dc -- "$2"; else exec setpriv --pdeathsig=KILL -- cat -- "$2"; fi \
                  | LC_ALL=C setpriv --pdeathsig=KILL -- awk -- "$3" | setpriv --pdeathsig=KILL -- "$4" "${@:5}"
                """,
                "restore", mode, source, RestrictFilter, tools.Path("psql"), .. psql],
            Environment = environment,
            InheritPostgresVariables = false,
            Observer = options.Observer,
        };
    }

    private static async Task<byte[]> ReadHeadAsync(string path, int count, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        var buffer = new byte[count];
        var read = await file.ReadAtLeastAsync(buffer, count, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return buffer[..read];
    }
}
