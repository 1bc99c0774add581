namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// A read-only stream whose first bytes were read ahead (to tell the format by its magic bytes):
/// they are given back first, then the rest of the source. Disposing it disposes the source.
/// </summary>
internal sealed class PeekedStream : ReadOnlyStream
{
    private readonly Stream _source;
    private readonly byte[] _head;
    private int _headOffset;

    private PeekedStream(Stream source, byte[] head)
    {
        _source = source;
        _head = head;
    }

    /// <summary>The first bytes of the source (fewer only when it is shorter).</summary>
    public ReadOnlySpan<byte> Head => _head;

    /// <summary>Reads up to <paramref name="count"/> bytes ahead.</summary>
    public static async Task<PeekedStream> ReadAheadAsync(Stream source, int count, CancellationToken cancellationToken)
    {
        var head = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var read = await source.ReadAsync(head.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            filled += read;
        }
        return new PeekedStream(source, head[..filled]);
    }

    public bool StartsWith(ReadOnlySpan<byte> magic) => Head.StartsWith(magic);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_headOffset < _head.Length)
        {
            return TakeHead(buffer);
        }
        return _source.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_headOffset < _head.Length)
        {
            return ValueTask.FromResult(TakeHead(buffer.Span));
        }
        return _source.ReadAsync(buffer, cancellationToken);
    }

    private int TakeHead(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, _head.Length - _headOffset);
        _head.AsSpan(_headOffset, count).CopyTo(buffer);
        _headOffset += count;
        return count;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _source.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
