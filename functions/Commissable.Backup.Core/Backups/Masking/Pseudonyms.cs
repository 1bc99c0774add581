using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>
/// Deterministic pseudonyms under a secret key: HMAC-SHA256 of (kind, normalised value), so the
/// same value gives the same pseudonym in every table and every run with the same key (joins on
/// masked values still work), and nobody without the key can compute which value a pseudonym
/// stands for, nor test a guess.
/// </summary>
/// <remarks>
/// Normalisation before hashing: an e-mail address is trimmed and lower-cased; a name is trimmed,
/// its runs of white space made one space and lower-cased; a phone number keeps only its digits
/// (and a leading +); free text and numbers are hashed as they are. Every pseudonym is ASCII and
/// carries hex digits of the hash, so it cannot be one of the readable values it replaces by
/// accident. Where a column's length limit is shorter than the full pseudonym, fewer hex digits
/// are kept (never fewer than <see cref="MinimumHexDigits"/>), which makes two values meeting in
/// one pseudonym likelier.
/// </remarks>
public sealed class Pseudonyms : IDisposable
{
    /// <summary>The shortest key accepted, in bytes.</summary>
    public const int MinimumKeyBytes = 16;

    /// <summary>Hex digits kept at least when a pseudonym is shortened to fit a column.</summary>
    public const int MinimumHexDigits = 8;

    private const string EmailDomain = "@example.invalid";

    /// <summary>Readable words that are not people's names, so a masked name reads as one and never is one.</summary>
    private static readonly string[] Words =
    [
        "Alder", "Amber", "Aspen", "Basil", "Birch", "Brook", "Cedar", "Clay", "Clover", "Coral", "Cove", "Dune", "Ember", "Fern", "Flint", "Frost",
        "Glade", "Grove", "Hazel", "Heath", "Holly", "Iris", "Ivy", "Juniper", "Kelp", "Larch", "Laurel", "Linden", "Maple", "Marsh", "Meadow", "Moss",
        "Oak", "Olive", "Onyx", "Opal", "Pebble", "Pine", "Poppy", "Quartz", "Rain", "Reed", "Ridge", "River", "Rowan", "Rush", "Sage", "Shale",
        "Slate", "Sorrel", "Spruce", "Stone", "Storm", "Swift", "Thistle", "Thorn", "Tide", "Vale", "Willow", "Wren", "Yarrow", "Yew", "Zephyr", "Zinnia",
    ];

    private readonly byte[] _key;

    /// <param name="key">The secret key (at least <see cref="MinimumKeyBytes"/> bytes); copied, and the copy cleared on <see cref="Dispose"/>.</param>
    public Pseudonyms(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinimumKeyBytes)
        {
            throw new ArgumentException($"The key must be at least {MinimumKeyBytes} bytes long.", nameof(key));
        }
        _key = key.ToArray();
    }

    /// <summary>The pseudonym of <paramref name="value"/> for a pseudonym <paramref name="kind"/>, at most <paramref name="maxLength"/> characters.</summary>
    public string Of(MaskKind kind, string value, int maxLength = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (maxLength < ShortestLength(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"A {kind.ToString().ToLowerInvariant()} pseudonym needs at least {ShortestLength(kind)} characters.");
        }
        Span<byte> hash = stackalloc byte[32];
        Hash(kind, Normalise(kind, value), hash);
        var hex = Convert.ToHexStringLower(hash[..8]);
        switch (kind)
        {
            case MaskKind.Email:
                return $"u-{hex[..Math.Min(16, maxLength - 2 - EmailDomain.Length)]}{EmailDomain}";
            case MaskKind.Name:
                {
                    var full = $"{Words[hash[31] % Words.Length]} {hex[..8]}";
                    return full.Length <= maxLength ? full : hex[..Math.Min(16, maxLength)];
                }
            case MaskKind.Phone:
                {
                    var digits = (BinaryPrimitives.ReadUInt64BigEndian(hash[8..16]) % 10_000_000_000UL).ToString("D10", CultureInfo.InvariantCulture);
                    return maxLength >= 17 ? $"+999 {digits[..3]} {digits[3..6]} {digits[6..]}" : $"+999{digits}";
                }
            case MaskKind.Text:
                return maxLength >= 7 + MinimumHexDigits ? $"masked-{hex[..Math.Min(16, maxLength - 7)]}" : hex[..Math.Min(16, maxLength)];
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a pseudonym kind.");
        }
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/> (inclusive) for <paramref name="value"/>.</summary>
    public long Number(string value, long min, long max)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(min, max);
        Span<byte> hash = stackalloc byte[32];
        Hash(MaskKind.Number, value.Trim(), hash);
        var span = (UInt128)(Int128)(max - (Int128)min) + 1;
        var offset = (UInt128)BinaryPrimitives.ReadUInt64BigEndian(hash) % span;
        return (long)((Int128)min + (Int128)offset);
    }

    /// <summary>The fewest characters a pseudonym of <paramref name="kind"/> can be shortened to.</summary>
    public static int ShortestLength(MaskKind kind) => kind switch
    {
        MaskKind.Email => 2 + MinimumHexDigits + EmailDomain.Length,
        MaskKind.Phone => 14,
        MaskKind.Name or MaskKind.Text => MinimumHexDigits,
        _ => 0,
    };

    private void Hash(MaskKind kind, string normalised, Span<byte> hash)
    {
        var length = Encoding.UTF8.GetByteCount(normalised) + 2;
        var input = length <= 512 ? stackalloc byte[length] : new byte[length];
        input[0] = (byte)kind;
        input[1] = 0;
        Encoding.UTF8.GetBytes(normalised, input[2..]);
        HMACSHA256.HashData(_key, input, hash);
    }

    private static string Normalise(MaskKind kind, string value) => kind switch
    {
        MaskKind.Email => value.Trim().ToLowerInvariant(),
        MaskKind.Name => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant(),
        MaskKind.Phone => new string(value.Trim().Where((c, i) => char.IsAsciiDigit(c) || (c == '+' && i == 0)).ToArray()),
        _ => value,
    };

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
