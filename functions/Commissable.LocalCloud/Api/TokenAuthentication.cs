using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Files;
using Commissable.LocalCloud.State;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// The local cloud's stand-in for Google's OAuth: one bearer token, written to <c>&lt;state&gt;/token</c>
/// (mode 600) on first start. A request without it gets 401, as the real API answers. A token
/// file that is empty or shorter than <see cref="MinimumLength"/> characters stops the start.
/// </summary>
internal sealed class TokenAuthentication
{
    /// <summary>The shortest token accepted from an existing token file; the ones written here have 51 characters.</summary>
    public const int MinimumLength = 16;

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
        var text = File.ReadAllText(path).Trim();
        // An empty token would let "Authorization: Bearer " through, and a short one can be guessed.
        // The message names the file, never what it holds.
        if (text.Length < MinimumLength)
        {
            throw new InvalidOperationException(
                $"The token file {path} is empty or shorter than {MinimumLength} characters; the bearer token must be at least {MinimumLength} characters. Delete the file and the local cloud writes a new token at start.");
        }
        _token = Encoding.UTF8.GetBytes(text);
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
