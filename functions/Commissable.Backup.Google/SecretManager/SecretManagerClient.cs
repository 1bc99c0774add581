using System.Globalization;
using System.Text.Json.Serialization;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Secrets;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Google.Rest;

namespace Commissable.Backup.Google.SecretManager;

/// <summary>
/// Secret Manager API v1 over REST (Google.Cloud.SecretManager.V1 is not available here), through
/// the same transport as the other clients: tokens, retries, typed errors. Two methods:
/// <c>projects.secrets.versions.access</c> (<c>GET v1/projects/P/secrets/S/versions/latest:access</c>)
/// and <c>projects.secrets.addVersion</c> (<c>POST v1/projects/P/secrets/S:addVersion</c> with
/// <c>{"payload": {"data": base64, "dataCrc32c": "..."}}</c>). Values are checked against their
/// CRC32C both ways and never appear in a message. Build it with <see cref="SecretManagerClientBuilder"/>.
/// </summary>
public sealed class SecretManagerClient : ISecretManager, IDisposable
{
    /// <summary>Google's endpoint.</summary>
    public static Uri DefaultBaseUri { get; } = new("https://secretmanager.googleapis.com/");

    private readonly GoogleRestTransport _transport;

    internal SecretManagerClient(GoogleRestTransport transport, string project)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        Project = project;
    }

    /// <inheritdoc />
    public string Project { get; }

    /// <summary>The API root requests go to.</summary>
    public Uri BaseUri => _transport.BaseUri;

    /// <inheritdoc />
    public async Task<SecretPayload> AccessLatestAsync(string secret, CancellationToken cancellationToken = default)
    {
        var answer = await _transport.SendAsync<AccessAnswer>(HttpMethod.Get, SecretPath(secret) + "/versions/latest:access", null, cancellationToken).ConfigureAwait(false);
        if (answer.Payload?.Data is not { } data || answer.Name is not { Length: > 0 } name)
        {
            throw new SecretManagerApiException(502, null, $"the latest version of secret '{secret}' came back without a name or payload");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(data);
        }
        catch (FormatException)
        {
            throw new SecretManagerApiException(502, null, $"the payload of {name} is not base64");
        }

        if (answer.Payload.DataCrc32c is { } expected && Crc32C.Compute(bytes) != (uint)expected)
        {
            throw new SecretManagerApiException(502, null, $"the payload of {name} does not match its CRC32C: it was corrupted on the way");
        }

        return new SecretPayload(name, bytes);
    }

    /// <inheritdoc />
    public async Task<string> AddVersionAsync(string secret, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var body = new AddVersionBody(new Payload(Convert.ToBase64String(data.Span), Crc32C.Compute(data.Span)));
        var version = await _transport.SendAsync<VersionAnswer>(HttpMethod.Post, SecretPath(secret) + ":addVersion", body, cancellationToken).ConfigureAwait(false);
        return version.Name is { Length: > 0 } name
            ? name
            : throw new SecretManagerApiException(502, null, $"the version added to secret '{secret}' came back without a name");
    }

    private string SecretPath(string secret)
    {
        if (!CloudNames.IsSecretId(secret))
        {
            throw new ArgumentException($"'{CloudNames.Printable(secret ?? "")}' is not a Secret Manager secret id (1 to 255 letters, digits, '_' and '-').", nameof(secret));
        }

        return $"v1/projects/{GoogleRestTransport.Segment(Project, "project")}/secrets/{secret}";
    }

    public void Dispose() => _transport.Dispose();

    private sealed record AccessAnswer
    {
        public string? Name { get; init; }
        public Payload? Payload { get; init; }
    }

    private sealed record VersionAnswer
    {
        public string? Name { get; init; }
    }

    private sealed record AddVersionBody(Payload Payload);

    /// <summary>SecretPayload: <c>dataCrc32c</c> is an int64, a string on the wire.</summary>
    private sealed record Payload(
        string? Data,
        [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)] long? DataCrc32c)
    {
        // A payload is never shown, even by accident.
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Payload {{ {Data?.Length ?? 0} base64 characters }}");
    }
}
