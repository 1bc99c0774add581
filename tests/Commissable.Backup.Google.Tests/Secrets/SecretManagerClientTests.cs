using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Secrets;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.SecretManager;
using Commissable.Backup.Google.Tests.Contracts;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.Secrets;

/// <summary>
/// The Secret Manager client against replayed exchanges. No discovery document of Secret Manager is
/// stored in contracts/, so the two methods it may send are spelled out here from the v1 REST
/// reference: <c>secretmanager.projects.secrets.versions.access</c> and <c>secretmanager.projects.secrets.addVersion</c>.
/// </summary>
public sealed partial class SecretManagerClientTests : IDisposable
{
    private const string Token = "ya29.secret-manager-replay-token-4d1a";
    private const string Value = "postgresql://crm_app:s3cr3t-pw-91@localhost/crm?host=/cloudsql/crm-prod:us-central1:prod";

    private readonly RecordingTimeProvider _time = new();
    private readonly ReplayingHandler _http = new(SecretManagerClient.DefaultBaseUri, Token, Contract);
    private readonly SecretManagerClient _client;

    public SecretManagerClientTests()
    {
        _client = new SecretManagerClientBuilder
        {
            ProjectId = "crm-prod",
            TokenSource = new StaticTokenSource(Token),
            HttpMessageHandler = _http,
            TimeProvider = _time,
            Jitter = () => 1.0,
        }.Build();
    }

    private static ContractResult Contract(RecordedRequest request) =>
        request.Method == HttpMethod.Get && AccessPath().IsMatch(request.PathAndQuery) && request.Body is null
            ? new ContractResult("secretmanager.projects.secrets.versions.access", [])
        : request.Method == HttpMethod.Post && AddVersionPath().IsMatch(request.PathAndQuery) && request.IsJson
            ? new ContractResult("secretmanager.projects.secrets.addVersion", [])
        : new ContractResult(null, [$"{request.Method} {request.PathAndQuery} is not a Secret Manager v1 method the client may send"]);

    [Fact]
    public async Task The_latest_version_is_read_with_its_name_and_bytes_checked_against_its_crc32c()
    {
        var bytes = Encoding.UTF8.GetBytes(Value);
        _http.Expect(HttpMethod.Get, "v1/projects/crm-prod/secrets/crm-database-url/versions/latest:access")
            .RespondJson(new JsonObject
            {
                ["name"] = "projects/123456/secrets/crm-database-url/versions/7",
                ["payload"] = new JsonObject { ["data"] = Convert.ToBase64String(bytes), ["dataCrc32c"] = Crc32C.Compute(bytes).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            }.ToJsonString());

        var payload = await _client.AccessLatestAsync("crm-database-url");

        Assert.Equal("projects/123456/secrets/crm-database-url/versions/7", payload.VersionName);
        Assert.Equal(Value, Encoding.UTF8.GetString(payload.Data.Span));
        Assert.DoesNotContain("s3cr3t", payload.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_that_does_not_match_its_crc32c_is_refused_without_showing_it()
    {
        _http.Expect(HttpMethod.Get, "v1/projects/crm-prod/secrets/crm-database-url/versions/latest:access")
            .RespondJson(new JsonObject
            {
                ["name"] = "projects/123456/secrets/crm-database-url/versions/7",
                ["payload"] = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(Value)), ["dataCrc32c"] = "12345" },
            }.ToJsonString());

        var error = await Assert.ThrowsAsync<SecretManagerApiException>(() => _client.AccessLatestAsync("crm-database-url"));

        Assert.Contains("CRC32C", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_version_is_added_as_base64_with_its_crc32c_and_its_name_returned()
    {
        var bytes = Encoding.UTF8.GetBytes(Value);
        _http.Expect(HttpMethod.Post, "v1/projects/crm-prod/secrets/crm-direct-url:addVersion",
                new JsonObject { ["payload"] = new JsonObject { ["data"] = Convert.ToBase64String(bytes), ["dataCrc32c"] = Crc32C.Compute(bytes).ToString(System.Globalization.CultureInfo.InvariantCulture) } }.ToJsonString())
            .RespondJson("""{"name":"projects/123456/secrets/crm-direct-url/versions/8","state":"ENABLED"}""");

        Assert.Equal("projects/123456/secrets/crm-direct-url/versions/8", await _client.AddVersionAsync("crm-direct-url", bytes));
    }

    [Fact]
    public async Task A_missing_secret_is_a_404_with_googles_message()
    {
        _http.Expect(HttpMethod.Get, "v1/projects/crm-prod/secrets/nope/versions/latest:access")
            .RespondError(HttpStatusCode.NotFound, null, "Secret [projects/123456/secrets/nope] not found or has no versions.");

        var error = await Assert.ThrowsAsync<SecretManagerApiException>(() => _client.AccessLatestAsync("nope"));

        Assert.Equal(404, error.HttpStatus);
        Assert.Contains("not found", error.ApiMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_503_is_retried_and_then_read()
    {
        var bytes = Encoding.UTF8.GetBytes("v");
        _http.Expect(HttpMethod.Get, "v1/projects/crm-prod/secrets/s/versions/latest:access").RespondError(HttpStatusCode.ServiceUnavailable, null, "try again");
        _http.Expect(HttpMethod.Get, "v1/projects/crm-prod/secrets/s/versions/latest:access")
            .RespondJson(new JsonObject { ["name"] = "projects/1/secrets/s/versions/1", ["payload"] = new JsonObject { ["data"] = Convert.ToBase64String(bytes) } }.ToJsonString());

        var payload = await _time.DriveAsync(_client.AccessLatestAsync("s"));

        Assert.Equal("projects/1/secrets/s/versions/1", payload.VersionName);
    }

    [Theory]
    [InlineData("../prod")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData("x:addVersion")]
    public async Task A_name_that_is_no_secret_id_never_becomes_a_request(string secret)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _client.AccessLatestAsync(secret));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.AddVersionAsync(secret, new byte[] { 1 }));
        Assert.Empty(_http.Requests);
    }

    [GeneratedRegex(@"\Av1/projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/secrets/[A-Za-z0-9_-]{1,255}/versions/(latest|[1-9][0-9]*):access\z")]
    private static partial Regex AccessPath();

    [GeneratedRegex(@"\Av1/projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/secrets/[A-Za-z0-9_-]{1,255}:addVersion\z")]
    private static partial Regex AddVersionPath();

    public void Dispose()
    {
        try
        {
            _http.VerifyAllUsed();
        }
        finally
        {
            _client.Dispose();
            _http.Dispose();
        }
    }
}
