using System.Net;

namespace Commissable.Backup.Core.Naming;

/// <summary>
/// Where an API client may send a credential. Application Default Credentials (a person's or the
/// service's Google identity) go to Google's APIs only; a token in a file goes to the endpoint it
/// was made for; plain http carries either only to this machine.
/// </summary>
public static class ApiEndpoints
{
    /// <summary>Google's APIs: https on <c>googleapis.com</c> or a name under it.</summary>
    public static bool IsGoogleApi(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var host = endpoint.IdnHost.ToLowerInvariant();
        return endpoint.Scheme == Uri.UriSchemeHttps && (host == "googleapis.com" || host.EndsWith(".googleapis.com", StringComparison.Ordinal));
    }

    /// <summary>Whether <paramref name="uri"/>'s host is this machine: <c>localhost</c>, 127.0.0.0/8 or ::1 (IPv4-mapped too).</summary>
    public static bool IsLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return string.Equals(uri.IdnHost, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.IdnHost, out var address) && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));
    }

    /// <summary>https anywhere, or http to this machine only: a credential never crosses the network in clear.</summary>
    public static bool CarriesCredentialsSafely(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.Scheme == Uri.UriSchemeHttps || (endpoint.Scheme == Uri.UriSchemeHttp && IsLoopback(endpoint));
    }
}
