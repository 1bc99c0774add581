using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Tests.Hosting;
using Commissable.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Commissable.Functions.Tests;

/// <summary>
/// The backup functions in local mode, in memory, composed as in production and pointed at a
/// local cloud (its Cloud SQL API, token and bucket directories). The inspector logs in as the
/// instances' <c>postgres</c> user with <see cref="RootPassword"/>. On dispose, everything the
/// functions logged or answered is scanned for that password and the API token.
/// </summary>
public sealed class LocalFunctions : IAsyncDisposable
{
    public const string RootPassword = "root-pw";

    private readonly WebApplication _app;
    private readonly LocalCloudFixture _cloud;
    private readonly string _passwordFile;

    private LocalFunctions(WebApplication app, LocalCloudFixture cloud, string passwordFile, TestLogSink logs, SecretScan secrets)
    {
        (_app, _cloud, _passwordFile, Logs, Secrets) = (app, cloud, passwordFile, logs, secrets);
        Client = new HttpClient(secrets.Recorder(app.GetTestServer().CreateHandler())) { BaseAddress = new Uri("http://localhost/"), Timeout = TimeSpan.FromMinutes(5) };
    }

    public HttpClient Client { get; }
    public TestLogSink Logs { get; }
    public SecretScan Secrets { get; }
    public IServiceProvider Services => _app.Services;

    /// <param name="settings">Variables that differ from the defaults (bucket, production instances, ...).</param>
    public static async Task<LocalFunctions> StartAsync(LocalCloudFixture cloud, string bucket, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        var passwordFile = Path.Combine(Path.GetTempPath(), $"inspector-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, RootPassword);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var variables = new Dictionary<string, string?>
        {
            ["LOCAL_MODE"] = "true",
            ["GOOGLE_CLOUD_PROJECT"] = cloud.Project,
            ["BACKUP_BUCKET"] = bucket,
            ["ENVIRONMENT_NAME"] = "prod",
            ["PRODUCTION_INSTANCES"] = "prod",
            ["CLOUDSQL_API_ENDPOINT"] = cloud.BaseUrl.ToString(),
            ["CLOUDSQL_TOKEN_FILE"] = Commissable.LocalCloud.LocalCloudHost.TokenFile(cloud.StateDirectory),
            ["LOCAL_STATE_DIR"] = cloud.StateDirectory,
            ["INSPECTOR_DB_USER"] = "postgres",
            ["INSPECTOR_DB_PASSWORD_FILE"] = passwordFile,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            variables[key] = value;
        }
        var environment = new DictionaryEnvironment(variables);
        var logs = new TestLogSink();
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Environment = environment, LogSink = logs });
        builder.WebHost.UseTestServer();
        builder.Services.AddBackupFunctions(FunctionSettings.Load(environment), environment);
        var app = FunctionHost.Build(builder);
        await app.StartAsync();
        return new LocalFunctions(app, cloud, passwordFile, logs, new SecretScan());
    }

    public async ValueTask DisposeAsync()
    {
        // Nothing the functions logged or answered may hold the database password or the API token.
        Secrets.AssertClean(Logs.Lines, [RootPassword, _cloud.Token]);
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        File.Delete(_passwordFile);
    }
}
