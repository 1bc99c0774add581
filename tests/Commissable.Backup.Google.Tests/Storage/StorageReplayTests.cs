using System.Net;
using System.Text;
using Xunit.Sdk;

namespace Commissable.Backup.Google.Tests.Storage;

/// <summary>The Cloud Storage fake must fail loudly, or the store's replay tests prove nothing.</summary>
public sealed class StorageReplayTests
{
    private static (StorageReplay Handler, HttpClient Http) Create()
    {
        var handler = new StorageReplay();
        return (handler, new HttpClient(handler));
    }

    private static HttpRequestMessage Request(HttpMethod method, string relative, HttpContent? content = null, string token = StorageReplay.Token)
    {
        var request = new HttpRequestMessage(method, new Uri(StorageReplay.Root, relative)) { Content = content };
        request.Headers.Authorization = new("Bearer", token);
        return request;
    }

    [Fact]
    public void An_expectation_left_unused_fails_verification()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Get, "storage/v1/b/bkt/o/a");

            var e = Assert.ThrowsAny<XunitException>(handler.VerifyAllUsed);
            Assert.Contains("never requested", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("GET", "storage/v1/b/bkt/o/a?ifGenerationMatches=0", "'ifGenerationMatches' is not defined")]
    [InlineData("DELETE", "storage/v1/b/bkt/o/a?ifGenerationMatch=one", "not a valid string (int64)")]
    [InlineData("GET", "storage/v1/b/bkt/o/a?alt=xml", "not one of the enum values")]
    [InlineData("PATCH", "storage/v1/b/bkt/nothing", "no method")]
    [InlineData("GET", "upload/storage/v1/b/bkt/o", "only objects.insert takes media uploads")]
    [InlineData("GET", "elsewhere/b/bkt/o", "neither below")]
    public async Task A_request_the_discovery_document_does_not_define_fails(string method, string relative, string expected)
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(new HttpMethod(method), relative);
            using var request = Request(new HttpMethod(method), relative);

            var e = await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_upload_whose_metadata_breaks_the_Object_schema_fails()
    {
        var (handler, http) = Create();
        using (http)
        {
            const string Relative = "upload/storage/v1/b/bkt/o?uploadType=resumable";
            handler.Expect(HttpMethod.Post, Relative);
            using var request = Request(HttpMethod.Post, Relative, new StringContent("""{"name":"a","size":5}""", Encoding.UTF8, "application/json"));

            var e = await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(request));
            Assert.Contains("size: expected a JSON string (uint64)", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_request_that_differs_from_the_expectation_or_lacks_the_token_fails()
    {
        var (handler, http) = Create();
        using (http)
        {
            handler.Expect(HttpMethod.Get, "storage/v1/b/bkt/o/a");
            handler.Expect(HttpMethod.Get, "storage/v1/b/bkt/o/a");
            using var other = Request(HttpMethod.Get, "storage/v1/b/bkt/o/b");
            using var anonymous = Request(HttpMethod.Get, "storage/v1/b/bkt/o/a", token: "wrong");

            Assert.Contains("expected GET storage/v1/b/bkt/o/a but got GET storage/v1/b/bkt/o/b",
                (await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(other))).Message, StringComparison.Ordinal);
            Assert.Contains("bearer token", (await Assert.ThrowsAnyAsync<XunitException>(() => http.SendAsync(anonymous))).Message, StringComparison.Ordinal);
            Assert.ThrowsAny<XunitException>(handler.VerifyAllUsed);
        }
    }

    [Fact]
    public async Task An_upload_session_is_exempt_from_the_document_but_not_from_its_checks()
    {
        var (handler, http) = Create();
        using (http)
        {
            const string Session = "upload/storage/v1/b/bkt/o?uploadType=resumable&upload_id=s";
            handler.Expect(HttpMethod.Put, Session).AsUploadSession()
                .Check(r => r.Body is [1, 2, 3] ? null : "wrong bytes")
                .Respond(HttpStatusCode.OK);
            using var request = Request(HttpMethod.Put, Session, new ByteArrayContent([1, 2, 4]));

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
