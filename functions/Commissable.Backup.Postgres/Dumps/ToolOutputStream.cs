using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A program's standard output as a read-only stream, with what feeds the program (its standard
/// input, or named pipes) running beside it. The bytes flow as the program writes them: memory
/// stays at the pipe's and the caller's buffers.
/// </summary>
/// <remarks>
/// Reading to the end is the proof the output is whole: only then is the program's exit status
/// known, and the read that reaches the end throws <see cref="DumpStreamException"/> when the
/// program exited non-zero (the end of its error output in the message) or what fed it failed
/// (a damaged or missing object; then the program is killed at once, so its output cannot look
/// complete). Disposing before the end kills the program's process group; either way the
/// scratch directory goes once the program and its feeder are done with it. The program runs as
/// <see cref="ExternalProcess.Start"/> starts it: in its own group, dying with this process.
/// </remarks>
internal sealed class ToolOutputStream : ReadOnlyStream
{
    private readonly Process _process;
    private readonly string _program;
    private readonly string _description;
    private readonly Stream _stdout;
    private readonly Task<string> _stderr;
    private readonly Task _input;
    private readonly CancellationTokenSource _stopInput;
    private readonly CancellationToken _cancellation;
    private readonly IDisposable? _scratch;
    private ExceptionDispatchInfo? _failure;
    private bool _ended;
    private int _released;

    private ToolOutputStream(Process process, string program, string description,
        Func<Stream, CancellationToken, Task>? input, IDisposable? scratch, CancellationToken cancellationToken)
    {
        _process = process;
        _program = program;
        _description = description;
        _scratch = scratch;
        _cancellation = cancellationToken;
        _stdout = process.StandardOutput.BaseStream;
        PipeCapacity.Widen(_stdout);
        _stderr = ExternalProcess.ReadTailAsync(process.StandardError, CancellationToken.None);
        _stopInput = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stdin = process.StandardInput.BaseStream;
        PipeCapacity.Widen(stdin);
        var token = _stopInput.Token;
        _input = input is null ? CloseQuietly(stdin) : Task.Run(() => input(stdin, token), CancellationToken.None);
        // Once the program is gone nothing reads what feeds it: stop feeding (a writer waiting for
        // a named pipe's reader would otherwise wait for ever).
        _ = process.WaitForExitAsync(CancellationToken.None).ContinueWith(_ => StopInput(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        // A feed that failed for its own reasons stops the program: its output must not look whole.
        _ = _input.ContinueWith(
            t =>
            {
                if (!t.IsCompletedSuccessfully && t.Exception?.InnerException is not ProgramStoppedReadingException)
                {
                    Kill();
                }
            },
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>
    /// Starts <paramref name="tool"/> with its output redirected. <paramref name="input"/> writes
    /// its standard input (and owns it: it must dispose it); null closes it at once.
    /// <paramref name="scratch"/> is disposed once the program and its input are done.
    /// </summary>
    public static ToolOutputStream Start(ExternalProcess tool, string description,
        Func<Stream, CancellationToken, Task>? input, IDisposable? scratch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        var process = tool.Start(redirectStdout: true, redirectStdin: true);
        return new ToolOutputStream(process, Path.GetFileName(tool.FileName), description, input, scratch, cancellationToken);
    }

    /// <summary>The program's process id (the id of its process group too).</summary>
    public int ProcessId => _process.Id;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        _failure?.Throw();
        ObjectDisposedException.ThrowIf(_released != 0 && !_ended, this);
        if (_ended)
        {
            return 0;
        }
        var read = _stdout.Read(buffer);
        if (read > 0 || buffer.IsEmpty)
        {
            return read;
        }
        EndAsync().GetAwaiter().GetResult();
        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // A pipe read completes asynchronously whenever the tool is slower than its reader, which is
    // most reads of a long output: their state machines come from a pool instead of one each.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _failure?.Throw();
        ObjectDisposedException.ThrowIf(_released != 0 && !_ended, this);
        if (_ended)
        {
            return 0;
        }
        var read = await _stdout.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read > 0 || buffer.IsEmpty)
        {
            return read;
        }
        await EndAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>The output ended: wait for the program and its feeder, clean up, and say whether the output is whole.</summary>
    private async Task EndAsync()
    {
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var exitCode = _process.ExitCode;
        var errors = await _stderr.ConfigureAwait(false);
        var inputError = await ErrorOf(_input).ConfigureAwait(false);
        _ended = true;
        Release();
        var failure = Failure(exitCode, errors, inputError);
        if (failure is not null)
        {
            _failure = ExceptionDispatchInfo.Capture(failure);
            _failure.Throw();
        }
    }

    private Exception? Failure(int exitCode, string errors, Exception? inputError)
    {
        switch (inputError)
        {
            case null or ProgramStoppedReadingException:
                break;
            case OperationCanceledException when _cancellation.IsCancellationRequested:
                return inputError;
            case OperationCanceledException:
                // Stopped because the program had ended: its exit status tells.
                break;
            case DumpStreamException:
                return inputError;
            default:
                return new DumpStreamException($"Reading {_description} failed: {inputError.Message}", inputError);
        }
        if (exitCode != 0)
        {
            var program = new ExternalProcessException(_program, exitCode, errors);
            return new DumpStreamException($"Reading {_description} failed: {program.Message}", program);
        }
        return null;
    }

    private static async Task<Exception?> ErrorOf(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }

    private static Task CloseQuietly(Stream stdin)
    {
        try
        {
            stdin.Dispose();
        }
        catch (IOException)
        {
            // The program already left.
        }
        return Task.CompletedTask;
    }

    private void StopInput()
    {
        try
        {
            _stopInput.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                ChildProcesses.KillGroup(_process.Id);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone (and disposed).
        }
    }

    /// <summary>Stops the program and its feeder if the output was not read to its end, then cleans up.</summary>
    private async Task StopAsync()
    {
        if (Volatile.Read(ref _released) != 0)
        {
            return;
        }
        if (!_ended)
        {
            StopInput();
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            _ = await ErrorOf(_input).ConfigureAwait(false);
            _ = await ErrorOf(_stderr).ConfigureAwait(false);
        }
        Release();
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }
        _scratch?.Dispose();
        _stdout.Dispose();
        _process.Dispose();
        _stopInput.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            StopAsync().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Writing to a program failed because it no longer reads (it ended); its exit status says why.</summary>
internal sealed class ProgramStoppedReadingException(Exception innerException)
    : IOException("The program stopped reading its input.", innerException);
