using CloudNative.CloudEvents;

namespace Commissable.Functions.Hosting;

// Shaped like Google.Cloud.Functions.Framework's contracts (not installable here), so the real
// package can be swapped in: one class, one HandleAsync; finishing the task means success.

/// <summary>A function invoked by an HTTP request.</summary>
public interface IHttpFunction
{
    Task HandleAsync(HttpContext context);
}

/// <summary>A function invoked by a CloudEvent whose data is decoded as <typeparamref name="TData"/>.</summary>
public interface ICloudEventFunction<TData> where TData : class
{
    Task HandleAsync(CloudEvent cloudEvent, TData data, CancellationToken cancellationToken);
}
