using System.Net;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.CloudSql;

/// <summary>
/// The bearer token goes in the Authorization header and nowhere else: not in an exception
/// message, even when a server echoes it back. (The client writes no logs; errors are its only output.)
/// </summary>
public sealed class TokenSecrecyTests : ReplayTest
{
    private const string R = ClientHarness.Root;
    private const string Token = ClientHarness.Token;

    public static TheoryData<string> Failures() => ["json-echo", "html-echo", "retries-exhausted", "operation-failed", "timeout"];

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task No_exception_carries_the_bearer_token(string failure)
    {
        var h = NewHarness(retry: new GoogleRetrySettings { MaxAttempts = 2 });
        var op = new Operation { Name = "op-1", Status = "RUNNING" };
        Func<CloudSqlAdminClient, Task> call = c => c.GetInstanceAsync("prod");
        switch (failure)
        {
            case "json-echo":
                h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").RespondError(HttpStatusCode.Unauthorized, "authError",
                    $"Invalid Credentials: Bearer {Token} is expired");
                break;
            case "html-echo":
                h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.Forbidden,
                    $"<html>Authorization: Bearer {Token}\r\ndenied</html>", "text/html");
                break;
            case "retries-exhausted":
                h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").RespondError(HttpStatusCode.InternalServerError, "backendError", $"token {Token}");
                h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").RespondError(HttpStatusCode.InternalServerError, "backendError", $"token {Token}");
                break;
            case "operation-failed":
                h.Http.Expect(HttpMethod.Get, $"{R}/operations/op-1").Respond(HttpStatusCode.OK,
                    """{"name":"op-1","status":"DONE","error":{"errors":[{"code":"ERROR","message":"export failed"}]}}""");
                call = c => c.WaitForOperationAsync(op);
                break;
            case "timeout":
                h.Http.Expect(HttpMethod.Get, $"{R}/operations/op-1").Respond(HttpStatusCode.OK, """{"name":"op-1","status":"RUNNING"}""");
                call = c => c.WaitForOperationAsync(op, TimeSpan.FromSeconds(1));
                break;
        }

        var e = await h.FailsAsync(call);

        Assert.DoesNotContain(Token, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Token, e.Message, StringComparison.Ordinal);
        if (e is CloudSqlApiException api)
        {
            Assert.DoesNotContain(Token, api.ApiMessage, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', api.ApiMessage);
        }
    }

    [Fact]
    public async Task An_echoed_token_is_replaced_by_a_marker()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").RespondError(HttpStatusCode.BadRequest, "invalid", $"bad header Bearer {Token}");

        var e = Assert.IsType<CloudSqlApiException>(await h.FailsAsync(c => c.GetInstanceAsync("prod")));

        Assert.Equal("bad header Bearer [redacted]", e.ApiMessage);
    }

    [Fact]
    public async Task The_token_is_sent_fresh_from_the_source_on_every_attempt()
    {
        var source = new CountingTokenSource(Token);
        var h = NewHarness(tokens: source);
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.ServiceUnavailable, "");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");

        await h.RunAsync(c => c.GetInstanceAsync("prod"));

        Assert.Equal(2, source.Calls);
    }

    [Fact]
    public async Task A_token_file_error_names_the_file_but_not_its_content()
    {
        var path = Path.Combine(Path.GetTempPath(), $"token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(path, "not a token\nsecond-line-secret");
        try
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await new FileTokenSource(path).GetAccessTokenAsync());

            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("second-line-secret", e.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class CountingTokenSource(string token) : IAccessTokenSource
    {
        public int Calls { get; private set; }

        public ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken = default)
        {
            Calls++;
            return ValueTask.FromResult(token);
        }
    }
}
