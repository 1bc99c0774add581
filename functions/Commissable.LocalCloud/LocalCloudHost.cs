using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud.Api;
using Commissable.LocalCloud.Backups;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Commissable.LocalCloud.Transfer;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Commissable.LocalCloud;

/// <summary>Builds and runs the local cloud: the Cloud SQL Admin API over real PostgreSQL clusters, on 127.0.0.1 only.</summary>
public static class LocalCloudHost
{
    public static WebApplication Build(LocalCloudOptions options, TimeProvider? clock = null, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.StateDirectory);
        // Clusters run as an unprivileged account that must pass through this directory to theirs;
        // nobody else needs to list it.
        File.SetUnixFileMode(options.StateDirectory, (UnixFileMode)0b111_001_001);
        EnsureClusterAccountCanReach(options);
        new BucketPaths(options.StateDirectory).Prepare();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, options.Port);
            // The API answers bodies over RequestJson.MaxBodyBytes with a 400 after reading them; this bounds that read.
            k.Limits.MaxRequestBodySize = 8 * RequestJson.MaxBodyBytes;
        });
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(c =>
            {
                c.SingleLine = true;
                c.TimestampFormat = "HH:mm:ss ";
            });
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }
        else
        {
            logging(builder.Logging);
        }
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddSingleton(new BucketPaths(options.StateDirectory));
        services.AddSingleton(new TokenAuthentication(options.StateDirectory));
        services.AddSingleton<InstanceManager>();
        services.AddSingleton<OperationManager>();
        services.AddSingleton<BackupEngine>();
        services.AddSingleton<SqlTransfer>();
        services.AddSingleton<OperationStarter>();
        services.AddSingleton<ClusterReads>();
        services.AddSingleton<InstanceEndpoints>();
        services.AddSingleton<TransferEndpoints>();
        services.AddSingleton<RecoveryEndpoints>();
        services.AddSingleton<DatabaseEndpoints>();
        services.AddSingleton<UserEndpoints>();
        services.AddSingleton<BackupRunEndpoints>();
        services.AddSingleton<OperationEndpoints>();
        services.AddSingleton<CloudSqlApi>();
        services.AddSingleton<BackupScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<BackupScheduler>());

        var app = builder.Build();
        var auth = app.Services.GetRequiredService<TokenAuthentication>();
        app.Use(ErrorResponses.Middleware);
        app.Use(auth.Middleware);
        // Before routing: routing sees the path after dot segments were removed.
        app.Use(RequestGuard.RawPathMiddleware);
        app.UseRouting();
        app.Use(RequestGuard.NamesMiddleware);
        app.Services.GetRequiredService<CloudSqlApi>().Map(app);
        app.MapFallback(context => ErrorResponses.WriteAsync(context,
            ApiException.NotFound($"{context.Request.Method} {context.Request.Path} is not a method of the Cloud SQL Admin API v1beta4 served here.")));

        app.Lifetime.ApplicationStopping.Register(() =>
        {
            var operations = app.Services.GetRequiredService<OperationManager>();
            operations.WhenAllAsync().Wait(TimeSpan.FromSeconds(30));
            if (options.StopClustersOnShutdown)
            {
                app.Services.GetRequiredService<InstanceManager>().StopAllAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        });
        return app;
    }

    /// <summary>
    /// Recovers state left by an earlier process (unfinished operations end with an error, their
    /// partial files removed; clusters started), then starts listening. Returns the base URL.
    /// </summary>
    public static async Task<Uri> StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var operations = app.Services.GetRequiredService<OperationManager>();
        var instances = app.Services.GetRequiredService<InstanceManager>();
        var backups = app.Services.GetRequiredService<BackupEngine>();
        operations.RecoverAfterRestart();
        await instances.LoadAsync(cancellationToken).ConfigureAwait(false);
        foreach (var instance in instances.All())
        {
            backups.RecoverAfterRestart(instance);
            if (instance.State == "RUNNABLE")
            {
                try
                {
                    await ImportLogin.DropLeftoversAsync(instances, instance, cancellationToken).ConfigureAwait(false);
                }
                catch (Npgsql.NpgsqlException error)
                {
                    app.Services.GetRequiredService<ILogger<ImportLogin>>().LogWarning(
                        "could not end the import sessions a crash left on {Instance}: {Error}", instance.Name, error.Message);
                }
            }
        }
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    /// <summary>
    /// Refuses to start when the clusters' account cannot pass through a directory above the state
    /// directory (a 0700 home or temporary directory): initdb would fail at the first instance.
    /// Those directories are the user's, so the local cloud does not change them; it says what to change.
    /// </summary>
    private static void EnsureClusterAccountCanReach(LocalCloudOptions options)
    {
        if (options.RunAs is null || CanEnter(options.RunAs, options.StateDirectory))
        {
            return;
        }
        var blocked = options.StateDirectory;
        for (var directory = Path.GetDirectoryName(options.StateDirectory); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (!CanEnter(options.RunAs, directory))
            {
                blocked = directory;
            }
        }
        throw new InvalidOperationException(
            $"The PostgreSQL clusters run as the account '{options.RunAs}', which cannot enter {blocked} (mode {Convert.ToString((int)File.GetUnixFileMode(blocked), 8)}), " +
            $"so it cannot reach the state directory {options.StateDirectory}. Choose a --state directory that account can reach " +
            $"(for example under /var/tmp), or let it pass through: chmod o+x {blocked}");
    }

    private static bool CanEnter(string account, string directory)
    {
        try
        {
            new ExternalProcess { FileName = "test", Arguments = ["-x", directory], RunAs = account }.RunAsync().GetAwaiter().GetResult();
            return true;
        }
        catch (ExternalProcessException)
        {
            return false;
        }
    }

    /// <summary>Where the bearer token for this state directory is.</summary>
    public static string TokenFile(string stateDirectory) => Path.Combine(stateDirectory, "token");
}
