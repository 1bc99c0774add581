using Microsoft.AspNetCore.Builder;
using Commissable.Functions.Events;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Functions.Tests.Hosting;

/// <summary>
/// The real host in memory (<see cref="TestServer"/>), with the demo functions registered and a
/// dictionary for an environment.
/// </summary>
public sealed class FunctionTestHost : IAsyncDisposable
{
    public const string HttpName = "demo-http";
    public const string StorageName = "demo-storage";
    public const string AuditName = "demo-audit";

    public static readonly DateTimeOffset Now = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private FunctionTestHost(WebApplication app, TestLogSink logs, InvocationRecorder recorder)
    {
        App = app;
        Logs = logs;
        Recorder = recorder;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public TestLogSink Logs { get; }

    public InvocationRecorder Recorder { get; }

    /// <summary>What every test starts from: valid settings, no mode chosen.</summary>
    public static Dictionary<string, string?> BaseEnvironment() => new()
    {
        ["GOOGLE_CLOUD_PROJECT"] = "test-project",
        ["BACKUP_BUCKET"] = "commissable-test-backups",
        ["ENVIRONMENT_NAME"] = "test",
        ["PRODUCTION_INSTANCES"] = "commissable-prod",
    };

    public static Dictionary<string, string?> Target(string name)
    {
        var environment = BaseEnvironment();
        environment["FUNCTION_TARGET"] = name;
        return environment;
    }

    public static Dictionary<string, string?> Local()
    {
        var environment = BaseEnvironment();
        environment["LOCAL_MODE"] = "true";
        return environment;
    }

    public static WebApplicationBuilder CreateBuilder(IDictionary<string, string?> environment, TestLogSink logs) =>
        FunctionHost.CreateBuilder(new FunctionHostOptions
        {
            Environment = new DictionaryEnvironment(environment),
            LogSink = logs,
            TimeProvider = new FakeTimeProvider(Now),
        });

    public static void RegisterDemoFunctions(IServiceCollection services)
    {
        services.AddSingleton<InvocationRecorder>();
        services.AddHttpFunction<DemoHttpFunction>(HttpName);
        services.AddCloudEventFunction<RecordingEventFunction<StorageObjectData>, StorageObjectData>(StorageName);
        services.AddCloudEventFunction<RecordingEventFunction<LogEntryData>, LogEntryData>(AuditName);
    }

    public static async Task<FunctionTestHost> StartAsync(IDictionary<string, string?> environment)
    {
        var logs = new TestLogSink();
        var builder = CreateBuilder(environment, logs);
        builder.WebHost.UseTestServer();
        RegisterDemoFunctions(builder.Services);
        var app = FunctionHost.Build(builder);
        await app.StartAsync();
        return new FunctionTestHost(app, logs, app.Services.GetRequiredService<InvocationRecorder>());
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>The CloudEvent samples in the repository's tests/contracts/cloudevents.</summary>
public static class ContractSamples
{
    public static string Directory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "contracts", "cloudevents");
            if (File.Exists(Path.Combine(candidate, "schema_storage_v1_StorageObjectData.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"tests/contracts/cloudevents not found above {AppContext.BaseDirectory}.");
    }

    public static string Read(string fileName) => File.ReadAllText(Path.Combine(Directory(), fileName));
}
