using Commissable.Backup.Postgres.Demo;
using Commissable.Functions.Tests.Hosting;
using Commissable.Testing;

namespace Commissable.Functions.Tests;

/// <summary>
/// What the function tests share: a real local cloud, prepared by the subclass
/// (<see cref="PrepareAsync"/>), then the functions in local mode, in memory, on
/// <see cref="Bucket"/> (<see cref="LocalFunctions"/>), both stopped at the end.
/// </summary>
public abstract class LocalFunctionsEnvironment : IAsyncLifetime
{
    public const string Bucket = "crm-backups";
    private LocalFunctions? _functions;

    public LocalCloudFixture Cloud { get; } = new();
    public HttpClient Client => Functions.Client;
    public TestLogSink Logs => Functions.Logs;
    /// <summary>The functions' services, composed as in production (the Cloud SQL client, the inspector, the store).</summary>
    public IServiceProvider Services => Functions.Services;

    protected LocalFunctions Functions => _functions ?? throw new InvalidOperationException("The functions are not started.");

    /// <summary>The variables that differ from <see cref="LocalFunctions.Variables"/>.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    /// <summary>What the local cloud holds before the functions start.</summary>
    protected abstract Task PrepareAsync();

    public async Task InitializeAsync()
    {
        await Cloud.InitializeAsync();
        await PrepareAsync();
        _functions = await LocalFunctions.StartAsync(Cloud, Bucket, Settings);
    }

    public async Task DisposeAsync()
    {
        if (_functions is not null)
        {
            await _functions.DisposeAsync();
        }
        await Cloud.DisposeAsync();
    }

    /// <summary>
    /// Another host of the functions, with the same variables on the same cloud and bucket, whose
    /// time is <paramref name="clock"/>; the caller disposes it.
    /// </summary>
    public Task<LocalFunctions> StartFunctionsAsync(TimeProvider clock) => LocalFunctions.StartAsync(Cloud, Bucket, Settings, clock);

    /// <summary>The local cloud's automated backup of <paramref name="instance"/>, taken now.</summary>
    public Task TakeAutomatedBackupAsync(string instance) =>
        Cloud.RunAsync(HttpMethod.Post, $"localcloud/v1/projects/{Cloud.Project}/instances/{instance}/automatedBackup");

    /// <summary>
    /// <paramref name="instance"/> with backups and PITR on, the Tiny demo in <c>crm</c>, and
    /// today's automated backup: what a pre-deploy export needs.
    /// </summary>
    protected async Task CreateSourceAsync(string instance)
    {
        await Cloud.CreateInstanceAsync(instance);
        await Cloud.RunAsync(HttpMethod.Post, Cloud.Api($"instances/{instance}/databases"), """{"name":"crm"}""");
        await DemoDatabase.CreateAsync(await Cloud.ConnectionStringAsync(instance, "crm"), DemoDatabaseOptions.Tiny);
        await TakeAutomatedBackupAsync(instance);
    }
}
