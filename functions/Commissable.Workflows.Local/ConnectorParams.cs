using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local;

/// <summary>
/// How a connector waits on a long-running operation: <c>connector_params</c> of the call over the
/// documented defaults (the whole call may take 1800 s; polls start after 1 s and back off by 1.25
/// up to 60 s; <c>skip_polling</c> returns the operation as started). Every value is checked as the
/// runtime checks it; locally the polls themselves follow the Cloud SQL client's poller.
/// </summary>
internal sealed record ConnectorParams(TimeSpan Timeout, TimeSpan InitialDelay, double Multiplier, TimeSpan MaxDelay, bool SkipPolling)
{
    /// <summary>What Google documents for every connector.</summary>
    public static ConnectorParams Documented { get; } = new(TimeSpan.FromSeconds(1800), TimeSpan.FromSeconds(1), 1.25, TimeSpan.FromSeconds(60), false);

    /// <summary>The call's <c>connector_params</c> over <paramref name="defaults"/>; a bad value is a TypeError/ValueError, like the runtime's.</summary>
    public static ConnectorParams From(JsonNode? node, ConnectorParams defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        if (node is null) return defaults;
        if (node is not JsonObject map) throw WorkflowErrors.Type("connector_params must be a map");
        var result = defaults;
        foreach (var (key, value) in map)
        {
            result = key switch
            {
                "timeout" => result with { Timeout = Seconds(value, key, max: 31_536_000) },
                "skip_polling" => result with { SkipPolling = value is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : throw WorkflowErrors.Type("connector_params.skip_polling must be a boolean") },
                "polling_policy" => Polling(value, result),
                // Scopes choose OAuth2 scopes of the workflow's identity: nothing to choose locally.
                "scopes" => result,
                _ => throw WorkflowErrors.Value($"connector_params: unknown parameter '{key}'"),
            };
        }
        return result;
    }

    private static ConnectorParams Polling(JsonNode? node, ConnectorParams current)
    {
        if (node is not JsonObject policy) throw WorkflowErrors.Type("connector_params.polling_policy must be a map");
        foreach (var (key, value) in policy)
        {
            current = key switch
            {
                "initial_delay" => current with { InitialDelay = Seconds(value, key, max: 31_536_000) },
                "max_delay" => current with { MaxDelay = Seconds(value, key, max: 31_536_000) },
                "multiplier" => current with { Multiplier = Number(value, key) is var m and >= 1 ? m : throw WorkflowErrors.Value("polling_policy.multiplier must be at least 1") },
                _ => throw WorkflowErrors.Value($"connector_params.polling_policy: unknown parameter '{key}'"),
            };
        }
        return current;
    }

    private static TimeSpan Seconds(JsonNode? value, string name, double max)
    {
        var seconds = Number(value, name);
        if (seconds <= 0 || seconds > max) throw WorkflowErrors.Value($"connector_params.{name} must be between 0 and {max.ToString(CultureInfo.InvariantCulture)} seconds");
        return TimeSpan.FromSeconds(seconds);
    }

    private static double Number(JsonNode? value, string name) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            ? double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture)
            : throw WorkflowErrors.Type($"connector_params.{name} must be a number");
}
