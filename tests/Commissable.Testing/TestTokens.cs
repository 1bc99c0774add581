using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Files;

namespace Commissable.Testing;

/// <summary>
/// The CRM backend's side in the tests: its own P-256 keys, the JWKS file of their public halves
/// (0600, deleted on dispose), and tokens minted by hand so that every field (alg, kid, claims,
/// signature) can be made wrong on purpose.
/// </summary>
public sealed class TestTokens : IDisposable
{
    public const string Issuer = "https://crm.example.com";
    public const string Audience = "https://data-management.example.run.app";

    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    public TestTokens()
    {
        JwksFile = Path.Combine(Path.GetTempPath(), $"jwks-{Guid.NewGuid():N}.json");
        AddKey("key-1");
    }

    public string JwksFile { get; }

    /// <summary>
    /// One set for the hosts a test class shares (the bad-input table's), on the real clock; its
    /// JWKS file is deleted when the process exits.
    /// </summary>
    public static TestTokens Shared { get; } = CreateShared();

    private static TestTokens CreateShared()
    {
        var tokens = new TestTokens();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(tokens.JwksFile);
        return tokens;
    }

    public Dictionary<string, string?> Variables() => new()
    {
        ["DATA_MANAGEMENT_ISSUER"] = Issuer,
        ["DATA_MANAGEMENT_AUDIENCE"] = Audience,
        ["DATA_MANAGEMENT_JWKS_FILE"] = JwksFile,
    };

    /// <summary>A new key under <paramref name="kid"/>, published in the JWKS file (rewritten).</summary>
    public void AddKey(string kid)
    {
        _keys[kid] = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        WriteJwks();
    }

    public void RemoveKey(string kid)
    {
        _keys.Remove(kid, out var key);
        key?.Dispose();
        WriteJwks();
    }

    private void WriteJwks()
    {
        var keys = new JsonArray();
        foreach (var (kid, key) in _keys)
        {
            var p = key.ExportParameters(false);
            keys.Add(new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["kid"] = kid, ["use"] = "sig", ["alg"] = "ES256", ["x"] = Base64Url(p.Q.X!), ["y"] = Base64Url(p.Q.Y!) });
        }
        var temp = JwksFile + ".tmp";
        File.Delete(temp);
        OwnerOnly.WriteNewFile(temp, new JsonObject { ["keys"] = keys }.ToJsonString());
        File.Move(temp, JwksFile, overwrite: true); // as a mounted secret changes: all at once
    }

    /// <summary>The claims of a valid token issued at <paramref name="now"/> for 2 minutes.</summary>
    public static JsonObject Claims(DateTimeOffset now, params string[] permissions) => new()
    {
        ["iss"] = Issuer,
        ["aud"] = Audience,
        ["sub"] = "user-42",
        ["email"] = "ada@example.com",
        ["permissions"] = new JsonArray([.. permissions.Select(p => (JsonNode)p!)]),
        ["iat"] = now.ToUnixTimeSeconds(),
        ["exp"] = now.AddMinutes(2).ToUnixTimeSeconds(),
        ["jti"] = Guid.NewGuid().ToString("N"),
    };

    /// <summary>A compact JWS of <paramref name="claims"/>, ES256 with <paramref name="kid"/>'s key (or <paramref name="signWith"/>'s).</summary>
    public string Mint(JsonObject claims, string kid = "key-1", string alg = "ES256", string? signWith = null)
    {
        var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = kid };
        var input = Part(header) + "." + Part(claims);
        byte[] signature = alg switch
        {
            "ES256" => _keys[signWith ?? kid].SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            "HS256" => HMACSHA256.HashData(Encoding.UTF8.GetBytes(Issuer + Audience + "0123456789abcdef"), Encoding.ASCII.GetBytes(input)),
            "RS256" => RsaSign(input),
            _ => [],
        };
        return input + "." + Base64Url(signature);
    }

    private static byte[] RsaSign(string input)
    {
        using var rsa = RSA.Create(2048);
        return rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    private static string Part(JsonObject json) => Base64Url(Encoding.UTF8.GetBytes(json.ToJsonString()));

    public void Dispose()
    {
        foreach (var key in _keys.Values) key.Dispose();
        File.Delete(JwksFile);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
