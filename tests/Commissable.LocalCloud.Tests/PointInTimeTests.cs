using System.Text.Json.Nodes;
using Npgsql;

namespace Commissable.LocalCloud.Tests;

/// <summary>Clone with a point in time is a real recovery: a base backup rolled forward with archived WAL.</summary>
public sealed class PointInTimeTests(LocalCloudFixture cloud) : IClassFixture<LocalCloudFixture>
{
    [Fact]
    public async Task A_clone_at_T_holds_the_rows_deleted_after_T_and_the_source_does_not()
    {
        await cloud.CreateInstanceAsync("pitr-src");
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/pitr-src/databases"), """{"name":"crm"}""");
        var source = await cloud.ConnectionStringAsync("pitr-src", "crm");
        await Sql.ExecuteAsync(source, "CREATE TABLE \"Deal\" (id serial PRIMARY KEY, amount int); INSERT INTO \"Deal\"(amount) SELECT g FROM generate_series(1, 500) g;");
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/pitr-src/backupRuns"), "{}");
        await Sql.ExecuteAsync(source, "INSERT INTO \"Deal\"(amount) SELECT g FROM generate_series(501, 700) g;");
        await Task.Delay(1100);
        var pointInTime = DateTimeOffset.UtcNow;
        await Task.Delay(1100);
        await Sql.ExecuteAsync(source, "DELETE FROM \"Deal\" WHERE amount > 100;");

        var clone = await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/pitr-src/clone"), new JsonObject
        {
            ["cloneContext"] = new JsonObject
            {
                ["destinationInstanceName"] = "pitr-at-t",
                ["pointInTime"] = pointInTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            },
        }.ToJsonString());

        Assert.Equal("CLONE", (string?)clone["operationType"]);
        Assert.Equal(700L, await Sql.ScalarAsync<long>(await cloud.ConnectionStringAsync("pitr-at-t", "crm"), "SELECT count(*) FROM \"Deal\""));
        Assert.Equal(100L, await Sql.ScalarAsync<long>(source, "SELECT count(*) FROM \"Deal\""));
        var (_, instance) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/pitr-at-t"));
        Assert.Equal("RUNNABLE", (string?)instance["state"]);
        Assert.NotEqual(await cloud.AddressOfAsync("pitr-src"), await cloud.AddressOfAsync("pitr-at-t"));

        // The clone is an instance of its own: it takes writes and its sequence continues past the restored rows.
        await Sql.ExecuteAsync(await cloud.ConnectionStringAsync("pitr-at-t", "crm"), "INSERT INTO \"Deal\"(amount) VALUES (1)");

        var (status, error) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/pitr-src/clone"),
            """{"cloneContext":{"destinationInstanceName":"pitr-at-t","pointInTime":"2026-01-01T00:00:00Z"}}""");
        Assert.Equal(409, status);
        Assert.Contains("already exists", (string?)error["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_point_in_time_outside_the_window_is_a_400_that_states_the_window()
    {
        await cloud.CreateInstanceAsync("pitr-window");
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/pitr-window/clone"),
            """{"cloneContext":{"destinationInstanceName":"never","pointInTime":"2020-01-01T00:00:00Z"}}""");
        Assert.Equal(400, status);
        Assert.Contains("no recovery window yet", (string?)body["error"]!["message"], StringComparison.Ordinal);

        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/pitr-window/backupRuns"), "{}");
        (status, body) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/pitr-window/clone"),
            """{"cloneContext":{"destinationInstanceName":"never","pointInTime":"2020-01-01T00:00:00Z"}}""");
        Assert.Equal(400, status);
        var message = (string?)body["error"]!["message"];
        Assert.Matches(@"outside the recovery window of instance 'pitr-window': \d{4}-\d\d-\d\dT[\d:.]+Z to \d{4}-\d\d-\d\dT[\d:.]+Z", message);
        Assert.Equal(404, (await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/never"))).Status);
    }
}
