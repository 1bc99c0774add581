using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Commissable.Testing;

/// <summary>
/// A local cloud running in the test process on a free port of 127.0.0.1, with its own state
/// directory and its own block of loopback addresses, removed (clusters stopped) at the end.
/// </summary>
public sealed class LocalCloudFixture : IAsyncLifetime
{
    private static int _blocks;
    private WebApplication? _app;

    public string StateDirectory { get; } = Path.Combine(Path.GetTempPath(), $"lct-{Guid.NewGuid():N}"[..12]);
    public string Project { get; } = "test-project";
    public string AddressPrefix { get; } = NextAddressPrefix();
    public Uri BaseUrl { get; private set; } = null!;
    public string Token { get; private set; } = "";
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(5) };
    public PostgresBinaries Binaries { get; } = PostgresBinaries.Locate();

    /// <summary>The running local cloud's services, for tests that drive a part of it directly.</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The local cloud is not started.");

    /// <summary>A block of addresses no other fixture of any test process on the machine uses at the same time (with high probability).</summary>
    public static string NextAddressPrefix() =>
        $"127.{20 + (Environment.ProcessId % 200)}.{Interlocked.Increment(ref _blocks) % 250 + 1}";

    public async Task InitializeAsync()
    {
        _app = LocalCloudHost.Build(new LocalCloudOptions
        {
            Port = 0,
            StateDirectory = StateDirectory,
            AddressPrefix = AddressPrefix,
            Binaries = Binaries,
        }, logging: l => l.ClearProviders());
        BaseUrl = await LocalCloudHost.StartAsync(_app);
        Token = (await File.ReadAllTextAsync(LocalCloudHost.TokenFile(StateDirectory))).Trim();
        Http.BaseAddress = BaseUrl;
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Http.Dispose();
        try
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public string Api(string path) => $"sql/v1beta4/projects/{Project}/{path}";

    /// <summary>Sends a request and returns the status and the parsed JSON body.</summary>
    public async Task<(int Status, JsonObject Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>Polls an operation until DONE and returns it.</summary>
    public async Task<JsonObject> WaitAsync(JsonObject operation, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(5));
        while (true)
        {
            var (status, body) = await SendAsync(HttpMethod.Get, Api($"operations/{(string)operation["name"]!}"));
            Assert.Equal(200, status);
            if ((string?)body["status"] == "DONE") return body;
            Assert.True(DateTime.UtcNow < deadline, $"operation {(string?)operation["name"]} not DONE in time");
            await Task.Delay(100);
        }
    }

    /// <summary>Runs an operation-returning request and asserts it finished without error.</summary>
    public async Task<JsonObject> RunAsync(HttpMethod method, string path, string? json = null)
    {
        var (status, body) = await SendAsync(method, path, json);
        Assert.True(status == 200, $"{method} {path} answered {status}: {body.ToJsonString()}");
        var done = await WaitAsync(body);
        Assert.True(done["error"] is null, $"{method} {path} failed: {done["error"]?.ToJsonString()}");
        return done;
    }

    public Task<JsonObject> CreateInstanceAsync(string name, bool pitr = true, string rootPassword = "root-pw") =>
        RunAsync(HttpMethod.Post, Api("instances"), new JsonObject
        {
            ["name"] = name,
            ["databaseVersion"] = Binaries.DatabaseVersion,
            ["rootPassword"] = rootPassword,
            ["region"] = "us-central1",
            ["settings"] = new JsonObject
            {
                ["tier"] = "db-custom-1-3840",
                ["backupConfiguration"] = new JsonObject { ["enabled"] = pitr, ["pointInTimeRecoveryEnabled"] = pitr, ["startTime"] = "02:00" },
            },
        }.ToJsonString());

    public async Task<string> AddressOfAsync(string instance)
    {
        var (_, body) = await SendAsync(HttpMethod.Get, Api($"instances/{instance}"));
        return (string)body["ipAddresses"]![0]!["ipAddress"]!;
    }

    /// <summary>A connection string to an instance as its <c>postgres</c> user.</summary>
    public async Task<string> ConnectionStringAsync(string instance, string database, string password = "root-pw") =>
        new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = await AddressOfAsync(instance),
            Port = 5432,
            Username = "postgres",
            Password = password,
            Database = database,
            Pooling = false,
        }.ConnectionString;
}
