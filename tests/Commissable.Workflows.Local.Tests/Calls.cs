using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local.Tests;

/// <summary>Small helpers for calling a handler as the interpreter would.</summary>
internal static class Calls
{
    public static WorkflowCall Call(string function, JsonObject? args = null, string step = "step", int line = 1) =>
        new(function, args ?? [], step, line);

    public static Task<JsonNode?> CallAsync(this IWorkflowCallHandler handler, string function, JsonObject? args = null, string step = "step") =>
        handler.CallAsync(Call(function, args, step), CancellationToken.None);

    /// <summary>Runs the call, asserts it raised a workflow error with <paramref name="tag"/>, and returns the error map.</summary>
    public static async Task<JsonObject> RaisesAsync(this IWorkflowCallHandler handler, string tag, string function, JsonObject? args = null)
    {
        var error = await Assert.ThrowsAsync<WorkflowErrorException>(() => handler.CallAsync(function, args));
        var map = Assert.IsType<JsonObject>(error.Error);
        Assert.Contains(tag, map["tags"]!.AsArray().Select(t => (string?)t));
        return map;
    }

    /// <summary>A file of the repository's tests/contracts, found by walking up from the test binaries.</summary>
    public static string Contract(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "contracts", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"tests/contracts/{fileName} not found above {AppContext.BaseDirectory}");
    }
}
