using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Commissable.Functions.Hosting;

/// <summary>
/// The Cloud Run host for the functions, shaped like Google's Functions Framework:
/// <c>FUNCTION_TARGET</c> picks the function served at every path on <c>0.0.0.0:PORT</c> on Cloud
/// Run (<c>K_SERVICE</c> set; <c>127.0.0.1:PORT</c> elsewhere), or <c>LOCAL_MODE=true</c> serves
/// every function at <c>/NAME</c> on <c>127.0.0.1:PORT</c>.
/// </summary>
/// <example>
/// <code>
/// var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Environment = ProcessEnvironment.Instance });
/// builder.Services.AddHttpFunction&lt;CatalogFunction&gt;(FunctionNames.Catalog);
/// await using var app = FunctionHost.Build(builder);
/// await app.RunAsync();
/// </code>
/// </example>
public static class FunctionHost
{
    private const string LoggerCategory = "Commissable.Functions.Hosting";

    /// <summary>
    /// Reads and validates the host plan and <see cref="FunctionSettings"/>, and configures
    /// Kestrel, structured logging and the shared services. Register functions and their clients
    /// on the returned builder, then call <see cref="Build"/>.
    /// </summary>
    /// <exception cref="FunctionStartupException">A variable is missing or invalid; the message names each one.</exception>
    public static WebApplicationBuilder CreateBuilder(FunctionHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = new EnvironmentReader(options.Environment);
        var plan = FunctionHostPlan.Read(reader);
        var settings = FunctionSettings.Read(reader);
        reader.ThrowIfInvalid();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [.. options.Args] });
        builder.Host.UseDefaultServiceProvider(provider =>
        {
            // A singleton client that captured a scoped function, or a missing dependency, fails start-up.
            provider.ValidateScopes = true;
            provider.ValidateOnBuild = true;
        });

        // The port and address come from PORT and the mode alone, not ASPNETCORE_URLS/HTTP_PORTS
        // (which the .NET container images set).
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, string.Empty);
        builder.WebHost.UseSetting(WebHostDefaults.HttpPortsKey, string.Empty);
        builder.WebHost.UseSetting(WebHostDefaults.HttpsPortsKey, string.Empty);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(plan.BindAddress, plan.Port);
        });

        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = settings.EnvironmentName };
        if (plan.Target is not null)
        {
            labels["function"] = plan.Target;
        }

        builder.Logging.ClearProviders();

        // The trace comes from the request headers (TraceContext); Activity ids would add a second,
        // different spanId to every entry.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.None);
        builder.Logging.SetMinimumLevel(plan.MinimumLogLevel);
        var frameworkLevel = plan.MinimumLogLevel > LogLevel.Warning ? plan.MinimumLogLevel : LogLevel.Warning;
        builder.Logging.AddFilter("Microsoft", frameworkLevel);
        builder.Logging.AddFilter("System", frameworkLevel);
        builder.Logging.AddProvider(new StructuredLoggerProvider(options.LogSink, new StructuredLogOptions
        {
            ProjectId = settings.ProjectId,
            Labels = labels,
            TimeProvider = options.TimeProvider,
        }));

        builder.Services.AddSingleton(plan);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(options.Environment);
        builder.Services.TryAddSingleton(options.TimeProvider);
        builder.Services.TryAddSingleton<FunctionRegistry>();
        return builder;
    }

    /// <summary>
    /// Builds the application and maps the functions: the <c>FUNCTION_TARGET</c> one at every
    /// path (except <c>/favicon.ico</c> and <c>/robots.txt</c>, which are 404 as in the Functions
    /// Framework), or in local mode each at <c>/NAME</c> and below, anything else 404.
    /// </summary>
    /// <exception cref="FunctionStartupException">No function is registered, or <c>FUNCTION_TARGET</c> names none of them.</exception>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        try
        {
            Map(app);
            return app;
        }
        catch
        {
            ((IDisposable)app).Dispose();
            throw;
        }
    }

    /// <summary>
    /// Logs, as one CRITICAL line on <paramref name="options"/>' sink, why the host could not start
    /// or why it stopped: for the top-level catch of <c>Program</c>, where no host logger exists.
    /// </summary>
    public static void LogFatal(FunctionHostOptions options, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(exception);
        using var provider = new StructuredLoggerProvider(options.LogSink, new StructuredLogOptions { TimeProvider = options.TimeProvider });
        var logger = provider.CreateLogger(LoggerCategory);
        if (exception is FunctionStartupException startup)
        {
            using (logger.BeginScope(new Dictionary<string, object?> { ["variables"] = startup.Variables }))
            {
                logger.LogCritical(HostingLogEvents.StartFailed, "The function host cannot start. {Reason}", startup.Message);
            }
        }
        else
        {
            logger.LogCritical(HostingLogEvents.Crashed, exception, "The function host stopped on an unhandled {ExceptionType}", exception.GetType().Name);
        }
    }

    private static void Map(WebApplication app)
    {
        var plan = app.Services.GetRequiredService<FunctionHostPlan>();
        var registry = app.Services.GetRequiredService<FunctionRegistry>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerCategory);
        var known = registry.Functions.Count == 0 ? "none is registered" : string.Join(", ", registry.Functions.Select(f => f.Name));
        if (registry.Functions.Count == 0)
        {
            throw new FunctionStartupException(
                "No function is registered: Program must call AddHttpFunction or AddCloudEventFunction for each function the image serves.");
        }

        IReadOnlyList<FunctionRegistration> served;
        if (plan.Mode == FunctionHostMode.CloudRun)
        {
            var target = plan.Target!;
            var registration = registry.Find(target) ?? throw new FunctionStartupException(
                $"FUNCTION_TARGET '{EnvironmentReader.Shown(target)}' is not a function this image serves; set it to one of: {known}.",
                ["FUNCTION_TARGET"]);
            var handler = new FunctionRequestHandler(registration, logger);
            app.Run(context => IsBrowserNoise(context.Request.Path) ? NotFoundAsync(context, "There is nothing here.") : handler.HandleAsync(context));
            served = [registration];
        }
        else
        {
            foreach (var registration in registry.Functions)
            {
                var handler = new FunctionRequestHandler(registration, logger);
                app.Map(new PathString("/" + registration.Name), branch => branch.Run(handler.HandleAsync));
            }

            if (app.Services.GetRequiredService<IFunctionEnvironment>().GetVariable("FUNCTION_TARGET") is { Length: > 0 })
            {
                logger.LogWarning(HostingLogEvents.Started, "FUNCTION_TARGET is ignored: LOCAL_MODE=true serves every function at its own path");
            }

            var paths = string.Join(", ", registry.Functions.Select(f => "/" + f.Name));
            app.Run(context => NotFoundAsync(context, $"No function is served at {context.Request.Path}; local mode serves {paths}."));
            served = registry.Functions;
        }

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            logger.LogInformation(HostingLogEvents.Started, "Serving {Functions} in {Mode} mode on {Addresses}",
                served.Select(f => f.Name).ToList(), plan.Mode, addresses.Count > 0 ? addresses : [$"{plan.BindAddress}:{plan.Port}"]);
        });
    }

    private static bool IsBrowserNoise(PathString path) =>
        path.Equals("/favicon.ico", StringComparison.OrdinalIgnoreCase) || path.Equals("/robots.txt", StringComparison.OrdinalIgnoreCase);

    private static Task NotFoundAsync(HttpContext context, string message) =>
        FunctionRequestHandler.WriteErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", message, null);
}
