using System.Net;
using System.Text;
using Commissable.Backup.Google.Tests.Contracts;
using Xunit.Sdk;

namespace Commissable.Backup.Google.Tests.Replay;

/// <summary>The fake must fail loudly, or the replay tests prove nothing.</summary>
public sealed class ReplayingHandlerTests
{
    private const string Token = "tok";
    private static readonly Uri Root = new("https://sqladmin.googleapis.com/");

    private static (ReplayingHandler Handler, HttpClient Http) Create()
    {
        var handler = new ReplayingHandler(Root, Token, DiscoveryContract.SqlAdminV1Beta4);
        return (handler, new HttpClient(handler));
    }

    private static HttpRequestMessage Request(HttpMethod method, string relative, string? body = null, string token = Token)
    {
        var request = new HttpRequestMessage(method, new Uri(Root, relative));
        request.Headers.Authorization = new("Bearer", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

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
}
