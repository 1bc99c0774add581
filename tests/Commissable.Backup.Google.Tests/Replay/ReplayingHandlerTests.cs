using System.Net;
using System.Text;
using Commissable.Backup.Google.Tests.Contracts;
using Commissable.Backup.Google.Tests.Storage;
using Xunit.Sdk;

namespace Commissable.Backup.Google.Tests.Replay;

/// <summary>The fake must fail loudly, or the replay tests prove nothing.</summary>
public sealed class ReplayingHandlerTests
{
    private const string Token = "tok";
    private static readonly Uri Root = new("https://sqladmin.googleapis.com/");

    private static (ReplayingHandler Handler, HttpClient Http) Create()
        => Create(new ReplayingHandler(Root, Token, DiscoveryContract.SqlAdminV1Beta4));

    private static (ReplayingHandler Handler, HttpClient Http) CreateStorage() => Create(StorageHarness.NewHandler());

    private static (ReplayingHandler Handler, HttpClient Http) Create(ReplayingHandler handler) => (handler, new HttpClient(handler));

    private static HttpRequestMessage Request(HttpMethod method, string relative, string? body = null, string token = Token)
        => Request(Root, method, relative, body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"), token);

    private static HttpRequestMessage StorageRequest(HttpMethod method, string relative, HttpContent? content = null, string token = StorageHarness.Token)
        => Request(StorageHarness.Root, method, relative, content, token);

    private static HttpRequestMessage Request(Uri root, HttpMethod method, string relative, HttpContent? content, string token)
    {
        var request = new HttpRequestMessage(method, new Uri(root, relative)) { Content = content };
        request.Headers.Authorization = new("Bearer", token);
        return request;
    }

    [Fact]
    public void An_expectation_left_unused_fails_verification()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod");

            var e = Assert.ThrowsAny<XunitException>(handler.VerifyAllUsed);
            Assert.Contains("never requested", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_request_that_differs_from_the_expectation_fails()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod");
            using var request = Request(HttpMethod.Get, "sql/v1beta4/projects/p/instances/staging");

            await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.ThrowsAny<XunitException>(handler.VerifyAllUsed);
        }
    }

    [Fact]
    public async Task A_body_that_differs_as_JSON_fails_but_formatting_does_not_matter()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Post, "sql/v1beta4/projects/p/instances/prod/databases", """{"name":"a","charset":"UTF8"}""");
            handler.Expect(HttpMethod.Post, "sql/v1beta4/projects/p/instances/prod/databases", """{"name":"a"}""");
            using var same = Request(HttpMethod.Post, "sql/v1beta4/projects/p/instances/prod/databases", """{ "charset": "UTF8", "name": "a" }""");
            using var different = Request(HttpMethod.Post, "sql/v1beta4/projects/p/instances/prod/databases", """{"name":"b"}""");

            using var ok = await http.SendAsync(same);
            await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(different));
        }
    }

    [Fact]
    public async Task A_request_outside_the_discovery_document_fails_even_when_expected()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Post, "sql/v1beta4/projects/p/instances/prod/export", """{"exportContext":{"format":"custom"}}""");
            using var request = Request(HttpMethod.Post, "sql/v1beta4/projects/p/instances/prod/export", """{"exportContext":{"format":"custom"}}""");

            var e = await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.Contains("contract: ", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_request_without_the_bearer_token_fails()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod");
            using var request = Request(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod", token: "other");

            await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
        }
    }

    [Fact]
    public async Task An_unexpected_request_fails()
    {
        var (_, http) = Create();
        using (http)
        {
            using var request = Request(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod");

            var e = await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.Contains("unexpected request", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Canned_status_headers_and_body_are_answered()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod").Respond(HttpStatusCode.TooManyRequests, "slow down", "text/plain")
                .WithHeader("Retry-After", "3");
            using var request = Request(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod");

            using var response = await http.SendAsync(request);

            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
            Assert.Equal("slow down", await response.Content.ReadAsStringAsync());
            handler.VerifyAllUsed();
        }
    }

    // ---- Cloud Storage: two roots below one host, media uploads, and URIs the server hands out ----

    [Theory]
    [InlineData("GET", "storage/v1/b/bkt/o/a?ifGenerationMatches=0", "'ifGenerationMatches' is not defined")]
    [InlineData("DELETE", "storage/v1/b/bkt/o/a?ifGenerationMatch=one", "not a valid string (int64)")]
    [InlineData("GET", "storage/v1/b/bkt/o/a?alt=xml", "not one of the enum values")]
    [InlineData("PATCH", "storage/v1/b/bkt/nothing", "no method")]
    [InlineData("GET", "upload/storage/v1/b/bkt/o", "only objects.insert takes media uploads")]
    [InlineData("GET", "elsewhere/b/bkt/o", "neither below")]
    public async Task A_request_the_discovery_document_does_not_define_fails(string method, string relative, string expected)
    {
        var (handler, http) = CreateStorage();
        using (http)
        {
            handler.Expect(new HttpMethod(method), relative);
            using var request = StorageRequest(new HttpMethod(method), relative);

            var e = await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_upload_whose_metadata_breaks_the_Object_schema_fails()
    {
        var (handler, http) = CreateStorage();
        using (http)
        {
            const string Relative = "upload/storage/v1/b/bkt/o?uploadType=resumable";
            handler.Expect(HttpMethod.Post, Relative);
            using var request = StorageRequest(HttpMethod.Post, Relative, new StringContent("""{"name":"a","size":5}""", Encoding.UTF8, "application/json"));

            var e = await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.Contains("size: expected a JSON string (uint64)", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_request_that_differs_from_the_expectation_or_lacks_the_token_fails()
    {
        var (handler, http) = CreateStorage();
        using (http)
        {
            handler.Expect(HttpMethod.Get, "storage/v1/b/bkt/o/a");
            handler.Expect(HttpMethod.Get, "storage/v1/b/bkt/o/a");
            using var other = StorageRequest(HttpMethod.Get, "storage/v1/b/bkt/o/b");
            using var anonymous = StorageRequest(HttpMethod.Get, "storage/v1/b/bkt/o/a", token: "wrong");

            Assert.Contains("expected GET storage/v1/b/bkt/o/a but got GET storage/v1/b/bkt/o/b",
                (await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(other))).Message, StringComparison.Ordinal);
            Assert.Contains("bearer token", (await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(anonymous))).Message, StringComparison.Ordinal);
            Assert.ThrowsAny<XunitException>(handler.VerifyAllUsed);
        }
    }

    [Fact]
    public async Task An_upload_session_is_exempt_from_the_document_but_not_from_its_checks()
    {
        var (handler, http) = CreateStorage();
        using (http)
        {
            const string Session = "upload/storage/v1/b/bkt/o?uploadType=resumable&upload_id=s";
            handler.Expect(HttpMethod.Put, Session).AsUploadSession()
                .Check(r => r.Body is [1, 2, 3] ? null : "wrong bytes")
                .Respond(HttpStatusCode.OK, "");
            using var request = StorageRequest(HttpMethod.Put, Session, new ByteArrayContent([1, 2, 4]));

            var e = await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.Contains("wrong bytes", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("contract", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_canned_object_with_int64_fields_as_numbers_is_refused()
    {
        var e = Assert.ThrowsAny<XunitException>(() => StorageHarness.ObjectJson("a", "1", "2", edit: o => o["generation"] = 2));
        Assert.Contains("generation: expected a JSON string (int64)", e.Message, StringComparison.Ordinal);
    }
}
