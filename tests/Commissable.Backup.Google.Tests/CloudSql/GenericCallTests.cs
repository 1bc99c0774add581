using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.CloudSql;

/// <summary>The API called by path (for the Workflows connector): under the client's project, with the client's errors.</summary>
public sealed class GenericCallTests : ReplayTest
{
    private const string R = ClientHarness.Root;

    [Fact]
    public async Task A_method_is_called_under_the_project_with_its_query_and_answers_its_json_as_is()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Put, $"{R}/instances/staging/users?name=app&host=", """{"password":"pw"}""")
            .Respond(HttpStatusCode.OK, """{"kind":"sql#operation","name":"op-1","status":"PENDING","apiWarning":{"code":"X"}}""");

        var answer = await h.RunAsync(c => c.SendJsonAsync(HttpMethod.Put, "instances/staging/users?name=app&host=", JsonNode.Parse("""{"password":"pw"}""")));

        Assert.Equal("op-1", (string?)answer["name"]);
        Assert.Equal("X", (string?)answer["apiWarning"]!["code"]);
    }

    [Fact]
    public async Task An_error_answer_is_the_clients_typed_error()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/nope")
            .Respond(HttpStatusCode.NotFound, """{"error":{"code":404,"message":"The Cloud SQL instance does not exist.","errors":[{"domain":"global","reason":"instanceDoesNotExist","message":"The Cloud SQL instance does not exist."}]}}""");

        var error = await Assert.ThrowsAsync<CloudSqlApiException>(() => h.RunAsync(c => c.SendJsonAsync(HttpMethod.Get, "instances/nope", null)));

        Assert.Equal(404, error.HttpStatus);
        Assert.Equal("instanceDoesNotExist", error.Reason);
    }

    [Theory]
    [InlineData("instances/..")]
    [InlineData("instances/%2E%2E/x")]
    [InlineData("instances/./x")]
    [InlineData("instances//x")]
    [InlineData("instances/a%2Fb")]
    [InlineData("")]
    public async Task A_path_that_would_leave_its_resource_is_refused_before_any_request(string path)
    {
        var h = NewHarness();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => h.Client.SendJsonAsync(HttpMethod.Get, path, null));
        Assert.Empty(h.Http.Requests);
    }
}
