using Commissable.Backup.Postgres.Demo;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Tests.Hosting;
using Commissable.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Commissable.Functions.Tests.Export;

/// <summary>
/// The functions in local mode, in memory, against a real local cloud: an instance <c>prod</c>
/// with backups and PITR on, the Tiny demo database in <c>crm</c>, and today's automated backup.
/// </summary>
public sealed class PreDeployEnvironment : IAsyncLifetime
{
    public const string Bucket = "crm-backups";
    private LocalFunctions? _functions;

    public LocalCloudFixture Cloud { get; } = new();
    public HttpClient Client => _functions!.Client;
    public TestLogSink Logs => _functions!.Logs;
    /// <summary>The functions' services, composed as in production (the Cloud SQL client, the inspector).</summary>
    public IServiceProvider Services => _functions!.Services;

    public async Task InitializeAsync()
    {
        await Cloud.InitializeAsync();
        await Cloud.CreateInstanceAsync("prod");
        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api("instances/prod/databases"), """{"name":"crm"}""");
        await DemoDatabase.CreateAsync(await Cloud.ConnectionStringAsync("prod", "crm"), DemoDatabaseOptions.Tiny);
        await TakeAutomatedBackupAsync("prod");

        _functions = await LocalFunctions.StartAsync(Cloud, Bucket, new Dictionary<string, string?> { ["EXPORT_WAIT_SECONDS"] = "300" });
    }

    public Task TakeAutomatedBackupAsync(string instance) =>
        Cloud.RunAsync(HttpMethod.Post, $"localcloud/v1/projects/{Cloud.Project}/instances/{instance}/automatedBackup");

    public async Task DisposeAsync()
    {
        if (_functions is not null)
        {
            await _functions.DisposeAsync();
        }
        await Cloud.DisposeAsync();
    }
}
