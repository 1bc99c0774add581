using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Rest;
using Npgsql;

namespace Commissable.LocalCloud.Tests;

/// <summary>One admin operation per instance: the second is refused with 409 operationInProgress, and the production client's retry gets it through.</summary>
public sealed class BusyInstanceTests(LocalCloudFixture cloud) : IClassFixture<LocalCloudFixture>
{
    [Fact]
    public async Task A_second_export_while_one_runs_gets_409_and_the_rest_client_retry_then_succeeds()
    {
        using var refusals = new ExportRefusals();
        using var client = new CloudSqlAdminClientBuilder
        {
            ProjectId = cloud.Project,
            BaseUri = cloud.BaseUrl,
            TokenSource = new FileTokenSource(LocalCloudHost.TokenFile(cloud.StateDirectory)),
            HttpMessageHandler = refusals,
            // So many attempts that the retries cannot run out before the first export ends, however slow it is.
            RetrySettings = GoogleRetrySettings.Default with { MaxAttempts = 100, BaseDelay = TimeSpan.FromMilliseconds(300), MaxDelay = TimeSpan.FromSeconds(2) },
            PollSettings = CloudSqlPollSettings.Default with { InitialDelay = TimeSpan.FromMilliseconds(100) },
        }.Build();
        await client.WaitForOperationAsync(await client.InsertInstanceAsync(new DatabaseInstance
        {
            Name = "busy",
            DatabaseVersion = cloud.Binaries.DatabaseVersion,
            RootPassword = "root-pw",
            Settings = new Settings { Tier = "db-custom-1-3840" },
        }));
        await client.WaitForOperationAsync(await client.InsertDatabaseAsync("busy", new Database { Name = "app" }));

        await using var blocker = new NpgsqlConnection(await cloud.ConnectionStringAsync("busy", "app"));
        await blocker.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE held (id int)", blocker))
        {
            await create.ExecuteNonQueryAsync();
        }
        var transaction = await blocker.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE held IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var first = await client.ExportAsync("busy", Export("gs://busy-bucket/first.sql.gz"));
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, cloud.Api("instances/busy/export"),
            """{"exportContext":{"fileType":"SQL","uri":"gs://busy-bucket/raw.sql","databases":["app"]}}""");
        Assert.Equal(409, status);
        Assert.Equal("operationInProgress", (string?)body["error"]!["errors"]![0]!["reason"]);

        var second = client.ExportAsync("busy", Export("gs://busy-bucket/second.sql.gz"));
        // The client's own request was refused with 409 while the first export ran, and it retries.
        await refusals.First.Task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.False(second.IsCompleted, "the second export must wait while the first runs");
        await transaction.RollbackAsync();

        await client.WaitForOperationAsync(first);
        var done = await client.WaitForOperationAsync(await second);
        Assert.Null(done.Error);
        var bucket = Path.Combine(cloud.StateDirectory, "buckets", "busy-bucket");
        Assert.True(File.Exists(Path.Combine(bucket, "first.sql.gz")));
        Assert.True(File.Exists(Path.Combine(bucket, "second.sql.gz")));
        Assert.False(File.Exists(Path.Combine(bucket, "raw.sql")));
    }

    private static ExportContext Export(string uri) => new() { FileType = "SQL", Uri = uri, Databases = ["app"] };

    /// <summary>Sends through a real handler and signals the first 409 an export request gets.</summary>
    private sealed class ExportRefusals() : DelegatingHandler(new SocketsHttpHandler())
    {
        public TaskCompletionSource First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/instances/busy/export", StringComparison.Ordinal)
                && response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                First.TrySetResult();
            }
            return response;
        }
    }
}
