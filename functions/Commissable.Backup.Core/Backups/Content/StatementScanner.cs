namespace Commissable.Backup.Core.Backups.Content;

/// <summary>
/// Follows a statement line by line the way psql does, so that it ends where psql would run it: at
/// a line whose last significant character is a <c>;</c> outside quotes, dollar quotes, comments and
/// parentheses. A <c>;</c> inside a function body (<c>$$ … $$</c>, <c>$_$ … $_$</c>) or a literal
/// does not end it; nor does one inside the <c>BEGIN ATOMIC … END</c> body of a SQL-standard
/// function or procedure, which psql (14 and later) tracks as it does: in a statement that starts
/// <c>CREATE [OR REPLACE] FUNCTION|PROCEDURE</c>, outside parentheses, each <c>BEGIN</c> opens a
/// block, a <c>CASE</c> inside one opens another, and each <c>END</c> closes one.
/// </summary>
internal sealed class StatementScanner
{
    private enum State
    {
        None,
        Single,
        EscapeString,
        Double,
        Dollar,
        BlockComment,
    }

    private State _state;
    private bool _escapeNext;
    private int _parens;
    private int _commentDepth;
    private byte[] _tag = [];

    // The first letters of the statement's first four words when they are CREATE, OR, REPLACE,
    // FUNCTION or PROCEDURE (0 otherwise), how many words it has had, and how deep in BEGIN … END it is.
    private readonly byte[] _words = new byte[4];
    private int _wordCount;
    private int _beginDepth;

    public void Reset()
    {
        _state = State.None;
        _escapeNext = false;
        _parens = 0;
        _commentDepth = 0;
        _tag = [];
        Array.Clear(_words);
        _wordCount = 0;
        _beginDepth = 0;
    }

    /// <summary>Scans one more line of the statement (without its newline); true when the statement ends with it.</summary>
    public bool ScanLine(ReadOnlySpan<byte> line)
    {
        var endsWithSemicolon = false;
        for (var i = 0; i < line.Length; i++)
        {
            var b = line[i];
            switch (_state)
            {
                case State.None:
                    if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\f' or (byte)'\v') continue;
                    if (b == (byte)'-' && i + 1 < line.Length && line[i + 1] == (byte)'-')
                    {
                        // A comment to the end of the line: what came before it decides.
                        i = line.Length;
                        continue;
                    }
                    endsWithSemicolon = b == (byte)';';
                    if (IsIdentifierStart(b))
                    {
                        var end = i + 1;
                        while (end < line.Length && IsIdentifierPart(line[end])) end++;
                        Word(line[i..end]);
                        i = end - 1;
                        continue;
                    }
                    switch (b)
                    {
                        case (byte)'/' when i + 1 < line.Length && line[i + 1] == (byte)'*':
                            _state = State.BlockComment;
                            _commentDepth = 1;
                            i++;
                            break;
                        case (byte)'\'':
                            _state = i > 0 && (line[i - 1] is (byte)'E' or (byte)'e') && (i < 2 || !IsIdentifierPart(line[i - 2]))
                                ? State.EscapeString
                                : State.Single;
                            break;
                        case (byte)'"':
                            _state = State.Double;
                            break;
                        case (byte)'$':
                            var tag = DollarTagLength(line, i);
                            if (tag > 0)
                            {
                                _tag = line.Slice(i, tag).ToArray();
                                _state = State.Dollar;
                                i += tag - 1;
                            }
                            break;
                        case (byte)'(':
                            _parens++;
                            break;
                        case (byte)')':
                            _parens--;
                            break;
                    }
                    break;
                case State.Single:
                    if (b == (byte)'\'') _state = State.None;
                    break;
                case State.EscapeString:
                    if (_escapeNext) _escapeNext = false;
                    else if (b == (byte)'\\') _escapeNext = true;
                    else if (b == (byte)'\'') _state = State.None;
                    break;
                case State.Double:
                    if (b == (byte)'"') _state = State.None;
                    break;
                case State.Dollar:
                    if (b == (byte)'$' && line[i..].StartsWith(_tag))
                    {
                        _state = State.None;
                        i += _tag.Length - 1;
                    }
                    break;
                case State.BlockComment:
                    if (b == (byte)'*' && i + 1 < line.Length && line[i + 1] == (byte)'/')
                    {
                        i++;
                        if (--_commentDepth == 0) _state = State.None;
                    }
                    else if (b == (byte)'/' && i + 1 < line.Length && line[i + 1] == (byte)'*')
                    {
                        i++;
                        _commentDepth++;
                    }
                    break;
            }
        }
        // A newline inside an E'' string right after a backslash is that backslash's character.
        _escapeNext = false;
        return endsWithSemicolon && _state == State.None && _parens <= 0 && _beginDepth <= 0;
    }

    /// <summary>One word (an unquoted identifier or keyword) of the statement, as psql counts them.</summary>
    private void Word(ReadOnlySpan<byte> word)
    {
        if (_wordCount < _words.Length && (Is(word, "create"u8) || Is(word, "function"u8) || Is(word, "procedure"u8) || Is(word, "or"u8) || Is(word, "replace"u8)))
        {
            _words[_wordCount] = (byte)(word[0] | 0x20);
        }
        _wordCount++;
        var routine = _words[0] == (byte)'c'
            && (_words[1] is (byte)'f' or (byte)'p' || (_words[1] == (byte)'o' && _words[2] == (byte)'r' && _words[3] is (byte)'f' or (byte)'p'));
        if (!routine || _parens != 0)
        {
            return;
        }
        if (Is(word, "begin"u8))
        {
            _beginDepth++;
        }
        else if (Is(word, "case"u8) && _beginDepth >= 1)
        {
            _beginDepth++;
        }
        else if (Is(word, "end"u8) && _beginDepth > 0)
        {
            _beginDepth--;
        }
    }

    private static bool Is(ReadOnlySpan<byte> word, ReadOnlySpan<byte> lower)
    {
        if (word.Length != lower.Length) return false;
        for (var i = 0; i < word.Length; i++)
        {
            var b = word[i];
            if ((b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b) != lower[i]) return false;
        }
        return true;
    }

    private static int DollarTagLength(ReadOnlySpan<byte> line, int i)
    {
        if (i > 0 && IsIdentifierPart(line[i - 1])) return 0;
        var j = i + 1;
        if (j < line.Length && IsIdentifierStart(line[j]))
        {
            while (j < line.Length && IsIdentifierPart(line[j]) && line[j] != (byte)'$') j++;
        }
        return j < line.Length && line[j] == (byte)'$' ? j - i + 1 : 0;
    }

    private static bool IsIdentifierStart(byte b) => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or (byte)'_' or >= 0x80;

    private static bool IsIdentifierPart(byte b) => IsIdentifierStart(b) || b is >= (byte)'0' and <= (byte)'9' or (byte)'$';
}
