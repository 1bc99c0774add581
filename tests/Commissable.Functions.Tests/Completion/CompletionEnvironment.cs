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
    private readonly string _passwordFile = Path.Combine(Path.GetTempPath(), $"inspector-{Guid.NewGuid():N}");
    private WebApplication? _app;

    public LocalCloudFixture Cloud { get; } = new();
    public HttpClient Client { get; private set; } = null!;
    public TestLogSink Logs { get; } = new();
    public SecretScan Secrets { get; } = new();
    public IBackupStore Store => _app!.Services.GetRequiredService<IBackupStore>();
    public BackupCatalog Catalog => _app!.Services.GetRequiredService<BackupCatalog>();

    public async Task InitializeAsync()
    {
        await Cloud.InitializeAsync();
        await Cloud.CreateInstanceAsync("prod");
        await File.WriteAllTextAsync(_passwordFile, "root-pw");
        File.SetUnixFileMode(_passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var environment = new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["LOCAL_MODE"] = "true",
            ["GOOGLE_CLOUD_PROJECT"] = Cloud.Project,
            ["BACKUP_BUCKET"] = Bucket,
            ["ENVIRONMENT_NAME"] = "prod",
            ["PRODUCTION_INSTANCES"] = "prod",
            ["CLOUDSQL_API_ENDPOINT"] = Cloud.BaseUrl.ToString(),
            ["CLOUDSQL_TOKEN_FILE"] = Commissable.LocalCloud.LocalCloudHost.TokenFile(Cloud.StateDirectory),
            ["LOCAL_STATE_DIR"] = Cloud.StateDirectory,
            ["INSPECTOR_DB_USER"] = "postgres",
            ["INSPECTOR_DB_PASSWORD_FILE"] = _passwordFile,
        });
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Environment = environment, LogSink = Logs });
        builder.WebHost.UseTestServer();
        builder.Services.AddBackupFunctions(FunctionSettings.Load(environment), environment);
        _app = FunctionHost.Build(builder);
        await _app.StartAsync();
        Client = new HttpClient(Secrets.Recorder(_app.GetTestServer().CreateHandler())) { BaseAddress = new Uri("http://localhost/"), Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task DisposeAsync()
    {
        // Nothing the functions logged or answered may hold the database password or the API token.
        Secrets.AssertClean(Logs.Lines, ["root-pw", Cloud.Token]);
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        await Cloud.DisposeAsync();
        File.Delete(_passwordFile);
    }
}
