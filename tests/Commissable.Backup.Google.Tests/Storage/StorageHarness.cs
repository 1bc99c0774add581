using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Commissable.Backup.Google.Storage;
using Commissable.Backup.Google.Tests.Contracts;
using Commissable.Backup.Google.Tests.Replay;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Cloud.Storage.V1;

namespace Commissable.Backup.Google.Tests.Storage;

/// <summary>
/// A real <see cref="StorageClient"/> whose HTTP goes to a <see cref="ReplayingHandler"/> instead
/// of Google, and the store under test over it. Cloud Storage has two roots below one host: the
/// JSON API below <c>storage/v1/</c> and media uploads below <c>upload/storage/v1/</c>, both checked
/// against the <c>storage.v1</c> discovery document (an upload as <c>objects.insert</c>); upload
/// session URIs the server hands out are opaque, so not in the document.
/// </summary>
internal sealed class StorageHarness : IReplayHarness
{
    public const string Bucket = "commissable-backups-test";
    public const string Updated = "2025-03-04T05:06:07.891Z";
    public const string Token = "ya29.storage-test-token";
    public static readonly Uri Root = new("http://storage.test/");
    private const string JsonApi = "storage/v1/";
    private const string UploadApi = "upload/storage/v1/";

    private static readonly Lazy<DiscoveryContract> Document = new(() => DiscoveryContract.Load("storage.v1.json"));

    public StorageHarness()
    {
        Client = new StorageClientBuilder
        {
            BaseUri = new Uri(Root, JsonApi).AbsoluteUri,
            Credential = GoogleCredential.FromAccessToken(Token),
            HttpClientFactory = new HttpClientFromMessageHandlerFactory(_ =>
                new HttpClientFromMessageHandlerFactory.ConfiguredHttpMessageHandler(Http, false, false)),
        }.Build();
        Store = new GcsBackupStore(Client, Bucket);
    }

    public static DiscoveryContract Contract => Document.Value;

    public ReplayingHandler Http { get; } = NewHandler();
    public StorageClient Client { get; }
    public GcsBackupStore Store { get; }

    /// <summary>
    /// An <c>Object</c> resource as Cloud Storage returns it (int64 and uint64 as JSON strings),
    /// checked against the discovery document's Object schema.
    /// </summary>
    public static string ObjectJson(
        string name,
        string size,
        string generation,
        byte[]? content = null,
        string contentType = "application/octet-stream",
        Action<JsonObject>? edit = null)
    {
        var json = new JsonObject
        {
            ["kind"] = "storage#object",
            ["id"] = $"{Bucket}/{name}/{generation}",
            ["selfLink"] = $"https://www.googleapis.com/storage/v1/b/{Bucket}/o/{Uri.EscapeDataString(name)}",
            ["name"] = name,
            ["bucket"] = Bucket,
            ["generation"] = generation,
            ["metageneration"] = "1",
            ["contentType"] = contentType,
            ["storageClass"] = "STANDARD",
            ["size"] = size,
            ["md5Hash"] = content is null ? "1B2M2Y8AsgTpgAmY7PhCfg==" : Md5(content),
            ["crc32c"] = content is null ? "AAAAAA==" : Crc32C(content),
            ["etag"] = "CPHo2pXr7YoDEAE=",
            ["timeCreated"] = Updated,
            ["updated"] = Updated,
            ["timeStorageClassUpdated"] = Updated,
        };
        edit?.Invoke(json);
        var text = json.ToJsonString();
        // objects.insert takes an Object body: the same schema checks the canned resource.
        var check = Contract.Check("POST", $"b/{Bucket}/o", text);
        Assert.True(check.Violations.Count == 0, "canned object breaks the Object schema: " + string.Join("; ", check.Violations));
        return text;
    }

    public static string ObjectJson(string name, byte[] content, long generation, string contentType = "application/octet-stream")
        => ObjectJson(name, content.Length.ToString(CultureInfo.InvariantCulture), generation.ToString(CultureInfo.InvariantCulture), content, contentType);

    // Cloud Storage reports MD5: an integrity checksum, not security.
#pragma warning disable CA5351
    public static string Md5(byte[] content) => Convert.ToBase64String(MD5.HashData(content));
#pragma warning restore CA5351

    /// <summary>CRC32C (Castagnoli) as Cloud Storage reports it: base64 of the big-endian value.</summary>
    public static string Crc32C(ReadOnlySpan<byte> content)
    {
        var crc = uint.MaxValue;
        foreach (var b in content)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
            }
        }

        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, ~crc);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>A replaying handler for Cloud Storage's roots and document.</summary>
    public static ReplayingHandler NewHandler() => new(Root, Token, CheckContract);

    /// <summary>The request against the discovery document: JSON API methods, and media uploads as objects.insert.</summary>
    private static ContractResult CheckContract(RecordedRequest request)
    {
        if (request.PathAndQuery.StartsWith(UploadApi, StringComparison.Ordinal))
        {
            var below = request.PathAndQuery[UploadApi.Length..];
            var insert = Contract.Methods.Single(m => m.Id == "storage.objects.insert");
            return request.Method.Method == insert.HttpMethod && insert.PathPattern.IsMatch(below.Split('?')[0])
                ? ReplayingHandler.CheckJson(Contract, below, request)
                : new ContractResult(null, [$"{request.Method} {request.PathAndQuery}: only objects.insert takes media uploads"]);
        }

        return request.PathAndQuery.StartsWith(JsonApi, StringComparison.Ordinal)
            ? ReplayingHandler.CheckJson(Contract, request.PathAndQuery[JsonApi.Length..], request)
            : new ContractResult(null, [$"{request.Method} {request.PathAndQuery} is neither below {JsonApi} nor {UploadApi}"]);
    }

    public void Dispose() => Client.Dispose();
}
