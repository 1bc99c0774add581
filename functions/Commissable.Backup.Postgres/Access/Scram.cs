using System.Security.Cryptography;
using System.Text;

namespace Commissable.Backup.Postgres.Access;

/// <summary>
/// Computes PostgreSQL's SCRAM-SHA-256 password verifier (RFC 5802/7677) here, so a password is
/// never sent to the server as SQL text, where a failing statement would copy it into the server log.
/// The local cloud's users API and the operator's <c>restore</c> both set passwords with it.
/// </summary>
public static class Scram
{
    private const int Iterations = 4096;

    /// <summary>The verifier <c>ALTER ROLE ... PASSWORD</c> stores as it is (a fresh salt each time).</summary>
    public static string Verifier(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password.Normalize(NormalizationForm.FormKC)), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${Iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }
}
