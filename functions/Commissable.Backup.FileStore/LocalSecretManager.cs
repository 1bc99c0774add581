using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Secrets;

namespace Commissable.Backup.FileStore;

/// <summary>
/// <see cref="ISecretManager"/> over the <see cref="LocalSecretStore"/> the local workflow runner's
/// Secret Manager connector and <c>secrets put</c> use: the functions in local mode read and add
/// the same versions a local workflow run would. Missing secrets are the API's 404.
/// </summary>
public sealed class LocalSecretManager : ISecretManager
{
    private readonly LocalSecretStore _store;

    public LocalSecretManager(LocalSecretStore store, string project)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!CloudNames.IsProject(project))
        {
            throw new ArgumentException($"'{project}' is not a project id.", nameof(project));
        }
        _store = store;
        Project = project;
    }

    /// <inheritdoc />
    public string Project { get; }

    /// <inheritdoc />
    public Task<SecretPayload> AccessLatestAsync(string secret, CancellationToken cancellationToken = default)
    {
        Check(secret);
        var latest = _store.Find(Project, secret, "latest")
            ?? throw new SecretManagerApiException(404, null, $"Secret [projects/{Project}/secrets/{secret}] not found or has no versions.");
        return Task.FromResult(new SecretPayload(latest.Name, _store.Read(latest)));
    }

    /// <inheritdoc />
    public Task<string> AddVersionAsync(string secret, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Check(secret);
        var version = _store.AddVersion(Project, secret, data.Span)
            ?? throw new SecretManagerApiException(404, null, $"Secret [projects/{Project}/secrets/{secret}] not found.");
        return Task.FromResult(version.Name);
    }

    private static void Check(string secret)
    {
        if (!CloudNames.IsSecretId(secret))
        {
            throw new ArgumentException($"'{CloudNames.Printable(secret ?? "")}' is not a Secret Manager secret id (1 to 255 letters, digits, '_' and '-').", nameof(secret));
        }
    }
}
