using Microsoft.IdentityModel.Tokens;

namespace Commissable.Functions.DataManagement;

/// <summary>A JWKS file that cannot be used; the message says why, never a key.</summary>
internal sealed class JwksException(string message) : Exception(message);

/// <summary>
/// The public keys of a JWKS file, by <c>kid</c>: EC P-256 keys only (the tokens are ES256), each
/// with a distinct <c>kid</c>, none holding a private part.
/// </summary>
internal sealed class JwksKeys
{
    /// <summary>A JWKS file is a few keys; a larger one is a mistake (or not a JWKS).</summary>
    public const int MaxFileBytes = 64 * 1024;

    private readonly Dictionary<string, JsonWebKey> _byKid;

    private JwksKeys(Dictionary<string, JsonWebKey> byKid) => _byKid = byKid;

    public int Count => _byKid.Count;

    /// <summary>The key called <paramref name="kid"/>, or null.</summary>
    public JsonWebKey? Find(string kid) => _byKid.GetValueOrDefault(kid);

    /// <exception cref="JwksException">The file is missing, too large, not a JWKS, or holds no usable key.</exception>
    public static JwksKeys Load(string path) => Parse(ReadBytes(path));

    public static byte[] ReadBytes(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new JwksException("the file does not exist.");
            if (info.Length > MaxFileBytes) throw new JwksException($"the file is larger than {MaxFileBytes / 1024} KiB; a JWKS holds a few public keys.");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new JwksException($"the file cannot be read ({e.GetType().Name}).");
        }
    }

    public static JwksKeys Parse(byte[] bytes)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(System.Text.Encoding.UTF8.GetString(bytes));
        }
#pragma warning disable CA1031 // Whatever the parser throws, the file is not a JWKS; its text is never repeated.
        catch (Exception)
#pragma warning restore CA1031
        {
            throw new JwksException("the file is not a JWKS (a JSON object with a \"keys\" array).");
        }
        var byKid = new Dictionary<string, JsonWebKey>(StringComparer.Ordinal);
        foreach (var key in set.Keys)
        {
            if (string.IsNullOrEmpty(key.Kid)) throw new JwksException("a key has no \"kid\"; every key needs one, tokens name their key by it.");
            if (key.Kty != "EC" || key.Crv != "P-256" || string.IsNullOrEmpty(key.X) || string.IsNullOrEmpty(key.Y))
            {
                throw new JwksException($"key '{Shown(key.Kid)}' is not an EC P-256 public key (kty EC, crv P-256, x, y); tokens are ES256.");
            }
            if (!string.IsNullOrEmpty(key.D)) throw new JwksException($"key '{Shown(key.Kid)}' holds a private part (\"d\"); the file must hold public keys only.");
            if (key.Alg is { Length: > 0 } alg && alg != SecurityAlgorithms.EcdsaSha256) throw new JwksException($"key '{Shown(key.Kid)}' is for {Shown(alg)}, not ES256.");
            if (!byKid.TryAdd(key.Kid, key)) throw new JwksException($"two keys share the kid '{Shown(key.Kid)}'.");
        }
        if (byKid.Count == 0) throw new JwksException("the file holds no key.");
        return new JwksKeys(byKid);
    }

    private static string Shown(string value) => Backup.Core.Naming.CloudNames.Printable(value.Length > 64 ? value[..64] + "..." : value);
}
