using System.Text;
using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary><c>secrets put</c>: stdin becomes the next version; only its name is printed.</summary>
public sealed class SecretsPutCommandTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"sput-{Guid.NewGuid():N}"[..13]);
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    private Task<int> PutAsync(string value, params string[] args) =>
        SecretsPutCommand.RunAsync(args, new CommandContext(_out, _err, TimeProvider.System, (d, t) => Task.Delay(d, t), CancellationToken.None),
            new MemoryStream(Encoding.UTF8.GetBytes(value)), null);

    [Fact]
    public async Task Stdin_is_stored_as_the_next_version_and_only_the_version_name_is_printed()
    {
        Assert.Equal(0, await PutAsync("s3cret-value\n", "db-url", "--state", _state));
        Assert.Equal(0, await PutAsync("second", "db-url", "--state", _state, "--project", "other-project"));
        Assert.Equal(0, await PutAsync("third\n", "db-url", "--state", _state));

        Assert.Equal(["projects/drill-project/secrets/db-url/versions/1", "projects/other-project/secrets/db-url/versions/1", "projects/drill-project/secrets/db-url/versions/2"],
            _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("s3cret", _out.ToString() + _err, StringComparison.Ordinal);
        Assert.Equal("s3cret-value", await File.ReadAllTextAsync(Path.Combine(_state, "secrets", "drill-project", "db-url", "1")));
    }

    [Fact]
    public async Task An_empty_value_or_a_bad_name_is_a_usage_error()
    {
        Assert.Equal(64, await PutAsync("\n", "db-url", "--state", _state));
        Assert.Equal(64, await PutAsync("x", "../db", "--state", _state));
        Assert.Equal(64, await PutAsync("x", "--state", _state));
        Assert.False(Directory.Exists(Path.Combine(_state, "secrets", "drill-project", "db-url")));
    }

    [Fact]
    public async Task Ctrl_C_while_stdin_is_read_is_exit_2_and_nothing_is_stored()
    {
        using var interrupt = new CancellationTokenSource();
        var context = new CommandContext(_out, _err, TimeProvider.System, (d, t) => Task.Delay(d, t), interrupt.Token);

        var exit = await SecretsPutCommand.RunAsync(["db-url", "--state", _state], context, new InterruptedWhileReading(interrupt), null);

        Assert.Equal(2, exit);
        Assert.Contains("secrets put: interrupted while reading standard input; nothing was stored", _err.ToString(), StringComparison.Ordinal);
        Assert.Empty(_out.ToString());
        Assert.False(Directory.Exists(Path.Combine(_state, "secrets", "drill-project", "db-url")));
    }

    [Fact]
    public async Task Ctrl_C_while_the_value_is_typed_is_exit_2_and_the_typed_line_is_not_stored()
    {
        using var interrupt = new CancellationTokenSource();
        var context = new CommandContext(_out, _err, TimeProvider.System, (d, t) => Task.Delay(d, t), interrupt.Token);

        // The terminal's read ends only with Enter: Ctrl-C came while the operator typed.
        var exit = await SecretsPutCommand.RunAsync(["db-url", "--state", _state], context, Stream.Null, _ =>
        {
            interrupt.Cancel();
            return "half-typed";
        });

        Assert.Equal(2, exit);
        Assert.Contains("secrets put: interrupted", _err.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("half-typed", _out.ToString() + _err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_state, "secrets", "drill-project", "db-url")));
    }

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
        if (Directory.Exists(_state)) Directory.Delete(_state, recursive: true);
    }
}

/// <summary>Standard input on which Ctrl-C comes while the command waits for bytes that never arrive.</summary>
internal sealed class InterruptedWhileReading(CancellationTokenSource interrupt) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await interrupt.CancelAsync();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
