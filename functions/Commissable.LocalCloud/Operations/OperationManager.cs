using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud.Api;
using Commissable.LocalCloud.State;

namespace Commissable.LocalCloud.Operations;

/// <summary>An operation's work failed in a way the API reports (an <c>OperationError</c> code and message).</summary>
internal sealed class OperationFailedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>What a running operation can tell its manager: its resource, files to remove and programs to kill if it is cut off.</summary>
internal sealed class OperationScope(OperationManager manager, string name) : IChildProcessObserver
{
    public string Name { get; } = name;

    /// <summary>A path that must not survive if the process dies before the operation ends.</summary>
    public void AddCleanup(string path) => manager.AddCleanup(Name, path);

    public void RemoveCleanup(string path) => manager.RemoveCleanup(Name, path);

    public void Update(Action<JsonObject> change) => manager.Update(Name, change);

    /// <summary>Records a started program in the operation's state, so a restart after a crash can make sure it is gone.</summary>
    public void Started(ChildProcess child) => manager.AddChild(Name, child);
}

/// <summary>
/// Long-running operations, really asynchronous: each runs in the background, moves PENDING →
/// RUNNING → DONE, and is persisted at every step under <c>&lt;state&gt;/operations</c>. At most one
/// runs per instance; a second gets 409 <c>operationInProgress</c>. After a crash, operations left
/// unfinished end DONE with an error, once every program they started is gone (each dies with
/// this process, and a restart kills the process group of any that did not), and their partial
/// files are removed.
/// </summary>
internal sealed class OperationManager
{
    private readonly string _directory;
    private readonly TimeProvider _clock;
    private readonly ILogger<OperationManager> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, JsonObject> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _busy = new(StringComparer.Ordinal);
    private readonly List<Task> _running = [];

    public OperationManager(LocalCloudOptions options, TimeProvider clock, ILogger<OperationManager> logger)
    {
        _directory = Path.Combine(options.StateDirectory, "operations");
        _clock = clock;
        _logger = logger;
        Directory.CreateDirectory(_directory);
    }

    /// <summary>
    /// Ends every operation a previous process left unfinished, removing its partial files, and
    /// returns them so the caller can repair the instances they touched.
    /// </summary>
    public IReadOnlyList<JsonObject> RecoverAfterRestart()
    {
        var interrupted = new List<JsonObject>();
        foreach (var file in Directory.EnumerateFiles(_directory, "*.json"))
        {
            var record = AtomicFile.ReadJson(file);
            if (record is null) continue;
            var operation = record["operation"]!.AsObject();
            if ((string?)operation["status"] != "DONE")
            {
                // Before anything is cleaned up or the instance accepts new work: a program still
                // writing (an import's psql) would otherwise go on changing data behind a new operation.
                var children = record["children"]?.AsArray()
                    .Select(c => new ChildProcess((int)c!["pid"]!, (long)c["startTime"]!)).ToList() ?? [];
                var survivors = ChildProcesses.KillSurvivors(children, TimeSpan.FromSeconds(30));
                if (survivors.Count > 0)
                {
                    throw new InvalidOperationException(
                        $"Processes {string.Join(", ", survivors)} of an operation cut off by a crash could not be stopped; stop them, then start the local cloud again.");
                }
                record.Remove("children");
                foreach (var path in record["cleanup"]?.AsArray().Select(p => (string)p!) ?? [])
                {
                    DeletePath(path);
                }
                record["cleanup"] = new JsonArray();
                Finish(operation, "INTERNAL_ERROR",
                    "The operation was interrupted because the local cloud stopped before it finished; nothing it had written was kept.");
                AtomicFile.WriteJson(file, record);
                interrupted.Add(operation.DeepClone().AsObject());
                _logger.LogWarning("operation {Operation} ({Type}) was interrupted by a restart and ended with an error",
                    (string?)operation["name"], (string?)operation["operationType"]);
            }
            _records[(string)operation["name"]!] = record;
        }
        return interrupted;
    }

    /// <summary>
    /// Starts an operation on <paramref name="instances"/> (the first is its target). Throws 409
    /// operationInProgress when one of them is busy.
    /// </summary>
    public JsonObject Start(string project, IReadOnlyList<string> instances, string operationType, string selfLinkBase,
        Func<OperationScope, CancellationToken, Task> work, Action<JsonObject>? decorate = null)
    {
        var name = Guid.NewGuid().ToString();
        var now = Timestamp(_clock.GetUtcNow());
        var target = instances[0];
        var operation = new JsonObject
        {
            ["kind"] = "sql#operation",
            ["name"] = name,
            ["status"] = "PENDING",
            ["operationType"] = operationType,
            ["targetId"] = target,
            ["targetProject"] = project,
            ["targetLink"] = $"{selfLinkBase}sql/v1beta4/projects/{project}/instances/{target}",
            ["selfLink"] = $"{selfLinkBase}sql/v1beta4/projects/{project}/operations/{name}",
            ["user"] = "localcloud@localhost",
            ["insertTime"] = now,
        };
        decorate?.Invoke(operation);
        var record = new JsonObject { ["operation"] = operation, ["instances"] = new JsonArray(instances.Select(i => (JsonNode)i).ToArray()), ["cleanup"] = new JsonArray() };
        lock (_lock)
        {
            foreach (var instance in instances)
            {
                if (_busy.ContainsKey(Key(project, instance)))
                {
                    throw ApiException.Busy(instance);
                }
            }
            foreach (var instance in instances)
            {
                _busy[Key(project, instance)] = name;
            }
            _records[name] = record;
            Persist(name);
            var task = Task.Run(() => RunAsync(project, instances, name, work));
            _running.Add(task);
            _running.RemoveAll(t => t.IsCompleted);
        }
        return Snapshot(name)!;
    }

