using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Files;

namespace Commissable.LocalCloud.State;

/// <summary>State files are replaced whole (write aside, flush, rename), so a crash leaves the old or the new version, never half of one.</summary>
internal static class AtomicFile
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void WriteJson(string path, JsonNode node)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.tmp-{Environment.CurrentManagedThreadId}-{Guid.NewGuid():N}";
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                node.WriteTo(writer, Indented);
            }
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public static JsonObject? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        return JsonNode.Parse(File.ReadAllText(path))?.AsObject();
    }

    /// <summary>Writes a secret readable by the owner only, replacing the file whole.</summary>
    public static void WriteSecret(string path, string secret)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.tmp-{Guid.NewGuid():N}";
        // 0600 from its creation (the instance directories are world-listable).
        OwnerOnly.WriteNewFile(temp, secret);
        File.Move(temp, path, overwrite: true);
    }
}
