using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Rest;
using Commissable.Backup.Google.Tests.Executions;
using Commissable.Backup.Google.Tests.Storage;

namespace Commissable.Backup.Google.Tests.Replay;

/// <summary>A client or store under test wired to a <see cref="ReplayingHandler"/>.</summary>
internal interface IReplayHarness : IDisposable
{
    ReplayingHandler Http { get; }
}

/// <summary>
/// Base of the replay tests: every harness a test creates is verified when the test ends, so an
/// expectation left unused fails the test (xunit reports a failing Dispose as a failure).
/// </summary>
public abstract class ReplayTest : IDisposable
{
    private readonly List<IReplayHarness> _harnesses = [];

    /// <summary>A Cloud SQL Admin client over replayed exchanges, fake time and fixed jitter.</summary>
    internal ClientHarness NewHarness(
        GoogleRetrySettings? retry = null,
        CloudSqlPollSettings? poll = null,
        Uri? baseUri = null,
        double jitter = 1.0,
        IAccessTokenSource? tokens = null,
        string token = ClientHarness.Token)
        => Track(new ClientHarness(retry, poll, baseUri, jitter, tokens, token));

    /// <summary>A Workflow Executions client over replayed exchanges, fake time and fixed jitter.</summary>
    internal ExecutionsHarness NewExecutionsHarness(GoogleRetrySettings? retry = null, double jitter = 1.0)
        => Track(new ExecutionsHarness(retry, jitter));

    /// <summary>A Cloud Storage store over a real StorageClient and replayed exchanges.</summary>
    internal StorageHarness NewStorageHarness() => Track(new StorageHarness());

    private T Track<T>(T harness)
        where T : IReplayHarness
    {
        _harnesses.Add(harness);
        return harness;
    }

    public void Dispose()
    {
        try
        {
            foreach (var harness in _harnesses)
            {
                harness.Http.VerifyAllUsed();
            }
        }
        finally
        {
            foreach (var harness in _harnesses)
            {
                harness.Dispose();
            }

            GC.SuppressFinalize(this);
        }
    }
}
