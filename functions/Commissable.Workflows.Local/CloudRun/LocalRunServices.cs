using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Commissable.Workflows.Local.CloudRun;

/// <summary>
/// A stand-in for Cloud Run services, enough to prove a workflow rolled an app: each service is a
/// JSON file in Cloud Run v2's <c>Service</c> shape under <c>&lt;state&gt;/run/services/</c>, and every
/// change of its <c>template</c> creates a revision (<c>&lt;service&gt;-00002-xyz</c>, recorded beside
/// it) that becomes <c>latestCreatedRevision</c> and, since nothing here can fail to start,
/// <c>latestReadyRevision</c>. Nothing runs: there is no container to start locally.
/// </summary>
internal sealed partial class LocalRunServices
{
    /// <summary>Fields a patch may set; the rest of Service is output only and kept from the stored copy.</summary>
    private static readonly string[] Mutable =
    [
        "description", "labels", "annotations", "client", "clientVersion", "ingress", "launchStage",
        "binaryAuthorization", "template", "traffic", "scaling", "invokerIamDisabled", "defaultUriDisabled",
        "customAudiences", "buildConfig",
    ];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    /// <param name="directory">Usually <c>&lt;state&gt;/run/services</c>.</param>
    public LocalRunServices(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The service, or null when it does not exist.</summary>
    public JsonObject? Get(string name)
    {
        var file = FileOf(name);
        return File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file))!.AsObject() : null;
    }

    /// <summary>Creates the service with <paramref name="template"/> unless it exists; returns it.</summary>
    public JsonObject Ensure(string name, JsonObject template)
    {
        ArgumentNullException.ThrowIfNull(template);
        lock (_lock)
        {
            return Get(name) ?? Apply(name, null, new JsonObject { ["template"] = template.DeepClone() });
        }
    }

    /// <summary>
    /// Replaces the mutable fields the body names (a full Service, as the connector sends it). A new
    /// template makes a new revision; the same template only updates the service. Null when the
    /// service does not exist and <paramref name="allowMissing"/> is false.
    /// </summary>
    public JsonObject? Patch(string name, JsonObject body, bool allowMissing)
    {
        ArgumentNullException.ThrowIfNull(body);
        lock (_lock)
        {
            var current = Get(name);
            return current is null && !allowMissing ? null : Apply(name, current, body);
        }
    }

    /// <summary>The revisions made so far, oldest first (each the template it ran and when).</summary>
    public IReadOnlyList<JsonObject> Revisions(string name)
    {
        var directory = FileOf(name)[..^".json".Length] + ".revisions";
        if (!Directory.Exists(directory)) return [];
        return Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject()).ToList();
    }

    private JsonObject Apply(string name, JsonObject? current, JsonObject body)
    {
        var (project, location, service) = Split(name);
        var now = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var next = current?.DeepClone().AsObject() ?? new JsonObject
        {
            ["name"] = name,
            ["uid"] = Guid.NewGuid().ToString(),
            ["generation"] = "0",
            ["createTime"] = now,
            ["creator"] = "local-runner",
            ["ingress"] = "INGRESS_TRAFFIC_ALL",
            ["launchStage"] = "GA",
            ["traffic"] = new JsonArray(new JsonObject { ["type"] = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", ["percent"] = 100 }),
            ["uri"] = $"https://{service}-local.{location}.run.app",
        };
        var oldTemplate = current?["template"]?.ToJsonString() ?? "";
        foreach (var field in Mutable)
        {
            if (body.TryGetPropertyValue(field, out var value))
            {
                next[field] = value?.DeepClone();
            }
        }
        var generation = long.Parse((string?)next["generation"] ?? "0", CultureInfo.InvariantCulture) + 1;
        next["generation"] = generation.ToString(CultureInfo.InvariantCulture);
        next["observedGeneration"] = generation.ToString(CultureInfo.InvariantCulture);
        next["updateTime"] = now;
        next["lastModifier"] = "local-runner";
        next["reconciling"] = false;
        next["etag"] = $"\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name + generation.ToString(CultureInfo.InvariantCulture) + now)))[..16]}\"";

        var template = next["template"]?.ToJsonString() ?? "";
        if (current is null || template != oldTemplate)
        {
            var count = Revisions(name).Count + 1;
            var revision = (string?)next["template"]?["revision"] is { Length: > 0 } chosen
                ? chosen
                : string.Create(CultureInfo.InvariantCulture, $"{service}-{count:00000}-{Suffix()}");
            var revisionName = $"projects/{project}/locations/{location}/services/{service}/revisions/{revision}";
            next["latestCreatedRevision"] = revisionName;
            next["latestReadyRevision"] = revisionName;
            WriteAtomically(Path.Combine(FileOf(name)[..^".json".Length] + ".revisions", string.Create(CultureInfo.InvariantCulture, $"{count:00000}-{revision}.json")), new JsonObject
            {
                ["name"] = revisionName,
                ["service"] = service,
                ["generation"] = generation.ToString(CultureInfo.InvariantCulture),
                ["createTime"] = now,
                ["template"] = next["template"]?.DeepClone(),
            });
        }
        next["terminalCondition"] = new JsonObject
        {
            ["type"] = "Ready",
            ["state"] = "CONDITION_SUCCEEDED",
            ["lastTransitionTime"] = now,
        };
        next["conditions"] = new JsonArray(
            new JsonObject { ["type"] = "RoutesReady", ["state"] = "CONDITION_SUCCEEDED", ["lastTransitionTime"] = now },
            new JsonObject { ["type"] = "ConfigurationsReady", ["state"] = "CONDITION_SUCCEEDED", ["lastTransitionTime"] = now });
        next["trafficStatuses"] = new JsonArray(new JsonObject { ["type"] = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", ["percent"] = 100 });
        WriteAtomically(FileOf(name), next);
        return next;
    }

    private static string Suffix()
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        return string.Create(3, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = letters[RandomNumberGenerator.GetInt32(letters.Length)];
        });
    }

    private static void WriteAtomically(string path, JsonObject value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + $".tmp-{Guid.NewGuid():N}";
        File.WriteAllText(temp, value.ToJsonString(Indented));
        File.Move(temp, path, overwrite: true);
    }

    private string FileOf(string name)
    {
        var (project, location, service) = Split(name);
        return Path.Combine(_directory, project, location, service + ".json");
    }

    /// <summary>projects/P/locations/L/services/S, each part a plain name (never a path).</summary>
    public static (string Project, string Location, string Service) Split(string name)
    {
        var match = ServiceName().Match(name ?? "");
        return match.Success
            ? (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value)
            : throw new ArgumentException($"'{name}' is not a service name projects/PROJECT/locations/LOCATION/services/SERVICE");
    }

    [GeneratedRegex("^projects/([a-z0-9][a-z0-9-]{0,62})/locations/([a-z0-9-]{1,63})/services/([a-z]([a-z0-9-]{0,47}[a-z0-9])?)\\z")]
    private static partial Regex ServiceName();
}
