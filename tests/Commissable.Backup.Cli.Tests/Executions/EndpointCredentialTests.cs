using Commissable.Backup.Cli.Commands;
using Commissable.Backup.Cli.Commands.Executions;

namespace Commissable.Backup.Cli.Tests.Executions;

/// <summary>
/// Where the executions commands may send the operator's Google identity: Application Default
/// Credentials go only to https on googleapis.com, any other <c>--endpoint</c> needs
/// <c>--access-token-file</c>, plain http is for loopback only, and a URL with credentials in it is
/// refused without repeating them. Every refusal comes before any request.
/// </summary>
public sealed class EndpointCredentialTests : CliHarness
{
    private static readonly string[] Dr =
    [
        "--project", "commissable-prod", "--location", "europe-west1", "--point-in-time", "2025-03-01T09:30:00Z",
        "--source", "prod", "--new-instance", "prod-r1", "--database-url-secret", "db-url", "--direct-url-secret", "direct-url",
    ];

    public static TheoryData<string, string> NotGoogle() => new()
    {
        // A host on the network, a lookalike, Google's name with another suffix: not Google's API.
        { "https://10.0.0.7:8443/", "--endpoint 'https://10.0.0.7:8443/' is not Google's API (https on googleapis.com), so Application Default Credentials are not sent to it: it requires --access-token-file F" },
        { "https://evilgoogleapis.com/", "--endpoint 'https://evilgoogleapis.com/' is not Google's API" },
        { "https://workflowexecutions.googleapis.com.example.net/", "--endpoint 'https://workflowexecutions.googleapis.com.example.net/' is not Google's API" },
        // The local stack's executions server, or whoever listens on its port while it is stopped.
        { "http://127.0.0.1:8124/", "--endpoint 'http://127.0.0.1:8124/' is not Google's API" },
        { "http://localhost:8124/", "--endpoint 'http://localhost:8124/' is not Google's API" },
    };

    [Theory]
    [MemberData(nameof(NotGoogle))]
    public async Task Another_endpoint_without_an_access_token_file_is_refused_before_any_request(string endpoint, string expected)
    {
        var code = await DrStartCommand.RunAsync([.. Dr, "--endpoint", endpoint], Context());

        Assert.Equal(64, code);
        Assert.StartsWith("dr start: ", Error.ToString(), StringComparison.Ordinal);
        Assert.Contains(expected, Error.ToString().Split('\n')[0], StringComparison.Ordinal);
        Assert.Equal("", Out.ToString());
    }

    [Fact]
    public async Task A_listener_on_loopback_gets_no_request_and_no_token_without_an_access_token_file()
    {
        var start = await DrStartCommand.RunAsync([.. Dr, "--endpoint", Api.BaseUri.AbsoluteUri], Context());
        var watch = await ExecutionsWatchCommand.RunAsync(
            ["projects/commissable-prod/locations/europe-west1/workflows/disaster-recovery/executions/0b6f7c1e", "--endpoint", Api.BaseUri.AbsoluteUri], Context());

        Assert.Equal(64, start);
        Assert.Equal(64, watch);
        Assert.Contains("requires --access-token-file", Error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    [Theory]
    // Plain http to anything but loopback: the token would cross the network in clear.
    [InlineData("http://10.0.0.7:8080/", "--endpoint 'http://10.0.0.7:8080/' is http on a host that is not loopback")]
    [InlineData("http://workflowexecutions.googleapis.com/", "--endpoint 'http://workflowexecutions.googleapis.com/' is http on a host that is not loopback")]
    [InlineData("http://128.0.0.1/", "is http on a host that is not loopback")]
    [InlineData("http://[::2]:8124/", "is http on a host that is not loopback")]
    public async Task Plain_http_is_refused_for_a_host_that_is_not_loopback_even_with_an_access_token_file(string endpoint, string expected)
    {
        var code = await DrStartCommand.RunAsync([.. Dr, .. Connection[2..], "--endpoint", endpoint], Context());

        Assert.Equal(64, code);
        Assert.Contains(expected, Error.ToString().Split('\n')[0], StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    [Theory]
    [InlineData("https://ops:hunter2-pw@workflowexecutions.googleapis.com/")]
    [InlineData("http://hunter2-pw@127.0.0.1:8124/")]
    public async Task An_endpoint_with_credentials_in_it_is_refused_without_repeating_them(string endpoint)
    {
        var code = await DrStartCommand.RunAsync([.. Dr, .. Connection[2..], "--endpoint", endpoint], Context());

        Assert.Equal(64, code);
        Assert.Contains("--endpoint must not contain credentials (user:password@)", Error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", Error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    [Theory]
    // The default, a regional endpoint and the bare domain: Google's API, where ADC belongs.
    [InlineData(null)]
    [InlineData("https://workflowexecutions.googleapis.com/")]
    [InlineData("https://europe-west1-workflowexecutions.googleapis.com/")]
    [InlineData("https://googleapis.com/")]
    public void Application_default_credentials_are_used_for_https_on_googleapis_com(string? endpoint)
    {
        var uri = endpoint is null ? null : InputRules.Endpoint(ApiOptions.EndpointOption, endpoint);

        // Building the client loads no credential and sends nothing.
        using var client = new ApiOptions(uri, null).CreateClient();
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/")]
    [InlineData("https://10.0.0.7/")]
    public void A_client_for_another_endpoint_is_never_built_with_application_default_credentials(string endpoint)
    {
        var refused = Assert.Throws<UsageException>(() => new ApiOptions(new Uri(endpoint), null).CreateClient());

        Assert.Contains("requires --access-token-file", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Loopback by address, by name, over IPv6, anywhere in 127.0.0.0/8, and https anywhere, with a token file.
    [InlineData("http://127.0.0.1:8124/")]
    [InlineData("http://127.1.2.3:8124/")]
    [InlineData("http://localhost:8124/")]
    [InlineData("http://[::1]:8124/")]
    [InlineData("https://proxy.internal.example/")]
    public void Another_endpoint_with_an_access_token_file_is_accepted(string endpoint)
    {
        var uri = InputRules.Endpoint(ApiOptions.EndpointOption, endpoint);

        using var client = new ApiOptions(uri, Connection[3]).CreateClient();
    }
}
