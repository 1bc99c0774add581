using System.Text.RegularExpressions;
using Commissable.Functions.Hosting.CloudEvents;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Commissable.Functions.Hosting;

/// <summary>Whether a function takes HTTP requests or CloudEvents.</summary>
public enum FunctionKind
{
    /// <summary>An <see cref="IHttpFunction"/>.</summary>
    Http,

    /// <summary>An <see cref="ICloudEventFunction{TData}"/>.</summary>
    CloudEvent,
}

/// <summary>One function the host can serve, under its stable name.</summary>
public sealed class FunctionRegistration
{
    internal FunctionRegistration(string name, FunctionKind kind, Type functionType, Type? dataType, FunctionInvoker invoke)
    {
        Name = name;
        Kind = kind;
        FunctionType = functionType;
        DataType = dataType;
        Invoke = invoke;
    }

    /// <summary>The name: <c>FUNCTION_TARGET</c>'s value and, in local mode, the path.</summary>
    public string Name { get; }

    /// <summary>HTTP or CloudEvent.</summary>
    public FunctionKind Kind { get; }

    /// <summary>The class implementing the function.</summary>
    public Type FunctionType { get; }

    /// <summary>The CloudEvent data type; null for HTTP functions.</summary>
    public Type? DataType { get; }

    internal FunctionInvoker Invoke { get; }
}

/// <summary>Runs one invocation: decodes the request, resolves the function from the request's scope, calls it.</summary>
internal delegate Task FunctionInvoker(HttpContext context, ILogger logger);

/// <summary>The functions registered with <see cref="FunctionServiceCollectionExtensions"/>, by name.</summary>
public sealed class FunctionRegistry
{
    private readonly Dictionary<string, FunctionRegistration> _byName;

    /// <summary>Collects the registrations.</summary>
    /// <exception cref="InvalidOperationException">Two registrations share a name.</exception>
    public FunctionRegistry(IEnumerable<FunctionRegistration> registrations)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        _byName = new Dictionary<string, FunctionRegistration>(StringComparer.Ordinal);
        foreach (var registration in registrations)
        {
            if (!_byName.TryAdd(registration.Name, registration))
            {
                throw new InvalidOperationException($"Two functions are registered as '{registration.Name}'.");
            }
        }

        Functions = _byName.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every registration, by name.</summary>
    public IReadOnlyList<FunctionRegistration> Functions { get; }

    /// <summary>The function called <paramref name="name"/>, or null.</summary>
    public FunctionRegistration? Find(string name) => _byName.GetValueOrDefault(name);
}

/// <summary>
/// Registers functions with the host. Functions are scoped (one instance per request, constructed
/// with their dependencies); register the clients they use as singletons.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddSingleton&lt;ICloudSqlAdmin&gt;(...);                        // clients: singletons
/// builder.Services.AddHttpFunction&lt;PreDeployExportFunction&gt;(FunctionNames.PreDeployExport);
/// builder.Services.AddCloudEventFunction&lt;OnBackupCompletedFunction, StorageObjectData&gt;(FunctionNames.OnBackupCompleted);
/// </code>
/// </example>
public static partial class FunctionServiceCollectionExtensions
{
    /// <summary>Registers the HTTP function <typeparamref name="TFunction"/> as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not <c>[a-z][a-z0-9-]{0,62}</c>.</exception>
    /// <exception cref="InvalidOperationException">A function is already registered as <paramref name="name"/>.</exception>
    public static IServiceCollection AddHttpFunction<TFunction>(this IServiceCollection services, string name)
        where TFunction : class, IHttpFunction
    {
        static Task Invoke(HttpContext context, ILogger logger) =>
            context.RequestServices.GetRequiredService<TFunction>().HandleAsync(context);

        return Add<TFunction>(services, new FunctionRegistration(name, FunctionKind.Http, typeof(TFunction), null, Invoke));
    }

    /// <summary>
    /// Registers the CloudEvent function <typeparamref name="TFunction"/> as <paramref name="name"/>;
    /// its events' data is decoded as JSON into <typeparamref name="TData"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not <c>[a-z][a-z0-9-]{0,62}</c>.</exception>
    /// <exception cref="InvalidOperationException">A function is already registered as <paramref name="name"/>.</exception>
    public static IServiceCollection AddCloudEventFunction<TFunction, TData>(this IServiceCollection services, string name)
        where TFunction : class, ICloudEventFunction<TData>
        where TData : class
    {
        static async Task Invoke(HttpContext context, ILogger logger)
        {
            // Decoded before the function is even constructed: a bad event never reaches it.
            var cloudEvent = await CloudEventRequestDecoder.DecodeEventAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            var data = CloudEventRequestDecoder.DecodeData<TData>(cloudEvent);
            var fields = new Dictionary<string, object?>
            {
                ["cloudEventId"] = cloudEvent.Id,
                ["cloudEventType"] = cloudEvent.Type,
                ["cloudEventSource"] = cloudEvent.Source?.ToString(),
                ["cloudEventSubject"] = cloudEvent.Subject,
            };

            // Also kept on the request, so the host's outcome line (500, 409...) names the event too.
            FunctionRequestHandler.SetLogFields(context, fields);
            using (logger.BeginScope(fields))
            {
                logger.LogDebug(HostingLogEvents.EventReceived, "Received CloudEvent {CloudEventType} {CloudEventId}", cloudEvent.Type, cloudEvent.Id);
                var function = context.RequestServices.GetRequiredService<TFunction>();
                await function.HandleAsync(cloudEvent, data, context.RequestAborted).ConfigureAwait(false);
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
        }

        return Add<TFunction>(services, new FunctionRegistration(name, FunctionKind.CloudEvent, typeof(TFunction), typeof(TData), Invoke));
    }

    private static IServiceCollection Add<TFunction>(IServiceCollection services, FunctionRegistration registration)
        where TFunction : class
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!NamePattern().IsMatch(registration.Name))
        {
            throw new ArgumentException(
                $"A function name must match [a-z][a-z0-9-]{{0,62}} (it is a path and a FUNCTION_TARGET value); got '{registration.Name}'.",
                nameof(registration));
        }

        if (services.Any(d => d.ServiceType == typeof(FunctionRegistration) && d.ImplementationInstance is FunctionRegistration r && r.Name == registration.Name))
        {
            throw new InvalidOperationException($"A function is already registered as '{registration.Name}'.");
        }

        services.AddSingleton(registration);
        services.TryAddScoped<TFunction>();
        services.TryAddSingleton<FunctionRegistry>();
        return services;
    }

    [GeneratedRegex(@"\A[a-z][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
