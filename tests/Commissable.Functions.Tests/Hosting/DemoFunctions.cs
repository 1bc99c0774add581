using Microsoft.AspNetCore.Http;
using System.Collections.Concurrent;
using CloudNative.CloudEvents;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Logging;
using Microsoft.Extensions.Logging;

namespace Commissable.Functions.Tests.Hosting;

/// <summary>
/// Counts and keeps invocations; a singleton shared by the scoped demo functions, as clients are.
/// </summary>
public sealed class InvocationRecorder
{
    private readonly ConcurrentQueue<object> _calls = new();
    private int _constructed;

    public int Count => _calls.Count;

    public int Constructed => _constructed;

    public IReadOnlyList<object> Calls => [.. _calls];

    /// <summary>When set, the CloudEvent function throws it instead of finishing.</summary>
    public Exception? ThrowOnCall { get; set; }

    public void FunctionConstructed() => Interlocked.Increment(ref _constructed);

    public void Record(object call) => _calls.Enqueue(call);
}

public sealed record DemoRequest(string Name, int Count);

/// <summary>
/// An HTTP demo function: echoes where it was called, and behaves as the <c>action</c> query
/// parameter says (read JSON, log, throw...), so one function covers the host's contract.
/// </summary>
public sealed class DemoHttpFunction : IHttpFunction
{
    public static readonly EventId ExportStarted = new(1, "backup.export.started");
    public static readonly EventId ExportCompleted = new(2, "backup.export.completed");

    private readonly InvocationRecorder _recorder;
    private readonly ILogger<DemoHttpFunction> _logger;

    public DemoHttpFunction(InvocationRecorder recorder, ILogger<DemoHttpFunction> logger)
    {
        _recorder = recorder;
        _logger = logger;
        recorder.FunctionConstructed();
    }

    public async Task HandleAsync(HttpContext context)
    {
        _recorder.Record(context.Request.Path.Value ?? string.Empty);
        var action = context.Request.Query["action"].ToString();
        switch (action)
        {
            case "json":
                var request = await context.ReadJsonAsync<DemoRequest>();
                await context.WriteJsonAsync(new { request.Name, request.Count, doubled = request.Count * 2 });
                return;
            case "log":
                using (_logger.BeginScope(new Dictionary<string, object?> { ["instance"] = "commissable-prod", ["outcome"] = "started" }))
                {
                    _logger.LogInformation(ExportStarted, "Export of {Instance} to {BackupPath} started at {StartTime}",
                        "commissable-prod", "gs://bucket/backups/prod/x.sql.gz", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
                }

                _logger.LogNotice(ExportCompleted, "Export to {BackupPath} completed in {DurationSeconds}s", "gs://bucket/backups/prod/x.sql.gz", 12.5);
                break;
            case "leak":
                _logger.LogWarning(new EventId(3, "demo.leak"),
                    "Connecting with postgres://app:hunter2@10.0.0.5:5432/crm and Host=db;Username=app;Password=s3cret;Database=crm; PGPASSWORD=pgpass1 psql, header Bearer ya29.tokentoken",
                    []);
                _logger.LogWarning(new EventId(4, "demo.leak.fields"), "Fields {DatabaseUrl} {Password} {Detail}",
                    "postgresql://u:p@h/db", "plain-secret-value", "Authorization: Bearer abc.def.ghi");
                break;
            case "unhandled":
                throw new InvalidOperationException("Connection failed: Host=db;Username=app;Password=hunter2;Database=crm");
            case "bad-request":
                throw FunctionException.BadRequest("change must match [a-z0-9][a-z0-9-]{0,62}");
            case "not-found":
                throw FunctionException.NotFound("no backup named x");
            case "conflict":
                throw FunctionException.Conflict("instance commissable-prod is busy with another operation", TimeSpan.FromSeconds(29.2), "OPERATION_IN_PROGRESS");
            case "precondition":
                throw FunctionException.PreconditionFailed("point-in-time recovery is off on commissable-prod", "PITR_DISABLED");
            case "unavailable":
                throw FunctionException.Unavailable("the Cloud SQL Admin API kept answering 503", TimeSpan.FromMinutes(1), innerException: new HttpRequestException("503 from https://sqladmin.googleapis.com"));
            case "partial":
                await context.Response.WriteAsync("partial");
                await context.Response.Body.FlushAsync();
                throw new InvalidOperationException("failed after writing");
            default:
                break;
        }

        await context.Response.WriteAsync($"path={context.Request.Path};base={context.Request.PathBase}");
    }
}

/// <summary>A CloudEvent demo function that records what it received.</summary>
public sealed class RecordingEventFunction<TData> : ICloudEventFunction<TData>
    where TData : class
{
    private readonly InvocationRecorder _recorder;

    public RecordingEventFunction(InvocationRecorder recorder)
    {
        _recorder = recorder;
        recorder.FunctionConstructed();
    }

    public Task HandleAsync(CloudEvent cloudEvent, TData data, CancellationToken cancellationToken)
    {
        if (_recorder.ThrowOnCall is { } exception)
        {
            throw exception;
        }

        _recorder.Record((cloudEvent, data));
        return Task.CompletedTask;
    }
}
