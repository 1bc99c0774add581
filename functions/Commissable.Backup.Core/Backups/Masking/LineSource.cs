namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>
/// Whole lines of a stream, from a buffer that grows to hold the longest line (up to
/// <see cref="DumpMasker.MaxLineBytes"/>). With <c>keepAll</c> nothing read is ever dropped, so
/// the bytes read so far can be read again by a second source (<see cref="Buffer"/>, <see cref="Length"/>).
/// </summary>
internal sealed class LineSource
{
    private const int InitialSize = 1 << 20;

    private readonly Stream _stream;
    private readonly bool _keepAll;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _ended;

    /// <param name="stream">Where the bytes after <paramref name="head"/> come from.</param>
    /// <param name="head">Bytes already read from <paramref name="stream"/>, read first (the array is taken over).</param>
    /// <param name="headLength">How many bytes of <paramref name="head"/> are read.</param>
    public LineSource(Stream stream, byte[] head, int headLength, bool keepAll)
    {
        _stream = stream;
        _keepAll = keepAll;
        _buffer = head.Length >= InitialSize ? head : new byte[InitialSize];
        if (!ReferenceEquals(_buffer, head)) head.AsSpan(0, headLength).CopyTo(_buffer);
        _end = headLength;
    }

    /// <summary>The buffer (everything read, with <c>keepAll</c>).</summary>
    public byte[] Buffer => _buffer;

    /// <summary>Bytes in <see cref="Buffer"/>.</summary>
    public int Length => _end;

    /// <summary>Bytes handed out as lines so far (newlines included).</summary>
    public long Consumed { get; private set; }

    /// <summary>The number of the last line handed out (1-based).</summary>
    public long LineNumber { get; private set; }

    /// <summary>The next whole line (without its newline) when the buffer holds one; at the end, the last line even without a newline.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        var rest = _buffer.AsSpan(_start, _end - _start);
        var newline = rest.IndexOf((byte)'\n');
        if (newline >= 0)
        {
            line = rest[..newline];
            _start += newline + 1;
            Consumed += newline + 1;
            LineNumber++;
            return true;
        }
        if (_ended && rest.Length > 0)
        {
            line = rest;
            _start = _end;
            Consumed += rest.Length;
            LineNumber++;
            return true;
        }
        line = default;
        return false;
    }

    /// <summary>Reads more; false at the end of the stream.</summary>
    public async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_ended) return false;
        if (!_keepAll && _start > 0)
        {
            System.Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length - _start >= DumpMasker.MaxLineBytes)
            {
                throw new InvalidDataException($"A line of the dump is longer than {DumpMasker.MaxLineBytes >> 20} MB: too long to mask.");
            }
            Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, 2L * _buffer.Length));
        }
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _ended = true;
            return _start < _end;
        }
        _end += read;
        return true;
    }
}
