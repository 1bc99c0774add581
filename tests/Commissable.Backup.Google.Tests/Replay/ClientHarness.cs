using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.Tests.Contracts;

namespace Commissable.Backup.Google.Tests.Replay;

/// <summary>A client wired to a replaying handler, fake time and deterministic jitter.</summary>
internal sealed class ClientHarness : IReplayHarness
{
    public const string Project = "commissable-test";
    public const string Token = "ya29.a0-TEST-bearer-token-5d1f8c";
    public const string Root = "sql/v1beta4/projects/commissable-test";

    public ClientHarness(
        GoogleRetrySettings? retry = null,
        CloudSqlPollSettings? poll = null,
        Uri? baseUri = null,
        double jitter = 1.0,
        IAccessTokenSource? tokens = null,
        string token = Token)
    {
        var builder = new CloudSqlAdminClientBuilder
        {
            ProjectId = Project,
            TokenSource = tokens ?? new StaticTokenSource(token),
            TimeProvider = Time,
            RetrySettings = retry ?? GoogleRetrySettings.Default,
            PollSettings = poll ?? CloudSqlPollSettings.Default,
            Jitter = () => jitter,
        };
        if (baseUri is not null)
        {
            builder.BaseUri = baseUri;
        }

        Http = new ReplayingHandler(
            builder.BaseUri.AbsoluteUri.EndsWith('/') ? builder.BaseUri : new Uri(builder.BaseUri.AbsoluteUri + "/"),
            token, DiscoveryContract.SqlAdminV1Beta4);
        builder.HttpMessageHandler = Http;
        Client = builder.Build();
    }

    public RecordingTimeProvider Time { get; } = new();
    public ReplayingHandler Http { get; }
    public CloudSqlAdminClient Client { get; }

    /// <summary>Calls the client, advancing fake time through every backoff and poll wait.</summary>
    public Task<T> RunAsync<T>(Func<CloudSqlAdminClient, Task<T>> call) => Time.DriveAsync(call(Client));

    public async Task<Exception> FailsAsync(Func<CloudSqlAdminClient, Task> call)
        => await Assert.ThrowsAnyAsync<Exception>(() => RunAsync(async c => { await call(c); return 0; }));

    public void Dispose()
    {
        Client.Dispose();
        Http.Dispose();
    }
}
