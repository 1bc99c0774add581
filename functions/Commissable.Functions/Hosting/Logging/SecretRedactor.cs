using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;

namespace Commissable.Functions.Hosting.Logging;

/// <summary>
/// The safety net that keeps credentials out of log lines and error responses: it replaces
/// anything that looks like a secret with <c>[redacted]</c>. Code should never log a secret in
/// the first place; this catches the one that slips through (a connection string inside an
/// exception message, a token echoed by a server).
/// </summary>
/// <remarks>
/// Caught: credentials in URLs (<c>postgres://user:pass@host</c>, any scheme), key/value secrets
/// (<c>Password=...;</c>, <c>PGPASSWORD=...</c>, <c>pwd</c>, <c>secret</c>, <c>api_key</c>,
/// <c>access_token</c>, <c>"password":"..."</c> in JSON), <c>Bearer</c>/<c>Basic</c> credentials,
/// Google OAuth access tokens (<c>ya29.</c>) and PEM private keys. It errs on the side of
/// redacting too much: a key/value secret is redacted up to the next <c>;</c> or line end.
/// </remarks>
public static partial class SecretRedactor
{
    /// <summary>What a secret is replaced with.</summary>
    public const string Marker = SensitiveNames.Marker;

    /// <summary>Returns <paramref name="text"/> with anything that looks like a secret replaced by <see cref="Marker"/>.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        try
        {
            var result = PrivateKey().Replace(text, Marker);
            result = UrlCredentials().Replace(result, "${scheme}" + Marker + "@");
            result = AuthorizationCredentials().Replace(result, "${scheme} " + Marker);
            result = GoogleAccessToken().Replace(result, Marker);
            result = KeyValueSecret().Replace(result, RedactValue);
            return result;
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological input: losing the text beats leaking it.
            return Marker;
        }
    }

    private static string RedactValue(Match match)
    {
        var value = match.Groups["value"].Value;
        var replacement = value switch
        {
            _ when value.StartsWith("\\\"", StringComparison.Ordinal) => "\\\"" + Marker + "\\\"",
            _ when value.StartsWith('"') => "\"" + Marker + "\"",
            _ when value.StartsWith('\'') => "'" + Marker + "'",
            _ => Marker,
        };
        return match.Groups["key"].Value + match.Groups["sep"].Value + replacement;
    }

    // scheme://user:password@ : the password runs to the last '@' before whitespace, so an
    // unescaped '@' or '/' inside it is still covered.
    [GeneratedRegex(@"(?<scheme>\b[a-z][a-z0-9+.\-]*://)[^\s/@:]*:[^\s]*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex UrlCredentials();

    [GeneratedRegex(@"\b(?<scheme>Bearer)\s+[A-Za-z0-9\-._~+/]+=*|\b(?<scheme>Basic)\s+[A-Za-z0-9+/]{12,}={0,2}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex AuthorizationCredentials();

    [GeneratedRegex(@"\bya29\.[0-9A-Za-z\-_.]+", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex GoogleAccessToken();

    [GeneratedRegex(@"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex PrivateKey();

    // key = value, key: value, "key": "value" and JSON escaped inside a string (\"key\":\"value\").
    // An unquoted value runs to ';' (connection strings) or the end of the line.
    [GeneratedRegex(
        """(?<key>(?:pg)?passw(?:or)?d|(?<![a-z0-9])pwd|(?:client[_-]?)?secret|api[_-]?key|(?:access|refresh|id|auth)[_-]?token|(?<![a-z0-9])token|private[_-]?key)(?<sep>(?:\\?")?\s*[=:]\s*)(?<value>\\"(?:[^"\\]|\\[^"])*\\"|"(?:[^"\\]|\\.)*"|'[^']*'|[^;\r\n]*)""",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex KeyValueSecret();
}
