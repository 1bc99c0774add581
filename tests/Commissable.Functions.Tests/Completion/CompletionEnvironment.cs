using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Tests.Hosting;
using Commissable.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Commissable.Functions.Tests.Completion;

/// <summary>
/// The functions in local mode, in memory, against a real local cloud with one instance <c>prod</c>
/// (backups and PITR on) and the real local backup store; the shape of <c>PreDeployEnvironment</c>
/// without the demo database, which these tests never read.
/// </summary>
public sealed class CompletionEnvironment : IAsyncLifetime
{
    public const string Bucket = "crm-backups";
    private LocalFunctions? _functions;

    public LocalCloudFixture Cloud { get; } = new();
    public HttpClient Client => _functions!.Client;
    public TestLogSink Logs => _functions!.Logs;
    public IBackupStore Store => _functions!.Services.GetRequiredService<IBackupStore>();
    public BackupCatalog Catalog => _functions!.Services.GetRequiredService<BackupCatalog>();

    public async Task InitializeAsync()
    {
        await Cloud.InitializeAsync();
        await Cloud.CreateInstanceAsync("prod");

        _functions = await LocalFunctions.StartAsync(Cloud, Bucket);
    }

    public async Task DisposeAsync()
    {
        if (_functions is not null)
        {
            await _functions.DisposeAsync();
        }
        await Cloud.DisposeAsync();
    }
}
