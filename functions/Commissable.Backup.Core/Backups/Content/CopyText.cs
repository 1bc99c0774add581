using System.Text;

namespace Commissable.Backup.Core.Backups.Content;

/// <summary>The rules of COPY's text format that the reader needs: fields and escapes.</summary>
internal static class CopyText
{
    public const byte Tab = (byte)'\t';

    /// <summary>The text of a NULL field, kept as is where a field is reported (a tenant id).</summary>
    public const string Null = "\\N";

    /// <summary>The field at <paramref name="index"/> (0-based) of one row, still escaped; null when the row has fewer fields.</summary>
    public static bool TryField(ReadOnlySpan<byte> row, int index, out ReadOnlySpan<byte> field)
    {
        var start = 0;
        for (var i = 0; i < index; i++)
        {
            var tab = row[start..].IndexOf(Tab);
            if (tab < 0)
            {
                field = default;
                return false;
            }
            start += tab + 1;
        }
        var end = row[start..].IndexOf(Tab);
        field = end < 0 ? row[start..] : row.Slice(start, end);
        return true;
    }

    /// <summary>True for the field that stands for NULL.</summary>
    public static bool IsNull(ReadOnlySpan<byte> field) => field.Length == 2 && field[0] == (byte)'\\' && field[1] == (byte)'N';

    /// <summary>
    /// A field's value as text, unescaped by COPY's text rules (<c>\t</c>, <c>\n</c>, <c>\\</c>, octal,
    /// hex, and a backslash before any other character stands for that character); NULL stays <c>\N</c>.
    /// </summary>
    public static string Unescape(ReadOnlySpan<byte> field)
    {
        if (IsNull(field)) return Null;
        if (field.IndexOf((byte)'\\') < 0) return Encoding.UTF8.GetString(field);
        var bytes = new byte[field.Length];
        var n = 0;
        for (var i = 0; i < field.Length; i++)
        {
            var b = field[i];
            if (b != (byte)'\\' || i + 1 == field.Length)
            {
                bytes[n++] = b;
                continue;
            }
            var c = field[++i];
            switch (c)
            {
                case (byte)'b': bytes[n++] = 8; break;
                case (byte)'f': bytes[n++] = 12; break;
                case (byte)'n': bytes[n++] = 10; break;
                case (byte)'r': bytes[n++] = 13; break;
                case (byte)'t': bytes[n++] = 9; break;
                case (byte)'v': bytes[n++] = 11; break;
                case >= (byte)'0' and <= (byte)'7':
                    {
                        var value = c - '0';
                        for (var k = 0; k < 2 && i + 1 < field.Length && field[i + 1] is >= (byte)'0' and <= (byte)'7'; k++)
                        {
                            value = value * 8 + (field[++i] - '0');
                        }
                        bytes[n++] = (byte)value;
                        break;
                    }
                case (byte)'x' when i + 1 < field.Length && IsHex(field[i + 1]):
                    {
                        var value = HexValue(field[++i]);
                        if (i + 1 < field.Length && IsHex(field[i + 1]))
                        {
                            value = value * 16 + HexValue(field[++i]);
                        }
                        bytes[n++] = (byte)value;
                        break;
                    }
                default: bytes[n++] = c; break;
            }
        }
        return Encoding.UTF8.GetString(bytes, 0, n);
    }

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
