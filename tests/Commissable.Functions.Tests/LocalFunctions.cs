using Commissable.Backup.Core.Files;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Tests.Hosting;
using Commissable.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

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

    private LocalFunctions(WebApplication app, LocalCloudFixture cloud, string bucket, string passwordFile, TestLogSink logs, SecretScan secrets)
    {
        (_app, _cloud, Bucket, _passwordFile, Logs, Secrets) = (app, cloud, bucket, passwordFile, logs, secrets);
        Client = new HttpClient(secrets.Recorder(app.GetTestServer().CreateHandler())) { BaseAddress = new Uri("http://localhost/"), Timeout = TimeSpan.FromMinutes(5) };
    }

    /// <summary>A client whose answers the secret scan sees.</summary>
    public HttpClient Client { get; }
    public TestLogSink Logs { get; }
    public SecretScan Secrets { get; }
    public IServiceProvider Services => _app.Services;
    public string Bucket { get; }

    /// <summary>
    /// The variables of the functions in local mode against <paramref name="cloud"/>, one home for
    /// the hosts in this process and the ones a test starts as their own process.
    /// </summary>
    public static Dictionary<string, string?> Variables(LocalCloudFixture cloud, string bucket, string passwordFile)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        return new()
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
    }

    /// <summary>A file holding <see cref="RootPassword"/>, readable by its owner alone; the caller deletes it.</summary>
    public static string WritePasswordFile()
    {
        var passwordFile = Path.Combine(Path.GetTempPath(), $"inspector-{Guid.NewGuid():N}");
        OwnerOnly.WriteNewFile(passwordFile, RootPassword);
        return passwordFile;
    }

    /// <param name="settings">Variables that differ from the defaults (production instances, ...); a null value removes one.</param>
    /// <param name="clock">The functions' time (the local cloud keeps the real one); the real clock when null.</param>
    /// <param name="services">Registrations after the functions' own: the last registration wins.</param>
    public static async Task<LocalFunctions> StartAsync(
        LocalCloudFixture cloud, string bucket, IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? clock = null, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        var passwordFile = WritePasswordFile();
        var variables = Variables(cloud, bucket, passwordFile);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            variables[key] = value;
        }
        var environment = new DictionaryEnvironment(variables);
        var logs = new TestLogSink();
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Environment = environment, LogSink = logs, TimeProvider = clock ?? TimeProvider.System });
        builder.WebHost.UseTestServer();
        builder.Services.AddBackupFunctions(FunctionSettings.Load(environment), environment);
        services?.Invoke(builder.Services);
        var app = FunctionHost.Build(builder);
        await app.StartAsync();
        return new LocalFunctions(app, cloud, bucket, passwordFile, logs, new SecretScan());
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
