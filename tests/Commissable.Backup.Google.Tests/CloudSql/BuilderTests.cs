using System.Net;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.CloudSql;

public sealed class BuilderTests : ReplayTest
{
    [Fact]
    public async Task An_endpoint_override_sends_the_same_paths_to_the_local_cloud()
    {
        var h = NewHarness(baseUri: new Uri("http://127.0.0.1:8123/"));
        h.Http.Expect(HttpMethod.Get, $"{ClientHarness.Root}/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");

        await h.RunAsync(c => c.GetInstanceAsync("prod"));

        Assert.Equal(new Uri("http://127.0.0.1:8123/"), h.Client.BaseUri);
    }

    [Fact]
    public async Task An_endpoint_with_a_path_prefix_keeps_the_prefix_even_without_a_trailing_slash()
    {
        var h = NewHarness(baseUri: new Uri("http://127.0.0.1:8123/proxy/sqladmin"));
        h.Http.Expect(HttpMethod.Get, $"{ClientHarness.Root}/operations/op-1").Respond(HttpStatusCode.OK, """{"name":"op-1"}""");

        await h.RunAsync(c => c.GetOperationAsync("op-1"));

        Assert.Equal("http://127.0.0.1:8123/proxy/sqladmin/", h.Client.BaseUri.AbsoluteUri);
    }

    [Fact]
    public void The_default_endpoint_is_Google()
    {
        Assert.Equal("https://sqladmin.googleapis.com/", new CloudSqlAdminClientBuilder().BaseUri.AbsoluteUri);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public void A_project_id_is_required(string? project)
    {
        var e = Assert.Throws<InvalidOperationException>(() => new CloudSqlAdminClientBuilder { ProjectId = project }.Build());

        Assert.Contains("ProjectId", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relative_or_non_http_endpoint_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() =>
            new CloudSqlAdminClientBuilder { ProjectId = "p", BaseUri = new Uri("ftp://example/") }.Build());
        Assert.Throws<InvalidOperationException>(() =>
            new CloudSqlAdminClientBuilder { ProjectId = "p", BaseUri = new Uri("sql", UriKind.Relative) }.Build());
    }

    [Fact]
    public void An_HttpClient_and_a_handler_together_are_refused()
    {
        using var handler = new HttpClientHandler();
        using var http = new HttpClient();

        Assert.Throws<InvalidOperationException>(() =>
            new CloudSqlAdminClientBuilder { ProjectId = "p", HttpClient = http, HttpMessageHandler = handler }.Build());
    }

    [Fact]
    public void Retry_and_poll_settings_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new CloudSqlAdminClientBuilder { ProjectId = "p", RetrySettings = new GoogleRetrySettings { MaxAttempts = 0 } }.Build());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new CloudSqlAdminClientBuilder { ProjectId = "p", RetrySettings = new GoogleRetrySettings { MaxDelay = TimeSpan.FromMilliseconds(1) } }.Build());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new CloudSqlAdminClientBuilder { ProjectId = "p", PollSettings = new CloudSqlPollSettings { Multiplier = 0.5 } }.Build());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new CloudSqlAdminClientBuilder { ProjectId = "p", PollSettings = new CloudSqlPollSettings { DefaultTimeout = TimeSpan.Zero } }.Build());
    }

    [Fact]
    public void A_client_without_a_token_source_is_built_without_looking_for_credentials()
    {
        // Application Default Credentials are located on the first request, never at build time.
        using var client = new CloudSqlAdminClientBuilder { ProjectId = "commissable-prod" }.Build();

        Assert.Equal("commissable-prod", client.Project);
    }

    [Fact]
    public async Task A_supplied_HttpClient_is_used_and_not_disposed()
    {
        var handler = new ReplayingHandler(new Uri("https://sqladmin.googleapis.com/"), "tok", Contracts.DiscoveryContract.SqlAdminV1Beta4);
        handler.Expect(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod").Respond(HttpStatusCode.OK, """{"name":"prod"}""");
        using var http = new HttpClient(handler);
        var client = new CloudSqlAdminClientBuilder { ProjectId = "p", HttpClient = http, TokenSource = new StaticTokenSource("tok") }.Build();

        await client.GetInstanceAsync("prod");
        client.Dispose();

        // Disposing the client left the caller's HttpClient usable.
        handler.Expect(HttpMethod.Get, "sql/v1beta4/projects/p/instances/prod");
        using var again = new HttpRequestMessage(HttpMethod.Get, "https://sqladmin.googleapis.com/sql/v1beta4/projects/p/instances/prod");
        again.Headers.Authorization = new("Bearer", "tok");
        using var response = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        handler.VerifyAllUsed();
    }
}
