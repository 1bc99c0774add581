using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Commissable.Functions.DataManagement;

/// <summary>The signed-in CRM user a request acts for, as the verified token says.</summary>
internal sealed record ActingUser(string Id, string? Email, IReadOnlyList<string> Permissions)
{
    public bool Holds(string permission) => Permissions.Contains(permission, StringComparer.Ordinal);
}

/// <summary>A token refused: <see cref="Exception.Message"/> is the reason for the caller and the audit, never the token.</summary>
internal sealed class TokenRefusedException(string reason) : Exception(reason);

/// <summary>
/// Verifies the acting-user token the CRM backend sends in <see cref="Header"/>: a compact JWS,
/// ES256 only, signed by a key of the JWKS file (by <c>kid</c>), with <c>iss</c>, <c>aud</c>,
/// <c>sub</c>, <c>email</c>, <c>permissions</c>, <c>iat</c>, <c>exp</c> (at most
/// <see cref="MaxLifetime"/> after <c>iat</c>) and <c>jti</c>. Each <c>jti</c> is accepted once,
/// across every instance: it is recorded as a create-only object in the bucket, and a second
/// creation fails its precondition.
/// </summary>
internal sealed class ActingUserTokens(DataManagementOptions options, IBackupStore store, string prefix, TimeProvider clock)
{
    /// <summary>
    /// The header the token travels in. Not <c>Authorization</c>: on Cloud Run that header carries
    /// the CRM service account's identity token, which IAM checks before the request arrives.
    /// </summary>
    public const string Header = "X-Acting-User-Token";
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(5);
    /// <summary>How far ahead of this host's clock the CRM's <c>iat</c> may be.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);
    public const int MaxTokenLength = 8 * 1024;
    private const int MaxClaimLength = 256;

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };
    private readonly object _gate = new();
    private (byte[] Bytes, JwksKeys Keys)? _cached;

    /// <summary>Where the accepted <c>jti</c>s are recorded, one object each.</summary>
    public string ReplayPrefix { get; } = prefix + "/.data-management/jti/";

    /// <summary>The acting user of a valid, unreplayed token.</summary>
    /// <exception cref="TokenRefusedException">Missing, malformed, wrongly signed, expired, for another audience or issuer, or replayed.</exception>
    public async Task<ActingUser> VerifyAsync(string? token, CancellationToken cancellationToken)
    {
        var (user, recorded) = await BeginAsync(token, cancellationToken).ConfigureAwait(false);
        await recorded.ConfigureAwait(false);
        return user;
    }

    /// <summary>
    /// The acting user of a valid token, and the recording of its <c>jti</c>, started and not
    /// awaited: a read-only action may run meanwhile, and must await it (a replay is a
    /// <see cref="TokenRefusedException"/>) before it answers.
    /// </summary>
    /// <exception cref="TokenRefusedException">Missing, malformed, wrongly signed, expired, or for another audience or issuer.</exception>
    public async Task<(ActingUser User, Task Recorded)> BeginAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token)) throw new TokenRefusedException($"No acting-user token was sent; send the signed-in user's token in the {Header} header.");
        if (token.Length > MaxTokenLength) throw new TokenRefusedException($"The acting-user token is longer than {MaxTokenLength} characters.");
        if (!Handler.CanReadToken(token)) throw new TokenRefusedException("The acting-user token is not a compact JWS (three base64url parts separated by dots).");
        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException)
        {
            throw new TokenRefusedException("The acting-user token's header or payload is not base64url-encoded JSON, or one of its dates (exp, iat, nbf) is not a NumericDate.");
        }
        if (jwt.Alg != SecurityAlgorithms.EcdsaSha256) throw new TokenRefusedException("The acting-user token is not signed with ES256, the only algorithm accepted.");
        if (string.IsNullOrEmpty(jwt.Kid)) throw new TokenRefusedException("The acting-user token's header has no kid naming its key.");
        var key = Keys().Find(jwt.Kid) ?? throw new TokenRefusedException("The acting-user token names a key id (kid) the JWKS file does not hold.");

        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKey = key,
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireSignedTokens = true,
            // The lifetime is checked below against the injected clock.
            ValidateLifetime = false,
            RequireExpirationTime = false,
        }).ConfigureAwait(false);
        if (!result.IsValid)
        {
            throw new TokenRefusedException(result.Exception switch
            {
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "The acting-user token's signature does not verify with its key.",
                SecurityTokenInvalidAudienceException => "The acting-user token is for another audience (aud is not this function's URL).",
                SecurityTokenInvalidIssuerException => "The acting-user token is from another issuer (iss).",
                SecurityTokenInvalidAlgorithmException => "The acting-user token is not signed with ES256, the only algorithm accepted.",
                _ => "The acting-user token could not be validated.",
            });
        }

        var (user, jti, expires) = Claims(jwt);
        return (user, RecordOnceAsync(jti, expires, user.Id, cancellationToken));
    }

    private (ActingUser User, string Jti, DateTimeOffset Expires) Claims(JsonWebToken jwt)
    {
        JsonElement payload;
        try
        {
            payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload)).RootElement;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            throw new TokenRefusedException("The acting-user token's payload is not a JSON object.");
        }
        if (payload.ValueKind != JsonValueKind.Object) throw new TokenRefusedException("The acting-user token's payload is not a JSON object.");
        var iat = Time(payload, "iat");
        var exp = Time(payload, "exp");
        var now = clock.GetUtcNow();
        if (exp <= iat) throw new TokenRefusedException("The acting-user token's exp is not after its iat.");
        if (exp - iat > MaxLifetime) throw new TokenRefusedException($"The acting-user token's exp is more than {MaxLifetime.TotalMinutes:0} minutes after its iat; mint tokens that live at most 5 minutes.");
        if (iat > now + ClockSkew) throw new TokenRefusedException("The acting-user token's iat is in the future.");
        if (exp <= now) throw new TokenRefusedException("The acting-user token has expired (exp is past).");
        var sub = Text(payload, "sub", required: true)!;
        var email = Text(payload, "email", required: false);
        var jti = Text(payload, "jti", required: true)!;
        if (!payload.TryGetProperty("permissions", out var permissions) || permissions.ValueKind != JsonValueKind.Array
            || permissions.EnumerateArray().Any(p => p.ValueKind != JsonValueKind.String || p.GetString()!.Length is 0 or > MaxClaimLength))
        {
            throw new TokenRefusedException("The acting-user token's permissions claim must be an array of permission names (strings).");
        }
        var user = new ActingUser(sub, email, [.. permissions.EnumerateArray().Select(p => p.GetString()!)]);
        return (user, jti, exp);
    }

    private static DateTimeOffset Time(JsonElement payload, string claim)
    {
        if (!payload.TryGetProperty(claim, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var seconds)
            || seconds is < 0 or > 253402300799)
        {
            throw new TokenRefusedException($"The acting-user token's {claim} claim must be a NumericDate (whole seconds since 1970).");
        }
        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }

    private static string? Text(JsonElement payload, string claim, bool required)
    {
        if (!payload.TryGetProperty(claim, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new TokenRefusedException($"The acting-user token has no {claim} claim.") : null;
        }
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 and <= MaxClaimLength } text || text.Any(char.IsControl))
        {
            throw new TokenRefusedException($"The acting-user token's {claim} claim must be a string of 1 to {MaxClaimLength} printable characters.");
        }
        return text;
    }

    /// <summary>Creates the <c>jti</c>'s object; it existing already is a replay.</summary>
    private async Task RecordOnceAsync(string jti, DateTimeOffset expires, string userId, CancellationToken cancellationToken)
    {
        var name = ReplayPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jti)));
        var body = JsonSerializer.SerializeToUtf8Bytes(new { exp = expires, sub = userId, recorded = clock.GetUtcNow() });
        using var content = new MemoryStream(body, writable: false);
        try
        {
            await store.WriteAsync(name, content, "application/json", ifGenerationMatch: 0, cancellationToken).ConfigureAwait(false);
        }
        catch (StorePreconditionFailedException)
        {
            throw new TokenRefusedException("The acting-user token was used before (its jti is recorded); mint a new token per request.");
        }
    }

    /// <summary>The JWKS file's keys, parsed again only when its bytes changed.</summary>
    private JwksKeys Keys()
    {
        byte[] bytes;
        try
        {
            bytes = JwksKeys.ReadBytes(options.JwksFile);
            lock (_gate)
            {
                if (_cached is { } cached && cached.Bytes.AsSpan().SequenceEqual(bytes)) return cached.Keys;
            }
            var keys = JwksKeys.Parse(bytes);
            lock (_gate)
            {
                _cached = (bytes, keys);
            }
            return keys;
        }
        catch (JwksException e)
        {
            throw FunctionException.Unavailable($"The JWKS file ({DataManagementOptions.JwksFileVariable}) cannot be used: {e.Message}", code: "JWKS_UNAVAILABLE");
        }
    }
}
