using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Files;
using Commissable.LocalCloud.State;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// The local cloud's stand-in for Google's OAuth: one bearer token, written to <c>&lt;state&gt;/token</c>
/// (mode 600) on first start. A request without it gets 401, as the real API answers.
/// </summary>
internal sealed class TokenAuthentication
{
    private readonly byte[] _token;

    public TokenAuthentication(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, "token");
        if (!File.Exists(path))
        {
            var token = "lc-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
            // Mode 0600 from its creation: written first and narrowed after, the token was readable by anyone for a moment.
            var temp = $"{path}.tmp-{Guid.NewGuid():N}";
            OwnerOnly.WriteNewFile(temp, token);
            File.Move(temp, path, overwrite: false);
        }
        _token = Encoding.UTF8.GetBytes(File.ReadAllText(path).Trim());
        TokenFile = path;
    }

    public string TokenFile { get; }

    public Task Middleware(HttpContext context, RequestDelegate next)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _token))
        {
            return next(context);
        }
        var message = header.Length == 0
            ? "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. (local cloud: send 'Authorization: Bearer <contents of the state directory's token file>')"
            : "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.";
        return ErrorResponses.WriteAsync(context, new ApiException(401, header.Length == 0 ? "required" : "authError", message));
    }
}
