using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Postgres.Processes;
using Commissable.Functions;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;
using Commissable.LocalCloud;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Commissable.Backup.Cli.Local;

/// <summary>
/// The local cloud and the locally hosted functions, as the drill, <c>workflows run</c> and
/// <c>local up</c> start them: the cloud on 127.0.0.1:<c>port</c> (reused when one already listens
/// there with this state directory's token; port 0 takes a free one), its instances on
/// <c>addressPrefix</c>.x, the functions in local mode on a free port, logging to a file. Stops
/// what it started, nothing else.
/// </summary>
internal sealed class LocalStack(string state, int port, string addressPrefix = LocalCloudOptions.DefaultAddressPrefix) : IAsyncDisposable
{
    /// <summary>The project, bucket and instance names the drill and the local runner share.</summary>
    public const string DefaultProject = "drill-project";
    public const string Bucket = "drill-backups";
    public const string ProdInstance = "prod";
    public const string VerifyInstance = "verify";

    private readonly HttpClient _cloudSqlHttp = new() { Timeout = TimeSpan.FromMinutes(10) };
    private WebApplication? _cloud;
    private WebApplication? _functions;

    public string State { get; } = state;

    /// <summary>Where the drill keeps its files (root password, function logs).</summary>
    public string DrillDirectory { get; } = Path.Combine(state, "drill");

    /// <summary>The local cloud's base URL (ends with '/'); set by <see cref="StartCloudAsync"/>.</summary>
    public Uri CloudUrl { get; private set; } = null!;

    /// <summary>The Cloud SQL Admin API of the local cloud, with its bearer token; set by <see cref="StartCloudAsync"/>.</summary>
    public HttpClient Sql { get; private set; } = null!;

    /// <summary>
    /// The production Cloud SQL client for <paramref name="project"/>, pointed at the local cloud with
    /// its token file and polling on the responsive schedule (a rehearsal must not idle behind a
    /// finished operation); call after <see cref="StartCloudAsync"/>. Clients share one connection pool.
    /// </summary>
    public CloudSqlAdminClient CloudSql(string project = DefaultProject, TimeProvider? time = null) => new CloudSqlAdminClientBuilder
    {
        ProjectId = project,
        BaseUri = CloudUrl,
        TokenSource = new FileTokenSource(LocalCloudHost.TokenFile(State)),
        HttpClient = _cloudSqlHttp,
        PollSettings = CloudSqlPollSettings.Responsive,
        TimeProvider = time ?? TimeProvider.System,
    }.Build();

