namespace Commissable.Backup.Core.Naming;

/// <summary>
/// The field names that say their value is a secret (<c>password</c>, <c>rootPassword</c>,
/// <c>connectionString</c>, <c>DATABASE_URL</c>, <c>accessToken</c>...). One list for every
/// place that must not repeat such a value: the functions' log lines and errors
/// (<c>SecretRedactor</c>) and the local cloud's 400 answers.
/// </summary>
public static class SensitiveNames
{
    /// <summary>What a secret is shown as.</summary>
    public const string Marker = "[redacted]";

    /// <summary>Whether a field named <paramref name="name"/> holds a secret by its name alone, so its whole value is redacted whatever it looks like.</summary>
    public static bool IsSensitive(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Replace("_", string.Empty, StringComparison.Ordinal)
            .Replace("-", string.Empty, StringComparison.Ordinal)
            .Replace(".", string.Empty, StringComparison.Ordinal)
            .ToUpperInvariant();
        return key.Contains("PASSWORD", StringComparison.Ordinal)
            || key.Contains("PASSWD", StringComparison.Ordinal)
            || key is "PWD" or "TOKEN" or "APIKEY" or "DATABASEURL" or "DIRECTURL" or "PRODURL" or "STAGINGADMINURL"
            || key.Contains("SECRET", StringComparison.Ordinal)
            || key.Contains("PRIVATEKEY", StringComparison.Ordinal)
            || key.Contains("AUTHORIZATION", StringComparison.Ordinal)
            || key.Contains("CONNECTIONSTRING", StringComparison.Ordinal)
            || key.EndsWith("ACCESSTOKEN", StringComparison.Ordinal)
            || key.EndsWith("REFRESHTOKEN", StringComparison.Ordinal)
            || key.EndsWith("IDTOKEN", StringComparison.Ordinal)
            || key.EndsWith("BEARERTOKEN", StringComparison.Ordinal);
    }
}