    public bool IsBusy(string project, string instance)
    {
        lock (_lock)
        {
            return _busy.ContainsKey(Key(project, instance));
        }
    }

    public JsonObject? Snapshot(string name)
    {
        lock (_lock)
        {
            return _records.TryGetValue(name, out var record) ? record["operation"]!.DeepClone().AsObject() : null;
        }
    }

    /// <summary>Operations of a project, newest first, optionally of one instance.</summary>
    public IReadOnlyList<JsonObject> List(string project, string? instance)
    {
        lock (_lock)
        {
            return _records.Values
                .Select(r => r["operation"]!.AsObject())
                .Where(o => (string?)o["targetProject"] == project && (instance is null || (string?)o["targetId"] == instance))
                .OrderByDescending(o => (string?)o["insertTime"], StringComparer.Ordinal)
                .Select(o => o.DeepClone().AsObject())
                .ToList();
        }
    }

    /// <summary>Waits for every running operation (for a graceful shutdown and for tests).</summary>
    public Task WhenAllAsync()
    {
        lock (_lock)
        {
            return Task.WhenAll(_running.ToArray());
        }
    }

    internal void AddChild(string name, ChildProcess child) => Mutate(name, record =>
    {
        if (record["children"] is not JsonArray children)
        {
            record["children"] = children = new JsonArray();
        }
        children.Add(new JsonObject { ["pid"] = child.ProcessId, ["startTime"] = child.StartTime });
    });

    internal void AddCleanup(string name, string path) => Mutate(name, record => record["cleanup"]!.AsArray().Add(path));

    internal void RemoveCleanup(string name, string path) => Mutate(name, record =>
    {
        var cleanup = record["cleanup"]!.AsArray();
        foreach (var node in cleanup.Where(n => (string?)n == path).ToList()) cleanup.Remove(node);
    });

    internal void Update(string name, Action<JsonObject> change) => Mutate(name, record => change(record["operation"]!.AsObject()));

    private async Task RunAsync(string project, IReadOnlyList<string> instances, string name, Func<OperationScope, CancellationToken, Task> work)
    {
        Mutate(name, record =>
        {
            record["operation"]!["status"] = "RUNNING";
            record["operation"]!["startTime"] = Timestamp(_clock.GetUtcNow());
        });
        string? code = null;
        string? message = null;
        try
        {
            await work(new OperationScope(this, name), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationFailedException failure)
        {
            (code, message) = (failure.Code, failure.Message);
        }
        catch (ApiException failure)
        {
            (code, message) = (failure.Reason, failure.Message);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            (code, message) = ("INTERNAL_ERROR", failure.Message);
            _logger.LogError("operation {Operation} failed: {Error}", name, failure.Message);
        }
        List<string> leftovers;
        lock (_lock)
        {
            var record = _records[name];
            leftovers = record["cleanup"]!.AsArray().Select(p => (string)p!).ToList();
            record["cleanup"] = new JsonArray();
            record.Remove("children");
        }
        if (code is not null)
        {
            foreach (var path in leftovers) DeletePath(path);
        }
        lock (_lock)
        {
            Finish(_records[name]["operation"]!.AsObject(), code, message);
            Persist(name);
            foreach (var instance in instances)
            {
                _busy.Remove(Key(project, instance));
            }
        }
    }

    private void Finish(JsonObject operation, string? code, string? message)
    {
        operation["status"] = "DONE";
        operation["endTime"] = Timestamp(_clock.GetUtcNow());
        operation["startTime"] ??= operation["endTime"]!.DeepClone();
        if (code is not null)
        {
            operation["error"] = new JsonObject
            {
                ["kind"] = "sql#operationErrors",
                ["errors"] = new JsonArray(new JsonObject { ["kind"] = "sql#operationError", ["code"] = code, ["message"] = message }),
            };
        }
    }

    private void Mutate(string name, Action<JsonObject> change)
    {
        lock (_lock)
        {
            change(_records[name]);
            Persist(name);
        }
    }

    private void Persist(string name) => AtomicFile.WriteJson(Path.Combine(_directory, name + ".json"), _records[name]);

    private static string Key(string project, string instance) => project + "/" + instance;

    internal static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    internal static void DeletePath(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
