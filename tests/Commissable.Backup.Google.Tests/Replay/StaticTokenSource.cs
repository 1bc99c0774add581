using Commissable.Backup.Google.Auth;

namespace Commissable.Backup.Google.Tests.Replay;

internal sealed class StaticTokenSource(string token) : IAccessTokenSource
{
    public ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(token);
}
