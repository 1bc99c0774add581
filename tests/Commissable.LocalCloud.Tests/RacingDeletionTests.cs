namespace Commissable.LocalCloud.Tests;

/// <summary>
/// Requests that race an instance's deletion learn that it is being deleted (400 invalidState) or
/// gone (404), never a 500 from a connection the stopping cluster refused.
/// </summary>
public sealed class RacingDeletionTests(LocalCloudFixture cloud) : IClassFixture<LocalCloudFixture>
{
    [Fact]
    public async Task Reads_during_a_deletion_answer_400_or_404_never_5xx()
    {
        await cloud.CreateInstanceAsync("doomed", pitr: false);
        var paths = new[] { "instances/doomed/databases", "instances/doomed/users", "instances/doomed/databases/postgres", "instances/doomed/users/postgres" };
        var statuses = new List<(string Path, int Status, string Text)>();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var (deleteStatus, delete) = await cloud.SendAsync(HttpMethod.Delete, cloud.Api("instances/doomed"));
        Assert.Equal(200, deleteStatus);
        var readers = paths.Select(async path =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, _, text) = await RawRequests.SendAsync(cloud, "GET", cloud.Api(path));
                lock (statuses) statuses.Add((path, status, text));
                if (status == 404) return;
            }
        }).ToList();
        await cloud.WaitAsync(delete);
        await Task.WhenAll(readers);

        Assert.All(statuses, s => Assert.True(s.Status is 200 or 400 or 404, $"GET {s.Path} answered {s.Status}: {s.Text}"));
        Assert.All(statuses.Where(s => s.Status == 400), s => Assert.Contains("invalidState", s.Text, StringComparison.Ordinal));
        Assert.All(paths, p => Assert.Contains(statuses, s => s.Path == p && s.Status == 404));
    }
}
