using System.Net;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.CloudSql;

/// <summary>Paths, query strings and paging, as the discovery document defines them.</summary>
public sealed class RequestShapeTests : ReplayTest
{
    private const string R = ClientHarness.Root;

    [Fact]
    public async Task Path_segments_are_escaped()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/odd%20name%2Fx/databases/db%3F1").Respond(HttpStatusCode.OK, """{"name":"db?1"}""");

        var database = await h.RunAsync(c => c.GetDatabaseAsync("odd name/x", "db?1"));

        Assert.Equal("db?1", database.Name);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("")]
    public async Task Names_that_would_change_the_path_are_refused_before_any_request(string name)
    {
        var h = NewHarness();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => h.Client.GetInstanceAsync(name));
        Assert.Empty(h.Http.Requests);
    }

    [Fact]
    public async Task Updating_a_PostgreSQL_user_sends_the_name_and_no_host()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Put, $"{R}/instances/staging/users?name=app%2Bstaging", """{"password":"pw"}""")
            .Respond(HttpStatusCode.OK, """{"name":"op-1","status":"PENDING"}""");

        await h.RunAsync(c => c.UpdateUserAsync("staging", "app+staging", host: null, new User { Password = "pw" }));
    }

    [Fact]
    public async Task Updating_a_user_with_a_host_sends_both_query_parameters()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Put, $"{R}/instances/legacy/users?name=root&host=%25", """{"password":"pw"}""")
            .Respond(HttpStatusCode.OK, """{"name":"op-1","status":"PENDING"}""");

        await h.RunAsync(c => c.UpdateUserAsync("legacy", "root", "%", new User { Password = "pw" }));
    }

    [Fact]
    public async Task Listing_instances_follows_next_page_tokens_until_exhausted()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances").Respond(HttpStatusCode.OK, """{"items":[{"name":"a"}],"nextPageToken":"t/1=="}""");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances?pageToken=t%2F1%3D%3D").Respond(HttpStatusCode.OK, """{"items":[{"name":"b"}],"nextPageToken":"t2"}""");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances?pageToken=t2").Respond(HttpStatusCode.OK, """{"nextPageToken":""}""");

        var instances = await h.RunAsync(c => c.ListInstancesAsync());

        Assert.Equal(["a", "b"], instances.Select(i => i.Name));
    }

    [Fact]
    public async Task Listing_operations_of_one_instance_pages_with_the_filter_kept()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/operations?instance=prod").Respond(HttpStatusCode.OK, """{"items":[{"name":"op-3"}],"nextPageToken":"n"}""");
        h.Http.Expect(HttpMethod.Get, $"{R}/operations?instance=prod&pageToken=n").Respond(HttpStatusCode.OK, """{"items":[{"name":"op-2"}]}""");

        var operations = await h.RunAsync(c => c.ListOperationsAsync("prod"));

        Assert.Equal(["op-3", "op-2"], operations.Select(o => o.Name));
    }

    [Fact]
    public async Task Listing_operations_of_the_whole_project_sends_no_filter()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/operations").Respond(HttpStatusCode.OK, "{}");

        Assert.Empty(await h.RunAsync(c => c.ListOperationsAsync(null)));
    }

    [Fact]
    public async Task Listing_backup_runs_follows_next_page_tokens()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod/backupRuns").Respond(HttpStatusCode.OK, """{"items":[{"id":"2"}],"nextPageToken":"p2"}""");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod/backupRuns?pageToken=p2").Respond(HttpStatusCode.OK, """{"items":[{"id":"1"}]}""");

        var runs = await h.RunAsync(c => c.ListBackupRunsAsync("prod"));

        Assert.Equal([2L, 1L], runs.Select(r => r.Id!.Value));
    }

    [Fact]
    public async Task Listing_users_does_not_page_because_the_method_defines_no_page_token()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod/users").Respond(HttpStatusCode.OK, """{"items":[{"name":"postgres"}],"nextPageToken":"ignored"}""");

        Assert.Single(await h.RunAsync(c => c.ListUsersAsync("prod")));
    }

    [Fact]
    public async Task A_repeated_page_token_stops_the_listing_instead_of_looping()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances").Respond(HttpStatusCode.OK, """{"nextPageToken":"same"}""");
        h.Http.Expect(HttpMethod.Get, $"{R}/instances?pageToken=same").Respond(HttpStatusCode.OK, """{"nextPageToken":"same"}""");

        Assert.IsType<InvalidOperationException>(await h.FailsAsync(c => c.ListInstancesAsync()));
    }

    [Fact]
    public async Task Unknown_response_fields_are_kept_for_a_read_modify_write()
    {
        var h = NewHarness();
        h.Http.Expect(HttpMethod.Get, $"{R}/instances/prod").Respond(HttpStatusCode.OK,
            """{"name":"prod","settings":{"tier":"db-f1-micro","availabilityType":"REGIONAL"}}""");
        h.Http.Expect(HttpMethod.Patch, $"{R}/instances/prod", """{"name":"prod","settings":{"tier":"db-g1-small","availabilityType":"REGIONAL"}}""")
            .Respond(HttpStatusCode.OK, """{"name":"op-1","status":"PENDING"}""");

        var instance = await h.RunAsync(c => c.GetInstanceAsync("prod"));
        await h.RunAsync(c => c.PatchInstanceAsync("prod", instance with { Settings = instance.Settings! with { Tier = "db-g1-small" } }));
    }
}