    /// <summary>
    /// Takes the instance's automated backup now, through the local cloud's own endpoint (Google has
    /// none: its automated backups follow the schedule), and waits for it with the client's poller.
    /// </summary>
    public async Task<Operation> TakeAutomatedBackupAsync(ICloudSqlAdmin cloudSql, string instance, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudSql);
        using var response = await Sql.PostAsync(
            $"localcloud/v1/projects/{Uri.EscapeDataString(cloudSql.Project)}/instances/{Uri.EscapeDataString(instance)}/automatedBackup", content: null, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the local cloud refused the automated backup of '{instance}' ({(int)response.StatusCode}): {text}");
        }
        var started = System.Text.Json.JsonSerializer.Deserialize<Operation>(text, CloudSqlJson.Options)
            ?? throw new InvalidOperationException("the local cloud answered no operation for the automated backup");
        return await cloudSql.WaitForOperationAsync(started, cancellationToken: cancellationToken);
    }

    /// <summary>The functions' base URL (ends with '/'); set by <see cref="StartFunctionsAsync"/>.</summary>
    public Uri FunctionsUrl { get; private set; } = null!;

    /// <summary>The functions served, each at <see cref="FunctionsUrl"/> + its name; set by <see cref="StartFunctionsAsync"/>.</summary>
    public IReadOnlyList<string> FunctionNames { get; private set; } = [];

    /// <summary>Starts the local cloud, or reuses the one already listening; returns what it did.</summary>
    public async Task<string> StartCloudAsync()
    {
        var tokenFile = LocalCloudHost.TokenFile(State);
        string detail;
        if (port != 0 && File.Exists(tokenFile) && await IsListeningAsync(port))
        {
            // Reused only when it is this account's: a listener of another account would be sent the token.
            if (LoopbackListener.ReuseProblem(port) is { } problem)
            {
                throw new InvalidOperationException($"the local cloud was not reused: {problem}; stop it, or start this with another --port");
            }
            CloudUrl = new Uri($"http://127.0.0.1:{port}/");
            detail = $"using the local cloud already listening on 127.0.0.1:{port}";
        }
        else
        {
            _cloud = LocalCloudHost.Build(new LocalCloudOptions { Port = port, StateDirectory = State, AddressPrefix = addressPrefix, Binaries = PostgresBinaries.Locate() },
                logging: l => l.ClearProviders());
            CloudUrl = await LocalCloudHost.StartAsync(_cloud);
            detail = $"started on {CloudUrl.Authority}, instances on {addressPrefix}.x, state in {State}";
        }
        Sql = new HttpClient { BaseAddress = CloudUrl, Timeout = TimeSpan.FromMinutes(10) };
        Sql.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(tokenFile)).Trim());
        return detail;
    }

    /// <summary>Starts every function in local mode against the local cloud, for <paramref name="project"/>; returns where.</summary>
    /// <param name="project">The project the functions serve.</param>
    /// <param name="more">More variables for the functions (data-management's), each replacing the default of that name.</param>
    public async Task<string> StartFunctionsAsync(string project = DefaultProject, IReadOnlyDictionary<string, string?>? more = null)
    {
        Directory.CreateDirectory(DrillDirectory);
        var passwordFile = Path.Combine(DrillDirectory, "root-password");
        RootPassword();
        var variables = new Dictionary<string, string?>
        {
            ["LOCAL_MODE"] = "true",
            ["PORT"] = "0",
            ["GOOGLE_CLOUD_PROJECT"] = project,
            ["BACKUP_BUCKET"] = Bucket,
            ["ENVIRONMENT_NAME"] = "prod",
            ["PRODUCTION_INSTANCES"] = ProdInstance,
            ["VERIFY_INSTANCE"] = VerifyInstance,
            ["CLOUDSQL_API_ENDPOINT"] = CloudUrl.AbsoluteUri,
            ["CLOUDSQL_TOKEN_FILE"] = LocalCloudHost.TokenFile(State),
            ["LOCAL_STATE_DIR"] = State,
            ["INSPECTOR_DB_USER"] = "postgres",
            ["INSPECTOR_DB_PASSWORD_FILE"] = passwordFile,
            // tenant-restore writes the tenant's rows to production: locally as postgres, the owner of the demo's tables.
            ["TENANT_RESTORE_DB_USER"] = "postgres",
            ["TENANT_RESTORE_DB_PASSWORD_FILE"] = passwordFile,
        };
        foreach (var (name, value) in more ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }
        var environment = new DictionaryEnvironment(variables);
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Environment = environment, LogSink = new FileLogSink(Path.Combine(DrillDirectory, "functions.log")) });
        builder.Services.AddBackupFunctions(FunctionSettings.Load(environment), environment);
        _functions = FunctionHost.Build(builder);
        await _functions.StartAsync();
        var address = _functions.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        FunctionsUrl = new Uri(address.TrimEnd('/') + "/");
        FunctionNames = [.. _functions.Services.GetRequiredService<FunctionRegistry>().Functions.Select(f => f.Name)];
        return $"serving on {address}";
    }

    /// <summary>
    /// The postgres password of the instances the drill creates: made once, kept owner-only in the
    /// state directory, never printed. The file is created 0600 under a temporary name and linked
    /// to its name create-only, so it is never readable by others nor found half-written; its
    /// directory is 0700, and a file or directory an earlier run left wider is tightened first.
    /// </summary>
    public string RootPassword()
    {
        OwnerOnly.CreateDirectory(DrillDirectory);
        var file = Path.Combine(DrillDirectory, "root-password");
        if (File.Exists(file))
        {
            File.SetUnixFileMode(file, OwnerOnly.FileMode);
        }
        else
        {
            var temporary = Path.Combine(DrillDirectory, $".root-password.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
            OwnerOnly.WriteNewFile(temporary, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18)));
            try
            {
                File.Move(temporary, file, overwrite: false);
            }
            catch (IOException) when (File.Exists(file))
            {
                // Another run made it meanwhile: its password is the one.
                File.Delete(temporary);
            }
        }
        return File.ReadAllText(file).Trim();
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(2));
            return true;
        }
        catch (Exception error) when (error is SocketException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Stops the functions, then the local cloud if this stack started it (its clusters stop with it); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        Sql?.Dispose();
        _cloudSqlHttp.Dispose();
        if (_functions is { } functions)
        {
            _functions = null;
            await functions.StopAsync();
            await functions.DisposeAsync();
        }
        if (_cloud is { } cloud)
        {
            _cloud = null;
            await cloud.StopAsync();
            await cloud.DisposeAsync();
        }
    }
}

/// <summary>Keeps the functions' JSON log lines in a file, so the command's own output stays readable.</summary>
internal sealed class FileLogSink(string path) : ILogSink
{
    private readonly Lock _lock = new();

    public void Write(string line)
    {
        lock (_lock)
        {
            File.AppendAllText(path, line + "\n");
        }
    }
}
